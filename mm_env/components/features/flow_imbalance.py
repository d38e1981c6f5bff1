"""Observation feature ``flow_imbalance``: ``(R_b - R_s) / (R_b + R_s)`` in [-1, 1], ``R`` the
exponential averages of the market orders per session of each side,
``R' = w R + (1 - w) N / dt`` with ``w = 2^(-dt / obs_halflife)``, started at the stationary
arrival rates."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from mm_env.components.base import full
from mm_env.components.flow.hawkes import stationary_rates
from mm_env.components.kinds import ObservationFeature

if TYPE_CHECKING:
    from mm_env.config import MarketConfig
    from mm_env.state import MarketState


class FlowImbalance(ObservationFeature):
    """The imbalance of recent market orders (needs counted arrivals, poisson fills)."""

    name = "flow_imbalance"
    params = ("obs_halflife",)
    state_fields = {
        "buy_rate": "exponential average of buy market orders per session",
        "sell_rate": "exponential average of sell market orders per session",
    }
    bounds = (-1.0, 1.0)

    def __init__(self, config: MarketConfig) -> None:
        super().__init__(config)
        self.w = 0.5 ** (config.dt / config.obs_halflife)
        self.gain = (1.0 - self.w) / config.dt

    def initial(
        self, shape: tuple[int, ...] | None, rng: np.random.Generator | None
    ) -> dict[str, Any]:
        sell, buy = stationary_rates(self.config)
        return {"buy_rate": full(shape, buy), "sell_rate": full(shape, sell)}

    def advance(self, ops: Any, before: MarketState, after: dict[str, Any], mid: Any, z: Any,
                noise: dict[str, Any], arrivals_sell: Any, arrivals_buy: Any) -> None:
        old = before.parts
        after["buy_rate"] = self.w * old["buy_rate"] + self.gain * arrivals_buy
        after["sell_rate"] = self.w * old["sell_rate"] + self.gain * arrivals_sell

    def observe(self, state: MarketState) -> Any:
        b, s = state.parts["buy_rate"], state.parts["sell_rate"]
        return (b - s) / (b + s + 1e-300)  # 0 when no order at all is remembered
