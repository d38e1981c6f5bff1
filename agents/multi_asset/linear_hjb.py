"""The linear ODE of the multi-asset exact optimum, solved on the joint inventory grid.

With fills at rate ``A_i e^(-k_i delta)`` and the same ``kappa = k_i / Delta_i`` for every
asset, the HJB equation of the ``inventory_penalty`` problem becomes linear under
``omega = exp(kappa h)`` (:mod:`agents.multi_asset.optimal`):

    d omega / d tau = M omega,    omega(0) = z,
    (M omega)(j) = d(j) omega(j) + sum_i a_i [omega(j + e_i) + omega(j - e_i)]

on the grid of :class:`~agents.multi_asset.grid.InventoryGrid` (neighbours outside the box
left out), with a diagonal ``d`` and one positive rate ``a_i`` per axis: the ``n``-asset
version of the tridiagonal system of :mod:`agents.linear_ode`. ``M`` has
``prod(2 L_i + 1)`` rows, so the dense matrix exponential (and the log-semiring squaring of
:mod:`agents.linear_ode`) is out of reach beyond a few hundred states; this module instead
propagates the vector ``omega`` step by step, by uniformisation in log space:

1. ``B = M + c I`` with ``c = max(-d, 0)`` is entrywise nonnegative and
   ``expm(M eps) w = e^(-c eps) sum_m (eps B)^m w / m!``: a series of nonnegative terms
   (no cancellation: every entry keeps its relative accuracy, however small it is). Each
   step ``dtau`` is cut into ``ceil(dtau ||B|| / 2)`` sub-steps ``eps``.
2. *Scaled series* (the usual case). With ``D = diag(w)`` the terms ``u_m = D^-1 (eps B)^m
   w / m!`` start at ``u_0 = 1`` and are computed in floating point with the neighbour
   ratios ``a_i w(j +- e_i) / w(j)``; with ``beta = ||D^-1 B D||_inf`` every later term is
   at most ``||u_m|| (eps beta / (m + 1))^r``, so stopping once ``eps beta / (m + 1) <= 1/2``
   and ``||u_m||_inf < e^-40`` bounds the relative error of every entry by ``e^-40`` (the
   sum is at least ``u_0 = 1``). Used when ``eps beta <= 30`` (no overflow possible).
3. *Log series* (neighbouring entries of ``w`` many orders of magnitude apart, e.g. just
   after a large terminal penalty): the same series with every term kept as a logarithm
   (log-sum-exp over the ``2n`` neighbours), stopped, as in :mod:`agents.linear_ode`, once
   every state has been reached (``m >= sum_i 2 L_i``), ``m > 2 eps ||B||`` and the last
   term is below ``e^-40`` of the sum everywhere (or by the rigorous rule of 2).

The result never underflows whatever the penalties (``log omega`` is what is stored) and
agrees with :class:`agents.linear_ode.LogTridiagonalExp` for one asset and with a dense
:func:`scipy.linalg.expm` on small grids to ~1e-13 (tests). Cost: ``O(states)`` per series
term: for two assets with ``|q_i| <= 20`` (1681 states) over 200 steps, about 0.15 s with
diagonal penalties and 1.6 s with the ``pair`` preset's mean-variance penalty (a larger
diagonal, so more sub-steps), ``benchmarks/multi_asset_optimum_speed.py``.
"""

from __future__ import annotations

import math

import numpy as np

from agents.multi_asset.grid import FloatSeq, InventoryGrid

_LOG_TOL = -40.0  # a term below e^-40 (of the entry, or of the sum) ends the series
_STEP_NORM = 2.0  # eps * ||B||_inf <= 2 for each sub-step
_SCALED_MAX = 30.0  # eps * beta up to which the scaled (floating-point) series is used
_MAX_TERMS = 100_000


class LogGridExp:
    """``log(expm(M tau) omega)`` on a joint inventory grid (see the module docstring).

    Args:
        grid: the inventory grid.
        diag: the diagonal ``d`` of ``M``, shape ``grid.shape``, finite.
        off: the rate ``a_i > 0`` of axis ``i`` (one per asset), finite.
        force_log_series: always use the log-space series (for tests of that path).
    """

    def __init__(
        self,
        grid: InventoryGrid,
        diag: np.ndarray,
        off: FloatSeq,
        *,
        force_log_series: bool = False,
    ) -> None:
        d = np.asarray(diag, dtype=np.float64)
        if d.shape != grid.shape or not np.isfinite(d).all():
            raise ValueError(
                f"diag must be finite numbers of the grid's shape {grid.shape}, got shape {d.shape}"
            )
        a = np.asarray(off, dtype=np.float64)
        if a.shape != (grid.n_assets,) or not (np.isfinite(a) & (a > 0)).all():
            raise ValueError(f"off must be {grid.n_assets} finite numbers > 0, got {off!r}")
        self.grid = grid
        self.diag = d
        self.off = a
        self._force_log = force_log_series
        self._shift = max(float(np.max(-d)), 0.0)
        self._b_diag = d + self._shift  # >= 0
        self._b_norm = float(np.max(self._b_diag)) + 2.0 * float(np.sum(a))
        self._diameter = 2 * sum(grid.levels)
        with np.errstate(divide="ignore"):
            self._log_b_diag = np.log(self._b_diag)  # -inf where B's diagonal is 0

    # -------------------------------------------------------------- solutions
    def solution_grid(self, log_z: np.ndarray, dtau: float, n_steps: int) -> np.ndarray:
        """``log omega(i dtau)``, ``i = 0..n_steps``, from ``log omega(0) = log_z``.

        Shape ``(n_steps + 1, *grid.shape)``; row ``i`` is the solution at time to go
        ``i dtau``.
        """
        lz = self._check(log_z)
        out = np.empty((n_steps + 1, *self.grid.shape))
        out[0] = lz
        for i in range(n_steps):
            out[i + 1] = self.propagate(out[i], dtau)
        return out

    def propagate(self, log_omega: np.ndarray, tau: float) -> np.ndarray:
        """``log(expm(M tau) omega)`` from ``log omega`` (shape ``grid.shape``)."""
        tau = float(tau)
        if not (math.isfinite(tau) and tau >= 0):
            raise ValueError(f"tau must be a finite number >= 0, got {tau!r}")
        lw = self._check(log_omega)
        if tau == 0:
            return lw.copy()
        n_sub = max(1, math.ceil(tau * self._b_norm / _STEP_NORM))
        eps = tau / n_sub
        for _ in range(n_sub):
            lw = self._series_step(lw, eps)
        return lw

    # ------------------------------------------------------------------ series
    def _series_step(self, lw: np.ndarray, eps: float) -> np.ndarray:
        grid = self.grid
        ratios_up, ratios_down = [], []
        row_sum = self._b_diag.copy()
        with np.errstate(over="ignore"):
            for i in range(grid.n_assets):
                up, down = grid.up(i), grid.down(i)
                r_up = self.off[i] * np.exp(lw[down] - lw[up])  # w(j + e_i) / w(j) at up
                r_down = self.off[i] * np.exp(lw[up] - lw[down])  # w(j - e_i) / w(j) at down
                row_sum[up] += r_up
                row_sum[down] += r_down
                ratios_up.append(r_up)
                ratios_down.append(r_down)
        beta = float(np.max(row_sum))
        if not self._force_log and math.isfinite(beta) and eps * beta <= _SCALED_MAX:
            total = self._scaled_series(eps, beta, ratios_up, ratios_down)
            return lw + np.log(total) - self._shift * eps
        return self._log_series(lw, eps, beta) - self._shift * eps

    def _scaled_series(
        self, eps: float, beta: float, ratios_up: list[np.ndarray], ratios_down: list[np.ndarray]
    ) -> np.ndarray:
        """``sum_m u_m`` with ``u_0 = 1``, ``u_m = (eps / m) D^-1 B D u_(m-1)``."""
        grid = self.grid
        term = np.ones(grid.shape)
        total = term.copy()
        for m in range(1, _MAX_TERMS):
            new = self._b_diag * term
            for i in range(grid.n_assets):
                up, down = grid.up(i), grid.down(i)
                new[up] += ratios_up[i] * term[down]
                new[down] += ratios_down[i] * term[up]
            term = new * (eps / m)
            total += term
            if eps * beta <= 0.5 * (m + 1) and float(np.max(term)) < math.exp(_LOG_TOL):
                return total
        raise RuntimeError("the uniformisation series did not converge")  # pragma: no cover

    def _log_series(self, lw: np.ndarray, eps: float, beta: float) -> np.ndarray:
        """``log sum_m (eps B)^m w / m!`` with every term kept as a logarithm."""
        grid = self.grid
        log_b = self._log_b_diag + math.log(eps)
        log_a = np.log(eps * self.off)
        term = lw.copy()
        total = lw.copy()
        for m in range(1, _MAX_TERMS):
            new = log_b + term
            for i in range(grid.n_assets):
                up, down = grid.up(i), grid.down(i)
                new[up] = np.logaddexp(new[up], log_a[i] + term[down])
                new[down] = np.logaddexp(new[down], log_a[i] + term[up])
            term = new - math.log(m)
            total = np.logaddexp(total, term)
            if float(np.max(term - total)) < _LOG_TOL:
                rigorous = eps * beta <= 0.5 * (m + 1) and float(np.max(term - lw)) < _LOG_TOL
                reached = m >= self._diameter and m > 2.0 * eps * self._b_norm
                if rigorous or reached:
                    return total
        raise RuntimeError("the uniformisation series did not converge")  # pragma: no cover

    def _check(self, log_w: np.ndarray) -> np.ndarray:
        lw = np.asarray(log_w, dtype=np.float64)
        if lw.shape != self.grid.shape or not np.isfinite(lw).all():
            raise ValueError(
                f"log omega must be finite numbers of the grid's shape {self.grid.shape}, got "
                f"shape {lw.shape}"
            )
        return lw
