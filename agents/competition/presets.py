"""The market of the competition yardsticks.

``yardstick_config()`` is the ``"penalty"`` preset (the AS 2008 market: arithmetic mid,
T = 1, dt = 0.005 (n_steps = 200), A = 140, k = 1.5, bernoulli fills, depths in [-10, 10],
reward ``inventory_penalty`` with phi = alpha = 0.1) with an inventory limit of 10 per maker (a
21 x 21 joint grid), a tick of 0.05 and a mid that does not move (``sigma = 0``).

Why a tick: without one, best replies undercut by an epsilon forever (Bertrand), and no
equilibrium is computable by best replies. Why ``sigma = 0``: the env snaps quote *prices* onto
the tick grid, so the effective depths are on the lattice's depth grid only while the mid is on
the price grid; a diffusing mid sits at a uniform offset ``u h`` from it and adds on average
one tick to every quoted spread (the effective depths become ``(n_b + u) h`` and
``(n_a + 1 - u) h``), a game the lattice does not solve. Under the ``inventory_penalty``
reward the mid's volatility changes nothing else in the expected rewards (the penalty
``phi q^2`` stands for the price risk), so with ``sigma = 0`` the env's game is exactly the
lattice's. The env exposes the same market as ``preset="penalty"`` plus these overrides.
"""

from __future__ import annotations

from typing import Any

from mm_env.config import MarketConfig

#: Overrides of the ``"penalty"`` preset that make the yardstick market.
YARDSTICK_OVERRIDES: dict[str, Any] = {"inventory_limit": 10.0, "tick_size": 0.05, "sigma": 0.0}


def yardstick_config(**overrides: Any) -> MarketConfig:
    """``MarketConfig.preset("penalty", inventory_limit=10, tick_size=0.05, sigma=0,
    **overrides)``."""
    return MarketConfig.preset("penalty", **{**YARDSTICK_OVERRIDES, **overrides})
