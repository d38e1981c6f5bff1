"""Avellaneda-Stoikov quotes and the paper's symmetric comparison strategy.

Avellaneda, M. & Stoikov, S. (2008), *High-frequency trading in a limit order book*,
Quantitative Finance 8(3), 217-224, eqs. (29)-(30). A market maker with exponential utility
(risk aversion ``gamma``) facing a mid-price with volatility ``sigma`` (price units) and fills
at rate ``A e^(-k delta)`` quotes, at time to go ``tau = T - t`` with inventory ``q``,

    reservation price    r      = s - q gamma sigma^2 tau
    total spread         spread = gamma sigma^2 tau + (2 / gamma) ln(1 + gamma / k)
    quotes               bid = r - spread / 2,   ask = r + spread / 2

so that, as depths from the mid (the env's action),

    bid_depth = s - bid = spread / 2 + q gamma sigma^2 tau
    ask_depth = ask - s = spread / 2 - q gamma sigma^2 tau.

These are the paper's first-order (small ``q``) approximations of the CARA-optimal quotes;
:class:`agents.optimal.CARAOptimalAgent` solves the same utility problem exactly.

Conventions of this module:

- ``gamma -> 0`` is the risk-neutral limit, computed without a 0/0:
  ``(2/gamma) ln(1 + gamma/k) = (2/k) log1p(x)/x`` with ``x = gamma/k`` and ``log1p(x)/x -> 1``,
  so both depths tend to ``1/k`` and the skew to 0. ``gamma = 0`` is accepted.
- ``sigma`` is in price units. Under GBM the config's sigma is relative and the agents use
  ``sigma * S`` at the observed mid (see :func:`agents.base.price_volatility`); a relative
  sigma in the formula would make the skew ``q gamma sigma^2 tau`` some ``S^2 = 10^4`` times
  too small at ``S = 100``, i.e. silently switch it off.
- ``time_to_go``: ``None`` uses the observed ``T - t`` (the paper); a number uses that fixed
  time to go at every step: the "infinite horizon" variant of production bots (e.g.
  Hummingbot's AS strategy with an infinite execution timeframe uses ``T - t = 1``).
- Depths may come out negative (quotes through the mid for large ``|q|``), as in the paper;
  the env clips them into ``[min_depth, max_depth]``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from agents.base import Agent, check_real, price_volatility, split_obs
from mm_env.config import MarketConfig

#: Risk aversion used by the paper's simulations (section 4) and by the agents by default.
DEFAULT_GAMMA = 0.1


def log1p_ratio(x: Any) -> np.ndarray:
    """``log(1 + x) / x`` with its limit 1 at ``x = 0`` (accurate for every ``x > -1``)."""
    x = np.asarray(x, dtype=np.float64)
    safe = np.where(x == 0.0, 1.0, x)
    return np.where(x == 0.0, 1.0, np.log1p(safe) / safe)


def as_reservation_price(mid: Any, inventory: Any, time_to_go: Any, gamma: Any, sigma: Any) -> Any:
    """AS eq. (29): ``r = s - q gamma sigma^2 (T - t)`` (``sigma`` in price units)."""
    return np.asarray(mid) - np.asarray(inventory) * gamma * np.square(sigma) * time_to_go


def as_spread(time_to_go: Any, gamma: Any, sigma: Any, k: Any) -> Any:
    """AS eq. (30): ``gamma sigma^2 (T - t) + (2/gamma) ln(1 + gamma/k)`` (limit ``2/k`` at 0)."""
    gamma = np.asarray(gamma, dtype=np.float64)
    k = np.asarray(k, dtype=np.float64)
    return gamma * np.square(sigma) * time_to_go + (2.0 / k) * log1p_ratio(gamma / k)


def as_depths(
    inventory: Any, time_to_go: Any, gamma: Any, sigma: Any, k: Any
) -> tuple[np.ndarray, np.ndarray]:
    """AS bid and ask depths from the mid: ``spread/2 +- q gamma sigma^2 (T - t)``."""
    half = 0.5 * as_spread(time_to_go, gamma, sigma, k)
    skew = np.asarray(inventory) * gamma * np.square(sigma) * time_to_go
    return np.asarray(half + skew), np.asarray(half - skew)


def as_quotes(
    mid: Any, inventory: Any, time_to_go: Any, gamma: Any, sigma: Any, k: Any
) -> tuple[np.ndarray, np.ndarray]:
    """AS bid and ask prices ``r -+ spread/2`` (the course notebook's quote table)."""
    r = as_reservation_price(mid, inventory, time_to_go, gamma, sigma)
    half = 0.5 * as_spread(time_to_go, gamma, sigma, k)
    return np.asarray(r - half), np.asarray(r + half)


class _AvellanedaStoikovBase(Agent):
    """Shared parameters of the AS agent and its symmetric comparison strategy."""

    def __init__(
        self,
        config: MarketConfig,
        gamma: float = DEFAULT_GAMMA,
        *,
        sigma: float | None = None,
        k: float | None = None,
        time_to_go: float | None = None,
    ) -> None:
        super().__init__(config)
        self.gamma = check_real("gamma", gamma, low=0.0)
        self.sigma = None if sigma is None else check_real("sigma", sigma, low=0.0)
        self.k = config.k if k is None else check_real("k", k, low=0.0, low_open=True)
        self.time_to_go = (
            None if time_to_go is None else check_real("time_to_go", time_to_go, low=0.0)
        )

    def _parts(self, obs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(half spread, inventory skew gamma sigma^2 tau, inventory)`` per observation."""
        tau, q, mid = split_obs(obs)
        if self.time_to_go is None:
            tau = np.maximum(tau, 0.0)
        else:
            tau = np.full_like(tau, self.time_to_go)
        sig = price_volatility(self.config, mid, self.sigma)
        risk = self.gamma * sig * sig * tau
        half = 0.5 * risk + log1p_ratio(self.gamma / self.k) / self.k
        return half, risk, q

    def __repr__(self) -> str:
        extra = "" if self.sigma is None else f", sigma={self.sigma:g}"
        extra += "" if self.k == self.config.k else f", k={self.k:g}"
        extra += "" if self.time_to_go is None else f", time_to_go={self.time_to_go:g}"
        return f"{type(self).__name__}(gamma={self.gamma:g}{extra})"


class AvellanedaStoikovAgent(_AvellanedaStoikovBase):
    """Avellaneda-Stoikov (2008) quotes: the AS spread centred on the reservation price.

    ``bid_depth = spread/2 + q gamma sigma^2 tau``, ``ask_depth = spread/2 - q gamma sigma^2 tau``
    with ``spread = gamma sigma^2 tau + (2/gamma) ln(1 + gamma/k)`` (module docstring).

    Args:
        config: the market the agent trades (``k``, ``sigma``, ``mid_model`` are read from it).
        gamma: risk aversion, ``>= 0`` (0 is the risk-neutral limit: depths ``1/k``).
        sigma: absolute volatility [price / sqrt(session)] overriding the config's
            (``sigma * S`` at the observed mid under GBM, ``sigma`` under ABM).
        k: fill-decay parameter overriding the config's (a mis-estimated ``k``), ``> 0``.
        time_to_go: a fixed ``T - t`` [sessions] for the infinite-horizon variant; ``None``
            (default) uses the observed time remaining.
    """

    def _act_batch(self, obs: np.ndarray) -> np.ndarray:
        half, risk, q = self._parts(obs)
        skew = q * risk
        out = np.empty((obs.shape[0], 2))
        out[:, 0] = half + skew
        out[:, 1] = half - skew
        return out

    def reservation_price(self, obs: np.ndarray) -> np.ndarray:
        """``r = s - q gamma sigma^2 tau`` for one observation or a batch."""
        arr = np.atleast_2d(np.asarray(obs, dtype=np.float64))
        _, risk, q = self._parts(arr)
        r = arr[:, 2] - q * risk
        return r[0] if np.ndim(obs) == 1 else r


class SymmetricAgent(_AvellanedaStoikovBase):
    """The AS paper's comparison strategy: the same spread, centred on the mid.

    ``bid_depth = ask_depth = spread / 2`` with the AS spread
    ``gamma sigma^2 tau + (2/gamma) ln(1 + gamma/k)``: no inventory skew. Same arguments as
    :class:`AvellanedaStoikovAgent`.
    """

    def _act_batch(self, obs: np.ndarray) -> np.ndarray:
        half, _, _ = self._parts(obs)
        return np.repeat(half[:, None], 2, axis=1)
