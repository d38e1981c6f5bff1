"""Closed-form quadratic approximation of the multi-asset optimum (Bergault et al. 2021).

Bergault, P., Evangelista, D., Gueant, O. & Vieira, D. (2021), *Closed-form approximations in
multi-asset market making*, Applied Mathematical Finance 28(2), 101-142 (arXiv 1810.04383):
replace each side's Hamiltonian by its second-order Taylor expansion at ``p = 0``, and the
HJB equation has a quadratic solution ``theta(t, q) = -q' A(t) q - q' B(t) - C(t)`` with
``A`` the solution of a matrix Riccati equation. Derivation in the notation of this package
(inventories ``q`` in shares, ``Delta_i`` asset ``i``'s order size, fills at rate
``A_i e^(-k_i delta)``, objective ``E[X_T + q_T . S_T - q_T' Psi q_T - int q' Phi q dt]`` with
drifts ``mu``; ``xi = 0``, the default; ``xi = gamma`` with ``Phi = (gamma/2) Sigma`` and
``Psi = 0`` is their CARA model, ``theta`` then the certainty equivalent):

    0 = d_t theta + mu . q - q' Phi q + sum_i [H_i(p_i^b) + H_i(p_i^a)],
    p_i^b = (theta(q) - theta(q + Delta_i e_i)) / Delta_i,  p_i^a alike with q - Delta_i e_i,
    H_i(p) = sup_delta A_i e^(-k_i delta) (1 - e^(-xi Delta_i (delta - p))) Delta_i / (xi Delta_i)
           = (Delta_i A_i / k_i) (1 + xi Delta_i / k_i)^(-(1 + k_i / (xi Delta_i))) e^(-k_i p),

attained at ``delta = delta_i^0 + p`` with ``delta_i^0 = (1/(xi Delta_i)) ln(1 + xi Delta_i / k_i)``
(``1/k_i`` at ``xi = 0``). With ``H_i(p) ~ a0_i + a1_i p + a2_i p^2 / 2`` (``a0 = H(0)``,
``a1 = -k H(0)``, ``a2 = k^2 H(0)``) and the quadratic ansatz, the differences are exact and
linear in ``q``: ``p_i^b = 2 (A q)_i + B_i + Delta_i A_ii``, ``p_i^a = -2 (A q)_i - B_i +
Delta_i A_ii``. Matching powers of ``q`` (``D = diag(a2)``, ``tau = T - t``):

    dA/dtau = Phi - 4 A D A,               A(0) = Psi,
    dB/dtau = -mu - 4 A D B,               B(0) = 0,
    dC/dtau = -sum_i [2 a0_i + 2 a1_i Delta_i A_ii + a2_i (B_i^2 + Delta_i^2 A_ii^2)],  C(0) = 0,

and the approximate optimal quotes (the maximisers at the approximate ``p``) are

    bid_i = delta_i^0 + 2 (A q)_i + B_i + Delta_i A_ii,
    ask_i = delta_i^0 - 2 (A q)_i - B_i + Delta_i A_ii.

**Stationary** (ergodic) regime, ``tau -> infinity``:
``A_inf = (1/2) D^(-1/2) (D^(1/2) Phi D^(1/2))^(1/2) D^(-1/2)`` and ``B_inf = -(4 A_inf D)^-1 mu``.
For one asset (``mu = 0``) ``2 A_inf = sqrt(phi / a2)`` is the slope ``c`` of
:func:`agents.glft.glft_skew` with ``phi = gamma sigma^2 / 2``: the quotes are
:class:`agents.glft.GLFTAgent`'s (``xi = 0`` or ``xi = gamma``) exactly.

**Finite horizon**: with ``A = V U^-1``, ``U' = 4 D V``, ``V' = Phi U`` is linear, so one step
``h`` maps ``A`` to ``(S21 + S22 A)(S11 + S12 A)^-1`` with ``S = expm(h [[0, 4D], [Phi, 0]])``;
``B`` rides along as the off-diagonal block of the same Riccati equation for ``(q, 1)``
(``Phi`` bordered by ``-mu/2``). ``C`` is integrated by 8-point Gauss-Legendre quadrature on
each step. This is exact up to rounding for ``A`` and ``B`` (checked against the scalar
``tanh`` solution for one asset) and to ~1e-14 relative for ``C``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.linalg

from agents.avellaneda_stoikov import log1p_ratio
from agents.base import check_real
from agents.glft import glft_half_spread
from agents.multi_asset.base import MultiAssetAgent, check_matrix, interleave, split_obs
from mm_env.multi_asset import MultiAssetConfig

_GAUSS_NODES, _GAUSS_WEIGHTS = np.polynomial.legendre.leggauss(8)
HORIZONS = ("finite", "stationary")


def hamiltonian_coefficients(
    A: Any, k: Any, order_size: Any, xi: float = 0.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(a0, a1, a2, delta0)`` per asset: the Taylor coefficients of ``H_i`` at 0 and
    ``delta_i^0`` (module docstring); ``xi >= 0``."""
    a, kk, size = (np.asarray(x, dtype=np.float64) for x in (A, k, order_size))
    x = xi * size / kk
    # (1 + x)^(-(1 + 1/x)) = exp(-(log1p(x) + log1p(x)/x)), e^-1 at x = 0
    h0 = size * a / kk * np.exp(-(np.log1p(x) + log1p_ratio(x)))
    return h0, -kk * h0, kk * kk * h0, np.asarray(glft_half_spread(xi, kk, size))


def stationary_quadratic(a2: Any, phi: Any, mu: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """``(A_inf, B_inf)`` of the ergodic regime (``mu`` default 0).

    ``B_inf`` needs ``A_inf`` invertible (``Phi`` positive definite) when ``mu != 0``.
    """
    d = np.asarray(a2, dtype=np.float64)
    p = np.asarray(phi, dtype=np.float64)
    root_d = np.sqrt(d)
    inner = root_d[:, None] * p * root_d[None, :]
    w, v = np.linalg.eigh((inner + inner.T) / 2)
    sqrt_inner = (v * np.sqrt(np.maximum(w, 0.0))) @ v.T
    a_inf = 0.5 * sqrt_inner / root_d[:, None] / root_d[None, :]
    a_inf = (a_inf + a_inf.T) / 2
    m = np.zeros(d.size) if mu is None else np.asarray(mu, dtype=np.float64)
    if not m.any():
        return a_inf, np.zeros(d.size)
    lhs = 4.0 * a_inf * d[None, :]
    if np.linalg.matrix_rank(lhs) < d.size:
        raise ValueError(
            "the stationary approximation with a drift needs a positive definite running "
            "penalty phi (B_inf = -(4 A_inf D)^-1 mu); use horizon='finite'"
        )
    return a_inf, -np.linalg.solve(lhs, m)


@dataclass(frozen=True)
class QuadraticSolution:
    """``A``, ``B``, ``C`` of the quadratic approximation on a grid of times to go."""

    taus: np.ndarray
    """Times to go ``i dtau``, ``(n_t,)``."""
    A: np.ndarray
    """``(n_t, n, n)``."""
    B: np.ndarray
    """``(n_t, n)``."""
    C: np.ndarray
    """``(n_t,)``."""


class QuadraticRiccati:
    """The finite-horizon ``A, B, C`` equations of the module docstring, solved exactly.

    Args:
        a0, a1, a2: Taylor coefficients per asset (:func:`hamiltonian_coefficients`).
        order_size: ``Delta_i`` per asset.
        phi, psi: running and terminal penalty matrices.
        mu: drifts [price/session] (the absolute drift ``mu_i S0_i`` under gbm).
    """

    def __init__(
        self,
        a0: np.ndarray,
        a1: np.ndarray,
        a2: np.ndarray,
        order_size: np.ndarray,
        phi: np.ndarray,
        psi: np.ndarray,
        mu: np.ndarray,
    ) -> None:
        n = a2.size
        self.n = n
        self.a0, self.a1, self.a2 = a0, a1, a2
        self.order_size = order_size
        d = np.zeros(n + 1)
        d[:n] = a2
        bordered = np.zeros((n + 1, n + 1))
        bordered[:n, :n] = phi
        bordered[:n, n] = bordered[n, :n] = -0.5 * mu
        self._ham = np.zeros((2 * n + 2, 2 * n + 2))
        self._ham[: n + 1, n + 1 :] = 4.0 * np.diag(d)
        self._ham[n + 1 :, : n + 1] = bordered
        self._x0 = np.zeros((n + 1, n + 1))
        self._x0[:n, :n] = psi
        self._cache: dict[float, np.ndarray] = {}

    def _mobius(self, x: np.ndarray, h: float) -> np.ndarray:
        s = self._cache.get(h)
        if s is None:
            s = scipy.linalg.expm(h * self._ham)
            self._cache[h] = s
        m = self.n + 1
        num = s[m:, :m] + s[m:, m:] @ x
        den = s[:m, :m] + s[:m, m:] @ x
        out = np.linalg.solve(den.T, num.T).T
        return np.asarray((out + out.T) / 2)

    def _c_rate(self, x: np.ndarray) -> float:
        """``dC/dtau`` at the bordered ``X = [[A, B/2], [B'/2, .]]``."""
        n = self.n
        a_diag, b = np.diag(x)[:n], 2.0 * x[:n, n]
        size = self.order_size
        terms = 2 * self.a0 + 2 * self.a1 * size * a_diag + self.a2 * (b * b + (size * a_diag) ** 2)
        return -float(np.sum(terms))

    def step(self, x: np.ndarray, c: float, h: float) -> tuple[np.ndarray, float]:
        """``(X, C)`` after a time to go ``h`` more, from ``(X, C)``."""
        if h == 0:
            return x, c
        nodes = 0.5 * h * (_GAUSS_NODES + 1.0)
        rates = [self._c_rate(self._mobius(x, float(t))) for t in nodes]
        return self._mobius(x, h), c + 0.5 * h * float(np.dot(_GAUSS_WEIGHTS, rates))

    def solve(self, dtau: float, n_steps: int) -> tuple[QuadraticSolution, np.ndarray]:
        """``A, B, C`` at ``i dtau``, ``i = 0..n_steps``, and the bordered ``X`` (for restarts)."""
        n = self.n
        xs = np.empty((n_steps + 1, n + 1, n + 1))
        cs = np.zeros(n_steps + 1)
        xs[0] = self._x0
        for i in range(n_steps):
            xs[i + 1], cs[i + 1] = self.step(xs[i], float(cs[i]), dtau)
        sol = QuadraticSolution(
            taus=dtau * np.arange(n_steps + 1),
            A=xs[:, :n, :n].copy(),
            B=2.0 * xs[:, :n, n],
            C=cs,
        )
        return sol, xs


class QuadraticApproximationAgent(MultiAssetAgent):
    """Bergault-Evangelista-Gueant-Vieira closed-form quotes (module docstring).

    Args:
        config: the market (``A``, ``k``, ``order_size``, ``mu``, ``T``, ``n_steps``, and
            ``phi``, ``alpha`` under the ``inventory_penalty`` reward).
        gamma: if given (``>= 0``), the running penalty is the mean-variance
            ``Phi = (gamma/2) Sigma`` (the config's covariance at ``S0``) and the terminal
            penalty 0, unless ``phi``/``alpha`` are given too.
        phi, alpha: running and terminal penalty matrices (or numbers: multiples of the
            identity) overriding the config's (default: the config's under
            ``inventory_penalty``, 0 under ``pnl``).
        xi: ``0`` (default) for the risk-neutral objective with penalties, ``gamma`` for the
            CARA one (with ``Phi = (gamma/2) Sigma``, ``Psi = 0``).
        horizon: ``"finite"`` (default: ``A(t), B(t)`` of the Riccati equation with the
            terminal penalty) or ``"stationary"`` (``A_inf, B_inf``: time independent).
    """

    def __init__(
        self,
        config: MultiAssetConfig,
        *,
        gamma: float | None = None,
        phi: Any = None,
        alpha: Any = None,
        xi: float = 0.0,
        horizon: str = "finite",
    ) -> None:
        super().__init__(config)
        n = self.n_assets
        if horizon not in HORIZONS:
            raise ValueError(f"horizon must be one of {list(HORIZONS)}, got {horizon!r}")
        self.horizon = horizon
        self.xi = check_real("xi", xi, low=0.0)
        penalty = config.reward == "inventory_penalty"
        if gamma is not None:
            self.gamma: float | None = check_real("gamma", gamma, low=0.0)
            default_phi, default_alpha = 0.5 * self.gamma * config.covariance, np.zeros((n, n))
        else:
            self.gamma = None
            zero = np.zeros((n, n))
            default_phi = config.phi_matrix if penalty else zero
            default_alpha = config.alpha_matrix if penalty else zero
        self.phi = default_phi if phi is None else check_matrix("phi", phi, n)
        self.alpha = default_alpha if alpha is None else check_matrix("alpha", alpha, n)
        size = np.asarray(config.order_size, dtype=np.float64)
        mu = np.asarray(config.mu, dtype=np.float64)
        self.drift = mu * np.asarray(config.S0) if config.mid_model == "gbm" else mu
        a0, a1, a2, self._delta0 = hamiltonian_coefficients(config.A, config.k, size, self.xi)
        self._size = size
        self._riccati = QuadraticRiccati(a0, a1, a2, size, self.phi, self.alpha, self.drift)
        if horizon == "stationary":
            a_inf, b_inf = stationary_quadratic(a2, self.phi, self.drift)
            self._a_table = a_inf[None]
            self._b_table = b_inf[None]
        else:
            self.solution, self._x_table = self._riccati.solve(config.dt, config.n_steps)
            self._a_table = self.solution.A
            self._b_table = self.solution.B

    # ------------------------------------------------------------------ policy
    def _coefficients(self, tau: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``A`` ``(m, n, n)`` and ``B`` ``(m, n)`` at the observed times to go (linear in
        ``tau`` between the env's grid times, as the single-asset exact agents)."""
        if self.horizon == "stationary":
            m = tau.shape[0]
            return (
                np.broadcast_to(self._a_table[0], (m, self.n_assets, self.n_assets)),
                np.broadcast_to(self._b_table[0], (m, self.n_assets)),
            )
        c = self.config
        x = np.clip(tau, 0.0, c.T) / c.dt
        i0 = np.minimum(np.floor(x).astype(np.intp), c.n_steps - 1)
        w = x - i0
        a = (1.0 - w)[:, None, None] * self._a_table[i0] + w[:, None, None] * self._a_table[i0 + 1]
        b = (1.0 - w)[:, None] * self._b_table[i0] + w[:, None] * self._b_table[i0 + 1]
        return a, b

    def _act_batch(self, obs: np.ndarray) -> np.ndarray:
        tau, q, _ = split_obs(obs, self.n_assets)
        a, b = self._coefficients(tau)
        skew = 2.0 * np.einsum("mij,mj->mi", a, q) + b
        own = self._size * np.diagonal(a, axis1=1, axis2=2)
        return interleave(self._delta0 + skew + own, self._delta0 - skew + own)

    # ------------------------------------------------------------ public values
    def coefficients(self, t: float) -> tuple[np.ndarray, np.ndarray, float]:
        """``(A(t), B(t), C(t))`` at time ``t`` in ``[0, T]`` (exact, also between grid times).

        Stationary horizon: ``(A_inf, B_inf, nan)`` (the constant grows linearly in ``tau``).
        """
        c = self.config
        t = check_real("t", t, low=0.0, high=c.T)
        if self.horizon == "stationary":
            return self._a_table[0].copy(), self._b_table[0].copy(), math.nan
        tau = c.T - t
        i = min(math.floor(tau / c.dt + 1e-9), c.n_steps)
        rest = max(tau - i * c.dt, 0.0)
        x, cc = self._riccati.step(self._x_table[i], float(self.solution.C[i]), rest)
        n = self.n_assets
        return x[:n, :n].copy(), 2.0 * x[:n, n], cc

    def value(self, t: float, q: Any) -> np.ndarray:
        """The approximate value ``-q' A q - q' B - C`` at time ``t`` for inventories ``q``
        ``(..., n)`` [shares] (finite horizon only)."""
        if self.horizon == "stationary":
            raise ValueError("value needs horizon='finite' (the stationary constant is infinite)")
        a, b, cc = self.coefficients(t)
        q_arr = np.asarray(q, dtype=np.float64)
        if q_arr.shape[-1:] != (self.n_assets,) or not np.isfinite(q_arr).all():
            raise ValueError(
                f"q must be finite inventories with a last axis of {self.n_assets}, got shape "
                f"{q_arr.shape}"
            )
        return np.asarray(-np.einsum("...i,ij,...j->...", q_arr, a, q_arr) - q_arr @ b - cc)

    def __repr__(self) -> str:
        g = "" if self.gamma is None else f"gamma={self.gamma:g}, "
        return f"QuadraticApproximationAgent({g}xi={self.xi:g}, horizon={self.horizon!r})"
