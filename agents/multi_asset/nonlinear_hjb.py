"""The HJB equation of the multi-asset optimum as a nonlinear ODE on the grid, for any ``k_i``.

When the ratios ``kappa_i = k_i / Delta_i`` differ between assets no single change of
variables makes the equation linear (:mod:`agents.multi_asset.linear_hjb`), and the inventory
part ``h`` of the value solves, in the time to go ``tau = T - t``,

    dh/dtau (j) = r(j) + sum_i c_i [ exp(kappa_i (h(j + e_i) - h(j)))     (bid quoted at j)
                                   + exp(kappa_i (h(j - e_i) - h(j))) ]   (ask quoted at j)

with ``r = mu . q - q' Phi q``, ``c_i = A_i Delta_i / (e k_i)`` and ``h(0) = -q' Psi q``: the
supremum over each depth of ``A_i e^(-k_i delta) (Delta_i delta + h(j +- e_i) - h(j))``,
attained at ``delta = 1/k_i - (h(j +- e_i) - h(j)) / Delta_i``. The system is stiff (the
exponentials of large value differences near a large penalty), so it is integrated with the
implicit BDF method of :func:`scipy.integrate.solve_ivp` and its analytic sparse Jacobian, at
relative tolerance ``rtol`` (default 1e-10) and absolute tolerance ``rtol`` times the
scale of the terminal and running terms; the solution is read at the env's time grid. The
tests check it against the exact linear solution where both apply (equal ``kappa``): they
agree to ~1e-7 in ``h``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.integrate
import scipy.sparse

from agents.multi_asset.grid import FloatSeq, InventoryGrid


class GridHJB:
    """The right-hand side of the grid HJB ODE and its sparse Jacobian.

    Args:
        grid: the inventory grid.
        running: ``r = mu . q - q' Phi q`` per state, shape ``grid.shape``.
        coefficient: ``c_i = A_i Delta_i / (e k_i)`` per asset.
        kappa: ``kappa_i = k_i / Delta_i`` per asset.
    """

    def __init__(
        self,
        grid: InventoryGrid,
        running: np.ndarray,
        coefficient: FloatSeq,
        kappa: FloatSeq,
    ) -> None:
        self.grid = grid
        self.running = np.asarray(running, dtype=np.float64).ravel()
        self.coefficient = np.asarray(coefficient, dtype=np.float64)
        self.kappa = np.asarray(kappa, dtype=np.float64)
        idx = np.arange(grid.size).reshape(grid.shape)
        src, dst, axis = [], [], []  # link: state src looks at its neighbour dst along axis
        for i in range(grid.n_assets):
            up, down = grid.up(i), grid.down(i)
            for a, b in ((idx[up], idx[down]), (idx[down], idx[up])):
                src.append(a.ravel())
                dst.append(b.ravel())
                axis.append(np.full(a.size, i))
        self._src = np.concatenate(src)
        self._dst = np.concatenate(dst)
        self._c = self.coefficient[np.concatenate(axis)]
        self._k = self.kappa[np.concatenate(axis)]

    def _link_terms(self, h: np.ndarray) -> np.ndarray:
        with np.errstate(over="ignore"):
            return np.asarray(self._c * np.exp(self._k * (h[self._dst] - h[self._src])))

    def rhs(self, _tau: float, h: np.ndarray) -> np.ndarray:
        """``dh/dtau`` at the flattened ``h``."""
        out = self.running.copy()
        np.add.at(out, self._src, self._link_terms(h))
        return out

    def jacobian(self, _tau: float, h: np.ndarray) -> Any:
        """The sparse Jacobian ``d rhs / d h`` (CSC)."""
        slope = self._k * self._link_terms(h)
        n = self.grid.size
        diag = np.zeros(n)
        np.add.at(diag, self._src, -slope)
        rows = np.concatenate([self._src, np.arange(n)])
        cols = np.concatenate([self._dst, np.arange(n)])
        vals = np.concatenate([slope, diag])
        return scipy.sparse.csc_matrix((vals, (rows, cols)), shape=(n, n))

    def solve(
        self, terminal: np.ndarray, dtau: float, n_steps: int, *, rtol: float = 1e-10
    ) -> np.ndarray:
        """``h(i dtau)``, ``i = 0..n_steps``, from ``h(0) = terminal``.

        Shape ``(n_steps + 1, *grid.shape)``.
        """
        h0 = np.asarray(terminal, dtype=np.float64).ravel()
        times = dtau * np.arange(n_steps + 1)
        scale = max(1.0, float(np.max(np.abs(h0))), float(np.max(np.abs(self.running))))
        sol = scipy.integrate.solve_ivp(
            self.rhs,
            (0.0, float(times[-1])),
            h0,
            method="BDF",
            t_eval=times,
            jac=self.jacobian,
            rtol=rtol,
            atol=rtol * scale,
        )
        if not sol.success:  # pragma: no cover - BDF with an exact Jacobian does not fail here
            raise RuntimeError(f"the HJB integration failed: {sol.message}")
        return np.asarray(sol.y.T.reshape((n_steps + 1, *self.grid.shape)))
