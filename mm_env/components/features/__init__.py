"""Observation features appended to ``[time_remaining, inventory, mid]`` in the order of
``config.obs_extras``."""

from mm_env.components.base import register_component
from mm_env.components.features.flow_imbalance import FlowImbalance
from mm_env.components.features.realized_vol import RealizedVolatility
from mm_env.components.features.signal import SignalFeature

for _component in (SignalFeature, FlowImbalance, RealizedVolatility):
    register_component(_component)
