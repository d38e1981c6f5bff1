"""A maker fee per share filled (negative: a rebate), paid from cash:
``X' = X - ... - f s (1_b + 1_a)``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mm_env.components.kinds import Friction

if TYPE_CHECKING:
    from mm_env.config import MarketConfig


class MakerFee(Friction):
    """Fees on fills (``maker_fee != 0``); ``info["fees"]``: paid this step [price units]."""

    name = "fees"
    params = ("maker_fee",)
    info_keys = ("fees",)

    @classmethod
    def applies(cls, config: MarketConfig) -> bool:
        return config.maker_fee != 0

    def on_fills(self, ops: Any, cash: Any, bought: Any, sold: Any,
                 extras: dict[str, Any]) -> Any:
        fees = self.config.maker_fee * (bought + sold)
        extras["fees"] = fees
        return cash - fees

    def reset_info(self) -> dict[str, Any]:
        return {"fees": 0.0}
