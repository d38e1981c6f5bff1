"""Observation feature ``signal``: the alpha signal as observed (with its observation
noise) [drift units]."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from mm_env.components.kinds import ObservationFeature

if TYPE_CHECKING:
    from mm_env.state import MarketState


class SignalFeature(ObservationFeature):
    """The observed alpha; scaled by its stationary std."""

    name = "signal"
    params = ("signal_std", "signal_obs_noise")
    bounds = (-math.inf, math.inf)

    def observe(self, state: MarketState) -> Any:
        return state.parts["signal_obs"]

    def observation_scale(self) -> tuple[float, float]:
        return 0.0, max(self.config.signal_std, 1e-12)
