"""Compound Poisson jumps (Merton): ``J = K m + sqrt(K) s_J z_J`` with ``K ~ Poisson(l_J dt)``,
each jump ``N(m, s_J^2)`` in mid units, compensated so that the expected mid move is unchanged:
under a multiplicative mid (gbm) ``drift -= l_J (e^(m + s_J^2/2) - 1) dt``, otherwise
``drift -= l_J m dt``."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from mm_env.components.kinds import MidProcess, Shock

if TYPE_CHECKING:
    from mm_env.config import MarketConfig
    from mm_env.state import MarketState


class PoissonJumps(Shock):
    """Exogenous mid jumps (``jump_rate > 0``)."""

    name = "jumps"
    params = ("jump_rate", "jump_mean", "jump_std")

    @classmethod
    def applies(cls, config: MarketConfig) -> bool:
        return config.jump_rate > 0

    def __init__(self, config: MarketConfig) -> None:
        super().__init__(config)
        self.lam = config.jump_rate * config.dt
        self.mean = config.jump_mean
        self.std = config.jump_std
        self.normals = ("jump",)

    def draw(self, rng: np.random.Generator, shape: tuple[int, ...]) -> dict[str, Any]:
        return {"jump_count": rng.poisson(self.lam, shape).astype(np.float64)}

    def compensation(self, mid: MidProcess) -> float:
        c = self.config
        if mid.multiplicative:
            return c.jump_rate * math.expm1(c.jump_mean + 0.5 * c.jump_std**2) * c.dt
        return c.jump_rate * c.jump_mean * c.dt

    def term(self, ops: Any, state: MarketState, noise: dict[str, Any],
             bid_filled: Any, ask_filled: Any) -> Any:
        k = noise["jump_count"]
        return k * self.mean + ops.sqrt(k) * self.std * noise["jump"]
