"""One side's exact best depth and the fill probability's derivatives, for the Bellman solvers.

Every exact solver of the package (:mod:`agents.discrete_optimal`, its multi-asset version
:mod:`agents.multi_asset.discrete_optimal` and the competition stage game
:mod:`agents.competition.stage`) reduces a step to the one-dimensional problem

    max over delta in [min_depth, max_depth] of  p(delta) (Delta delta + b),

``p`` the per-step fill probability of a quote at depth ``delta``, ``Delta`` the order size and
``b`` what the fill adds to the continuation. :func:`best_depth` solves it elementwise:

- bernoulli fills (``p = min(1, A e^(-k delta) dt)``): the closed form
  ``max(1/k - b/Delta, ln(A dt)/k)`` (the second term where ``p`` saturates at 1), clipped;
- poisson fills (``p = 1 - exp(-lam)``, ``lam = A dt e^(-k delta)``): the objective's slope has
  the sign of ``g = Delta expm1(lam)/(k lam) - (Delta delta + b)`` (:func:`poisson_slope`),
  strictly decreasing in ``delta``; a safeguarded Newton iteration keeps a bracket
  ``[lo, hi]`` with ``g(lo) > 0 > g(hi)`` and bisects when a Newton step leaves it. Cold (no
  ``start``) it starts every entry from the bernoulli answer and iterates them all until the
  largest move is below 1e-13; warm (``start``: the previous sweep's depths, usually a few
  ulps away) it iterates only the entries that have not converged, each until its own move is
  below 1e-13: one or two iterations instead of the dozens a cold start takes (the answers
  agree to 1e-12).

:func:`fill_derivatives` gives ``p`` and its first two derivatives, for the multi-asset
solver's joint Newton step.
"""

from __future__ import annotations

import math

import numpy as np

from agents.lattice import LatticeModel

__all__ = ["best_depth", "fill_derivatives", "poisson_slope"]

_MAX_NEWTON = 100
_TOL = 1e-13


def poisson_slope(
    delta: np.ndarray, b: np.ndarray, size: float, k: float, a_dt: float
) -> tuple[np.ndarray, np.ndarray]:
    """``g = Delta expm1(lam)/(k lam) - (Delta delta + b)`` and ``dg/d delta``
    (``lam = A dt e^(-k delta)``, ``size = Delta``, ``a_dt = A dt``): the slope of the poisson
    objective up to a positive factor, elementwise (NaN where ``lam`` underflows to 0)."""
    lam = a_dt * np.exp(-k * delta)
    with np.errstate(over="ignore", invalid="ignore"):
        em1 = np.expm1(lam)
        g = size * em1 / (k * lam) - (size * delta + b)
        dg = -size * (lam * (em1 + 1.0) - em1) / lam - size
    return g, dg


def _newton_step(
    x: np.ndarray,
    b: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    size: float,
    k: float,
    a_dt: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One safeguarded Newton step on ``g`` from ``x``: ``(new x, new lo, new hi)``."""
    g, dg = poisson_slope(x, b, size, k, a_dt)
    lo = np.where(g > 0, x, lo)
    hi = np.where(g > 0, hi, x)
    with np.errstate(invalid="ignore", divide="ignore"):
        step = np.where(np.isfinite(g) & (dg < 0), g / dg, np.nan)
    newton = x - step
    inside = np.isfinite(newton) & (newton >= lo) & (newton <= hi)
    return np.where(inside, newton, 0.5 * (lo + hi)), lo, hi


def best_depth(market: LatticeModel, b: np.ndarray, start: np.ndarray | None = None) -> np.ndarray:
    """Maximiser of ``p(delta) (Delta delta + b)`` over ``[min_depth, max_depth]`` of
    ``market``, elementwise (module doc); the poisson iteration starts from ``start`` when
    given (warm), else from the bernoulli answer (cold)."""
    c = market.config
    size, k, a_dt = c.order_size, c.k, c.A * c.dt
    if c.fill_model == "bernoulli":
        stationary = 1.0 / k - b / size
        return market.clip(np.maximum(stationary, math.log(a_dt) / k))
    lo = np.full_like(b, c.min_depth)
    hi = np.full_like(b, c.max_depth)
    g_lo, _ = poisson_slope(lo, b, size, k, a_dt)
    g_hi, _ = poisson_slope(hi, b, size, k, a_dt)
    interior = (g_lo > 0) & (g_hi < 0)  # elsewhere the answer is an end of the range
    if start is None:
        x = np.clip(1.0 / k - b / size, c.min_depth, c.max_depth)  # the bernoulli answer
        x = np.where((x > lo) & (x < hi), x, 0.5 * (lo + hi))
        for _ in range(_MAX_NEWTON):
            new, lo, hi = _newton_step(x, b, lo, hi, size, k, a_dt)
            done = np.max(np.abs(new - x), where=interior, initial=0.0) < _TOL
            x = new
            if done:
                break
    else:
        x = np.clip(start, c.min_depth, c.max_depth).astype(np.float64)
        todo = np.flatnonzero(interior)
        flat = x.reshape(-1)
        xt = flat[todo]
        bt, lo_t, hi_t = b.reshape(-1)[todo], lo.reshape(-1)[todo], hi.reshape(-1)[todo]
        for _ in range(_MAX_NEWTON):
            if todo.size == 0:
                break
            new, lo_t, hi_t = _newton_step(xt, bt, lo_t, hi_t, size, k, a_dt)
            flat[todo] = new
            keep = ~(np.abs(new - xt) < _TOL)  # NaN moves stay in
            todo, xt, bt, lo_t, hi_t = todo[keep], new[keep], bt[keep], lo_t[keep], hi_t[keep]
    x = np.where(g_hi >= 0, c.max_depth, x)
    return np.where(g_lo <= 0, c.min_depth, x)


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
