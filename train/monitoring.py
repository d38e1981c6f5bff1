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

import csv
import io
import logging
import math
import time
from pathlib import Path
from typing import Any

import numpy as np
from stable_baselines3.common.callbacks import BaseCallback

from agents.avellaneda_stoikov import AvellanedaStoikovAgent
from agents.optimal import OptimalAgent
from agents.simple import FixedSpreadAgent
from mm_env import MarketConfig
from train.atomic import atomic_write_text
from train.config import TrainConfig
from train.env_stack import EnvStack
from train.evaluate import EvaluationResult, evaluate
from train.sb3_policy import save_model_dir
from train.sb3_vec_env import SB3VecEnv
from train.score import optimality_score, paired_gap

log = logging.getLogger(__name__)

EVAL_FILE = "eval.csv"
EVAL_COLUMNS = (
    "timesteps",
    "wall_time",
    "mean_reward",
    "se_reward",
    "gap_to_optimal",
    "se_gap_optimal",
    "gap_to_as",
    "se_gap_as",
    "score",
    "se_score",
    "mean_pnl",
    "mean_abs_inventory",
)


def has_exact_optimum(config: MarketConfig) -> bool:
    """Whether :class:`OptimalAgent` is the exact optimum of ``config``'s reward."""
    return (
        config.reward == "inventory_penalty" and config.mid_model == "abm" and not config.features
    )


def reference_policies(config: MarketConfig) -> dict[str, Any]:
    """The policies a run is compared with: naive, AS (gamma 0.1), optimal (where exact)."""
    refs: dict[str, Any] = {
        "naive": FixedSpreadAgent(config),
        "as": AvellanedaStoikovAgent(config, gamma=0.1),
    }
    if has_exact_optimum(config):
        refs["optimal"] = OptimalAgent(config)
    return refs


def reference_rewards(config: MarketConfig, episodes: int, seed: int) -> dict[str, np.ndarray]:
    """Per-episode total rewards of :func:`reference_policies` on the held-out episodes."""
    return {
        name: evaluate(policy, config, episodes, seed).episodes.total_reward
        for name, policy in reference_policies(config).items()
    }


def eval_row(
    result: EvaluationResult, refs: dict[str, np.ndarray], timesteps: int, wall_time: float
) -> dict[str, Any]:
    """One ``eval.csv`` row: the policy's mean reward, paired gaps to the references (same
    episodes) and, where the exact optimum is among them, the optimality score."""
    reward = result.episodes.total_reward
    row: dict[str, Any] = {
        "timesteps": int(timesteps),
        "wall_time": float(wall_time),
        "mean_reward": float(reward.mean()),
        "se_reward": float(reward.std(ddof=1) / math.sqrt(reward.size)),
        "mean_pnl": float(result.episodes.pnl.mean()),
        "mean_abs_inventory": float(np.abs(result.episodes.final_inventory).mean()),
    }
    gap_as = paired_gap(reward, refs["as"])
    row.update(gap_to_as=gap_as.value, se_gap_as=gap_as.se)
    if "optimal" in refs:
        gap = paired_gap(reward, refs["optimal"])
        score = optimality_score(reward, refs["naive"], refs["optimal"])
        row.update(
            gap_to_optimal=gap.value, se_gap_optimal=gap.se, score=score.value, se_score=score.se
        )
    return row


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
        self.rows = _read_rows(run_dir / EVAL_FILE, up_to=start)
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
        write_eval_csv(self.run_dir / EVAL_FILE, self.rows)
        if row["mean_reward"] > self.best:
            self.best = row["mean_reward"]
            meta = self.stack.meta(self.model.num_timesteps)
            save_model_dir(self.run_dir / "best", self.model, meta, self.stack.vecnorm)
        log.info("eval at %d steps: %s", row["timesteps"], row)
        return row


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


def _read_rows(path: Path, up_to: int) -> list[dict[str, Any]]:
    """Rows of an existing eval.csv up to ``up_to`` steps (those after a checkpoint are dropped)."""
    if not path.is_file():
        return []
    with open(path, newline="") as fh:
        rows = [{k: float(v) for k, v in r.items() if v != ""} for r in csv.DictReader(fh)]
    for row in rows:  # an integer column: rewritten as "640", not "640.0"
        row["timesteps"] = int(row["timesteps"])
    return [r for r in rows if r["timesteps"] <= up_to]


def write_eval_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    """Write ``eval.csv`` rows (:data:`EVAL_COLUMNS`, missing values empty) atomically."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(EVAL_COLUMNS), restval="")
    writer.writeheader()
    writer.writerows(rows)
    atomic_write_text(path, buf.getvalue())
