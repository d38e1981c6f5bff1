"""A policy's optimality score on fixed held-out episodes, by Monte Carlo and exactly.

:class:`HeldOutScorer` evaluates the naive policy (depth ``1/k`` both sides) and the exact
optimum (:class:`agents.OptimalAgent`) once on ``episodes`` held-out episodes (seed ``seed``,
common random numbers) and on the lattice of :mod:`agents.lattice`; each call then scores one
policy on the same episodes: the Monte Carlo score
``(E[R_policy] - E[R_naive]) / (E[R_optimal] - E[R_naive])`` with its paired standard error
(:func:`train.evaluation.score.optimality_score`) and the same score without sampling noise
from the lattice recursion. Only for markets with an exact optimum (``inventory_penalty``
reward, arithmetic mid, no market components).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from agents.lattice import evaluate_on_lattice
from agents.optimal import OptimalAgent
from agents.simple import FixedSpreadAgent
from mm_env import MarketConfig
from train.evaluation.harness import evaluate
from train.evaluation.score import optimality_score


@dataclass(frozen=True)
class PolicyScore:
    """The Monte Carlo score, its standard error and the exact (lattice) score."""

    value: float
    se: float
    exact: float


class HeldOutScorer:
    """``HeldOutScorer(market, episodes, seed)(policy)`` -> :class:`PolicyScore`."""

    def __init__(self, market: MarketConfig, episodes: int = 10_000, seed: int = 777) -> None:
        self.market, self.episodes, self.seed = market, episodes, seed
        naive, optimal = FixedSpreadAgent(market), OptimalAgent(market)
        self.naive_rewards = self.rewards(naive)
        self.optimal_rewards = self.rewards(optimal)
        self.naive_value = evaluate_on_lattice(naive, market).initial
        self.optimal_value = evaluate_on_lattice(optimal, market).initial

    def rewards(self, policy: Any) -> np.ndarray:
        """Per-episode total env reward of ``policy`` on the held-out episodes."""
        rewards: np.ndarray = evaluate(
            policy, self.market, self.episodes, self.seed
        ).episodes.total_reward
        return rewards

    def __call__(self, policy: Any, rewards: np.ndarray | None = None) -> PolicyScore:
        """Score ``policy`` (its per-episode ``rewards`` on these episodes, if already known)."""
        r = self.rewards(policy) if rewards is None else rewards
        score = optimality_score(r, self.naive_rewards, self.optimal_rewards)
        exact = (evaluate_on_lattice(policy, self.market).initial - self.naive_value) / (
            self.optimal_value - self.naive_value
        )
        return PolicyScore(score.value, score.se, float(exact))
