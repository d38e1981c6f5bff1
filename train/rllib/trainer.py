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
interrupted run from it) and ``policy/`` (the RLModule and ``meta.json``, loaded by
:func:`train.rllib.policy.load_rllib_policy`). Every file is written atomically.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from train.atomic import atomic_dir
from train.evaluation.files import write_csv
from train.evaluation.harness import evaluate
from train.evaluation.held_out import EVAL_FILE, eval_row, reference_rewards, write_eval_rows
from train.rllib.config import RLlibConfig
from train.rllib.env import ENV_NAME, register
from train.rllib.policy import RLlibPolicy, save_policy_dir
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
        ray.init(
            num_cpus=cfg.num_cpus or None, include_dashboard=False, log_to_driver=False
        )


def ppo_config(cfg: RLlibConfig) -> Any:
    """RLlib's ``PPOConfig`` for ``cfg`` (registers the env creator first)."""
    from ray.rllib.algorithms.ppo import PPOConfig
    from ray.rllib.core.rl_module.default_model_config import DefaultModelConfig

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
        .training(
            train_batch_size_per_learner=cfg.train_batch_size,
            minibatch_size=cfg.minibatch_size,
            num_epochs=cfg.num_epochs,
            gamma=cfg.gamma,
            lambda_=cfg.gae_lambda,
            lr=lr,
            # SB3's PPO defaults, so that both libraries optimise the same objective: clipped
            # surrogate (0.2) without RLlib's extra KL penalty, unclipped value loss at
            # weight 0.5, gradients clipped to global norm 0.5, no entropy bonus
            clip_param=0.2,
            use_kl_loss=False,
            vf_loss_coeff=0.5,
            vf_clip_param=float("inf"),
            grad_clip=0.5,
            grad_clip_by="global_norm",
            entropy_coeff=0.0,
        )
        .rl_module(
            model_config=DefaultModelConfig(
                fcnet_hiddens=list(cfg.net_arch), fcnet_activation="tanh", free_log_std=True
            )
        )
        .debugging(seed=cfg.seed, log_level="WARN")
    )


def build_algo(cfg: RLlibConfig) -> Any:
    """The PPO algorithm of ``cfg``, its Gaussian log std set to ``cfg.log_std_init``.

    RLlib's policy head learns a state-independent log std (``free_log_std``, as SB3's
    ``MlpPolicy``) initialised at 0; it is set here on the learner and synced to the env
    runners, because an initial std of 1 in depth units explores far too widely.
    """
    algo = ppo_config(cfg).build_algo()
    value = float(cfg.log_std_init)

    def set_log_std(learner: Any) -> int:
        import torch
        from ray.rllib.core import DEFAULT_MODULE_ID

        found = 0
        with torch.no_grad():
            for name, param in learner.module[DEFAULT_MODULE_ID].named_parameters():
                if name.endswith("log_std"):
                    param.fill_(value)
                    found += 1
        return found

    found = [r.get() for r in algo.learner_group.foreach_learner(set_log_std)]
    if not found or not all(found):
        algo.stop()
        raise RuntimeError("RLlib's policy has no free log std parameter to initialise")
    algo.env_runner_group.sync_weights(
        from_worker_or_learner_group=algo.learner_group, inference_only=True
    )
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
    """
    run = Path(run_dir)
    if not (run / CONFIG_FILE).is_file():
        raise UserError(f"{str(run)!r} is not an RLlib run directory (no {CONFIG_FILE})")
    try:
        cfg = RLlibConfig.from_toml(run / CONFIG_FILE)
    except (ValueError, TypeError) as exc:
        raise UserError(f"{str(run / CONFIG_FILE)!r}: {exc}") from None
    ckpt = _checkpoint_dir(run)
    if ckpt is None:
        raise UserError(
            f"run {str(run)!r} has no checkpoint to resume from; start it again in a new "
            "directory (or with a smaller checkpoint_freq)"
        )
    if (ckpt / CONFIG_FILE).is_file():  # the config the checkpoint was written with
        changes = config_changes(RLlibConfig.from_toml(ckpt / CONFIG_FILE), cfg)
        if changes:
            raise UserError(
                f"{str(run / CONFIG_FILE)!r} differs from the config its checkpoint was "
                f"written with ({changes}); restore it to resume, or train a new run"
            )
    try:
        state = _RunState(**json.loads((ckpt / STATE_FILE).read_text()))
    except (OSError, ValueError, TypeError) as exc:
        raise UserError(f"{str(ckpt / STATE_FILE)!r} is corrupt: {exc}") from None
    if state.timesteps >= cfg.total_timesteps and _saved_steps(run) >= state.timesteps:
        log.info("run %s is already complete (%d steps)", run, state.timesteps)
        return RLlibResult(run, state.timesteps, state.wall_time, state.evaluations,
                           state.progress)
    _set_threads(cfg)
    init_ray(cfg)
    register()
    from ray.rllib.algorithms.algorithm import Algorithm

    algo = Algorithm.from_checkpoint(str(ckpt.resolve()))
    log.info("resuming %s at %d steps", run, state.timesteps)
    return _loop(algo, cfg, run, state)


def _checkpoint_dir(run: Path) -> Path | None:
    """``RUN/checkpoint``, or the complete previous one that a process killed in the middle of
    replacing it left under ``.checkpoint.old-PID`` (moved back into place)."""
    ckpt = run / CHECKPOINT_DIR
    if (ckpt / STATE_FILE).is_file():
        return ckpt
    for old in sorted(run.glob(f".{CHECKPOINT_DIR}.old-*")):
        if (old / STATE_FILE).is_file():
            if ckpt.exists():
                shutil.rmtree(ckpt)
            os.replace(old, ckpt)
            return ckpt
    return None


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
    try:
        while state.timesteps < cfg.total_timesteps:
            tick = time.perf_counter()
            out = algo.train()
            steps = int(out["num_env_steps_sampled_lifetime"])
            state.iteration += 1
            runners = out.get("env_runners", {})
            state.progress.append({
                "iteration": state.iteration,
                "timesteps": steps,
                "wall_time": time.perf_counter() - t0,
                "train_return_mean": float(runners.get("episode_return_mean", math.nan)),
                "steps_per_s": (steps - state.timesteps) / (time.perf_counter() - tick),
            })
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
        if state.timesteps > _saved_steps(run):
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
    """RLlib's checkpoint plus the run state, written into a temporary sibling, flushed, then
    moved into place (:func:`train.atomic.atomic_dir`): a process killed mid-write leaves the
    previous checkpoint intact (a kill between the two renames of the replacement leaves it
    under ``.checkpoint.old-PID``, where :func:`resume_rllib` finds it). Temporary copies of killed
    writers are removed."""
    complete = (path / STATE_FILE).is_file()  # else an .old- copy may be the only one left
    for stale in path.parent.glob(f".{path.name}.*"):
        if stale.is_dir() and (complete or not stale.name.startswith(f".{path.name}.old-")):
            shutil.rmtree(stale, ignore_errors=True)
    with atomic_dir(path) as tmp:
        algo.save_to_path(str(tmp.resolve()))  # RLlib takes absolute paths (or URIs) only
        (tmp / STATE_FILE).write_text(json.dumps(dataclasses.asdict(state)) + "\n")
        (tmp / CONFIG_FILE).write_text(cfg.to_toml())  # compared with the run's on resume
