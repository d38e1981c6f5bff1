"""A price tick: quotes are snapped to the grid ``h`` away from the mid,
``bid = h floor((S - delta_b)/h)``, ``ask = h ceil((S + delta_a)/h)`` (values within 1e-9 ticks
of a grid point count as on it; a bid requested at or below the mid never ends above it, an
ask never below it). Fills use the effective depths ``S - bid`` and ``ask - S``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mm_env.components.kinds import Friction

if TYPE_CHECKING:
    from mm_env.config import MarketConfig


class Tick(Friction):
    """Quotes on a price grid (``tick_size > 0``)."""

    name = "tick"
    params = ("tick_size",)

    @classmethod
    def applies(cls, config: MarketConfig) -> bool:
        return config.tick_size > 0

    def snap(self, ops: Any, mid: Any, bid_price: Any, ask_price: Any) -> tuple[Any, Any]:
        """The quotes on the grid."""
        h = self.config.tick_size
        nb = ops.floor(bid_price / h + 1e-9)
        na = ops.ceil(ask_price / h - 1e-9)
        bid = nb * h
        ask = na * h
        # a quote requested on its own side of the mid stays there (rounding guard)
        bid = ops.where((bid > mid) & (bid_price <= mid), (nb - 1.0) * h, bid)
        ask = ops.where((ask < mid) & (ask_price >= mid), (na + 1.0) * h, ask)
        return bid, ask

    def quote(self, ops: Any, mid: Any, bid: Any, ask: Any) -> tuple[Any, Any, Any, Any]:
        bid, ask = self.snap(ops, mid, bid, ask)
        return bid, ask, mid - bid, ask - mid
