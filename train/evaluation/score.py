"""The optimality score of a policy and paired comparisons on the env's reward.

``score = (E[R_policy] - E[R_naive]) / (E[R_optimal] - E[R_naive])`` where ``R`` is the
episode's total env reward, ``naive`` quotes both sides at depth ``1/k`` and ``optimal`` is
:class:`agents.OptimalAgent`. All three are evaluated on the same episodes (common random
numbers), and the standard error is the delta method's on the paired per-episode values.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Score:
    value: float
    se: float


def optimality_score(policy: np.ndarray, naive: np.ndarray, optimal: np.ndarray) -> Score:
    """Score and its standard error from paired per-episode rewards."""
    p, n, o = (np.asarray(x, dtype=np.float64) for x in (policy, naive, optimal))
    if not (p.shape == n.shape == o.shape) or p.ndim != 1 or p.shape[0] < 2:
        raise ValueError(
            f"policy, naive and optimal must be paired 1-d arrays of >= 2 episodes, got shapes "
            f"{p.shape}, {n.shape}, {o.shape}"
        )
    gain, room = p - n, o - n
    denom = float(room.mean())
    if denom == 0.0:
        raise ValueError("the optimal and the naive policy have the same mean reward: no score")
    value = float(gain.mean()) / denom
    influence = (gain - value * room) / denom
    return Score(value, float(influence.std(ddof=1) / math.sqrt(p.shape[0])))


def paired_gap(a: np.ndarray, b: np.ndarray) -> Score:
    """``mean(a - b)`` and its standard error for paired per-episode values."""
    d = np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)
    return Score(float(d.mean()), float(d.std(ddof=1) / math.sqrt(d.shape[0])))
