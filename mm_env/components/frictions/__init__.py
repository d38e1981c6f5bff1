"""Frictions, registered in the order they apply: the tick (on the quotes), the maker fee
(on fills), the terminal liquidation."""

from mm_env.components.base import register_component
from mm_env.components.frictions.fee import MakerFee
from mm_env.components.frictions.liquidation import Liquidation
from mm_env.components.frictions.tick import Tick

for _component in (Tick, MakerFee, Liquidation):
    register_component(_component)
