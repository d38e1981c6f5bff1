"""Callbacks that watch a training run: periodic evaluation against references, market metrics.

:class:`EvalCallback` evaluates the current deterministic policy every ``eval_freq`` steps on
``eval_episodes`` held-out episodes (seed ``eval_seed``, never used in training), next to
reference policies evaluated once on the same episodes (common random numbers): the naive
policy (depth ``1/k`` both sides), Avellaneda-Stoikov (gamma 0.1) and, where the model has
one (``inventory_penalty`` reward, arithmetic mid), the exact optimum. It logs the mean episode
reward, the paired gap to each reference and the optimality score to TensorBoard and to
``RUN_DIR/eval.csv``, and keeps the best model so far in ``RUN_DIR/best``.
"""

from __future__ import annotations

import logging
import math
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from stable_baselines3.common.callbacks import BaseCallback

from train.evaluation.harness import evaluate
from train.evaluation.held_out import (
    EVAL_COLUMNS,
    EVAL_FILE,
    eval_row,
    read_eval_rows,
    reference_rewards,
    write_eval_rows,
)
from train.sb3.config import TrainConfig
from train.sb3.env_stack import EnvStack
from train.sb3.model_dir import save_model_dir
from train.sb3.vec_env import SB3VecEnv

log = logging.getLogger(__name__)

class CurrentPolicy:
    """The model being trained as an ``act(obs)`` policy, with the training preprocessing."""

    def __init__(self, model: Any, stack: EnvStack) -> None:
        self.model, self.stack = model, stack

    def act(self, obs: np.ndarray) -> np.ndarray:
        action, _ = self.model.predict(self.stack.policy_input(obs), deterministic=True)
        return np.asarray(action, dtype=np.float64)


class EvalCallback(BaseCallback):
    """Periodic held-out evaluation, eval.csv, TensorBoard scalars and the best model."""

    def __init__(self, run_dir: Path, cfg: TrainConfig, stack: EnvStack, start: int):
        super().__init__()
        self.run_dir, self.cfg, self.stack = run_dir, cfg, stack
        self.market = cfg.market()
        self.refs: dict[str, np.ndarray] = {}
        self.rows = read_eval_rows(run_dir / EVAL_FILE, up_to=start)
        # the evaluation schedule continues from the last evaluation, not from the checkpoint
        self.last = int(self.rows[-1]["timesteps"]) if self.rows else 0
        self.best = max((r["mean_reward"] for r in self.rows), default=-math.inf)
        self._t0 = time.perf_counter() - (self.rows[-1]["wall_time"] if self.rows else 0.0)

    def _on_training_start(self) -> None:
        if self.cfg.eval_freq and not self.refs:
            self.refs = reference_rewards(
                self.market, self.cfg.eval_episodes, self.cfg.eval_seed
            )

    def _on_rollout_start(self) -> None:
        if self.cfg.eval_freq and self.model.num_timesteps - self.last >= self.cfg.eval_freq:
            self.evaluate_now()

    def _on_step(self) -> bool:
        return True

    def evaluate_now(self) -> dict[str, Any]:
        """Evaluate the current policy, log it, keep it if best; returns the eval.csv row."""
        if not self.refs:
            self._on_training_start()
            if not self.refs:
                self.refs = reference_rewards(
                    self.market, self.cfg.eval_episodes, self.cfg.eval_seed
                )
        self.last = self.model.num_timesteps
        policy = CurrentPolicy(self.model, self.stack)
        result = evaluate(policy, self.market, self.cfg.eval_episodes, self.cfg.eval_seed)
        row = eval_row(
            result, self.refs, self.model.num_timesteps, time.perf_counter() - self._t0
        )
        for key in EVAL_COLUMNS[2:]:
            if key in row:
                self.logger.record(f"eval/{key}", row[key])
        self.rows.append(row)
        write_eval_rows(self.run_dir / EVAL_FILE, self.rows)
        if row["mean_reward"] > self.best:
            self.best = row["mean_reward"]
            meta = self.stack.meta(self.model.num_timesteps)
            save_model_dir(self.run_dir / "best", self.model, meta, self.stack.vecnorm)
        log.info("eval at %d steps: %s", row["timesteps"], row)
        return row


class LogStdSchedule(BaseCallback):
    """The ``linear`` log std schedule of an on-policy run: the Gaussian policy's log std is
    taken out of training and set, at each rollout start, to
    ``log_std_init + (log_std_final - log_std_init) * min(steps / total_timesteps, 1)``.

    A state-independent exploration noise that shrinks on a schedule instead of by its own
    gradient: a learned std keeps shrinking while its gradient is mostly noise, and on the
    ``penalty`` task the mean policy then gets worse. A function of the step count alone, so
    a resumed run sets the same values.
    """

    def __init__(self, cfg: TrainConfig) -> None:
        super().__init__()
        self.start, self.end, self.total = cfg.log_std_init, cfg.log_std_final, cfg.total_timesteps

    def value(self, steps: int) -> float:
        """The log std at ``steps`` environment steps."""
        return self.start + (self.end - self.start) * min(steps / self.total, 1.0)

    def _on_training_start(self) -> None:
        self.log_std.requires_grad_(False)  # the optimizer skips a parameter without grad

    def _on_rollout_start(self) -> None:
        with torch.no_grad():
            self.log_std.fill_(self.value(self.model.num_timesteps))

    @property
    def log_std(self) -> torch.nn.Parameter:
        log_std = getattr(self.model.policy, "log_std", None)
        if not isinstance(log_std, torch.nn.Parameter):
            raise TypeError(
                "log_std_schedule='linear' needs a Gaussian policy with a state-independent "
                f"log std (PPO/A2C on a Box action space), got {type(self.model.policy).__name__}"
            )
        return log_std

    def _on_step(self) -> bool:
        return True


SNAPSHOT_DIR = "snapshots"


class SnapshotCallback(BaseCallback):
    """Keep the model at each of ``cfg.snapshot_steps`` in ``RUN_DIR/snapshots/STEPS``.

    A snapshot is taken at the first rollout start at or after its step count (with the
    default 1000 envs x 40 steps, a multiple of 40,000 steps is hit exactly); the directory is
    named by the step count asked for, and its ``meta.json`` holds the actual one. A resumed
    run takes the snapshots after its checkpoint again (the same model, as the resume is
    exact).
    """

    def __init__(self, run_dir: Path, cfg: TrainConfig, stack: EnvStack, start: int) -> None:
        super().__init__()
        self.run_dir, self.stack = run_dir, stack
        self.pending = [s for s in cfg.snapshot_steps if s > start]

    def _on_rollout_start(self) -> None:
        self.take_due()

    def take_due(self) -> None:
        """Save a snapshot for every pending step count the run has reached."""
        steps = self.model.num_timesteps
        while self.pending and steps >= self.pending[0]:
            target = self.pending.pop(0)
            path = self.run_dir / SNAPSHOT_DIR / str(target)
            save_model_dir(path, self.model, self.stack.meta(steps), self.stack.vecnorm)
            log.info("snapshot %s at %d steps", path, steps)

    def _on_step(self) -> bool:
        return True


class MarketMetricsCallback(BaseCallback):
    """TensorBoard scalars of the market at each rollout's end: inventory, wealth, fills."""

    def __init__(self, base: SB3VecEnv) -> None:
        super().__init__()
        self.base = base
        self.final_wealth: list[float] = []

    def _on_step(self) -> bool:
        dones = self.locals.get("dones")
        if dones is not None and np.any(dones):
            infos = self.locals["infos"]
            self.final_wealth.extend(infos[i]["wealth"] for i in np.flatnonzero(dones))
        return True

    def _on_rollout_end(self) -> None:
        info = self.base.last_info
        if "inventory" in info:
            self.logger.record("market/mean_abs_inventory", float(np.abs(info["inventory"]).mean()))
            self.logger.record("market/mean_wealth", float(np.mean(info["wealth"])))
        if self.final_wealth:
            self.logger.record("market/episode_pnl", float(np.mean(self.final_wealth)))
            self.final_wealth.clear()
