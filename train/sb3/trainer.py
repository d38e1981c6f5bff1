"""Train an SB3 agent on the market-making env: ``train(cfg, run_dir)`` and ``resume(run_dir)``.

A run directory holds ``config.toml`` (the :class:`TrainConfig`), ``checkpoints/`` (see
:mod:`train.sb3.checkpoint`), ``best/`` (the best model of the periodic evaluations),
``final/`` (the model at the end), ``snapshots/STEPS`` (the model at each of
``snapshot_steps``), ``eval.csv`` (one row per evaluation: steps, wall time,
mean reward and its standard error, the score against the naive and the optimal policy)
and ``tb/`` (TensorBoard logs).

The env stack is described in :mod:`train.sb3.env_stack`.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.callbacks import BaseCallback, CallbackList

from train.atomic import recover_dir
from train.run_config import config_changes
from train.sb3.algorithms import ON_POLICY, algorithm_class, algorithm_kwargs, schedule_objects
from train.sb3.callbacks import (
    EvalCallback,
    LogStdSchedule,
    MarketMetricsCallback,
    SnapshotCallback,
)
from train.sb3.checkpoint import (
    capture_state,
    checkpoint_config,
    checkpoint_market,
    latest_checkpoint,
    load_resume_state,
    restore_state,
    write_checkpoint,
)
from train.sb3.config import TrainConfig
from train.sb3.env_stack import EnvStack, make_env_stack
from train.sb3.model_dir import MODEL_FILE, VECNORM_FILE, save_model_dir
from train.values import UserError

log = logging.getLogger(__name__)

CONFIG_FILE = "config.toml"


class CheckpointCallback(BaseCallback):
    """Every ``freq`` steps, at the start of a rollout (a consistent point), write a checkpoint."""

    def __init__(self, run_dir: Path, cfg: TrainConfig, stack: EnvStack, start: int) -> None:
        super().__init__()
        self.run_dir, self.cfg, self.stack = run_dir, cfg, stack
        self.last = start

    def _on_rollout_start(self) -> None:
        freq = self.cfg.checkpoint_freq
        if freq and self.model.num_timesteps - self.last >= freq:
            self.save()

    def save(self) -> Path:
        self.last = self.model.num_timesteps
        meta = self.stack.meta(self.model.num_timesteps)
        state = capture_state(self.model, self.stack)
        path = write_checkpoint(self.run_dir, self.model, self.stack.vecnorm, meta, state,
                                self.cfg.to_toml())
        log.info("checkpoint %s", path)
        return path

    def _on_step(self) -> bool:
        return True


@dataclass
class TrainResult:
    """What :func:`train` returns."""

    run_dir: Path
    model: BaseAlgorithm
    num_timesteps: int
    wall_time: float
    evaluations: list[dict[str, Any]]


def train(
    cfg: TrainConfig, run_dir: str | Path, *, extra_callback: BaseCallback | None = None
) -> TrainResult:
    """Train from scratch into a new (or empty) ``run_dir``."""
    run = Path(run_dir)
    if (run / CONFIG_FILE).exists():
        raise UserError(
            f"run directory {str(run)!r} already holds a run; continue it with "
            f"resume({str(run)!r}) / --resume, or choose a new directory"
        )
    _set_threads(cfg)
    stack = make_env_stack(cfg)
    algo = algorithm_class(cfg.algo)
    try:
        model = algo("MlpPolicy", stack.vecnorm, tensorboard_log=_tb(run, cfg),
                     **algorithm_kwargs(cfg))
    except AssertionError as exc:  # SB3 checks its hyperparameters with asserts
        raise UserError(f"{cfg.algo} refused the training config: {exc}") from None
    run.mkdir(parents=True, exist_ok=True)
    cfg.save(run / CONFIG_FILE)  # only a config that trains makes a run directory
    return _learn(cfg, run, model, stack, start=0, extra_callback=extra_callback)


def resume(run_dir: str | Path, *, extra_callback: BaseCallback | None = None) -> TrainResult:
    """Continue an interrupted run from its latest intact checkpoint (exactly, for PPO/A2C).

    A corrupt newest checkpoint is skipped with a warning (the previous one is used); a run
    whose ``config.toml`` differs from the config the checkpoint was written with is refused
    with the differing fields (but :data:`train.run_config.RESUMABLE_CHANGES`); a swap of
    ``best/`` or ``final/`` cut short by a kill is completed first.
    """
    run = Path(run_dir)
    if not (run / CONFIG_FILE).is_file():
        raise UserError(f"{str(run)!r} is not a run directory (no {CONFIG_FILE})")
    try:
        cfg = TrainConfig.from_toml(run / CONFIG_FILE)
    except UserError:
        raise
    except (ValueError, TypeError) as exc:
        raise UserError(f"{str(run / CONFIG_FILE)!r}: {exc}") from None
    for name in ("best", "final"):
        recover_dir(run / name)
    ckpt = latest_checkpoint(run)
    if ckpt is None:
        raise UserError(
            f"run {str(run)!r} has no checkpoint to resume from; start it again with a new "
            "directory (or a smaller checkpoint_freq)"
        )
    check_unchanged(cfg, ckpt, run / CONFIG_FILE)
    _set_threads(cfg)
    stack = make_env_stack(cfg, vecnorm_path=ckpt / VECNORM_FILE)
    model = algorithm_class(cfg.algo).load(
        ckpt / MODEL_FILE, env=stack.vecnorm, device="cpu", tensorboard_log=_tb(run, cfg),
        custom_objects=schedule_objects(cfg),
    )
    restore_state(load_resume_state(ckpt), model, stack)
    log.info("resuming %s from %s at %d steps", run, ckpt.name, model.num_timesteps)
    return _learn(cfg, run, model, stack, start=model.num_timesteps, extra_callback=extra_callback)


def check_unchanged(cfg: TrainConfig, ckpt: Path, where: Path) -> None:
    """UserError listing the fields where the run's config ``cfg`` (read from ``where``)
    differs from the one checkpoint ``ckpt`` was written with (a checkpoint without its
    config: its market and network input, from meta.json)."""
    saved = checkpoint_config(ckpt)
    if saved is not None:
        changes = config_changes(TrainConfig.from_dict(saved), cfg)
    else:
        trained = checkpoint_market(ckpt)
        now = {"market": cfg.market().to_dict(), "obs_features": list(cfg.obs_features)}
        changes = ", ".join(f"{k}: {trained[k]!r} -> {now[k]!r}" for k in now
                            if trained[k] != now[k])
    if changes:
        raise UserError(
            f"{str(where)!r} differs from the config checkpoint {ckpt.name} was written with "
            f"({changes}); restore it to resume, or train a new run with the new config"
        )


def _learn(
    cfg: TrainConfig,
    run: Path,
    model: BaseAlgorithm,
    stack: EnvStack,
    start: int,
    extra_callback: BaseCallback | None,
) -> TrainResult:
    evaluator = EvalCallback(run, cfg, stack, start=start)
    checkpointer = CheckpointCallback(run, cfg, stack, start=start)
    if start and start >= cfg.total_timesteps:
        # resumed from the final checkpoint: the run is complete (its final evaluation and
        # final/ were written before that checkpoint); rewriting them would only duplicate
        log.info("run %s is already complete (%d steps)", run, start)
        return TrainResult(run, model, start, 0.0, evaluator.rows)
    snapshots = SnapshotCallback(run, cfg, stack, start=start)
    callbacks: list[BaseCallback] = [
        evaluator, checkpointer, snapshots, MarketMetricsCallback(stack.base)
    ]
    if cfg.log_std_schedule == "linear" and cfg.algo in ON_POLICY:
        callbacks.append(LogStdSchedule(cfg))
    if extra_callback is not None:
        callbacks.append(extra_callback)
    t0 = time.perf_counter()
    model.learn(
        total_timesteps=max(cfg.total_timesteps - start, 0),
        callback=CallbackList(callbacks),
        reset_num_timesteps=start == 0,
        tb_log_name=cfg.algo,
        progress_bar=cfg.progress_bar,
    )
    wall = time.perf_counter() - t0
    snapshots.take_due()  # a snapshot at the last step count
    evaluator.evaluate_now()
    save_model_dir(run / "final", model, stack.meta(model.num_timesteps), stack.vecnorm)
    if cfg.checkpoint_freq:
        checkpointer.save()
    return TrainResult(run, model, model.num_timesteps, wall, evaluator.rows)


def _tb(run: Path, cfg: TrainConfig) -> str | None:
    return str(run / "tb") if cfg.tensorboard else None


def _set_threads(cfg: TrainConfig) -> None:
    if cfg.torch_threads:
        torch.set_num_threads(cfg.torch_threads)
