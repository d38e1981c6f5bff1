"""Geometric Brownian motion: ``S' = S exp((mu - sigma^2/2) dt + sigma sqrt(dt) z)``."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from mm_env.components.base import MidMoveExpectation
from mm_env.components.kinds import MidProcess

if TYPE_CHECKING:
    from mm_env.config import MarketConfig
    from mm_env.state import MarketState


class GeometricBrownianMid(MidProcess):
    """The exact log step of GBM (sigma relative per sqrt(session), mu per session)."""

    name = "gbm"
    params = ("S0", "mu", "sigma")
    multiplicative = True

    def __init__(self, config: MarketConfig) -> None:
        super().__init__(config)
        dt = config.dt
        self.drift = (config.mu - 0.5 * config.sigma**2) * dt
        self.vol = config.sigma * math.sqrt(dt)

    def move(self, ops: Any, state: MarketState, z: Any) -> Any:
        return self.drift + self.vol * z

    def advance_mid(self, ops: Any, state: MarketState, move: Any, step: Any) -> Any:
        return state.mid * ops.exp(move)

    def expected_move(self) -> MidMoveExpectation:
        c = self.config
        return MidMoveExpectation(math.expm1(c.mu * c.dt), 0.0)
