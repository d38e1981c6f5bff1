"""Asymmetric order flow: buy orders (lifting the ask) at ``A (1 + rho)``, sell orders
(hitting the bid) at ``A (1 - rho)``, ``rho = flow_skew``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mm_env.components.kinds import FlowModel

if TYPE_CHECKING:
    from mm_env.config import MarketConfig


class SkewedFlow(FlowModel):
    """Constant rates that differ between the sides (``flow_skew != 0``)."""

    name = "skew"
    params = ("A", "flow_skew")

    @classmethod
    def applies(cls, config: MarketConfig) -> bool:
        return config.flow_skew != 0

    def rates(self) -> tuple[float, float]:
        c = self.config
        return c.A * (1.0 - c.flow_skew), c.A * (1.0 + c.flow_skew)
