"""Additive terms of the mid's move, registered in the order they are added (and draw):
the alpha signal's drift, exogenous jumps, adverse selection."""

from mm_env.components.base import register_component
from mm_env.components.shocks.adverse import AdverseSelection
from mm_env.components.shocks.jumps import PoissonJumps
from mm_env.components.shocks.signal import AlphaSignal

for _component in (AlphaSignal, PoissonJumps, AdverseSelection):
    register_component(_component)
