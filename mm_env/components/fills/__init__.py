"""Fill shapes (exponential, power) and fill models (poisson, bernoulli, counted
arrivals)."""

from mm_env.components.base import register_component
from mm_env.components.fills.bernoulli import BernoulliFills
from mm_env.components.fills.counted import CountedPoissonFills
from mm_env.components.fills.exponential import ExponentialShape
from mm_env.components.fills.poisson import PoissonFills
from mm_env.components.fills.power import PowerShape

for _component in (ExponentialShape, PowerShape, PoissonFills, BernoulliFills, CountedPoissonFills):
    register_component(_component)
