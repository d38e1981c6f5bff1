"""Order flow: the base arrival rates (constant or skewed), then their modifiers in the
order they apply (the signal's tilt, Hawkes excitation)."""

from mm_env.components.base import register_component
from mm_env.components.flow.constant import ConstantFlow
from mm_env.components.flow.hawkes import HawkesExcitation
from mm_env.components.flow.skew import SkewedFlow
from mm_env.components.flow.tilt import SignalTilt

for _component in (ConstantFlow, SkewedFlow, SignalTilt, HawkesExcitation):
    register_component(_component)
