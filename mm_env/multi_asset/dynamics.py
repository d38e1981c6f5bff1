"""The one transition of the multi-asset market, shared by the scalar and the vector env.

The market of each asset is the single-asset :class:`mm_env.dynamics.MarketDynamics` of
:meth:`MultiAssetConfig.asset(i) <mm_env.multi_asset.MultiAssetConfig.asset>`: its depth
clipping, quoted sides, fill probability (poisson ``1 - exp(-A e^(-k d) dt)`` or bernoulli
``min(1, A e^(-k d) dt)``), fills, accounting, mid step (abm or gbm) and tick. The assets are
coupled only through the mids' correlated normals ``z = L eps`` (``L L' = rho``, drawn by the
env) and through the reward, which is computed here on the joint inventory.

How the asset axis is carried. :meth:`MultiAssetDynamics.step` takes a
:class:`MultiAssetState` whose per-asset fields (``mid``, ``cash``, ``inventory``) are

- tuples of ``n`` Python floats (the scalar env): each asset's own market steps its floats
  (the single-asset scalar fast path, ``math`` instead of numpy: a numpy step on arrays of
  two elements costs about eight times as much);
- arrays of shape ``(num_envs, n)`` (the vector env): one market with an asset axis,
  :func:`~mm_env.multi_asset.asset_axis.stacked_market`, whose per-asset parameters are
  ``(n,)`` arrays that broadcast against the trailing axis, steps all of them at once.

Both run the same single-asset step on each asset's numbers. Each asset keeps its own cash
account (``cash[i]``: what its fills paid and received); the cash ``X`` is their sum, the
wealth ``W = sum_i (cash_i + q_i S_i)``.

Rewards (``config.reward``): ``"pnl"`` is ``W' - W``; ``"inventory_penalty"`` is
``W' - W - dt q' Phi q`` each step and ``- q' Psi q`` more at the end, ``q`` the inventory
after the step's fills. The quadratic forms are summed term by term,
``sum_(i <= j) c_ij (q_i q_j)`` with ``c_ii = Phi_ii`` and ``c_ij = 2 Phi_ij``, and the wealth
asset by asset, in the same order on both paths, so that with ``n = 1`` every reward is the
single-asset one to the last bit (``(phi dt) q^2``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from mm_env.dynamics import MarketDynamics
from mm_env.multi_asset.asset_axis import stacked_market
from mm_env.multi_asset.config import MultiAssetConfig
from mm_env.state import NO_PARTS, MarketState, market_state

__all__ = ["MultiAssetDynamics", "MultiAssetState", "MultiAssetStepResult", "correlation_factor"]

_new = tuple.__new__


class MultiAssetState(NamedTuple):
    """State of one market maker (per-asset tuples of floats) or of a batch (arrays)."""

    step: Any
    """Steps taken so far (int, or ``(num_envs,)`` int64), ``t = step * dt``."""
    mid: Any
    """Mid-prices ``S_i`` [price units]: a tuple of ``n`` floats, or ``(num_envs, n)``."""
    cash: Any
    """Each asset's cash account [price units] (what its fills paid and received); the
    cash ``X`` is their sum."""
    inventory: Any
    """Inventories ``q_i`` [shares]."""
    wealth: Any
    """Mark-to-market wealth ``W = X + sum_i q_i S_i`` [price units] (float or
    ``(num_envs,)``)."""


class MultiAssetStepResult(NamedTuple):
    """Everything one transition produced (per-asset fields as in :class:`MultiAssetState`)."""

    state: MultiAssetState
    prev_wealth: Any
    wealth: Any
    reward: Any
    """The step's reward (``config.reward``)."""
    bid: Any
    """Bid prices of the step (the would-be price where a side is not quoted)."""
    ask: Any
    bid_quoted: Any
    ask_quoted: Any
    bid_filled: Any
    ask_filled: Any
    terminated: Any


def correlation_factor(rho: np.ndarray) -> np.ndarray:
    """A matrix ``L`` with ``L L' = rho``: the Cholesky factor, or, where ``rho`` is singular
    (e.g. perfectly correlated assets), ``V sqrt(max(lambda, 0))`` from its eigenvectors."""
    try:
        return np.linalg.cholesky(rho)
    except np.linalg.LinAlgError:
        values, vectors = np.linalg.eigh(rho)
        return np.asarray(vectors * np.sqrt(np.clip(values, 0.0, None)))


class MultiAssetDynamics:
    """The multi-asset market of a :class:`MultiAssetConfig` and its step (module doc)."""

    def __init__(self, config: MultiAssetConfig) -> None:
        self.config = config
        self.n_assets = n = config.n_assets
        self.asset_configs = config.assets()
        self.markets: tuple[MarketDynamics, ...] = tuple(
            MarketDynamics(c) for c in self.asset_configs
        )
        """Each asset's single-asset market (the float path)."""
        self.stacked: MarketDynamics = stacked_market(self.asset_configs)
        """The market with an asset axis (the array path)."""
        if any(m.needs_noise for m in self.markets):  # the config allows no such component
            raise ValueError("the multi-asset market takes no component with draws of its own")
        rho = config.rho_matrix
        self.factor = correlation_factor(rho)
        """``L`` with ``L L' = rho``: the mids' normals are ``z = L eps``."""
        self.independent = bool(np.array_equal(rho, np.eye(n)))
        """Whether ``rho`` is the identity (then ``z = eps``, no product)."""
        self._factor_t = np.ascontiguousarray(self.factor.T)
        self._n_steps = config.n_steps
        self._dt = config.dt
        self._penalised = config.reward == "inventory_penalty"
        dt = config.dt
        phi_dt = config.phi_matrix * dt
        alpha = config.alpha_matrix
        self._phi_dt = phi_dt
        self._alpha = alpha
        self._phi_terms = _terms(phi_dt)
        self._alpha_terms = _terms(alpha)
        self._steps = tuple(m.step for m in self.markets)
        self._initial_mid = tuple(config.S0)
        self._zeros = (0.0,) * n

    # ------------------------------------------------------------ randomness
    def correlate(self, eps: np.ndarray) -> np.ndarray:
        """The mids' correlated normals ``z = L eps`` along the last axis of ``eps``."""
        return eps if self.independent else eps @ self._factor_t

    # ------------------------------------------------------------ state
    def initial_state(self, num_envs: int | None = None) -> MultiAssetState:
        """The state at t = 0: mids ``S0``, no cash, no inventory (tuples of floats, or
        arrays of shape ``(num_envs, n)``)."""
        if num_envs is None:
            z = self._zeros
            return _new(MultiAssetState, (0, self._initial_mid, z, z, 0.0))
        shape = (num_envs, self.n_assets)
        return MultiAssetState(
            step=np.zeros(num_envs, np.int64),
            mid=np.broadcast_to(np.array(self._initial_mid), shape).copy(),
            cash=np.zeros(shape),
            inventory=np.zeros(shape),
            wealth=np.zeros(num_envs),
        )

    # ------------------------------------------------------------ transition
    def step(
        self,
        state: MultiAssetState,
        bid_depth: Any,
        ask_depth: Any,
        z: Any,
        u_bid: Any,
        u_ask: Any,
    ) -> MultiAssetStepResult:
        """Advance ``state`` by one step.

        Args:
            state: current state (per-asset tuples of floats, or ``(num_envs, n)`` arrays).
            bid_depth, ask_depth: requested depths per asset [price units], finite (clipped
                here), sequences of ``n`` floats or ``(num_envs, n)`` arrays.
            z: the mids' correlated standard normals (:meth:`correlate`), same shape.
            u_bid, u_ask: uniform [0, 1) draws deciding the fills, same shape.
        """
        if type(state.wealth) is float:
            return self._step_floats(state, bid_depth, ask_depth, z, u_bid, u_ask)
        return self._step_arrays(state, bid_depth, ask_depth, z, u_bid, u_ask)

    def _step_floats(
        self,
        state: MultiAssetState,
        bid_depth: Sequence[float],
        ask_depth: Sequence[float],
        z: Sequence[float],
        u_bid: Sequence[float],
        u_ask: Sequence[float],
    ) -> MultiAssetStepResult:
        step, mid, cash, q = state.step, state.mid, state.cash, state.inventory
        # each asset's own market on its floats (the per-asset wealth given, 0.0, is only
        # echoed as that step's prev_wealth, which is not used)
        results = [
            asset_step(
                _new(MarketState, (step, mid[i], cash[i], q[i], 0.0, NO_PARTS)),
                bid_depth[i],
                ask_depth[i],
                z[i],
                u_bid[i],
                u_ask[i],
            )
            for i, asset_step in enumerate(self._steps)
        ]
        (
            states,
            _,
            wealths,
            bids,
            asks,
            bid_quoted,
            ask_quoted,
            bid_filled,
            ask_filled,
            terminated,
            _,
        ) = zip(*results, strict=True)
        _, mids, cashes, inventory, _, _ = zip(*states, strict=True)
        wealth = sum(wealths)
        reward = wealth - state.wealth
        if self._penalised:  # the quadratic forms term by term, as _quadratic
            if self._phi_terms:
                running = 0.0
                for i, j, c in self._phi_terms:
                    running += c * (inventory[i] * inventory[j])
                reward = reward - running
            if self._alpha_terms and terminated[0]:
                final = 0.0
                for i, j, c in self._alpha_terms:
                    final += c * (inventory[i] * inventory[j])
                reward = reward - final
        new_state = _new(MultiAssetState, (step + 1, mids, cashes, inventory, wealth))
        return _new(
            MultiAssetStepResult,
            (
                new_state,
                state.wealth,
                wealth,
                reward,
                bids,
                asks,
                bid_quoted,
                ask_quoted,
                bid_filled,
                ask_filled,
                terminated[0],
            ),
        )

    def _step_arrays(
        self,
        state: MultiAssetState,
        bid_depth: np.ndarray,
        ask_depth: np.ndarray,
        z: np.ndarray,
        u_bid: np.ndarray,
        u_ask: np.ndarray,
    ) -> MultiAssetStepResult:
        inner = market_state(
            step=state.step,
            mid=state.mid,
            cash=state.cash,
            inventory=state.inventory,
            wealth=state.wealth,
            parts=NO_PARTS,
        )
        r = self.stacked.step(inner, bid_depth, ask_depth, z, u_bid, u_ask)
        s = r.state
        wealth = asset_sum(r.wealth)
        reward = wealth - state.wealth
        if self._penalised:
            q = s.inventory
            if self._phi_terms:
                reward = reward - _quadratic(self._phi_terms, q)
            if self._alpha_terms and r.terminated.any():
                reward = reward - _quadratic(self._alpha_terms, q) * r.terminated
        new_state = MultiAssetState(
            step=s.step, mid=s.mid, cash=s.cash, inventory=s.inventory, wealth=wealth
        )
        return _new(
            MultiAssetStepResult,
            (
                new_state,
                state.wealth,
                wealth,
                reward,
                r.bid,
                r.ask,
                r.bid_quoted,
                r.ask_quoted,
                r.bid_filled,
                r.ask_filled,
                r.terminated,
            ),
        )

    # ------------------------------------------------------------ read-outs
    def time_remaining(self, step: Any) -> Any:
        """``T - t`` [sessions] after ``step`` steps (exactly 0 at the horizon)."""
        return (self._n_steps - step) * self._dt

    def observation_bounds(self) -> tuple[list[float], list[float]]:
        """Bounds of ``[time_remaining, q_1..q_n, S_1..S_n]``: ``[0, T]``, each asset's
        ``[-inventory_limit, inventory_limit]`` and its mid process's bounds."""
        bounds = [m.observation_bounds() for m in self.markets]
        low = [0.0] + [lo[1] for lo, _ in bounds] + [lo[2] for lo, _ in bounds]
        high = [self.config.T] + [hi[1] for _, hi in bounds] + [hi[2] for _, hi in bounds]
        return low, high

    def fill_probability(self, depth: Any) -> np.ndarray:
        """Probability that each asset's quote at ``depth`` (clipped, shape ``(..., n)``)
        fills within one step."""
        return np.asarray(self.stacked.fill_probability(np.asarray(depth, dtype=np.float64)))


def _terms(matrix: np.ndarray) -> tuple[tuple[int, int, float], ...]:
    """The terms ``(i, j, c)`` of the quadratic form ``q' M q = sum_(i <= j) c q_i q_j`` of
    the symmetric ``matrix``: ``c = M_ii`` on the diagonal, ``2 M_ij`` off it; zero terms
    left out (they add nothing)."""
    n = matrix.shape[0]
    return tuple(
        (i, j, float(matrix[i, j] if i == j else 2.0 * matrix[i, j]))
        for i in range(n)
        for j in range(i, n)
        if matrix[i, j] != 0
    )


def _quadratic(terms: tuple[tuple[int, int, float], ...], q: np.ndarray) -> np.ndarray:
    """``sum_(i <= j) c (q_i q_j)`` over the last axis of ``q``, term by term in the order
    of ``terms`` (that of the float path): column operations, cheaper than a reduction over
    a short trailing axis."""
    i, j, c = terms[0]
    total = c * (q[..., i] * q[..., j])
    for i, j, c in terms[1:]:
        total = total + c * (q[..., i] * q[..., j])
    return total


def asset_sum(x: np.ndarray) -> np.ndarray:
    """``x[..., 0] + x[..., 1] + ...``: the sum over the asset axis, in the float path's
    order, as column additions (a numpy reduction over a short trailing axis is several
    times slower)."""
    total = x[..., 0]
    for i in range(1, x.shape[-1]):
        total = total + x[..., i]
    return total
