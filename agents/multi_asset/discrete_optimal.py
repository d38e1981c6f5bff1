"""The exactly optimal policy of the discrete-time multi-asset env, by dynamic programming.

The multi-asset version of :mod:`agents.discrete_optimal`. Under the conditions of
:mod:`agents.multi_asset.lattice` the env's optimal value depends on ``(step, q)`` only and
solves ``V_n = 0``,

    V_i(q) = max over the 2n depths of  E[ fills' earnings + W(q') ],   W = U_(i+1) + V_(i+1),

each asset's inventory moving independently by ``+Delta_a`` (bid filled alone), ``-Delta_a``
(ask alone) or 0. For asset ``a``, with the other assets' depths fixed, the objective is the
single-asset one of :mod:`agents.discrete_optimal` on the *averaged* continuation
``W_a(x) = E_others[W(q + x e_a + moves of the others)]``:

    W_a(0) + p_b (Delta_a delta_b + B_up) + p_a (Delta_a delta_a + B_down) + p_b p_a C,
    B_up = W_a(+1) - W_a(0),  B_down = W_a(-1) - W_a(0),  C = -B_up - B_down,

so each side's best depth for the others fixed is the exact one-dimensional maximiser of
the single-asset solver (:func:`agents.side_response.best_depth`: closed form for bernoulli
fills, safeguarded Newton for poisson, warm-started from the previous sweep), clipped into the
asset's depth range. The ``2n`` sides are solved in turn
(coordinate ascent: every update is exact, so the objective never decreases) until no depth
moves by more than 1e-13; the tests check the result against a brute-force search over the
four depths of two assets. One asset is :class:`~agents.discrete_optimal.DiscreteOptimalAgent`.
Cost: about 1 s (bernoulli fills) and 2 s (poisson) for two assets with ``|q_i| <= 20``
and 200 steps; ``O(3^n)`` per state and sweep.

The resulting policy is the best possible in the env: no policy has a higher expected
episode reward (as evaluated by :func:`~agents.multi_asset.lattice.evaluate_on_multi_lattice`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from agents.lattice import decision_steps, nearest_steps
from agents.multi_asset.base import MultiAssetAgent, interleave, split_obs
from agents.multi_asset.lattice import MultiAssetLatticeModel, MultiAssetLatticeValue
from agents.side_response import best_depth, fill_derivatives
from mm_env.multi_asset import MultiAssetConfig

_MAX_SWEEPS = 200
_COARSE_SWEEPS = 30
_COARSE_TOL = 1e-7
_MAX_NEWTON = 10
_TOL = 1e-13


class _Step:
    """One time step's maximisation: depths per asset and side, coordinate sweeps, Newton."""

    def __init__(
        self,
        model: MultiAssetLatticeModel,
        cont: np.ndarray,
        bids: list[np.ndarray],
        asks: list[np.ndarray],
    ) -> None:
        self.model = model
        self.n = model.config.n_assets
        self.shifted = model.shifted(cont)
        self.bids, self.asks = bids, asks
        self.weights = [self._weights(a) for a in range(self.n)]

    def _weights(self, a: int) -> np.ndarray:
        pb, pa = self.model.fill_probabilities(a, self.bids[a], self.asks[a])
        return self.model.transition_weights(a, pb, pa)

    def marginal(self, keep: tuple[int, ...]) -> np.ndarray:
        """The continuation averaged over the moves of every asset not in ``keep``."""
        ws: list[np.ndarray | None] = [
            None if a in keep else self.weights[a] for a in range(self.n)
        ]
        return self.model.contract(self.shifted, ws)

    def objective(self, bids: list[np.ndarray], asks: list[np.ndarray]) -> np.ndarray:
        return self.model.expected(bids, asks, self.shifted[(1,) * self.n])

    # ------------------------------------------------------------ coordinate ascent
    def sweeps(self, tol: float, max_sweeps: int) -> float:
        """Sweeps over the ``2n`` sides (each side's exact best depth) until no depth moves
        by ``tol``; returns the last sweep's largest move."""
        model = self.model
        moved = np.inf
        for _ in range(max_sweeps):
            moved = 0.0
            for a in range(self.n):
                market = model.markets[a]
                wa = self.marginal((a,))
                b_up = wa[2] - wa[1]
                b_down = wa[0] - wa[1]
                curv = -b_up - b_down
                _, pa = model.fill_probabilities(a, self.bids[a], self.asks[a])
                new_bid = best_depth(market, b_up + pa * curv, self.bids[a])
                pb, _ = model.fill_probabilities(a, new_bid, self.asks[a])
                new_ask = best_depth(market, b_down + pb * curv, self.asks[a])
                moved = max(
                    moved,
                    float(np.max(np.abs(new_bid - self.bids[a]))),
                    float(np.max(np.abs(new_ask - self.asks[a]))),
                )
                self.bids[a], self.asks[a] = new_bid, new_ask
                self.weights[a] = self._weights(a)
            if moved < tol:
                break
        return moved

    # ------------------------------------------------------------------ Newton
    def newton(self) -> None:
        """Joint Newton steps on the sides strictly inside their range, state by state,
        each kept only where the objective does not decrease (coordinate ascent converges
        slowly when correlated penalties make the problem ill-conditioned)."""
        for _ in range(_MAX_NEWTON):
            step = self._newton_step()
            if step < _TOL:
                break

    def _newton_step(self) -> float:
        model, n = self.model, self.n
        shape = model.grid.shape
        depth = np.stack([d for a in range(n) for d in (self.bids[a], self.asks[a])])
        p = np.zeros_like(depth)
        dp, d2p = np.zeros_like(depth), np.zeros_like(depth)
        free = np.zeros(depth.shape, dtype=bool)
        for s in range(2 * n):
            a, side = divmod(s, 2)
            market = model.markets[a]
            quoted = np.broadcast_to((model.ask_quoted if side else model.bid_quoted)[a], shape)
            ps, dps, d2ps = fill_derivatives(market, depth[s])
            p[s], dp[s], d2p[s] = (
                np.where(quoted, ps, 0.0),
                np.where(quoted, dps, 0.0),
                np.where(quoted, d2ps, 0.0),
            )
            c = market.config
            free[s] = quoted & (depth[s] > c.min_depth) & (depth[s] < c.max_depth) & (dp[s] != 0)
        # d(weights)/dp per side: bid (-pa, 2pa - 1, 1 - pa), ask (1 - pb, 2pb - 1, -pb)
        dw = np.empty((2 * n, 3, *shape))
        for a in range(n):
            pb, pa = p[2 * a], p[2 * a + 1]
            dw[2 * a] = np.stack([-pa, 2 * pa - 1, 1 - pa])
            dw[2 * a + 1] = np.stack([1 - pb, 2 * pb - 1, -pb])
        grad_e = np.empty_like(depth)
        hess = np.zeros((*shape, 2 * n, 2 * n))
        for a in range(n):
            wa = self.marginal((a,))
            for side in (0, 1):
                grad_e[2 * a + side] = np.sum(dw[2 * a + side] * wa, axis=0)
            curv = 2 * wa[1] - wa[0] - wa[2]
            hess[..., 2 * a, 2 * a + 1] = hess[..., 2 * a + 1, 2 * a] = (
                curv * dp[2 * a] * dp[2 * a + 1]
            )
            for c_ in range(a + 1, n):
                wac = self.marginal((a, c_))
                for s in (2 * a, 2 * a + 1):
                    for t in (2 * c_, 2 * c_ + 1):
                        e_st = np.einsum("x...,y...,xy...->...", dw[s], dw[t], wac)
                        hess[..., s, t] = hess[..., t, s] = e_st * dp[s] * dp[t]
        size = np.repeat(model.grid.order_size, 2).reshape((2 * n,) + (1,) * len(shape))
        grad = size * (p + dp * depth) + grad_e * dp
        diag = size * (2 * dp + d2p * depth) + grad_e * d2p
        for s in range(2 * n):
            hess[..., s, s] = diag[s]
        fixed = ~np.moveaxis(free, 0, -1)
        grad_v = np.where(fixed, 0.0, np.moveaxis(grad, 0, -1))
        hess = np.where(fixed[..., :, None] | fixed[..., None, :], 0.0, hess)
        eye = np.eye(2 * n, dtype=bool)
        hess = np.where(eye & fixed[..., :, None], -1.0, hess)
        concave = np.linalg.eigvalsh(hess)[..., -1] < 0
        safe = np.where(concave[..., None, None], hess, -np.eye(2 * n))
        delta = -np.linalg.solve(safe, grad_v[..., None])[..., 0]
        delta = np.where(concave[..., None], delta, 0.0)
        new = depth + np.moveaxis(delta, -1, 0)
        ok = np.ones(shape, dtype=bool)
        for s in range(2 * n):
            c = model.markets[s // 2].config
            inside = (new[s] > c.min_depth) & (new[s] < c.max_depth)
            ok &= inside | ~free[s]
        new = np.where(ok, new, depth)
        bids_new = [new[2 * a] for a in range(n)]
        asks_new = [new[2 * a + 1] for a in range(n)]
        gain = self.objective(bids_new, asks_new) - self.objective(self.bids, self.asks)
        accept = ok & (gain >= 0)
        moved = float(np.max(np.abs(np.where(accept, new - depth, 0.0)), initial=0.0))
        for a in range(n):
            self.bids[a] = np.where(accept, bids_new[a], self.bids[a])
            self.asks[a] = np.where(accept, asks_new[a], self.asks[a])
            self.weights[a] = self._weights(a)
        return moved


def solve_multi_asset_discrete_optimum(config: MultiAssetConfig) -> MultiAssetLatticeValue:
    """Optimal values and (clipped) depths of the env on the joint lattice.

    Returns a :class:`~agents.multi_asset.lattice.MultiAssetLatticeValue` whose ``values``
    are the optimal expected remaining rewards; depths NaN on a side that is not quoted.
    """
    model = MultiAssetLatticeModel(config)
    grid = model.grid
    values, bid_depths, ask_depths = model.empty_tables()
    bids = [np.full(grid.shape, 1.0 / k) for k in config.k]
    asks = [b.copy() for b in bids]
    for i in range(config.n_steps - 1, -1, -1):
        cont = model.continuation(i, values[i + 1])
        step = _Step(model, cont, bids, asks)
        if step.sweeps(_COARSE_TOL, _COARSE_SWEEPS) >= _COARSE_TOL:
            step.newton()
        step.sweeps(_TOL, _MAX_SWEEPS)
        bids, asks = step.bids, step.asks
        values[i] = model.expected(bids, asks, cont)
        model.store_depths(i, bids, asks, bid_depths, ask_depths)
    return MultiAssetLatticeValue(config, grid, values, bid_depths, ask_depths)


class MultiAssetDiscreteOptimalAgent(MultiAssetAgent):
    """The best policy of the discrete-time multi-asset env (Bellman recursion on the joint
    grid, module docstring).

    Args:
        config: the market; conditions: arithmetic mids (any ``mu``) or GBM with ``mu = 0``,
            finite inventory limits that are whole numbers of order sizes (ValueError
            otherwise).

    Observations are mapped to the nearest decision step ``round((T - tau) / dt)`` and the
    nearest inventory of the grid (clipped into it). A side that is not quoted gets its
    asset's ``max_depth``.
    """

    def __init__(self, config: MultiAssetConfig) -> None:
        super().__init__(config)
        self.solution = solve_multi_asset_discrete_optimum(config)
        self.grid = self.solution.grid
        md = np.asarray(config.max_depth, dtype=np.float64)
        sol = self.solution
        self._bid = np.where(np.isnan(sol.bid_depths), md, sol.bid_depths)
        self._ask = np.where(np.isnan(sol.ask_depths), md, sol.ask_depths)

    def _act_batch(self, obs: np.ndarray) -> np.ndarray:
        tau, q, _ = split_obs(obs, self.n_assets)
        i = nearest_steps(self.config, tau)
        j = self.grid.index(q)
        return interleave(self._bid[(i, *j)], self._ask[(i, *j)])

    def value(self, t: Any, q: Any) -> np.ndarray:
        """Optimal expected sum of the remaining rewards at decision time ``t`` (``i dt``)
        and inventories ``q`` ``(..., n)`` on the grid; ``t`` broadcasts against ``q[..., 0]``."""
        return self.solution.at(decision_steps(self.config, t), q)

    def __repr__(self) -> str:
        return f"MultiAssetDiscreteOptimalAgent(n_assets={self.n_assets})"
