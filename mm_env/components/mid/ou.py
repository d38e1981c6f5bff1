"""Ornstein-Uhlenbeck mid, exact in dt: the state variable ``x`` (``ln S`` under gbm, ``S``
under abm) reverts to ``xbar`` at rate ``kappa``::

    x' = xbar + (x - xbar) e^(-kappa dt) + sigma sqrt((1 - e^(-2 kappa dt)) / (2 kappa)) z + shocks

(``mu = 0``; no Ito term, as it is ``ln S`` itself that is OU under gbm).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from mm_env.components.base import MidMoveExpectation
from mm_env.components.kinds import MidProcess

if TYPE_CHECKING:
    from mm_env.config import MarketConfig
    from mm_env.state import MarketState


class OrnsteinUhlenbeckMid(MidProcess):
    """Mean-reverting mid (``ou_rate > 0``), in log-price under gbm, in price under abm."""

    name = "ou"
    params = ("S0", "sigma", "ou_rate", "ou_mean")
    selected_by_mid_model = False

    @classmethod
    def applies(cls, config: MarketConfig) -> bool:
        return config.ou_rate > 0 and config.replay is None

    def __init__(self, config: MarketConfig) -> None:
        super().__init__(config)
        dt = config.dt
        self.decay = math.exp(-config.ou_rate * dt)
        self.level = math.log(config.ou_level) if self.log_price else config.ou_level
        self.vol = config.sigma * math.sqrt(
            -math.expm1(-2.0 * config.ou_rate * dt) / (2.0 * config.ou_rate)
        )
        self.drift = 0.0

    def move(self, ops: Any, state: MarketState, z: Any) -> Any:
        return self.drift + self.vol * z

    def advance_mid(self, ops: Any, state: MarketState, move: Any, step: Any) -> Any:
        if self.log_price:
            x = ops.log(state.mid)
            return ops.exp(self.level + (x - self.level) * self.decay + move)
        return self.level + (state.mid - self.level) * self.decay + move

    def expected_move(self) -> MidMoveExpectation | None:
        return None  # reverts towards the level: depends on the distance to it
