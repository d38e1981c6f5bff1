"""A replayed mid: ``S_i = P_(o + i)``, a price series at the episode's offset ``o``
(random per episode with ``replay_random_start``); nothing else moves it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from mm_env.components.base import require_rng
from mm_env.components.kinds import MidProcess

if TYPE_CHECKING:
    from mm_env.config import MarketConfig
    from mm_env.state import MarketState


class ReplayMid(MidProcess):
    """The mid read from ``config.replay`` (a :class:`~mm_env.replay.PriceSeries`)."""

    name = "replay"
    params = ("replay", "replay_column", "replay_random_start")
    selected_by_mid_model = False
    state_fields = {"offset": "index of the replayed series at step 0"}

    @classmethod
    def applies(cls, config: MarketConfig) -> bool:
        return config.replay is not None

    def __init__(self, config: MarketConfig) -> None:
        super().__init__(config)
        assert config.replay is not None
        self.series = config.replay.values
        self.last = self.series.size - 1
        self.random_start = config.replay_random_start

    def initial(
        self, shape: tuple[int, ...] | None, rng: np.random.Generator | None
    ) -> dict[str, Any]:
        offset: Any = 0 if shape is None else np.zeros(shape, np.int64)
        if self.random_start:
            rng = require_rng(rng, self)
            high = self.series.size - self.config.n_steps
            offset = int(rng.integers(high)) if shape is None else rng.integers(high, size=shape)
        return {"offset": offset}

    def initial_mid(self, parts: dict[str, Any], shape: tuple[int, ...] | None) -> Any:
        offset = parts["offset"]
        return float(self.series[offset]) if shape is None else self.series[offset]

    def move(self, ops: Any, state: MarketState, z: Any) -> Any:
        return 0.0

    def advance_mid(self, ops: Any, state: MarketState, move: Any, step: Any) -> Any:
        # an episode that has ended (a vector env's autoreset step) stays at its last price
        return ops.take(self.series, ops.minimum(state.parts["offset"] + step, self.last))

    def mid_bounds(self) -> tuple[float, float]:
        return (0.0, float("inf"))  # prices of a series are > 0 (checked on loading)

    def expected_move(self) -> None:
        return None  # the series' next move is whatever was recorded
