"""Bernoulli fills (AS 2008): a quote at depth ``d`` fills within the step with probability
``min(1, lambda h(d) dt)``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mm_env.components.kinds import FillModel

if TYPE_CHECKING:
    from mm_env.config import MarketConfig


class BernoulliFills(FillModel):
    """``fill_model="bernoulli"``."""

    name = "bernoulli"
    params = ("fill_model",)

    @classmethod
    def applies(cls, config: MarketConfig) -> bool:
        return config.fill_model == "bernoulli"

    def probability(self, ops: Any, depth: Any, rate_dt: Any) -> Any:
        return ops.minimum(rate_dt * self.shape.reach(ops, depth), 1.0)

    def sides(self, ops: Any, bid_depth: Any, ask_depth: Any, sell_rate: Any, buy_rate: Any,
              noise: dict[str, Any], extras: dict[str, Any]) -> tuple[Any, Any, Any, Any]:
        reach, dt, minimum = self.shape.reach, self.dt, ops.minimum
        return (minimum(sell_rate * dt * reach(ops, bid_depth), 1.0),
                minimum(buy_rate * dt * reach(ops, ask_depth), 1.0), 0.0, 0.0)
