"""The exact optima of the model: Cartea-Jaimungal-Penalva and Gueant-Lehalle-Fernandez-Tapia.

Both solve a finite-horizon control problem over an inventory grid ``q_j = j Delta``,
``|j| <= N`` (``Delta`` the order size, ``N Delta`` the inventory bound), with fills at rate
``A e^(-k delta)`` on each quoted side, by the change of variables that makes the HJB
equation linear: ``omega(tau) = expm(M tau) z`` in the time to go ``tau = T - t``, ``M``
symmetric tridiagonal (solved in :mod:`agents.linear_ode`, exactly and once per agent on
the env's time grid).

**OptimalAgent** (Cartea, Jaimungal & Penalva 2015, *Algorithmic and High-Frequency Trading*,
ch. 10, market making with inventory penalties): maximise

    E[ X_T + q_T S_T - alpha q_T^2 - phi int_t^T q_u^2 du ]

(the env's ``inventory_penalty`` reward summed over an episode). The value function is
``x + q S + h_q(t)`` with ``h_q = (Delta / k) log omega_q`` and

    M_jj = k (mu q_j - phi q_j^2) / Delta,  M_j,j+-1 = A / e,  z_j = exp(-alpha k q_j^2 / Delta);
    bid_depth = 1/k + (h_q - h_(q+Delta)) / Delta,   ask_depth = 1/k + (h_q - h_(q-Delta)) / Delta.

With ``Delta = 1`` and ``mu = 0`` this is the book's solution with ``lambda = A``,
``kappa = k``. :meth:`value` returns ``h_q(t)``: the expected sum of the remaining rewards.

**CARAOptimalAgent** (Gueant, Lehalle & Fernandez-Tapia 2013, *Dealing with the inventory
risk*, Math. Finan. Econ. 7, their closed-form solution; Gueant 2017 for ``Delta``): maximise
``E[-exp(-gamma (X_T + q_T S_T))]`` (the ``pnl`` reward's sum under exponential utility).
The value is ``-exp(-gamma (x + q S + theta_q(t)))`` with ``theta_q = (Delta / k) log v_q``,

    M_jj = k (mu q_j - gamma sigma^2 q_j^2 / 2) / Delta,
    M_j,j+-1 = A (1 + gamma Delta / k)^(-(1 + k / (gamma Delta))),   z_j = 1;
    bid_depth = (1/(gamma Delta)) ln(1 + gamma Delta / k) + (theta_q - theta_(q+Delta)) / Delta

and the ask alike with ``q - Delta``. :meth:`value` returns ``theta_q(t)``: the certainty
equivalent of the remaining PnL. ``gamma -> 0`` gives ``OptimalAgent`` with ``phi = alpha = 0``.

What is exact and what is not:

- *Exact* (to ~1e-12) for the continuous-time model: Poisson fills, quotes revised
  continuously, inventory in ``[-N Delta, N Delta]``, depths unconstrained, and a mid that is
  arithmetic Brownian motion with drift ``mu`` (for ``OptimalAgent`` the mid's volatility never
  enters; any martingale mid, GBM with ``mu = 0`` included, gives the same value).
- *Approximations* in the env: (1) the env is discrete in time (one decision per ``dt``,
  Bernoulli or Poisson fill probabilities per step): the continuous value is the ``dt -> 0``
  limit and the gap is ``O(dt)`` (measured in the tests and by
  :func:`agents.lattice.evaluate_on_lattice`); (2) the env clips depths into
  ``[min_depth, max_depth]``: the optimal depths can be negative near the inventory bounds or
  with a large terminal penalty (quoting through the mid to unload), which a ``min_depth >= 0``
  preset forbids; (3) GBM with ``mu != 0``: the drift ``mu S`` is frozen at ``mu S0``; for
  ``CARAOptimalAgent`` under GBM the volatility is frozen at ``sigma S0`` (the exact problem
  would have ``S`` as a state variable).
- *Inventory bound*: the config's ``inventory_limit`` (the grid stops at the largest multiple
  of ``Delta`` inside it, where the env stops quoting the side that would cross it). With no
  limit (``inf``) the agent truncates at ``q_max`` (default :func:`default_q_max`, about six
  standard deviations of the inventory of a risk-neutral market maker over the session):
  an approximation of the unbounded problem. A side the model does not quote (the bid at
  ``+N Delta``, the ask at ``-N Delta``) is sent to the env as ``max_depth``; inventories off
  the grid are rounded to the nearest grid point and clipped into it.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from agents.avellaneda_stoikov import DEFAULT_GAMMA, log1p_ratio
from agents.base import Agent, check_real, split_obs
from agents.linear_ode import LogTridiagonalExp
from mm_env.config import MarketConfig

_MAX_GRID_HALF_WIDTH = 250  # N: the grid has 2N + 1 points (N = 250 takes ~10 s to solve)
_DEFAULT_GRID_CAP = 100  # the default truncation stays fast (< 1 s)


def default_q_max(config: MarketConfig) -> float:
    """Truncation used when the config has no inventory limit.

    ``Delta * max(25, ceil(6 sqrt(2 A T / e)))``: six standard deviations of the
    inventory of a market maker quoting ``1/k`` on both sides over the session (each side
    fills at rate ``A/e``), at least 25 order sizes, at most 100 (the solve takes about
    0.05 s for 50 and 0.5 s for 100; pass ``q_max`` up to 250 order sizes for more).
    """
    n = max(25, math.ceil(6.0 * math.sqrt(2.0 * config.A * config.T / math.e)))
    return config.order_size * min(n, _DEFAULT_GRID_CAP)


class _LinearODEAgent(Agent):
    """Shared machinery: inventory grid, precomputed ``log omega`` table, lookups."""

    _depth_constant: float  # 1/k (CJP) or (1/(gamma Delta)) ln(1 + gamma Delta/k) (GLFT)

    def __init__(self, config: MarketConfig, q_max: float | None) -> None:
        super().__init__(config)
        size = config.order_size
        limit = config.inventory_limit
        if q_max is None:
            q_max = limit if math.isfinite(limit) else default_q_max(config)
        else:
            upper = limit if math.isfinite(limit) else _MAX_GRID_HALF_WIDTH * size
            q_max = check_real("q_max", q_max, low=size, high=upper)
        self.q_max = float(q_max)
        self.n_grid = math.floor(q_max / size + 1e-9)
        if self.n_grid > _MAX_GRID_HALF_WIDTH:
            raise ValueError(
                f"inventory grid too large: q_max / order_size = {self.n_grid} must be <= "
                f"{_MAX_GRID_HALF_WIDTH}; pass a smaller q_max"
            )
        self.inventories = size * np.arange(-self.n_grid, self.n_grid + 1, dtype=np.float64)
        """The inventory grid ``q_j = j Delta``, ``j = -N..N``."""

    def _solve(self, diag: np.ndarray, off: float, log_z: np.ndarray) -> None:
        """Precompute ``log omega`` on the env's time grid and the depth tables."""
        c = self.config
        self._ode = LogTridiagonalExp(diag, off)
        self._log_omega = self._ode.log_solution_grid(log_z, c.dt, c.n_steps)
        bid, ask = self._depths_from_log(self._log_omega)
        self._bid_table = np.where(np.isnan(bid), c.max_depth, bid)
        self._ask_table = np.where(np.isnan(ask), c.max_depth, ask)

    def _depths_from_log(self, log_omega: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Depth tables (NaN on the side the model does not quote) from ``log omega`` rows."""
        diff = (log_omega[..., :-1] - log_omega[..., 1:]) / self.config.k
        nan = np.full((*log_omega.shape[:-1], 1), np.nan)
        bid = np.concatenate([self._depth_constant + diff, nan], axis=-1)
        ask = np.concatenate([nan, self._depth_constant - diff], axis=-1)
        return bid, ask

    # ------------------------------------------------------------------ policy
    def _act_batch(self, obs: np.ndarray) -> np.ndarray:
        tau, q, _ = split_obs(obs)
        c = self.config
        x = np.clip(tau, 0.0, c.T) / c.dt
        i0 = np.minimum(np.floor(x).astype(np.intp), c.n_steps - 1)
        w = x - i0
        j = self._grid_index(q)
        out = np.empty((obs.shape[0], 2))
        for col, table in enumerate((self._bid_table, self._ask_table)):
            out[:, col] = (1.0 - w) * table[i0, j] + w * table[i0 + 1, j]
        return out

    def _grid_index(self, q: np.ndarray) -> np.ndarray:
        j = np.rint(q / self.config.order_size).astype(np.intp) + self.n_grid
        return np.clip(j, 0, 2 * self.n_grid)

    # ------------------------------------------------------------ public tables
    def _log_omega_at(self, t: Any) -> tuple[np.ndarray, np.ndarray]:
        """``log omega`` rows at the times ``t`` (exact, also between grid times)."""
        c = self.config
        t_arr = np.asarray(t, dtype=np.float64)
        ok = np.isfinite(t_arr) & (t_arr >= 0) & (t_arr <= c.T)
        if not ok.all():
            bad = float(t_arr[~ok].ravel()[0])
            raise ValueError(f"t must be a time in [0, T] = [0, {c.T:g}], got {bad!r}")
        uniq, inverse = np.unique(t_arr.ravel(), return_inverse=True)
        rows = np.empty((uniq.size, self.inventories.size))
        for u, t_u in enumerate(uniq):
            tau = c.T - t_u
            i = min(math.floor(tau / c.dt + 1e-9), c.n_steps)
            rest = tau - i * c.dt
            if rest <= 1e-12 * c.T:
                rows[u] = self._log_omega[i]
            else:
                rows[u] = self._ode.log_solution(self._log_omega[i], rest)
        return rows[inverse].reshape((*t_arr.shape, self.inventories.size)), t_arr

    def _grid_index_checked(self, q: Any) -> np.ndarray:
        q_arr = np.asarray(q, dtype=np.float64)
        j = np.rint(q_arr / self.config.order_size)
        ok = np.isfinite(q_arr) & (np.abs(j) <= self.n_grid)
        ok &= np.abs(q_arr - j * self.config.order_size) <= 1e-9 * max(1.0, self.q_max)
        if not ok.all():
            raise ValueError(
                f"q must be an inventory on the grid: a multiple of order_size "
                f"({self.config.order_size:g}) in [-{self.q_max:g}, {self.q_max:g}], got "
                f"{float(q_arr[~ok].ravel()[0])!r}"
            )
        return j.astype(np.intp) + self.n_grid

    def _log_omega_tq(self, t: Any, q: Any) -> tuple[np.ndarray, np.ndarray]:
        t_b, q_b = np.broadcast_arrays(np.asarray(t, dtype=np.float64), np.asarray(q, float))
        rows, _ = self._log_omega_at(t_b)
        return rows, self._grid_index_checked(q_b)

    def value(self, t: Any, q: Any) -> np.ndarray:
        """The value's inventory part at time ``t`` (not time to go) and inventory ``q``.

        ``h_q(t)`` (OptimalAgent) or ``theta_q(t)`` (CARAOptimalAgent) in price units: exact
        at any ``t`` in ``[0, T]``; ``t`` and ``q`` broadcast (arrays or numbers).
        """
        rows, j = self._log_omega_tq(t, q)
        lw = np.take_along_axis(rows, j[..., None], axis=-1)[..., 0]
        return np.asarray(self.config.order_size / self.config.k * lw)

    def depths(self, t: Any, q: Any) -> tuple[np.ndarray, np.ndarray]:
        """Optimal ``(bid_depth, ask_depth)`` at time ``t`` and inventory ``q`` (for plots).

        Unclipped (the model's depths; the env clips into ``[min_depth, max_depth]``), NaN for
        the side the model does not quote at the inventory bound; ``t``, ``q`` broadcast.
        """
        rows, j = self._log_omega_tq(t, q)
        bid, ask = self._depths_from_log(rows)
        pick = j[..., None]
        return (
            np.take_along_axis(bid, pick, axis=-1)[..., 0],
            np.take_along_axis(ask, pick, axis=-1)[..., 0],
        )


class OptimalAgent(_LinearODEAgent):
    """The exact optimum of the ``inventory_penalty`` reward (CJP 2015, ch. 10).

    Args:
        config: the market (``A``, ``k``, ``T``, ``n_steps``, ``order_size``,
            ``inventory_limit``, ``mu``, ``phi``, ``alpha``).
        phi: running penalty overriding ``config.phi``, ``>= 0``.
        alpha: terminal penalty overriding ``config.alpha``, ``>= 0``.
        q_max: inventory bound of the model; default the config's ``inventory_limit``, or
            :func:`default_q_max` when that is infinite (a truncation, see the module doc).
    """

    def __init__(
        self,
        config: MarketConfig,
        *,
        phi: float | None = None,
        alpha: float | None = None,
        q_max: float | None = None,
    ) -> None:
        super().__init__(config, q_max)
        self.phi = config.phi if phi is None else check_real("phi", phi, low=0.0)
        self.alpha = config.alpha if alpha is None else check_real("alpha", alpha, low=0.0)
        c = config
        q = self.inventories
        drift = c.mu * (c.S0 if c.mid_model == "gbm" else 1.0)
        self._depth_constant = 1.0 / c.k
        diag = c.k * (drift * q - self.phi * q * q) / c.order_size
        self._solve(diag, c.A / math.e, -self.alpha * c.k * q * q / c.order_size)

    def __repr__(self) -> str:
        return f"OptimalAgent(phi={self.phi:g}, alpha={self.alpha:g}, q_max={self.q_max:g})"


class CARAOptimalAgent(_LinearODEAgent):
    """The exact CARA-utility optimum with bounded inventory (GLFT 2013).

    Args:
        config: the market (``A``, ``k``, ``sigma``, ``mid_model``, ``S0``, ``T``,
            ``n_steps``, ``order_size``, ``inventory_limit``, ``mu``).
        gamma: risk aversion, ``> 0`` (for ``gamma = 0`` use ``OptimalAgent``).
        sigma: absolute volatility [price / sqrt(session)] overriding the config's
            (default ``config.price_sigma``: ``sigma`` under ABM, ``sigma * S0`` under GBM).
        q_max: inventory bound of the model, as for :class:`OptimalAgent`.
    """

    def __init__(
        self,
        config: MarketConfig,
        gamma: float = DEFAULT_GAMMA,
        *,
        sigma: float | None = None,
        q_max: float | None = None,
    ) -> None:
        super().__init__(config, q_max)
        self.gamma = check_real("gamma", gamma, low=0.0, low_open=True)
        self.sigma = (
            config.price_sigma if sigma is None else check_real("sigma", sigma, low=0.0)
        )
        c = config
        size = c.order_size
        q = self.inventories
        x = self.gamma * size / c.k
        drift = c.mu * (c.S0 if c.mid_model == "gbm" else 1.0)
        self._depth_constant = float(log1p_ratio(x)) / c.k
        off = c.A * math.exp(-(math.log1p(x) + float(log1p_ratio(x))))
        diag = c.k * (drift * q - 0.5 * self.gamma * self.sigma**2 * q * q) / size
        self._solve(diag, off, np.zeros_like(q))

    def __repr__(self) -> str:
        return f"CARAOptimalAgent(gamma={self.gamma:g}, sigma={self.sigma:g}, q_max={self.q_max:g})"
