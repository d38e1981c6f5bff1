"""Exponential fill shape: a market order reaches depth ``d`` with probability ``e^(-k d)``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mm_env.components.kinds import FillShape

if TYPE_CHECKING:
    from mm_env.config import MarketConfig


class ExponentialShape(FillShape):
    """``h(d) = e^(-k d)`` (Avellaneda-Stoikov)."""

    name = "exponential"
    params = ("k",)

    @classmethod
    def applies(cls, config: MarketConfig) -> bool:
        return config.fill_shape == "exponential"

    def __init__(self, config: MarketConfig) -> None:
        super().__init__(config)
        self.neg_k = -config.k

    def reach(self, ops: Any, depth: Any) -> Any:
        return ops.exp(self.neg_k * depth)
