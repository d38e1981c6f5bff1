"""Ray Tune sweeps of RLlib PPO runs, scored by the package's evaluation harness.

Each trial trains one :class:`train.rllib.config.RLlibConfig` (the base config with the
trial's parameters applied) and reports, after every evaluation, the :mod:`train.sb3.callbacks`
row of the current deterministic policy on held-out episodes: ``mean_reward`` on the env's own
reward, paired gaps to AS and to the exact optimum, and the optimality ``score`` (0 = the
naive policy, 1 = the optimum of *that trial's* market, so trials with different penalties
compare on one scale). Tune picks the best trial by ``score`` (``mean_reward`` where the
market has no exact optimum). ::

    from ray import tune
    from train.rllib.tune import tune_rllib

    summary = tune_rllib(
        RLlibConfig(total_timesteps=2_000_000),
        {"overrides.phi": tune.grid_search([0.05, 0.1]),
         "net_arch": tune.grid_search([(32, 32), (64, 64)])},
        "runs/sweep",
    )

Parameter names: an :class:`RLlibConfig` field (``gamma``, ``learning_rate``, ``net_arch``,
...) or ``overrides.NAME`` for a :class:`mm_env.MarketConfig` field on top of the preset.
Values: anything Tune accepts (``tune.grid_search``, ``tune.choice``, ``tune.uniform``, ...).
A trial's seed is the base config's unless ``seed`` is swept (``num_samples`` repeats the
search space, e.g. for random search, with that same seed). Runs on the local Ray instance
or on the cluster at ``base.address``; trials use one CPU each (``cpus_per_trial``) and
sample in their own process (``num_env_runners`` is set to 0, the train batch kept: see
:func:`apply_params`).
"""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from train.evaluation.held_out import eval_row, has_exact_optimum, reference_rewards
from train.rllib.config import RLlibConfig

RESULTS_FILE = "tune_results.csv"
BEST_FILE = "best_config.toml"
#: what a trial may vary: RLlibConfig fields but the market's table and the cluster layout
_FIELDS = {f.name for f in dataclasses.fields(RLlibConfig)} - {
    "overrides", "num_env_runners", "address", "num_cpus"
}


def apply_params(base: RLlibConfig, params: dict[str, Any]) -> RLlibConfig:
    """``base`` with a trial's parameters (fields, or ``overrides.NAME``) applied.

    A trial samples in its own process (``num_env_runners=0``) with the base config's train
    batch: its one env runner steps ``num_envs_per_env_runner * max(1, num_env_runners)``
    markets.
    """
    changes: dict[str, Any] = {
        "num_env_runners": 0,
        "num_envs_per_env_runner": base.num_envs_per_env_runner * max(1, base.num_env_runners),
    }
    overrides = dict(base.overrides)
    for key, value in params.items():
        if key.startswith("overrides."):
            overrides[key.removeprefix("overrides.")] = value
        elif key in _FIELDS:
            changes[key] = value
        else:
            raise ValueError(
                f"unknown sweep parameter {key!r}: use an RLlibConfig field "
                f"{sorted(_FIELDS)} or 'overrides.NAME' for a MarketConfig field (a trial "
                "samples in its own process: num_env_runners, address and num_cpus are the "
                "cluster's, not a trial's)"
            )
    return base.replace(**changes, overrides=overrides)


def metric_name(cfg: RLlibConfig) -> str:
    """``score`` where the market has an exact optimum, else ``mean_reward``."""
    return "score" if has_exact_optimum(cfg.market()) else "mean_reward"


def _trial(params: dict[str, Any], base: dict[str, Any]) -> None:
    """One Tune trial: train, evaluate every ``eval_freq`` steps, report each evaluation."""
    import torch
    from ray import tune

    from train.evaluation.harness import evaluate
    from train.rllib.trainer import build_algo, current_policy

    cfg = apply_params(RLlibConfig.from_dict(base), params)
    torch.set_num_threads(cfg.torch_threads)
    market = cfg.market()
    refs = reference_rewards(market, cfg.eval_episodes, cfg.eval_seed)
    algo = build_algo(cfg)
    t0, steps, last_eval = time.perf_counter(), 0, 0
    try:
        while steps < cfg.total_timesteps:
            steps = int(algo.train()["num_env_steps_sampled_lifetime"])
            done = steps >= cfg.total_timesteps
            if done or (cfg.eval_freq and steps - last_eval >= cfg.eval_freq):
                last_eval = steps
                held_out = evaluate(
                    current_policy(algo, cfg), market, cfg.eval_episodes, cfg.eval_seed
                )
                row = eval_row(held_out, refs, steps, time.perf_counter() - t0)
                row.setdefault("score", math.nan)
                tune.report(row)
    finally:
        algo.stop()


@dataclass
class TuneSummary:
    """The trials of a sweep, best first, and the best trial's full config."""

    rows: list[dict[str, Any]]
    best: RLlibConfig
    metric: str
    out_dir: Path


def tune_rllib(
    base: RLlibConfig,
    param_space: dict[str, Any],
    out_dir: str | Path,
    *,
    num_samples: int = 1,
    cpus_per_trial: float = 1.0,
    max_concurrent_trials: int | None = None,
) -> TuneSummary:
    """Run the sweep; write ``OUT/tune_results.csv`` (one row per trial, best first) and
    ``OUT/best_config.toml``; Tune's own records go to ``OUT/tune``."""
    from ray import tune

    from train.rllib.trainer import init_ray

    if not param_space:
        raise ValueError("param_space is empty: give at least one parameter to sweep")
    for key in param_space:  # fail before starting Ray on a misspelt name
        if not key.startswith("overrides.") and key not in _FIELDS:
            apply_params(base, {key: None})
    out = Path(out_dir).resolve()
    out.mkdir(parents=True, exist_ok=True)
    init_ray(base)
    metric = metric_name(base)
    trainable = tune.with_resources(
        tune.with_parameters(_trial, base=base.to_dict()), {"cpu": cpus_per_trial}
    )
    tuner = tune.Tuner(
        trainable,
        param_space=param_space,
        tune_config=tune.TuneConfig(
            metric=metric,
            mode="max",
            num_samples=num_samples,
            max_concurrent_trials=max_concurrent_trials,
        ),
        run_config=tune.RunConfig(storage_path=str(out), name="tune", verbose=0),
    )
    grid = tuner.fit()
    results = [grid[i] for i in range(len(grid))]
    errors = [str(r.error) for r in results if r.error is not None]
    if errors:
        raise RuntimeError(f"{len(errors)} trial(s) failed; first error: {errors[0]}")
    return _summarise(results, base, metric, out)


def _summarise(results: list[Any], base: RLlibConfig, metric: str, out: Path) -> TuneSummary:
    from train.evaluation.files import write_csv

    rows = []
    for result in results:
        params = {k: _plain(v) for k, v in (result.config or {}).items()}
        metrics = result.metrics or {}
        row = {**{f"param:{k}": v for k, v in params.items()}}
        for key in ("timesteps", "score", "se_score", "mean_reward", "se_reward",
                    "gap_to_as", "se_gap_as", "wall_time"):
            row[key] = metrics.get(key, math.nan)
        row["_params"] = params
        rows.append(row)
    rows.sort(key=lambda r: -math.inf if math.isnan(r[metric]) else r[metric], reverse=True)
    best = apply_params(base, rows[0]["_params"])
    columns = tuple(k for k in rows[0] if k != "_params")
    write_csv(out / RESULTS_FILE, [{k: _cell(r[k]) for k in columns} for r in rows], columns)
    best.save(out / BEST_FILE)
    for row in rows:
        row.pop("_params")
    return TuneSummary(rows=rows, best=best, metric=metric, out_dir=out)


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def _cell(value: Any) -> Any:
    return ",".join(map(str, value)) if isinstance(value, list) else value
