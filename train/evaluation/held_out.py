"""Held-out evaluation of a policy during training, framework-neutral: the schedule's rows.

Every training run (SB3 or RLlib) evaluates its current deterministic policy on
``eval_episodes`` held-out episodes (seed ``eval_seed``, never used in training), next to
reference policies evaluated once on the same episodes (common random numbers): the naive
policy (depth ``1/k`` both sides), Avellaneda-Stoikov (gamma 0.1) and, where the model has
one (``inventory_penalty`` reward, arithmetic mid, no market components), the exact optimum.
:func:`eval_row` is one row of ``RUN_DIR/eval.csv`` (:data:`EVAL_COLUMNS`): the mean episode
reward, the paired gap to each reference and the optimality score;
:func:`write_eval_rows` / :func:`read_eval_rows` write and read the file.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from agents.avellaneda_stoikov import AvellanedaStoikovAgent
from agents.optimal import OptimalAgent
from agents.simple import FixedSpreadAgent
from mm_env import MarketConfig
from train.evaluation.files import read_csv, write_csv
from train.evaluation.harness import EvaluationResult, evaluate
from train.evaluation.score import optimality_score, paired_gap

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


def read_eval_rows(path: Path, up_to: int | None = None) -> list[dict[str, Any]]:
    """Rows of an existing eval.csv (empty cells left out), up to ``up_to`` steps if given
    (the rows after a checkpoint are dropped on resume); ``[]`` if there is no file."""
    if not path.is_file():
        return []
    rows = [{k: v for k, v in row.items() if v is not None} for row in read_csv(path)]
    for row in rows:
        row["timesteps"] = int(row["timesteps"])
        for key, value in row.items():
            if key != "timesteps" and isinstance(value, int):
                row[key] = float(value)
    return [r for r in rows if up_to is None or r["timesteps"] <= up_to]


def write_eval_rows(path: Path, rows: list[dict[str, Any]]) -> None:
    """Write ``eval.csv`` rows (:data:`EVAL_COLUMNS`, missing values empty) atomically."""
    write_csv(path, rows, EVAL_COLUMNS)
