"""Train PPO with Ray RLlib on the market-making env, locally or on a Ray cluster.

Needs the ``ray`` extra (``pip install mm-env[ray]``). ::

    from train.rllib.config import RLlibConfig
    from train.rllib.trainer import train_rllib

    result = train_rllib(RLlibConfig(total_timesteps=2_000_000), "runs/rllib")
    result.evaluations[-1]["score"]          # optimality score on held-out episodes

How the pieces map onto RLlib (new API stack):

- the env is :func:`train.rllib.env.make_env` registered with Ray's registry
  (:data:`train.rllib.env.ENV_NAME`); ``env_config`` carries the preset, the overrides and the
  training preprocessing, so remote EnvRunners rebuild the same market;
- ``gym_env_vectorize_mode="vector_entry_point"``: each EnvRunner steps one native numpy vector
  env of ``num_envs_per_env_runner`` markets instead of a Python list of scalar envs;
- actions are raw depths clipped to the action space (``normalize_actions=False``), as SB3 does,
  and the PPO loss uses SB3's defaults (clip 0.2, no KL penalty, value loss weight 0.5 and
  unclipped, gradient norm clipped at 0.5);
- evaluation uses the package's harness (:func:`train.evaluation.harness.evaluate`) on held-out
  episodes with the env's own reward, against the naive, AS and exactly optimal policies
  (:func:`train.evaluation.held_out.eval_row`), never RLlib's training-reward metrics.

A run directory holds ``config.toml``, ``progress.csv`` (one row per training iteration;
``train_return_mean`` is RLlib's smoothed episode return of the *training* reward, i.e.
after the martingale correction and reward normalisation, not the env's reward),
``eval.csv`` (as for SB3 runs), ``checkpoint/`` (RLlib's algorithm checkpoint and the run's
state, every ``checkpoint_freq`` steps and at the end: :func:`resume_rllib` continues an
interrupted run from it), ``checkpoint.previous/`` (the checkpoint before it, which a resume
falls back to, with a warning, when the newest one is corrupt) and ``policy/`` (the RLModule
and ``meta.json``, loaded by :func:`train.rllib.policy.load_rllib_policy`). Every file is
written atomically, and a process killed at any point of a checkpoint's replacement leaves at
least one complete checkpoint that a resume finds (:func:`_save_checkpoint`).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import os
import shutil
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from train.atomic import atomic_dir, fsync_tree
from train.evaluation.files import write_csv
from train.evaluation.harness import evaluate
from train.evaluation.held_out import EVAL_FILE, eval_row, reference_rewards, write_eval_rows
from train.rllib.config import RLlibConfig
from train.rllib.env import ENV_NAME, register
from train.rllib.policy import RLlibPolicy, save_policy_dir
from train.rllib.ppo_setup import sb3_ppo_training, set_free_log_std, tanh_mlp
from train.run_config import config_changes
from train.values import UserError

log = logging.getLogger(__name__)

CONFIG_FILE = "config.toml"
CHECKPOINT_DIR = "checkpoint"
PROGRESS_FILE = "progress.csv"
POLICY_DIR = "policy"
STATE_FILE = "mm_env_state.json"
PROGRESS_COLUMNS = ("iteration", "timesteps", "wall_time", "train_return_mean", "steps_per_s")


@dataclass
class RLlibResult:
    """What :func:`train_rllib` returns: where the run is and how it went."""

    run_dir: Path
    num_timesteps: int
    wall_time: float
    evaluations: list[dict[str, Any]] = field(default_factory=list)
    progress: list[dict[str, Any]] = field(default_factory=list)


def init_ray(cfg: RLlibConfig) -> None:
    """Start a local Ray instance, or join the cluster at ``cfg.address`` (no-op if running).

    On a cluster every node must be able to import ``mm_env`` and ``train`` (install the
    package on the nodes, or pass a ``runtime_env`` to ``ray.init`` yourself first).
    """
    import ray

    if ray.is_initialized():
        return
    if cfg.address:
        ray.init(address=cfg.address, log_to_driver=False)
    else:
        ray.init(num_cpus=cfg.num_cpus or None, include_dashboard=False, log_to_driver=False)


def ppo_config(cfg: RLlibConfig) -> Any:
    """RLlib's ``PPOConfig`` for ``cfg`` (registers the env creator first)."""
    from ray.rllib.algorithms.ppo import PPOConfig

    register()
    lr: Any = cfg.learning_rate
    if cfg.lr_schedule == "linear":  # RLlib interpolates [timestep, value] pairs linearly
        lr = [[0, cfg.learning_rate], [cfg.total_timesteps, 0.0]]
    return (
        PPOConfig()
        .environment(
            ENV_NAME, env_config=cfg.env_config(), normalize_actions=False, clip_actions=True
        )
        .env_runners(
            num_env_runners=cfg.num_env_runners,
            num_envs_per_env_runner=cfg.num_envs_per_env_runner,
            gym_env_vectorize_mode="vector_entry_point",
            rollout_fragment_length=cfg.n_steps,
        )
        .training(**sb3_ppo_training(cfg, lr))  # SB3's PPO objective
        .rl_module(model_config=tanh_mlp(cfg.net_arch))
        .debugging(seed=cfg.seed, log_level="WARN")
    )


def build_algo(cfg: RLlibConfig) -> Any:
    """The PPO algorithm of ``cfg``, its Gaussian log std set to ``cfg.log_std_init``.

    RLlib's policy head learns a state-independent log std (``free_log_std``, as SB3's
    ``MlpPolicy``) initialised at 0; it is set here on the learner and synced to the env
    runners, because an initial std of 1 in depth units explores far too widely.
    """
    from ray.rllib.core import DEFAULT_MODULE_ID

    algo = ppo_config(cfg).build_algo()
    set_free_log_std(algo, DEFAULT_MODULE_ID, cfg.log_std_init)
    return algo


def current_policy(algo: Any, cfg: RLlibConfig) -> RLlibPolicy:
    """The algorithm's current deterministic policy as an ``act(obs)`` agent."""
    return RLlibPolicy(algo.get_module(), cfg.market(), cfg.obs_features, cfg.obs_scaling)


def train_rllib(cfg: RLlibConfig, run_dir: str | Path) -> RLlibResult:
    """Train ``cfg`` into ``run_dir`` (a new or empty directory); see the module docstring."""
    run = Path(run_dir)
    if run.exists() and any(run.iterdir()):
        raise UserError(
            f"run directory {str(run)!r} is not empty; pass a new directory for the run "
            "(or continue an interrupted one with resume_rllib / --resume)"
        )
    run.mkdir(parents=True, exist_ok=True)
    cfg.save(run / CONFIG_FILE)
    _set_threads(cfg)
    init_ray(cfg)
    return _loop(build_algo(cfg), cfg, run, _RunState())


def resume_rllib(run_dir: str | Path) -> RLlibResult:
    """Continue an interrupted run from its last checkpoint (``checkpoint_freq``).

    The algorithm (weights, optimizer, step counters, learning-rate schedule) comes back from
    RLlib's checkpoint and the run's progress and evaluations from the state saved with it;
    rows written after that checkpoint are dropped and redone. A finished run is left as it
    is. The continuation is not bit-identical to an uninterrupted run: the env runners start
    again from the config's seed (so the first resumed iterations replay the market paths of
    the first iterations of the run) and the running return statistics of ``norm_reward``
    live in the env runners' envs, not in RLlib's checkpoint, so they start afresh.

    The newest checkpoint, ``RUN/checkpoint``, is used unless it is corrupt (its
    ``mm_env_state.json`` or ``config.toml`` does not read back, or RLlib cannot load it):
    then a warning names it and the run continues from ``RUN/checkpoint.previous``, the
    checkpoint before it, and the corrupt one is moved aside to ``RUN/checkpoint.corrupt``
    (kept for inspection, replacing an earlier one). With no intact checkpoint it is a
    UserError. The run's ``config.toml`` must match the config that the checkpoint actually
    used was written with (but the changes a resume allows).
    """
    run = Path(run_dir)
    if not (run / CONFIG_FILE).is_file():
        raise UserError(f"{str(run)!r} is not an RLlib run directory (no {CONFIG_FILE})")
    try:
        cfg = RLlibConfig.from_toml(run / CONFIG_FILE)
    except (ValueError, TypeError) as exc:
        raise UserError(f"{str(run / CONFIG_FILE)!r}: {exc}") from None
    started = False

    def load(ckpt: Path) -> Any:
        nonlocal started
        if not started:
            _set_threads(cfg)
            init_ray(cfg)
            register()
            started = True
        from ray.rllib.algorithms.algorithm import Algorithm

        return Algorithm.from_checkpoint(str(ckpt.resolve()))

    ckpt, state, algo = _select_checkpoint(run, cfg, load)
    if algo is None:
        log.info("run %s is already complete (%d steps)", run, state.timesteps)
        return RLlibResult(run, state.timesteps, state.wall_time, state.evaluations, state.progress)
    log.info("resuming %s at %d steps from %s", run, state.timesteps, ckpt)
    return _loop(algo, cfg, run, state)


def _select_checkpoint(
    run: Path, cfg: RLlibConfig, load: Callable[[Path], Any]
) -> tuple[Path, _RunState, Any]:
    """The checkpoint :func:`resume_rllib` continues from, its run state and ``load(it)`` (the
    algorithm; None when the run is already complete and nothing needs loading).

    The checkpoints are tried newest first (:func:`_checkpoint_dirs`); a corrupt one (a state
    file or config that does not read back, or ``load`` raising) is warned about, naming the
    one tried next, and skipped. The config check (:func:`_check_config`) applies to the one
    used and is never skipped. A corrupt ``RUN/checkpoint`` that an older checkpoint replaced
    is moved aside to ``RUN/checkpoint.corrupt``, so that the next checkpoint write does not
    keep it as the previous one.
    """
    candidates = _checkpoint_dirs(run)
    if not candidates:
        raise UserError(
            f"run {str(run)!r} has no checkpoint to resume from; start it again in a new "
            "directory (or with a smaller checkpoint_freq)"
        )
    problems: list[str] = []
    for i, ckpt in enumerate(candidates):
        fallback = candidates[i + 1] if i + 1 < len(candidates) else None
        try:
            written_with, state = _read_checkpoint(ckpt)
        except ValueError as exc:
            problems.append(_corrupt(ckpt, str(exc), fallback))
            continue
        _check_config(run, cfg, written_with)
        if state.timesteps >= cfg.total_timesteps and _saved_steps(run) >= state.timesteps:
            return ckpt, state, None
        try:
            algo = load(ckpt)
        except Exception as exc:  # RLlib raises many kinds of errors on a damaged checkpoint
            problems.append(_corrupt(ckpt, f"RLlib cannot load it: {_brief(exc)}", fallback))
            continue
        newest = run / CHECKPOINT_DIR
        if ckpt != newest and newest.exists():
            _set_aside(newest)
        return ckpt, state, algo
    raise UserError(
        f"run {str(run)!r} has no intact checkpoint to resume from ({'; '.join(problems)}); "
        "start it again in a new directory"
    )


def _checkpoint_dirs(run: Path) -> list[Path]:
    """The checkpoints of a run, newest first: ``RUN/checkpoint`` and ``RUN/checkpoint.previous``
    (those that exist). A kill between the renames of :func:`_save_checkpoint` leaves only the
    second; a complete checkpoint that an older version of this module left under
    ``.checkpoint.old-PID`` while replacing ``RUN/checkpoint`` is moved back into place."""
    ckpt = run / CHECKPOINT_DIR
    _recover_old(ckpt)
    return [p for p in (ckpt, _previous(ckpt)) if p.is_dir()]


def _previous(ckpt: Path) -> Path:
    return ckpt.with_name(f"{ckpt.name}.previous")


def _recover_old(ckpt: Path) -> None:
    """Move a complete ``.checkpoint.old-PID`` (left by a kill in the middle of an
    ``atomic_dir`` replacement) back to ``ckpt`` when ``ckpt`` has no state file."""
    if (ckpt / STATE_FILE).is_file():
        return
    for old in sorted(ckpt.parent.glob(f".{ckpt.name}.old-*")):
        if (old / STATE_FILE).is_file():
            if ckpt.exists():
                shutil.rmtree(ckpt)
            os.replace(old, ckpt)
            return


def _read_checkpoint(ckpt: Path) -> tuple[RLlibConfig | None, _RunState]:
    """The config a checkpoint was written with (None for checkpoints written before they
    carried one) and its run state; ValueError naming the file that does not read back."""
    written_with = None
    if (ckpt / CONFIG_FILE).exists():
        try:
            written_with = RLlibConfig.from_toml(ckpt / CONFIG_FILE)
        except (OSError, ValueError, TypeError) as exc:
            raise ValueError(f"{CONFIG_FILE} does not read back: {_brief(exc)}") from None
    try:
        raw = json.loads((ckpt / STATE_FILE).read_text(encoding="utf-8"))
        state = _RunState(**raw)
        _check_state(state)
    except (OSError, ValueError, TypeError) as exc:
        raise ValueError(f"{STATE_FILE} is corrupt: {_brief(exc)}") from None
    return written_with, state


def _check_state(state: _RunState) -> None:
    """TypeError unless every field of ``state`` has the type the run loop uses."""
    for name in ("iteration", "timesteps", "last_eval", "last_checkpoint"):
        value = getattr(state, name)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise TypeError(f"{name} must be an integer >= 0, got {value!r}")
    if not isinstance(state.wall_time, int | float) or isinstance(state.wall_time, bool):
        raise TypeError(f"wall_time must be a number, got {state.wall_time!r}")
    for name in ("progress", "evaluations"):
        rows = getattr(state, name)
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise TypeError(f"{name} must be a list of rows")


def _check_config(run: Path, cfg: RLlibConfig, written_with: RLlibConfig | None) -> None:
    """UserError if the run's config differs from the one its checkpoint was written with."""
    if written_with is None:
        return
    changes = config_changes(written_with, cfg)
    if changes:
        raise UserError(
            f"{str(run / CONFIG_FILE)!r} differs from the config its checkpoint was "
            f"written with ({changes}); restore it to resume, or train a new run"
        )


def _corrupt(ckpt: Path, problem: str, fallback: Path | None) -> str:
    """Warn that ``ckpt`` is corrupt (and which checkpoint is tried instead); the problem as
    one line for the error raised when no checkpoint is intact."""
    line = f"{str(ckpt)!r}: {problem}"
    if fallback is not None:
        message = (
            f"checkpoint {str(ckpt)!r} is corrupt ({problem}); falling back to the previous "
            f"checkpoint {str(fallback)!r}"
        )
        log.warning("%s", message)
        warnings.warn(message, stacklevel=4)
    return line


def _brief(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {' '.join(str(exc).split())[:200]}"


def _set_aside(ckpt: Path) -> None:
    """Move a corrupt checkpoint to ``checkpoint.corrupt`` (replacing an earlier one)."""
    aside = ckpt.with_name(f"{ckpt.name}.corrupt")
    if aside.exists():
        shutil.rmtree(aside)
    os.replace(ckpt, aside)
    log.warning("moved the corrupt checkpoint %s to %s", ckpt, aside)


@dataclass
class _RunState:
    """What a checkpoint records besides RLlib's own state (``checkpoint/mm_env_state.json``)."""

    iteration: int = 0
    timesteps: int = 0
    last_eval: int = 0
    last_checkpoint: int = 0
    wall_time: float = 0.0
    progress: list[dict[str, Any]] = field(default_factory=list)
    evaluations: list[dict[str, Any]] = field(default_factory=list)


def _loop(algo: Any, cfg: RLlibConfig, run: Path, state: _RunState) -> RLlibResult:
    """Train until ``cfg.total_timesteps``, evaluating and checkpointing on schedule."""
    market = cfg.market()
    refs = reference_rewards(market, cfg.eval_episodes, cfg.eval_seed)
    t0 = time.perf_counter() - state.wall_time
    _write_rows(run, state)  # a resumed run drops the rows written after its checkpoint
    start = state.timesteps
    try:
        while state.timesteps < cfg.total_timesteps:
            tick = time.perf_counter()
            out = algo.train()
            steps = int(out["num_env_steps_sampled_lifetime"])
            state.iteration += 1
            runners = out.get("env_runners", {})
            state.progress.append(
                {
                    "iteration": state.iteration,
                    "timesteps": steps,
                    "wall_time": time.perf_counter() - t0,
                    "train_return_mean": float(runners.get("episode_return_mean", math.nan)),
                    "steps_per_s": (steps - state.timesteps) / (time.perf_counter() - tick),
                }
            )
            state.timesteps = steps
            done = steps >= cfg.total_timesteps
            if done or (cfg.eval_freq and steps - state.last_eval >= cfg.eval_freq):
                state.last_eval = steps
                held_out = evaluate(
                    current_policy(algo, cfg), market, cfg.eval_episodes, cfg.eval_seed
                )
                row = eval_row(held_out, refs, steps, time.perf_counter() - t0)
                state.evaluations.append(row)
                log.info("eval at %d steps: %s", steps, row)
            _write_rows(run, state)
            state.wall_time = time.perf_counter() - t0
            due = cfg.checkpoint_freq and steps - state.last_checkpoint >= cfg.checkpoint_freq
            if done or due:
                state.last_checkpoint = steps
                _save_checkpoint(algo, run / CHECKPOINT_DIR, state, cfg)
        # a run resumed from an older checkpoint than the saved policy's retrains it
        if state.timesteps > start or state.timesteps > _saved_steps(run):
            save_policy_dir(run / POLICY_DIR, algo.get_module(), cfg, state.timesteps)
    finally:
        algo.stop()
    return RLlibResult(run, state.timesteps, state.wall_time, state.evaluations, state.progress)


def _set_threads(cfg: RLlibConfig) -> None:
    if cfg.torch_threads:
        import torch

        torch.set_num_threads(cfg.torch_threads)


def _saved_steps(run: Path) -> int:
    """Steps of the policy saved in ``RUN/policy`` (0 if none)."""
    meta = run / POLICY_DIR / "meta.json"
    return int(json.loads(meta.read_text())["num_timesteps"]) if meta.is_file() else 0


def _write_rows(run: Path, state: _RunState) -> None:
    write_csv(run / PROGRESS_FILE, state.progress, PROGRESS_COLUMNS)
    write_eval_rows(run / EVAL_FILE, state.evaluations)


def _save_checkpoint(algo: Any, path: Path, state: _RunState, cfg: RLlibConfig) -> None:
    """RLlib's checkpoint plus the run state and config, written into a temporary sibling and
    flushed (:func:`train.atomic.atomic_dir`); then the current checkpoint becomes
    ``checkpoint.previous`` and the new one moves into place.

    The steps, each a rename: (1) the old ``checkpoint.previous`` is renamed aside to
    ``.checkpoint.previous.old-PID``, (2) ``checkpoint`` is renamed to ``checkpoint.previous``,
    (3) the new checkpoint is renamed to ``checkpoint``; then the set-aside copy is removed. A
    kill before (3) leaves the newest complete checkpoint as ``checkpoint`` or, after (2), as
    ``checkpoint.previous``, where :func:`resume_rllib` finds it. When there is no complete
    ``checkpoint`` (the first write, after such a kill, or after a corrupt one was moved
    aside) ``checkpoint.previous`` is kept as it is. The temporary and set-aside copies of
    killed writers (``.checkpoint.*``) are removed first.
    """
    _recover_old(path)
    for stale in path.parent.glob(f".{path.name}.*"):
        if stale.is_dir():
            shutil.rmtree(stale, ignore_errors=True)
    trash: Path | None = None
    with atomic_dir(path) as tmp:
        algo.save_to_path(str(tmp.resolve()))  # RLlib takes absolute paths (or URIs) only
        (tmp / STATE_FILE).write_text(json.dumps(dataclasses.asdict(state)) + "\n")
        (tmp / CONFIG_FILE).write_text(cfg.to_toml())  # compared with the run's on resume
        fsync_tree(tmp)  # complete on disk before the current checkpoint is moved
        trash = _rotate(path)
    if trash is not None:
        shutil.rmtree(trash, ignore_errors=True)


def _rotate(path: Path) -> Path | None:
    """Steps (1) and (2) of :func:`_save_checkpoint`: a complete ``path`` becomes
    ``path.previous``; returns where the replaced previous checkpoint was set aside."""
    if not (path / STATE_FILE).is_file():
        return None  # nothing complete to keep (atomic_dir replaces a stray directory)
    previous = _previous(path)
    trash = None
    if previous.exists():
        trash = path.with_name(f".{previous.name}.old-{os.getpid()}")
        os.replace(previous, trash)
    os.replace(path, previous)
    return trash
