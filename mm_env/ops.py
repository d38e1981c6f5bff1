"""Elementary operations on Python floats and on numpy arrays, with one interface.

The transition (:mod:`mm_env.dynamics` and the market components) is written once against
these: :class:`ScalarOps` (``math``, no array allocation) is the scalar env's fast path,
:class:`ArrayOps` the vector env's; both compute the same numbers per element.
"""

from __future__ import annotations

import math

import numpy as np


class ScalarOps:
    """Elementary operations on Python floats."""

    exp = staticmethod(math.exp)
    expm1 = staticmethod(math.expm1)
    log = staticmethod(math.log)
    sqrt = staticmethod(math.sqrt)

    @staticmethod
    def clip(x: float, lo: float, hi: float) -> float:
        return lo if x < lo else (hi if x > hi else x)

    @staticmethod
    def minimum(x: float, y: float) -> float:
        return x if x < y else y

    @staticmethod
    def where(cond: bool, x: float, y: float) -> float:
        return x if cond else y

    @staticmethod
    def floor(x: float) -> float:
        return float(math.floor(x))

    @staticmethod
    def ceil(x: float) -> float:
        return float(math.ceil(x))

    @staticmethod
    def take(values: np.ndarray, index: int) -> float:
        return float(values[index])

    @staticmethod
    def poisson_inverse(mean: float, u: float) -> float:
        """Smallest ``n`` with ``P(N <= n) > u`` for ``N ~ Poisson(mean)`` (as a float)."""
        p = math.exp(-mean)
        cdf = p
        n = 0.0
        while u >= cdf and p > 0.0:
            n += 1.0
            p = p * mean / n
            cdf = cdf + p
        return n


class ArrayOps:
    """The same operations on numpy arrays (``np.clip`` avoided: it is slow on small arrays)."""

    exp = staticmethod(np.exp)
    expm1 = staticmethod(np.expm1)
    log = staticmethod(np.log)
    sqrt = staticmethod(np.sqrt)
    minimum = staticmethod(np.minimum)
    where = staticmethod(np.where)
    floor = staticmethod(np.floor)
    ceil = staticmethod(np.ceil)

    @staticmethod
    def clip(x: np.ndarray, lo: float, hi: float) -> np.ndarray:
        return np.minimum(np.maximum(x, lo), hi)

    @staticmethod
    def take(values: np.ndarray, index: np.ndarray) -> np.ndarray:
        return values[index]

    @staticmethod
    def poisson_inverse(mean: np.ndarray, u: np.ndarray) -> np.ndarray:
        """Elementwise :meth:`ScalarOps.poisson_inverse`, the same arithmetic per element;
        each round works only on the elements still searching (few after two rounds)."""
        mean = np.broadcast_to(mean, np.shape(u))
        p = np.exp(-mean)
        n = np.zeros(np.shape(u))
        idx = np.flatnonzero((u >= p) & (p > 0.0))
        if idx.size == 0:
            return n
        p, cdf, m, v = p.ravel()[idx], p.ravel()[idx], mean.ravel()[idx], u.ravel()[idx]
        flat = n.reshape(-1)
        j = 0.0
        while idx.size:
            j += 1.0
            flat[idx] = j
            p = p * m / j
            cdf = cdf + p
            keep = (v >= cdf) & (p > 0.0)
            idx, p, cdf, m, v = idx[keep], p[keep], cdf[keep], m[keep], v[keep]
        return n

