"""Avellaneda-Stoikov quotes for ``n`` correlated assets.

The multi-asset reservation prices of a CARA market maker with risk aversion ``gamma``
(the first-order expansion of Avellaneda & Stoikov 2008, eq. (29), with the inventory's
variance ``q' Sigma q`` in place of ``sigma^2 q^2``): at time to go ``tau = T - t``,

    r_i = S_i - gamma tau (Sigma q)_i

and, per asset, the AS total spread with asset ``i``'s own variance and fill decay,

    spread_i = gamma Sigma_ii tau + (2 / gamma) ln(1 + gamma / k_i),

so that, as depths from the mids (the env's action ``[bid_1, ask_1, ...]``),

    bid_i = spread_i / 2 + gamma tau (Sigma q)_i,    ask_i = spread_i / 2 - gamma tau (Sigma q)_i.

A long position in an asset correlated with asset ``i`` lowers ``r_i`` as a long position in
``i`` itself would: the maker sells ``i`` to hedge. ``Sigma_ij = rho_ij s_i s_j`` with the
absolute volatilities ``s_i`` (``sigma_i`` under abm, ``sigma_i S_i`` at the observed mid
under gbm, as :class:`agents.avellaneda_stoikov.AvellanedaStoikovAgent` does), or a given
covariance. With one asset this is :class:`~agents.avellaneda_stoikov.AvellanedaStoikovAgent`
exactly (bit for bit: the same operations in the same order). ``gamma = 0`` is the
risk-neutral limit (depths ``1/k_i``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from agents.avellaneda_stoikov import DEFAULT_GAMMA, log1p_ratio
from agents.base import check_real
from agents.multi_asset.base import (
    MultiAssetAgent,
    check_matrix,
    interleave,
    price_volatilities,
    split_obs,
)
from mm_env.multi_asset import MultiAssetConfig


class MultiAssetASAgent(MultiAssetAgent):
    """Avellaneda-Stoikov quotes on the multi-asset reservation prices (module docstring).

    Args:
        config: the market (``sigma``, ``rho``, ``k``, ``mid_model`` are read from it).
        gamma: risk aversion, ``>= 0``.
        covariance: an absolute covariance matrix [price^2/session] overriding the config's
            (default: ``rho_ij s_i s_j`` at the observed mids).
        time_to_go: a fixed ``T - t`` [sessions] (the infinite-horizon variant); ``None``
            uses the observed time remaining.
    """

    def __init__(
        self,
        config: MultiAssetConfig,
        gamma: float = DEFAULT_GAMMA,
        *,
        covariance: Any = None,
        time_to_go: float | None = None,
    ) -> None:
        super().__init__(config)
        self.gamma = check_real("gamma", gamma, low=0.0)
        n = self.n_assets
        self.covariance = None if covariance is None else check_matrix("covariance", covariance, n)
        self.time_to_go = (
            None if time_to_go is None else check_real("time_to_go", time_to_go, low=0.0)
        )
        self._k = np.asarray(config.k, dtype=np.float64)
        self._rho = config.rho_matrix

    def _parts(self, obs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(half spreads (m, n), inventory skews gamma tau (Sigma q) (m, n))``."""
        n = self.n_assets
        tau, q, mid = split_obs(obs, n)
        if self.time_to_go is None:
            tau = np.maximum(tau, 0.0)
        else:
            tau = np.full_like(tau, self.time_to_go)
        if self.covariance is None:
            sig = price_volatilities(self.config, mid)
            # ((gamma s_i) s_j rho_ij) tau: AvellanedaStoikovAgent's gamma * sig * sig * tau
            risk = (self.gamma * sig)[:, :, None] * sig[:, None, :] * self._rho
        else:
            risk = np.broadcast_to(self.gamma * self.covariance, (obs.shape[0], n, n))
        risk = risk * tau[:, None, None]
        diag = np.diagonal(risk, axis1=1, axis2=2)
        half = 0.5 * diag + log1p_ratio(self.gamma / self._k) / self._k
        skew = np.einsum("mij,mj->mi", risk, q)
        return half, skew

    def _act_batch(self, obs: np.ndarray) -> np.ndarray:
        half, skew = self._parts(obs)
        return interleave(half + skew, half - skew)

    def reservation_prices(self, obs: np.ndarray) -> np.ndarray:
        """``r_i = S_i - gamma tau (Sigma q)_i`` for one observation ``(n,)`` or a batch."""
        arr = np.atleast_2d(np.asarray(obs, dtype=np.float64))
        _, skew = self._parts(arr)
        r = split_obs(arr, self.n_assets)[2] - skew
        return np.asarray(r[0] if np.ndim(obs) == 1 else r)

    def __repr__(self) -> str:
        extra = "" if self.covariance is None else ", covariance=given"
        extra += "" if self.time_to_go is None else f", time_to_go={self.time_to_go:g}"
        return f"MultiAssetASAgent(gamma={self.gamma:g}{extra})"
