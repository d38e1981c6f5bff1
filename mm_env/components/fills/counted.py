"""Counted arrivals (poisson fills with the step's market orders simulated): each side's
orders ``N ~ Poisson(lambda dt)`` are drawn by inversion of a uniform, and the quote fills iff
one of them reaches it, ``P(fill | N) = 1 - (1 - min(1, h(d)))^N``. With a constant rate this
is the poisson fill model again: ``E[1 - (1 - h)^N] = 1 - e^(-lambda h dt)``. Used when
something needs the counts (Hawkes arrivals, the ``flow_imbalance`` feature)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mm_env.components.fills.poisson import PoissonFills

if TYPE_CHECKING:
    from mm_env.config import MarketConfig


class CountedPoissonFills(PoissonFills):
    """Poisson fills that also report the step's market orders per side."""

    name = "counted"
    info_keys = ("arrivals_buy", "arrivals_sell")

    @classmethod
    def applies(cls, config: MarketConfig) -> bool:
        return config.fill_model == "poisson" and config.counts_arrivals

    def __init__(self, config: MarketConfig) -> None:
        super().__init__(config)
        self.uniforms = ("arrival_sell", "arrival_buy")

    def sides(self, ops: Any, bid_depth: Any, ask_depth: Any, sell_rate: Any, buy_rate: Any,
              noise: dict[str, Any], extras: dict[str, Any]) -> tuple[Any, Any, Any, Any]:
        dt = self.dt
        n_sell = ops.poisson_inverse(sell_rate * dt, noise["arrival_sell"])
        n_buy = ops.poisson_inverse(buy_rate * dt, noise["arrival_buy"])
        miss_bid = 1.0 - ops.minimum(self.shape.reach(ops, bid_depth), 1.0)
        miss_ask = 1.0 - ops.minimum(self.shape.reach(ops, ask_depth), 1.0)
        extras["arrivals_buy"] = n_buy
        extras["arrivals_sell"] = n_sell
        return 1.0 - miss_bid**n_sell, 1.0 - miss_ask**n_buy, n_sell, n_buy

    def reset_info(self) -> dict[str, Any]:
        return {"arrivals_buy": 0.0, "arrivals_sell": 0.0}
