"""Self-exciting (Hawkes) market orders, per side::

    Y' = Y e^(-kappa_H dt) + n (1 - e^(-kappa_H dt)) / dt * N

the kernel ``n kappa_H e^(-kappa_H t)`` integrated over an arrival time uniform in the step,
``N`` the step's orders of that side. The stationary mean rate is exactly
``base / (1 - n)``; ``Y`` starts at its stationary mean ``n base / (1 - n)``.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from mm_env.components.base import full
from mm_env.components.kinds import FlowModifier

if TYPE_CHECKING:
    from mm_env.config import MarketConfig
    from mm_env.state import MarketState


def stationary_rates(config: MarketConfig) -> tuple[float, float]:
    """Stationary mean arrival rates ``(sell, buy)`` [orders/session] of the order flow."""
    n = config.hawkes_branching
    sell = config.A * (1.0 - config.flow_skew)
    buy = config.A * (1.0 + config.flow_skew)
    return sell / (1.0 - n), buy / (1.0 - n)


class HawkesExcitation(FlowModifier):
    """Adds the excitation ``Y`` to each side's rate (``hawkes_branching > 0``)."""

    name = "hawkes"
    params = ("hawkes_branching", "hawkes_decay")
    state_fields = {
        "buy_excitation": "Hawkes excitation Y_b of buy market orders [orders/session]",
        "sell_excitation": "Hawkes excitation Y_s of sell market orders [orders/session]",
    }

    @classmethod
    def applies(cls, config: MarketConfig) -> bool:
        return config.hawkes_branching > 0

    def __init__(self, config: MarketConfig) -> None:
        super().__init__(config)
        dt = config.dt
        self.decay = math.exp(-config.hawkes_decay * dt)
        self.jump = config.hawkes_branching * (1.0 - self.decay) / dt

    def initial(
        self, shape: tuple[int, ...] | None, rng: np.random.Generator | None
    ) -> dict[str, Any]:
        sell, buy = stationary_rates(self.config)
        n = self.config.hawkes_branching
        return {"buy_excitation": full(shape, n * buy), "sell_excitation": full(shape, n * sell)}

    def modify(self, ops: Any, state: MarketState, sell: Any, buy: Any) -> tuple[Any, Any]:
        parts = state.parts
        return sell + parts["sell_excitation"], buy + parts["buy_excitation"]

    def advance(self, ops: Any, before: MarketState, after: dict[str, Any], mid: Any, z: Any,
                noise: dict[str, Any], arrivals_sell: Any, arrivals_buy: Any) -> None:
        old = before.parts
        after["buy_excitation"] = old["buy_excitation"] * self.decay + self.jump * arrivals_buy
        after["sell_excitation"] = (old["sell_excitation"] * self.decay
                                    + self.jump * arrivals_sell)
