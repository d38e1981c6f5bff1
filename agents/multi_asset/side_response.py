"""One side's exact best depth and the fill probability's derivatives, for the Bellman solver.

:func:`best_depth` maximises ``p(delta) (Delta delta + b)`` over an asset's depth range,
elementwise: the one-dimensional problem of :mod:`agents.discrete_optimal`. Bernoulli fills
use that module's closed form; poisson fills the same safeguarded Newton iteration on the
slope ``g = Delta expm1(lam)/(k lam) - (Delta delta + b)`` (``lam = A dt e^(-k delta)``,
strictly decreasing in ``delta``), but started from a given depth (the previous sweep's,
usually a few ulps away) and run only on the entries that have not converged: one or two
iterations instead of the dozens a cold start takes (the answers agree to 1e-12, tested).
"""

from __future__ import annotations

import numpy as np

from agents.discrete_optimal import _best_depth, _poisson_slope
from agents.lattice import LatticeModel

_MAX_NEWTON = 100
_TOL = 1e-13


def best_depth(market: LatticeModel, b: np.ndarray, start: np.ndarray) -> np.ndarray:
    """Maximiser of ``p(delta) (Delta delta + b)`` over ``[min_depth, max_depth]`` of
    ``market`` (elementwise), the poisson iteration started from ``start``."""
    c = market.config
    if c.fill_model == "bernoulli":
        return _best_depth(market, b)
    size, k, a_dt = c.order_size, c.k, c.A * c.dt
    lo = np.full_like(b, c.min_depth)
    hi = np.full_like(b, c.max_depth)
    g_lo, _ = _poisson_slope(lo, b, size, k, a_dt)
    g_hi, _ = _poisson_slope(hi, b, size, k, a_dt)
    out = np.clip(start, c.min_depth, c.max_depth).astype(np.float64)
    todo = np.flatnonzero((g_lo > 0) & (g_hi < 0))
    flat = out.reshape(-1)
    x = flat[todo]
    bb, lo_t, hi_t = b.reshape(-1)[todo], lo.reshape(-1)[todo], hi.reshape(-1)[todo]
    for _ in range(_MAX_NEWTON):
        if todo.size == 0:
            break
        g, dg = _poisson_slope(x, bb, size, k, a_dt)
        lo_t = np.where(g > 0, x, lo_t)
        hi_t = np.where(g > 0, hi_t, x)
        with np.errstate(invalid="ignore", divide="ignore"):
            step = np.where(np.isfinite(g) & (dg < 0), g / dg, np.nan)
        newton = x - step
        inside = np.isfinite(newton) & (newton >= lo_t) & (newton <= hi_t)
        new = np.where(inside, newton, 0.5 * (lo_t + hi_t))
        done = np.abs(new - x) < _TOL
        flat[todo] = new
        keep = ~done
        todo, x, bb, lo_t, hi_t = todo[keep], new[keep], bb[keep], lo_t[keep], hi_t[keep]
    out = np.where(g_hi >= 0, c.max_depth, out)
    return np.where(g_lo <= 0, c.min_depth, out)


def fill_derivatives(
    market: LatticeModel, depth: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(p, dp/d delta, d2p/d delta2)`` of ``market``'s per-step fill probability at clipped
    depths (a quoted side; the bernoulli derivatives are 0 where ``p`` saturates at 1)."""
    c = market.config
    p = np.asarray(market.dynamics.fill_probability(depth), dtype=np.float64)
    lam = c.A * c.dt * np.exp(-c.k * depth)
    if c.fill_model == "bernoulli":
        free = lam < 1.0
        return p, np.where(free, -c.k * lam, 0.0), np.where(free, c.k * c.k * lam, 0.0)
    e = np.exp(-lam)
    return p, -c.k * lam * e, c.k * c.k * lam * e * (1.0 - lam)
