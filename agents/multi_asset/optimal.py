"""The exact optimum of the continuous-time multi-asset ``inventory_penalty`` problem.

The market maker maximises ``E[X_T + q_T . S_T - q_T' Psi q_T - int_t^T q_u' Phi q_u du]``
(the env's ``inventory_penalty`` reward summed over an episode) quoting a bid and an ask on
each of ``n`` assets, with fills at rate ``A_i e^(-k_i delta)`` of ``Delta_i`` shares and
``|q_i| <= L_i Delta_i``. The mids' covariance never enters: any martingale mid plus the
drift ``mu`` (arithmetic Brownian motion; GBM with the drift frozen at ``mu_i S0_i``) gives
the same value ``x + q . S + h(t, q)``, and the inventory part solves on the joint grid of
:class:`~agents.multi_asset.grid.InventoryGrid`, in the time to go ``tau = T - t``,

    dh/dtau = mu . q - q' Phi q
        + sum_i sum_(+-) (A_i Delta_i / (e k_i)) exp(k_i (h(q +- Delta_i e_i) - h(q)) / Delta_i),

``h(0, q) = -q' Psi q``, the sums over the sides that are quoted (no bid at ``q_i = +L_i
Delta_i``, no ask at ``-L_i Delta_i``). The optimal depths are

    bid_i = 1/k_i - (h(q + Delta_i e_i) - h(q)) / Delta_i,
    ask_i = 1/k_i - (h(q - Delta_i e_i) - h(q)) / Delta_i.

**Linear case** (every ``kappa_i = k_i / Delta_i`` equal, e.g. equal ``k`` and order sizes):
``omega = exp(kappa h)`` solves the linear ODE ``omega' = M omega`` with
``M = diag(kappa (mu . q - q' Phi q)) + sum_i (A_i / e) (shift up + shift down along axis i)``,
``omega(0) = exp(-kappa q' Psi q)`` (the ``n``-asset version of
:class:`agents.optimal.OptimalAgent`'s Cartea-Jaimungal-Penalva solution), solved exactly by
:class:`~agents.multi_asset.linear_hjb.LogGridExp`. **Otherwise** the nonlinear ODE is
integrated by :class:`~agents.multi_asset.nonlinear_hjb.GridHJB` (implicit BDF, relative
tolerance ``rtol``). With ``Phi``, ``Psi`` diagonal ``h`` is the sum of the single-asset
values, and with one asset :class:`~agents.optimal.OptimalAgent`'s (tests, to 1e-10).

The exactness statement and the approximations in the discrete-time env are those of
:mod:`agents.optimal`: exact for the continuous model; in the env ``O(dt)`` time
discretisation, depth clipping into ``[min_depth, max_depth]``; the exact optimum of the
env itself is :class:`~agents.multi_asset.discrete_optimal.MultiAssetDiscreteOptimalAgent`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from agents.base import check_real
from agents.multi_asset.base import MultiAssetAgent, check_matrix, interleave, split_obs
from agents.multi_asset.grid import InventoryGrid, grid_levels
from agents.multi_asset.linear_hjb import LogGridExp
from agents.multi_asset.nonlinear_hjb import GridHJB
from mm_env.multi_asset import MultiAssetConfig

METHODS = ("auto", "linear", "nonlinear")


class MultiAssetOptimalAgent(MultiAssetAgent):
    """The exact continuous-time optimum of the multi-asset ``inventory_penalty`` reward.

    Args:
        config: the market (``A``, ``k``, ``order_size``, ``inventory_limit`` (finite, whole
            numbers of order sizes), ``mu``, ``T``, ``n_steps``, ``phi``, ``alpha``).
        phi, alpha: running and terminal penalty matrices (or numbers: multiples of the
            identity) overriding the config's.
        method: ``"linear"`` (exact; needs equal ``k_i / order_size_i``), ``"nonlinear"``
            (BDF integration of the HJB ODE) or ``"auto"`` (default: linear when it applies).
        rtol: relative tolerance of the nonlinear integration (``1e-13 .. 1e-3``).

    The value table is computed once, on the env's time grid, at construction: under 2 s
    for two assets with ``|q_i| <= 20`` (linear), about 10 s nonlinear. Observations are
    mapped to the nearest inventory of the grid (clipped into it) and interpolated linearly
    in time between grid times; a side that is not quoted gets that asset's ``max_depth``.
    """

    def __init__(
        self,
        config: MultiAssetConfig,
        *,
        phi: Any = None,
        alpha: Any = None,
        method: str = "auto",
        rtol: float = 1e-10,
    ) -> None:
        super().__init__(config)
        n = self.n_assets
        if method not in METHODS:
            raise ValueError(f"method must be one of {list(METHODS)}, got {method!r}")
        self.rtol = check_real("rtol", rtol, low=1e-13, high=1e-3)
        self.phi = config.phi_matrix if phi is None else check_matrix("phi", phi, n)
        self.alpha = config.alpha_matrix if alpha is None else check_matrix("alpha", alpha, n)
        size = np.asarray(config.order_size, dtype=np.float64)
        k = np.asarray(config.k, dtype=np.float64)
        levels = grid_levels(config.inventory_limit, size, "MultiAssetOptimalAgent")
        self.grid = InventoryGrid(levels, size)
        kappa = k / size
        linear_ok = bool(np.all(np.abs(kappa - kappa[0]) <= 1e-12 * kappa[0]))
        if method == "linear" and not linear_ok:
            raise ValueError(
                f"method='linear' needs k_i / order_size_i equal for every asset, got "
                f"{kappa.tolist()}; use method='nonlinear' or 'auto'"
            )
        self.method = ("linear" if linear_ok else "nonlinear") if method == "auto" else method
        mu = np.asarray(config.mu, dtype=np.float64)
        drift = mu * np.asarray(config.S0) if config.mid_model == "gbm" else mu
        running = self.grid.linear_form(drift) - self.grid.quadratic_form(self.phi)
        terminal = -self.grid.quadratic_form(self.alpha)
        self._k, self._size, self._kappa = k, size, kappa
        self._max_depth = np.asarray(config.max_depth, dtype=np.float64)
        if self.method == "linear":
            kap = float(kappa[0])
            self._ode: LogGridExp | GridHJB = LogGridExp(
                self.grid, kap * running, np.asarray(config.A) / math.e
            )
            # the table holds log omega = kappa h; depth differences divide by k_i
            self._table = self._ode.solution_grid(kap * terminal, config.dt, config.n_steps)
            self._diff_scale = k
            self._value_scale = 1.0 / kap
        else:
            coef = np.asarray(config.A) * size / (math.e * k)
            self._ode = GridHJB(self.grid, running, coef, kappa)
            self._table = self._ode.solve(terminal, config.dt, config.n_steps, rtol=self.rtol)
            self._diff_scale = size
            self._value_scale = 1.0

    # ------------------------------------------------------------------ tables
    def _depths_at(
        self, table: np.ndarray, ti: np.ndarray, j: tuple[np.ndarray, ...]
    ) -> tuple[np.ndarray, np.ndarray]:
        """Bid and ask ``(m, n)`` from ``table`` ``(n_t, *shape)`` at time indices ``ti`` and
        grid indices ``j`` (each ``(m,)``), NaN on the sides not quoted."""
        m = ti.shape[0]
        lv = self.grid.levels
        here = table[(ti, *j)]
        bid = np.full((m, self.n_assets), np.nan)
        ask = np.full((m, self.n_assets), np.nan)
        for i in range(self.n_assets):
            top = j[i] == 2 * lv[i]
            bottom = j[i] == 0
            up = tuple(np.minimum(x + 1, 2 * lv[i]) if a == i else x for a, x in enumerate(j))
            dn = tuple(np.maximum(x - 1, 0) if a == i else x for a, x in enumerate(j))
            d_up = (here - table[(ti, *up)]) / self._diff_scale[i]
            d_dn = (here - table[(ti, *dn)]) / self._diff_scale[i]
            bid[:, i] = np.where(top, np.nan, 1.0 / self._k[i] + d_up)
            ask[:, i] = np.where(bottom, np.nan, 1.0 / self._k[i] + d_dn)
        return bid, ask

    def _act_batch(self, obs: np.ndarray) -> np.ndarray:
        tau, q, _ = split_obs(obs, self.n_assets)
        c = self.config
        x = np.clip(tau, 0.0, c.T) / c.dt
        i0 = np.minimum(np.floor(x).astype(np.intp), c.n_steps - 1)
        w = (x - i0)[:, None]
        j = self.grid.index(q)
        b0, a0 = self._depths_at(self._table, i0, j)
        b1, a1 = self._depths_at(self._table, i0 + 1, j)
        bid = np.where(np.isnan(b0), self._max_depth, (1.0 - w) * b0 + w * b1)
        ask = np.where(np.isnan(a0), self._max_depth, (1.0 - w) * a0 + w * a1)
        return interleave(bid, ask)

    def _rows_at(self, t: float) -> np.ndarray:
        """The table row at time ``t`` (exact, also between grid times)."""
        c = self.config
        t = check_real("t", t, low=0.0, high=c.T)
        tau = c.T - t
        i = min(math.floor(tau / c.dt + 1e-9), c.n_steps)
        rest = tau - i * c.dt
        if rest <= 1e-12 * c.T:
            return np.asarray(self._table[i])
        if isinstance(self._ode, LogGridExp):
            return self._ode.propagate(self._table[i], rest)
        return self._ode.solve(self._table[i], rest, 1, rtol=self.rtol)[1]

    # ------------------------------------------------------------ public values
    def value(self, t: float, q: Any) -> np.ndarray:
        """``h(t, q)``: the expected sum of the remaining rewards [price units] at time ``t``
        (not time to go) and inventories ``q`` ``(..., n)`` on the grid [shares]."""
        rows = self._rows_at(t)
        return np.asarray(rows[self.grid.index(q, clip=False)] * self._value_scale)

    def depths(self, t: float, q: Any) -> tuple[np.ndarray, np.ndarray]:
        """Optimal ``(bid, ask)`` depths ``(..., n)`` at time ``t`` and inventories ``q``
        ``(..., n)`` on the grid: unclipped, NaN on a side the model does not quote."""
        rows = self._rows_at(t)
        q_arr = np.asarray(q, dtype=np.float64)
        j = self.grid.index(q_arr.reshape(-1, self.n_assets), clip=False)
        bid, ask = self._depths_at(rows[None], np.zeros(j[0].size, dtype=np.intp), j)
        shape = q_arr.shape
        return bid.reshape(shape), ask.reshape(shape)

    def __repr__(self) -> str:
        return f"MultiAssetOptimalAgent(n_assets={self.n_assets}, method={self.method!r})"
