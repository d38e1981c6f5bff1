"""The market of the competition yardsticks.

``yardstick_config()`` is the ``"penalty"`` preset (the AS 2008 market: arithmetic mid,
sigma = 2, T = 1, dt = 0.005 (n_steps = 200), A = 140, k = 1.5, bernoulli fills, depths in
[-10, 10], reward ``inventory_penalty`` with phi = alpha = 0.1) with an inventory limit of 10
per maker (a 21 x 21 joint grid) and a tick of 0.05. A tick is what makes the equilibrium
computable: without one, best replies undercut by an epsilon forever (Bertrand). The env
exposes the same market as ``preset="penalty"`` plus these overrides.
"""

from __future__ import annotations

from typing import Any

from mm_env.config import MarketConfig

#: Overrides of the ``"penalty"`` preset that make the yardstick market.
YARDSTICK_OVERRIDES: dict[str, Any] = {"inventory_limit": 10.0, "tick_size": 0.05}


def yardstick_config(**overrides: Any) -> MarketConfig:
    """``MarketConfig.preset("penalty", inventory_limit=10, tick_size=0.05, **overrides)``."""
    return MarketConfig.preset("penalty", **{**YARDSTICK_OVERRIDES, **overrides})
