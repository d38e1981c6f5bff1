"""Simple reference policies: fixed spread and random quotes."""

from __future__ import annotations

import numpy as np

from agents.base import Agent
from mm_env.config import MarketConfig


class FixedSpreadAgent(Agent):
    """Quotes both sides at constant depths, whatever the state.

    ``FixedSpreadAgent(config)`` quotes at ``1/k`` on both sides: the depth that maximises the
    expected spread income ``delta * A e^(-k delta)`` of one side, optimal when inventory
    costs nothing (the "naive" policy of the benchmarks).
    """

    def __init__(
        self, config: MarketConfig, bid_depth: float | None = None, ask_depth: float | None = None
    ) -> None:
        super().__init__(config)
        default = 1.0 / config.k
        self.bid_depth = default if bid_depth is None else _finite("bid_depth", bid_depth)
        self.ask_depth = default if ask_depth is None else _finite("ask_depth", ask_depth)

    def _act_batch(self, obs: np.ndarray) -> np.ndarray:
        out = np.empty((obs.shape[0], 2))
        out[:, 0] = self.bid_depth
        out[:, 1] = self.ask_depth
        return out

    def __repr__(self) -> str:
        return f"FixedSpreadAgent(bid_depth={self.bid_depth:g}, ask_depth={self.ask_depth:g})"


class RandomAgent(Agent):
    """Depths drawn uniformly from ``[low, high]`` (default: the config's depth range).

    Takes a ``numpy.random.Generator`` (``rng``), never an integer seed.
    """

    def __init__(
        self,
        config: MarketConfig,
        rng: np.random.Generator | None = None,
        low: float | None = None,
        high: float | None = None,
    ) -> None:
        super().__init__(config)
        if rng is not None and not isinstance(rng, np.random.Generator):
            raise ValueError(
                f"rng must be a numpy.random.Generator, got {type(rng).__name__}; "
                "use numpy.random.default_rng(seed)"
            )
        self.rng = rng if rng is not None else np.random.default_rng()
        self.low = config.min_depth if low is None else _finite("low", low)
        self.high = config.max_depth if high is None else _finite("high", high)
        if not self.high > self.low:
            raise ValueError(f"high must be > low ({self.low!r}), got {self.high!r}")

    def _act_batch(self, obs: np.ndarray) -> np.ndarray:
        return self.rng.uniform(self.low, self.high, size=(obs.shape[0], 2))


def _finite(name: str, value: float) -> float:
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    return value
