"""Power-law fill shape: ``h(d) = (1 + k d / m)^(-m)``, ``m = power_tail``: the same slope
``-k`` at ``d = 0`` as ``e^(-k d)``, a heavier tail, ``e^(-k d)`` again as ``m -> inf``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mm_env.components.kinds import FillShape

if TYPE_CHECKING:
    from mm_env.config import MarketConfig


class PowerShape(FillShape):
    """Heavy-tailed reach of market orders (``fill_shape="power"``)."""

    name = "power"
    params = ("k", "power_tail")

    @classmethod
    def applies(cls, config: MarketConfig) -> bool:
        return config.fill_shape == "power"

    def __init__(self, config: MarketConfig) -> None:
        super().__init__(config)
        self.c = config.k / config.power_tail
        self.neg_tail = -config.power_tail

    def reach(self, ops: Any, depth: Any) -> Any:
        return (1.0 + self.c * depth) ** self.neg_tail
