"""A fixed quote size: every fill trades ``order_size`` shares."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mm_env.components.kinds import QuoteSize

if TYPE_CHECKING:
    from mm_env.config import MarketConfig


class FixedSize(QuoteSize):
    """``order_size`` on both sides (no size in the action)."""

    name = "fixed"
    params = ("order_size",)

    @classmethod
    def applies(cls, config: MarketConfig) -> bool:
        return not config.size_action

    def size(self, ops: Any, requested: Any, extras: dict[str, Any]) -> Any:
        return self.config.order_size
