"""The named multi-asset presets: parameter sets for
:meth:`mm_env.multi_asset.MultiAssetConfig.preset`.

Both are on the Avellaneda-Stoikov 2008 scale (arithmetic mids, ``T = 1``, ``dt = 0.005``,
``A = 140``, ``k = 1.5``) with the inventory penalty of a mean-variance investor,
``Phi = (gamma / 2) Sigma`` (:func:`~mm_env.multi_asset.config.mean_variance_penalty`, ``Sigma``
the covariance of the mids per session), and ``Psi = Phi`` at the end, so the penalty is on the
variance of the joint inventory's value, not on each position alone: offsetting positions in
correlated assets are cheap to hold, and a maker who knows it can keep quoting where one who
penalises each asset alone would skew away.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mm_env.multi_asset.config import mean_variance_penalty


def _mean_variance(sigma: tuple[float, ...], rho: list[list[float]], gamma: float) -> Any:
    s = np.array(sigma)
    return mean_variance_penalty(np.array(rho) * np.outer(s, s), gamma)


_AS_SCALE: dict[str, Any] = {
    "mid_model": "abm",
    "S0": 100.0,
    "mu": 0.0,
    "T": 1.0,
    "n_steps": 200,
    "A": 140.0,
    "k": 1.5,
    "fill_model": "bernoulli",
    "min_depth": -10.0,
    "max_depth": 10.0,
    "reward": "inventory_penalty",
}

_PAIR_RHO = [[1.0, 0.9], [0.9, 1.0]]
_PAIR_SIGMA = (2.0, 2.0)
_PAIR_PHI = _mean_variance(_PAIR_SIGMA, _PAIR_RHO, 1.0)

_BASKET_RHO = [[1.0, 0.6, -0.4], [0.6, 1.0, -0.3], [-0.4, -0.3, 1.0]]
_BASKET_SIGMA = (2.0, 1.5, 3.0)
_BASKET_PHI = _mean_variance(_BASKET_SIGMA, _BASKET_RHO, 1.0)

#: Named parameter sets: dicts of field overrides on the class defaults.
PRESETS: dict[str, dict[str, Any]] = {
    # Two strongly correlated assets (rho = 0.9, sigma = 2 each), the AS 2008 market on each
    # (bernoulli fills, depths in [-10, 10]), inventory limit 10, risk aversion gamma = 1:
    # Phi = Psi = 0.5 Sigma = [[2, 1.8], [1.8, 2]], a maker for whom inventory risk matters
    # (20 times the running penalty of the single-asset "penalty" preset). The long-short
    # direction q1 = -q2 costs 0.4 per share^2 and session, the long-long one 7.6: a maker
    # per asset (phi_ii = 2 each) ignores the cross term 3.6 q1 q2, which the joint optimum
    # uses to unwind one asset's inventory through the other's quotes.
    "pair": {
        **_AS_SCALE,
        "n_assets": 2,
        "sigma": _PAIR_SIGMA,
        "rho": _PAIR_RHO,
        "inventory_limit": 10.0,
        "phi": _PAIR_PHI,
        "alpha": _PAIR_PHI,
    },
    # Three assets with mixed correlations (0.6 between the first two, -0.4 and -0.3 with
    # the third), different prices (100, 50, 80) and volatilities (2, 1.5, 3), inventory
    # limit 5 each, gamma = 1: Phi = Psi = 0.5 Sigma.
    "basket": {
        **_AS_SCALE,
        "n_assets": 3,
        "S0": (100.0, 50.0, 80.0),
        "sigma": _BASKET_SIGMA,
        "rho": _BASKET_RHO,
        "inventory_limit": 5.0,
        "phi": _BASKET_PHI,
        "alpha": _BASKET_PHI,
    },
}


def available_presets() -> list[str]:
    """Names accepted by :meth:`mm_env.multi_asset.MultiAssetConfig.preset`."""
    return sorted(PRESETS)
