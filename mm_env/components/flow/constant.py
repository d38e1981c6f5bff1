"""Constant order flow: market orders arrive on each side as a Poisson process of rate A."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mm_env.components.kinds import FlowModel

if TYPE_CHECKING:
    from mm_env.config import MarketConfig


class ConstantFlow(FlowModel):
    """Rate ``A`` [orders/session] on both sides."""

    name = "constant"
    params = ("A",)

    @classmethod
    def applies(cls, config: MarketConfig) -> bool:
        return config.flow_skew == 0

    def rates(self) -> tuple[float, float]:
        return self.config.A, self.config.A
