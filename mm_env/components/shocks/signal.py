"""The alpha signal: an OU drift ``a`` of the mid, observed with noise.

``a' = a e^(-kappa_a dt) + s_a sqrt(1 - e^(-2 kappa_a dt)) z_a`` (exact; stationary
``N(0, s_a^2)``, started from it) adds ``a dt`` to the mid's state variable each step (drift
units) and is observed as ``a + signal_obs_noise * eps`` (a fresh ``eps`` each step).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from mm_env.components.base import require_rng
from mm_env.components.kinds import Shock

if TYPE_CHECKING:
    from mm_env.config import MarketConfig
    from mm_env.state import MarketState


class AlphaSignal(Shock):
    """Drift ``a dt`` of the mid from a mean-reverting signal (``signal_std > 0``)."""

    name = "signal"
    params = ("signal_std", "signal_decay", "signal_obs_noise")
    state_fields = {
        "signal": "the alpha a [drift units]",
        "signal_obs": "the signal as the agent observes it, a + signal_obs_noise * eps",
    }
    info_keys = ("signal",)

    @classmethod
    def applies(cls, config: MarketConfig) -> bool:
        return config.signal_std > 0

    def __init__(self, config: MarketConfig) -> None:
        super().__init__(config)
        dt = config.dt
        self.dt = dt
        self.phi = math.exp(-config.signal_decay * dt)
        self.vol = config.signal_std * math.sqrt(-math.expm1(-2.0 * config.signal_decay * dt))
        self.std = config.signal_std
        self.obs_noise = config.signal_obs_noise
        self.normals = ("signal", "signal_obs") if self.obs_noise > 0 else ("signal",)

    def initial(
        self, shape: tuple[int, ...] | None, rng: np.random.Generator | None
    ) -> dict[str, Any]:
        rng = require_rng(rng, self)
        signal: Any = self.std * rng.standard_normal(shape)
        observed = signal
        if self.obs_noise > 0:
            observed = signal + self.obs_noise * rng.standard_normal(shape)
        if shape is None:
            signal, observed = float(signal), float(observed)
        return {"signal": signal, "signal_obs": observed}

    def term(self, ops: Any, state: MarketState, noise: dict[str, Any],
             bid_filled: Any, ask_filled: Any) -> Any:
        return self.dt * state.parts["signal"]

    def advance(self, ops: Any, before: MarketState, after: dict[str, Any], mid: Any, z: Any,
                noise: dict[str, Any], arrivals_sell: Any, arrivals_buy: Any) -> None:
        signal = before.parts["signal"] * self.phi + self.vol * noise["signal"]
        after["signal"] = signal
        after["signal_obs"] = (signal + self.obs_noise * noise["signal_obs"]
                               if self.obs_noise > 0 else signal)

    def state_info(self, state: MarketState) -> dict[str, Any]:
        return {"signal": state.parts["signal"]}  # the true alpha

    def expected_move(self) -> None:
        return None  # a dt: depends on the signal, not on the mid
