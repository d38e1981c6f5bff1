"""Read-outs of a market for training code: the expected mid move and observation scales."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from mm_env.config import MarketConfig
from mm_env.spaces import observation_names

_UNKNOWN = ("ou", "replay", "adverse_selection", "signal")


@dataclass(frozen=True)
class MidMoveExpectation:
    """``E[S' - S | S] = relative * S + absolute`` for one step of a market."""

    relative: float
    absolute: float

    def of(self, mid: Any) -> Any:
        """The expected move from ``mid`` (float or array)."""
        return self.relative * mid + self.absolute


def mid_move_expectation(config: MarketConfig) -> MidMoveExpectation:
    """The one-step expected mid move given the mid alone, or ValueError naming the market
    components under which it depends on more than the mid (they move it predictably)."""
    moving = sorted(set(config.features) & set(_UNKNOWN))
    if moving:
        raise ValueError(
            f"E[S' - S | S] depends on more than the mid in this market: its components "
            f"{moving} move the mid predictably"
        )
    if config.mid_model == "gbm":
        return MidMoveExpectation(math.expm1(config.mu * config.dt), 0.0)
    return MidMoveExpectation(0.0, config.mu * config.dt)


def observation_scales(config: MarketConfig) -> dict[str, tuple[float, float]]:
    """``(offset, scale)`` per observation component, fixed by the config, so that
    ``(x - offset) / scale`` is O(1): time / T, inventory / min(limit, 10 sizes), the mid as
    ``(S - S0) / (sigma_abs sqrt(T))``, the signal / its stationary std, the flow imbalance as
    is, the realised volatility around sigma."""
    c = config
    table = {
        "time_remaining": (0.0, c.T),
        "inventory": (0.0, min(c.inventory_limit, 10.0 * c.order_size)),
        "mid": (c.S0, max(c.price_sigma * math.sqrt(c.T), 1e-12)),
        "signal": (0.0, max(c.signal_std, 1e-12)),
        "flow_imbalance": (0.0, 1.0),
        "realized_vol": (c.sigma, max(c.sigma, 1e-12)),
    }
    return {name: table[name] for name in observation_names(config)}
