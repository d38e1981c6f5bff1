"""Exact expected reward of a policy in the discrete-time multi-asset env, on the joint grid.

The multi-asset version of :mod:`agents.lattice`. When every mid is a martingale up to a
drift that does not depend on the price (arithmetic mids with any ``mu``, or GBM with
``mu = 0``), the expected reward of a step depends on the state only through the step index
and the inventory vector: the mark-to-market term ``q' . (S_(i+1) - S_i)`` has mean
``dt mu . q'`` (abm) or 0 (the correlation never enters an expectation), the fills earn their
depths, and the penalties are functions of ``q'``. For a policy whose depths depend only on
``(time remaining, q)`` the expected sum of the remaining rewards solves, on the joint grid
of :class:`~agents.multi_asset.grid.InventoryGrid`,

    V_n(q) = 0,
    V_i(q) = sum_a Delta_a (p_a^b delta_a^b + p_a^a delta_a^a) + E[U_(i+1)(q') + V_(i+1)(q')],
    U_(i+1)(q') = dt mu_abs . q' - dt q'' Phi q' - q'' Psi q' [i = n - 1]   ("inventory_penalty"),
    U_(i+1)(q') = dt mu_abs . q'                                            ("pnl"),

where each asset's inventory moves independently: ``+Delta_a`` with probability
``p^b (1 - p^a)``, ``-Delta_a`` with ``p^a (1 - p^b)``, unchanged otherwise (the ``2n`` sides
fill independently; a side that would cross its limit is not quoted), ``p`` the env's fill
probability of the clipped depth (:meth:`mm_env.dynamics.MarketDynamics.fill_probability` of
that asset's market, bernoulli or poisson). The expectation over ``q'`` is a product of
three-point averages, one per axis, all with the probabilities of the state the step starts
from, so a step costs ``O(3^n * states)``. The
policy is queried once per step with the float32 observations
``[T - i dt, q_1..q_n, S0_1..S0_n]`` of every grid state, as the env builds them.

This is the quantity a Monte Carlo of the env estimates, without the noise. Limits as for
one asset: policies that read the mids are evaluated at ``S0``; stochastic policies on one
draw per node. The grid needs finite inventory limits that are whole numbers of order sizes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from agents.lattice import LatticeModel, check_acts, continuation_value, lattice_actions
from agents.multi_asset.grid import InventoryGrid, grid_levels
from mm_env.multi_asset import MultiAssetConfig


@dataclass(frozen=True)
class MultiAssetLatticeValue:
    """Expected sum of the remaining rewards on the lattice ``(step, inventory vector)``."""

    config: MultiAssetConfig
    grid: InventoryGrid
    values: np.ndarray
    """``(n_steps + 1, *grid.shape)``: expected rewards of steps ``i..n-1`` from each state."""
    bid_depths: np.ndarray
    """``(n_steps, *grid.shape, n)`` clipped bid depths quoted (NaN where not quoted)."""
    ask_depths: np.ndarray
    """``(n_steps, *grid.shape, n)`` clipped ask depths quoted (NaN where not quoted)."""

    @property
    def initial(self) -> float:
        """The expected episode return from the env's start (step 0, zero inventories)."""
        return float(self.values[(0, *self.grid.centre)])

    def at(self, step: Any, q: Any) -> np.ndarray:
        """``values`` at step indices ``(...)`` and inventories ``(..., n)`` on the grid."""
        j = self.grid.index(q, clip=False)
        return np.asarray(self.values[(np.asarray(step, dtype=np.intp), *j)])


class MultiAssetLatticeModel:
    """The env's per-step transition on the joint lattice (see the module docstring).

    Shared by :func:`evaluate_on_multi_lattice` and
    :mod:`agents.multi_asset.discrete_optimal`. ``markets[a]`` is asset ``a``'s
    single-asset :class:`agents.lattice.LatticeModel` (its depth clipping, quoted sides and
    fill probability).
    """

    def __init__(self, config: MultiAssetConfig) -> None:
        if not isinstance(config, MultiAssetConfig):
            raise ValueError(
                f"config must be a mm_env.multi_asset.MultiAssetConfig, got {type(config).__name__}"
            )
        mu = np.asarray(config.mu, dtype=np.float64)
        if config.mid_model == "gbm" and mu.any():
            raise ValueError(
                f"a lattice evaluation needs arithmetic mids or driftless GBM (mu = 0): the "
                f"expected PnL of holding inventory would depend on the price; got "
                f"mu={config.mu!r} with mid_model='gbm'"
            )
        self.config = config
        n = config.n_assets
        size = np.asarray(config.order_size, dtype=np.float64)
        levels = grid_levels(config.inventory_limit, size, "the multi-asset lattice")
        self.grid = InventoryGrid(levels, size)
        self.markets = [LatticeModel(config.asset(a)) for a in range(n)]
        self.bid_quoted: list[np.ndarray] = []
        self.ask_quoted: list[np.ndarray] = []
        for a, market in enumerate(self.markets):
            shape = [(-1 if b == a else 1) for b in range(n)]
            self.bid_quoted.append(market.bid_quoted.reshape(shape))
            self.ask_quoted.append(market.ask_quoted.reshape(shape))
        penalty = config.reward == "inventory_penalty"
        drift = mu if config.mid_model == "abm" else np.zeros(n)
        dt = config.dt
        running = dt * self.grid.linear_form(drift)
        if penalty:
            running = running - dt * self.grid.quadratic_form(config.phi_matrix)
        self.running = running
        """Expected reward of holding ``q'`` over one step, besides the fills' earnings."""
        self.terminal = (
            -self.grid.quadratic_form(config.alpha_matrix) if penalty else np.zeros(self.grid.shape)
        )
        """Extra reward of ending the episode with ``q'`` (the terminal penalty)."""
        self._mids = np.asarray(config.S0, dtype=np.float64)

    def observations(self, step: int) -> np.ndarray:
        """The float32 observations ``[T - step dt, q, S0]`` of every grid state, in the
        grid's C order: ``(states, 1 + 2n)``."""
        n = self.config.n_assets
        obs = np.empty((self.grid.size, 1 + 2 * n), dtype=np.float32)
        obs[:, 0] = self.markets[0].dynamics.time_remaining(step)
        obs[:, 1 : 1 + n] = self.grid.inventories.reshape(-1, n)
        obs[:, 1 + n :] = self._mids
        return obs

    def continuation(self, step: int, next_values: np.ndarray) -> np.ndarray:
        """``U(q') + V_(step+1)(q')``: what landing on ``q'`` is worth after step ``step``."""
        last = step == self.config.n_steps - 1
        return continuation_value(self.running, self.terminal, next_values, last)

    def clip(self, asset: int, depth: np.ndarray) -> np.ndarray:
        """Depths of ``asset`` as the env clips them."""
        return self.markets[asset].clip(depth)

    def fill_probabilities(
        self, asset: int, bid: np.ndarray, ask: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Per-step fill probabilities of ``asset``'s clipped depths (grid-shaped), zero on
        the sides not quoted."""
        dyn = self.markets[asset].dynamics
        pb = np.where(self.bid_quoted[asset], dyn.fill_probability(bid), 0.0)
        pa = np.where(self.ask_quoted[asset], dyn.fill_probability(ask), 0.0)
        return pb, pa

    def transition_weights(self, asset: int, pb: np.ndarray, pa: np.ndarray) -> np.ndarray:
        """``(3, *grid.shape)``: the probabilities that ``asset``'s inventory moves by
        ``-Delta``, 0, ``+Delta`` from each state (ask alone, neither or both, bid alone)."""
        up_p = pb * (1.0 - pa)
        down_p = pa * (1.0 - pb)
        return np.stack([down_p, 1.0 - up_p - down_p, up_p])

    def shifted(self, values: np.ndarray) -> np.ndarray:
        """``values(q + x)`` for every move ``x in {-1, 0, 1}^n``: shape ``(3,)*n + grid.shape``,
        leading axis ``a`` indexed by ``x_a + 1`` (the edge value repeated beyond the grid:
        it only meets a zero probability there)."""
        out = values
        for a in reversed(range(self.config.n_assets)):
            axis = out.ndim - self.config.n_assets + a
            out = np.stack([_shift(out, axis, -1), out, _shift(out, axis, +1)])
        return out

    @staticmethod
    def contract(shifted: np.ndarray, weights: list[np.ndarray | None]) -> np.ndarray:
        """Average the leading move axes of ``shifted`` with the state's own weights.

        ``weights[a]`` (``(3, *grid.shape)``, :meth:`transition_weights`) averages move axis
        ``a`` out; ``None`` keeps it. All weights are those of the state the step starts
        from: the assets' moves are independent given that state.
        """
        out = shifted
        kept = 0
        for w in weights:
            if w is None:
                kept += 1
                continue
            moved = np.moveaxis(out, kept, 0)
            pad = (1,) * (moved.ndim - w.ndim)
            out = np.einsum("x...,x...->...", w.reshape(w.shape[:1] + pad + w.shape[1:]), moved)
        return out

    def empty_tables(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(values, bid_depths, ask_depths)`` of a backward recursion: ``values`` zeros
        ``(n_steps + 1, *grid.shape)`` (``V_n = 0``), the depth tables uninitialised
        ``(n_steps, *grid.shape, n)`` (filled step by step by :meth:`store_depths`)."""
        n, steps, shape = self.config.n_assets, self.config.n_steps, self.grid.shape
        values = np.zeros((steps + 1, *shape))
        return values, np.empty((steps, *shape, n)), np.empty((steps, *shape, n))

    def store_depths(
        self,
        step: int,
        bids: list[np.ndarray],
        asks: list[np.ndarray],
        bid_depths: np.ndarray,
        ask_depths: np.ndarray,
    ) -> None:
        """Write the grid-shaped depths of each asset at ``step`` into the tables of
        :meth:`empty_tables`, NaN on the sides not quoted."""
        for a in range(self.config.n_assets):
            bid_depths[step, ..., a] = np.where(self.bid_quoted[a], bids[a], np.nan)
            ask_depths[step, ..., a] = np.where(self.ask_quoted[a], asks[a], np.nan)

    def expected(
        self, bids: list[np.ndarray], asks: list[np.ndarray], cont: np.ndarray
    ) -> np.ndarray:
        """Expected value of one step with clipped depths (one grid-shaped array per asset
        and side) and continuation ``cont``."""
        earnings = np.zeros(self.grid.shape)
        weights: list[np.ndarray | None] = []
        for a in range(self.config.n_assets):
            pb, pa = self.fill_probabilities(a, bids[a], asks[a])
            earnings = earnings + self.grid.order_size[a] * (pb * bids[a] + pa * asks[a])
            weights.append(self.transition_weights(a, pb, pa))
        return np.asarray(earnings + self.contract(self.shifted(cont), weights))


def _shift(values: np.ndarray, axis: int, step: int) -> np.ndarray:
    """``values`` at ``j + step e_axis``, the edge value repeated beyond the grid."""
    n = values.shape[axis]
    idx = np.clip(np.arange(n) + step, 0, n - 1)
    return np.take(values, idx, axis=axis)


def evaluate_on_multi_lattice(policy: Any, config: MultiAssetConfig) -> MultiAssetLatticeValue:
    """Exact expected episode reward of ``policy`` (anything with ``act(obs)``) in the
    multi-asset env (module docstring for the recursion and its conditions)."""
    check_acts(policy, kind="a MultiAssetAgent")
    model = MultiAssetLatticeModel(config)
    grid = model.grid
    n, steps = config.n_assets, config.n_steps
    values, bid_depths, ask_depths = model.empty_tables()
    for i in range(steps - 1, -1, -1):
        expected = f"({grid.size}, {2 * n})"
        act = lattice_actions(policy, model.observations(i), 2 * n, expected=expected)
        bids = [model.clip(a, act[:, 2 * a].reshape(grid.shape)) for a in range(n)]
        asks = [model.clip(a, act[:, 2 * a + 1].reshape(grid.shape)) for a in range(n)]
        values[i] = model.expected(bids, asks, model.continuation(i, values[i + 1]))
        model.store_depths(i, bids, asks, bid_depths, ask_depths)
    return MultiAssetLatticeValue(config, grid, values, bid_depths, ask_depths)
