"""Arithmetic Brownian motion (AS 2008): ``S' = S + mu dt + sigma sqrt(dt) z``."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from mm_env.components.base import MidMoveExpectation
from mm_env.components.kinds import MidProcess

if TYPE_CHECKING:
    from mm_env.config import MarketConfig
    from mm_env.state import MarketState


class ArithmeticBrownianMid(MidProcess):
    """Brownian mid in price units (sigma in price units per sqrt(session))."""

    name = "abm"
    params = ("S0", "mu", "sigma")

    def __init__(self, config: MarketConfig) -> None:
        super().__init__(config)
        dt = config.dt
        self.drift = config.mu * dt
        self.vol = config.sigma * math.sqrt(dt)

    def move(self, ops: Any, state: MarketState, z: Any) -> Any:
        return self.drift + self.vol * z

    def advance_mid(self, ops: Any, state: MarketState, move: Any, step: Any) -> Any:
        return state.mid + move

    def expected_move(self) -> MidMoveExpectation:
        return MidMoveExpectation(0.0, self.config.mu * self.config.dt)
