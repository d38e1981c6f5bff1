"""Gueant-Lehalle-Fernandez-Tapia closed-form asymptotic quotes for bounded inventory.

Gueant, O., Lehalle, C.-A. & Fernandez-Tapia, J. (2013), *Dealing with the inventory risk:
a solution to the market making problem*, Mathematics and Financial Economics 7(4), 477-507,
the asymptotic (``T -> infinity``) quotes; in the general form of Gueant, O. (2017), *Optimal
market making*, Applied Mathematical Finance 24(2), 112-154 (closed-form approximations),
with order size ``Delta``:

    delta_b(q) ~ (1/(xi Delta)) ln(1 + xi Delta / k) + (2q + Delta)/2 * c
    delta_a(q) ~ (1/(xi Delta)) ln(1 + xi Delta / k) - (2q - Delta)/2 * c

    c = sqrt( gamma sigma^2 / (2 A Delta k) * (1 + xi Delta / k)^(1 + k / (xi Delta)) )

where ``gamma`` is the risk aversion, ``sigma`` the mid-price volatility in price units,
fills arrive at rate ``A e^(-k delta)``, and ``xi`` selects the objective: ``xi = gamma`` is the
CARA (exponential utility) problem of GLFT 2013, ``xi = 0`` the risk-neutral problem with a
running penalty ``(gamma sigma^2 / 2) q^2`` (Cartea-Jaimungal's ``phi = gamma sigma^2 / 2``),
for which the formula reads ``1/k + (2q + Delta)/2 * sqrt(gamma sigma^2 e / (2 A Delta k))``.

The approximation is the limit ``T -> infinity`` of the exact optimum (the quotes no longer
depend on time), with the ground state of the linear ODE of
:class:`agents.optimal.CARAOptimalAgent` replaced by a Gaussian. It is accurate for
inventories small compared with the bound and for ``T`` long compared with the relaxation
time of the inventory; the exact finite-horizon quotes are in :mod:`agents.optimal`.
Boundaries: at ``q = +limit`` the env does not quote the bid (and at ``-limit`` the ask),
which is how the bounded-inventory problem treats them; the formula is used as is inside.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from agents.avellaneda_stoikov import DEFAULT_GAMMA, log1p_ratio
from agents.base import Agent, check_real, price_volatility, split_obs
from mm_env.config import MarketConfig


def glft_half_spread(xi: Any, k: Any, order_size: Any = 1.0) -> np.ndarray:
    """``(1/(xi Delta)) ln(1 + xi Delta / k)``, with its limit ``1/k`` at ``xi = 0``."""
    x = np.asarray(xi, dtype=np.float64) * order_size / k
    return np.asarray(log1p_ratio(x) / k)


def glft_skew(gamma: Any, sigma: Any, A: Any, k: Any, xi: Any, order_size: Any = 1.0) -> np.ndarray:
    """The slope ``c`` of the quotes in inventory (see the module docstring).

    ``(1 + x)^(1 + 1/x)`` with ``x = xi Delta / k`` is computed as
    ``exp(log1p(x) + log1p(x)/x)``, which tends to ``e`` as ``xi -> 0``.
    """
    x = np.asarray(xi, dtype=np.float64) * order_size / k
    power = np.exp(np.log1p(x) + log1p_ratio(x))
    return np.asarray(np.sqrt(gamma * np.square(sigma) / (2.0 * A * order_size * k) * power))


def glft_depths(
    inventory: Any,
    gamma: Any,
    sigma: Any,
    A: Any,
    k: Any,
    xi: Any = None,
    order_size: Any = 1.0,
) -> tuple[np.ndarray, np.ndarray]:
    """GLFT / Gueant closed-form asymptotic ``(bid_depth, ask_depth)``; ``xi`` default gamma."""
    xi = gamma if xi is None else xi
    base = glft_half_spread(xi, k, order_size)
    c = glft_skew(gamma, sigma, A, k, xi, order_size)
    q = np.asarray(inventory, dtype=np.float64)
    return (
        np.asarray(base + (2.0 * q + order_size) / 2.0 * c),
        np.asarray(base - (2.0 * q - order_size) / 2.0 * c),
    )


class GLFTAgent(Agent):
    """GLFT (2013) closed-form asymptotic quotes, time independent.

    Args:
        config: the market (``A``, ``k``, ``sigma``, ``mid_model``, ``order_size`` are read).
        gamma: risk aversion, ``>= 0`` (0: both depths ``1/k``, the risk-neutral quotes).
        xi: ``gamma`` (default) for the CARA objective, ``0`` for the running-penalty one.
        sigma: absolute volatility [price / sqrt(session)] overriding the config's (default:
            ``sigma * S`` at the observed mid under GBM, ``sigma`` under ABM).
        A, k: arrival-rate parameters overriding the config's, ``> 0``.
    """

    def __init__(
        self,
        config: MarketConfig,
        gamma: float = DEFAULT_GAMMA,
        *,
        xi: float | None = None,
        sigma: float | None = None,
        A: float | None = None,
        k: float | None = None,
    ) -> None:
        super().__init__(config)
        self.gamma = check_real("gamma", gamma, low=0.0)
        self.xi = self.gamma if xi is None else check_real("xi", xi, low=0.0)
        self.sigma = None if sigma is None else check_real("sigma", sigma, low=0.0)
        self.A = config.A if A is None else check_real("A", A, low=0.0, low_open=True)
        self.k = config.k if k is None else check_real("k", k, low=0.0, low_open=True)
        size = config.order_size
        self._base = float(glft_half_spread(self.xi, self.k, size))
        self._unit_skew = float(glft_skew(self.gamma, 1.0, self.A, self.k, self.xi, size))

    def _act_batch(self, obs: np.ndarray) -> np.ndarray:
        _, q, mid = split_obs(obs)
        c = self._unit_skew * price_volatility(self.config, mid, self.sigma)
        size = self.config.order_size
        out = np.empty((obs.shape[0], 2))
        out[:, 0] = self._base + (q + 0.5 * size) * c
        out[:, 1] = self._base - (q - 0.5 * size) * c
        return out

    def __repr__(self) -> str:
        extra = "" if self.xi == self.gamma else f", xi={self.xi:g}"
        extra += "" if self.sigma is None else f", sigma={self.sigma:g}"
        return f"GLFTAgent(gamma={self.gamma:g}{extra})"
