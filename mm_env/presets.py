"""The named market presets: parameter sets for :meth:`mm_env.config.MarketConfig.preset`.

Each preset is a dict of field overrides on the :class:`~mm_env.config.MarketConfig` class
defaults; the values are validated when a config is built from it. ``PRESETS`` and
:func:`available_presets` are also importable from :mod:`mm_env.config` and :mod:`mm_env`.
"""

from __future__ import annotations

import math
from typing import Any

# The common base of the market-component presets: the AS 2008 market with poisson fills, no
# quotes through the mid, a bounded inventory and the PnL reward.
_AS_SCALE: dict[str, Any] = {
    "mid_model": "abm",
    "sigma": 2.0,
    "n_steps": 200,
    "fill_model": "poisson",
    "inventory_limit": 20.0,
    "min_depth": 0.0,
    "max_depth": 10.0,
}

#: Named parameter sets. Each is a dict of field overrides on the class defaults.
PRESETS: dict[str, dict[str, Any]] = {
    # GBM with sigma = 2% per session, i.e. about 2 price units at S0 = 100: the AS 2008
    # scale with a geometric mid and the course notebook's Poisson fill formula.
    "default": {},
    # Avellaneda & Stoikov (2008), section 4: S0 = 100, T = 1, sigma = 2, dt = 0.005,
    # A = 140, k = 1.5, arithmetic Brownian mid, fill probability A e^(-k d) dt,
    # unbounded inventory, quotes allowed through the mid.
    "as2008": {
        "mid_model": "abm",
        "sigma": 2.0,
        "n_steps": 200,
        "fill_model": "bernoulli",
        "inventory_limit": math.inf,
        "min_depth": -10.0,
        "max_depth": 10.0,
    },
    # The training task: the AS 2008 market (arithmetic mid, sigma = 2, dt = 0.005, A = 140,
    # k = 1.5, bernoulli fills) with the Cartea-Jaimungal inventory penalty phi = alpha = 0.1
    # and inventory limit 20, where the optimal and the naive (1/k) policy clearly differ.
    "penalty": {
        "mid_model": "abm",
        "sigma": 2.0,
        "n_steps": 200,
        "fill_model": "bernoulli",
        "inventory_limit": 20.0,
        "min_depth": -10.0,
        "max_depth": 10.0,
        "reward": "inventory_penalty",
        "phi": 0.1,
        "alpha": 0.1,
    },
    # The course notebook made consistent: one-minute steps over a 390-minute session,
    # a 20% annual volatility expressed per session (0.2 / sqrt(252)), inventory limit 10,
    # quotes never closer than 0.01 to the mid.
    "course": {
        "sigma": 0.2 / math.sqrt(252.0),
        "n_steps": 390,
        "inventory_limit": 10.0,
        "min_depth": 0.01,
    },
    # ----- market components, all on the AS 2008 scale: arithmetic mid, sigma = 2,
    # dt = 0.005, A = 140, k = 1.5, poisson fills, depths in [0, 10], inventory limit 20, pnl.
    # Toxic flow: half of the fills are followed by an adverse mid jump of 1.5, an expected
    # adverse move of 0.75 per fill, about the risk-neutral half-spread 1/k. AS (any gamma)
    # quotes too tight; the model-aware depth is about 1/k + p*eta.
    "adverse": {
        **_AS_SCALE,
        "adverse_prob": 0.5,
        "adverse_jump": 1.5,
    },
    # A short-term alpha: an OU drift a (stationary std 10 price/session, decay 10/session, so
    # E[remaining move] = a/10, std 1 price unit) moves the mid and tilts the order flow
    # (buyers at A e^(0.05 a), sellers at A e^(-0.05 a)); the agent observes a exactly as the
    # 4th observation component. AS ignores it; centring the quotes on S + a*h does not.
    "alpha": {
        **_AS_SCALE,
        "signal_std": 10.0,
        "signal_decay": 10.0,
        "signal_flow": 0.05,
        "obs_extras": ("signal",),
    },
    # Market microstructure without information: self-exciting order flow (Hawkes, branching
    # ratio 0.5, kernel decay 50/session), rare exogenous jumps (2/session, std 1.5), a tick of
    # 0.1, a maker rebate of 0.02 per share, a liquidation cost 0.05 q^2/2 at the end; the
    # order-flow imbalance and realised volatility are observed.
    "microstructure": {
        **_AS_SCALE,
        "hawkes_branching": 0.5,
        "hawkes_decay": 50.0,
        "jump_rate": 2.0,
        "jump_std": 1.5,
        "tick_size": 0.1,
        "maker_fee": -0.02,
        "liquidation_impact": 0.05,
        "obs_extras": ("flow_imbalance", "realized_vol"),
    },
}


def available_presets() -> list[str]:
    """Names accepted by :meth:`mm_env.config.MarketConfig.preset`."""
    return sorted(PRESETS)
