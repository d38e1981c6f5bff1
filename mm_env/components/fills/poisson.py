"""Poisson fills: a quote at depth ``d`` fills within the step with probability
``1 - exp(-lambda h(d) dt)``, the probability that at least one of the side's Poisson
market orders reaches it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mm_env.components.kinds import FillModel

if TYPE_CHECKING:
    from mm_env.config import MarketConfig


class PoissonFills(FillModel):
    """``fill_model="poisson"`` (the course notebook's formula), arrivals not counted."""

    name = "poisson"
    params = ("fill_model",)

    @classmethod
    def applies(cls, config: MarketConfig) -> bool:
        return config.fill_model == "poisson" and not config.counts_arrivals

    def probability(self, ops: Any, depth: Any, rate_dt: Any) -> Any:
        return -ops.expm1(-(rate_dt * self.shape.reach(ops, depth)))

    def sides(self, ops: Any, bid_depth: Any, ask_depth: Any, sell_rate: Any, buy_rate: Any,
              noise: dict[str, Any], extras: dict[str, Any]) -> tuple[Any, Any, Any, Any]:
        reach, dt, expm1 = self.shape.reach, self.dt, ops.expm1
        # -(r h) == (-r) h exactly: the negation moves onto the (often scalar) rate
        return (-expm1(-(sell_rate * dt) * reach(ops, bid_depth)),
                -expm1(-(buy_rate * dt) * reach(ops, ask_depth)), 0.0, 0.0)
