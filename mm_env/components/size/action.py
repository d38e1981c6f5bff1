"""The quote size as a third action component, clipped into ``[order_size, max_order_size]``
[shares]; both sides quote that size and a fill trades all of it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mm_env.components.kinds import QuoteSize

if TYPE_CHECKING:
    from mm_env.config import MarketConfig


class SizeAction(QuoteSize):
    """``size_action=True``; ``info["size"]``: the size quoted this step (``order_size`` at
    reset, before any quote, so that info stays finite)."""

    name = "action"
    params = ("order_size", "max_order_size", "size_action")
    info_keys = ("size",)
    action_names = ("size",)

    @classmethod
    def applies(cls, config: MarketConfig) -> bool:
        return config.size_action

    def size(self, ops: Any, requested: Any, extras: dict[str, Any]) -> Any:
        if requested is None:
            raise ValueError("size_action=True: step needs the quote size (size=...)")
        size = ops.clip(requested, self.config.order_size, self.config.max_order_size)
        extras["size"] = size
        return size

    def reset_info(self) -> dict[str, Any]:
        return {"size": self.config.order_size}
