"""Mid-price processes, registered in the order they are consulted: a replayed series
first, then the OU mid, then the Brownian mids selected by ``mid_model``."""

from mm_env.components.base import register_component
from mm_env.components.mid.abm import ArithmeticBrownianMid
from mm_env.components.mid.gbm import GeometricBrownianMid
from mm_env.components.mid.ou import OrnsteinUhlenbeckMid
from mm_env.components.mid.replay import ReplayMid

for _component in (ReplayMid, OrnsteinUhlenbeckMid, GeometricBrownianMid, ArithmeticBrownianMid):
    register_component(_component)
