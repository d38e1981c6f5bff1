"""Terminal liquidation into a linear book: at the last step the inventory is sold by a
market order walking a price impact ``lambda_L`` per share, at the average price
``S' -+ lambda_L |q| / 2``: cash pays ``lambda_L q^2 / 2``, so the terminal wealth
``X + q S'`` is the liquidation value."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mm_env.components.kinds import Friction

if TYPE_CHECKING:
    from mm_env.config import MarketConfig


class Liquidation(Friction):
    """Cost of the terminal inventory (``liquidation_impact > 0``);
    ``info["liquidation_cost"]`` at the last step [price units]."""

    name = "liquidation"
    params = ("liquidation_impact",)
    info_keys = ("liquidation_cost",)

    @classmethod
    def applies(cls, config: MarketConfig) -> bool:
        return config.liquidation_impact > 0

    def at_end(self, ops: Any, cash: Any, inventory: Any, terminated: Any,
               extras: dict[str, Any]) -> Any:
        cost = 0.5 * self.config.liquidation_impact * (inventory * inventory) * terminated
        extras["liquidation_cost"] = cost
        return cash - cost

    def reset_info(self) -> dict[str, Any]:
        return {"liquidation_cost": 0.0}
