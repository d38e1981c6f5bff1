"""Observation feature ``realized_vol``: ``sqrt(v)`` [mid units / sqrt(session)], ``v`` the
exponential average of the squared increments of the mid's state variable per session,
``v' = w v + (1 - w) r^2 / dt`` (``r = x' - x``, ``w = 2^(-dt / obs_halflife)``), started at
``sigma^2``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from mm_env.components.base import full
from mm_env.components.kinds import MidProcess, ObservationFeature

if TYPE_CHECKING:
    from mm_env.config import MarketConfig
    from mm_env.state import MarketState


class RealizedVolatility(ObservationFeature):
    """Recent volatility of the mid; scaled around sigma."""

    name = "realized_vol"
    params = ("obs_halflife", "sigma")
    state_fields = {
        "variance": "exponential average of squared mid moves per session "
                    "[mid units^2/session]",
    }
    bounds = (0.0, float("inf"))

    def __init__(self, config: MarketConfig) -> None:
        super().__init__(config)
        self.w = 0.5 ** (config.dt / config.obs_halflife)
        self.gain = (1.0 - self.w) / config.dt
        self.mid: MidProcess | None = None

    def bind(self, market: Any) -> None:
        self.mid = market.mid  # its state variable (ln S or S) gives the increments

    def initial(
        self, shape: tuple[int, ...] | None, rng: np.random.Generator | None
    ) -> dict[str, Any]:
        return {"variance": full(shape, self.config.sigma**2)}

    def advance(self, ops: Any, before: MarketState, after: dict[str, Any], mid: Any, z: Any,
                noise: dict[str, Any], arrivals_sell: Any, arrivals_buy: Any) -> None:
        assert self.mid is not None
        r = self.mid.increment(ops, before.mid, mid)
        after["variance"] = self.w * before.parts["variance"] + self.gain * (r * r)

    def observe(self, state: MarketState) -> Any:
        return state.parts["variance"] ** 0.5

    def observation_scale(self) -> tuple[float, float]:
        s = self.config.sigma
        return s, max(s, 1e-12)
