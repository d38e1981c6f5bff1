"""The exactly optimal policy of the discrete-time env, by dynamic programming.

:class:`agents.optimal.OptimalAgent` is optimal for the continuous-time model; the env
decides once per ``dt``, fills each side at most once per step with probability
``min(1, A e^(-k delta) dt)`` (bernoulli) or ``1 - exp(-A e^(-k delta) dt)`` (poisson), and clips
depths into ``[min_depth, max_depth]``. Under the conditions of :mod:`agents.lattice`
(arithmetic mid, or GBM with ``mu = 0``; reward ``pnl`` or ``inventory_penalty``) the env's
optimal value depends on ``(step, q)`` only and solves the Bellman recursion

    V_n(q) = 0,
    V_i(q) = max_(delta_b, delta_a) E[ fills' earnings + U_(i+1)(q') + V_(i+1)(q') ]

(notation of :mod:`agents.lattice`). Writing ``W(q') = U_(i+1)(q') + V_(i+1)(q')`` and
``p_b = p(delta_b)``, ``p_a = p(delta_a)`` for independent fills, the objective is

    W(q) + p_b (Delta delta_b + B_up) + p_a (Delta delta_a + B_down) + p_b p_a C,
    B_up = W(q + Delta) - W(q),  B_down = W(q - Delta) - W(q),  C = -B_up - B_down.

For a fixed ``p_a`` the bid problem is ``max p(delta) (Delta delta + b)`` with
``b = B_up + p_a C``, unimodal in ``delta``: its maximiser is ``max(1/k - b/Delta, ln(A dt)/k)``
for bernoulli fills (the second term where the probability saturates at 1) and the root of
``Delta (e^lambda - 1)/(k lambda) = Delta delta + b`` (``lambda = A e^(-k delta) dt``) for poisson
fills (:func:`agents.side_response.best_depth`), clipped into the depth range. The two sides
are solved alternately (coordinate ascent, each step exact, so the objective never decreases)
until the depths stop moving; the tests check the result against a brute-force grid search.
The cost is one small vector problem per time step: the table is computed once at construction.

The resulting policy is the best possible in the env (for the conditions above): no policy,
learned or closed-form, has a higher expected episode reward. Its gap to the
continuous-time optimum is the time-discretisation error ``O(dt)``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from agents.base import Agent, split_obs
from agents.lattice import LatticeModel, LatticeValue, decision_steps, nearest_steps
from agents.side_response import best_depth
from mm_env.config import MarketConfig

_MAX_SWEEPS = 200
_TOL = 1e-13


def solve_discrete_optimum(config: MarketConfig, q_max: float | None = None) -> LatticeValue:
    """Optimal value and depths of the env on the ``(step, inventory)`` lattice.

    Returns a :class:`agents.lattice.LatticeValue` whose ``values`` are the optimal expected
    remaining rewards and whose ``bid_depths``/``ask_depths`` are the optimal (clipped)
    depths, NaN on a side that is not quoted. Conditions and ``q_max`` as in
    :func:`agents.lattice.evaluate_on_lattice`.
    """
    model = LatticeModel(config, q_max)
    values, bids, asks = model.empty_tables()
    bid = np.full(model.inventories.size, 1.0 / config.k)
    ask = bid.copy()
    for i in range(config.n_steps - 1, -1, -1):
        w = model.continuation(i, values[i + 1])
        b_up = np.append(w[1:], w[-1]) - w
        b_down = np.insert(w[:-1], 0, w[0]) - w
        curv = -b_up - b_down
        for _ in range(_MAX_SWEEPS):
            pb, pa = model.fill_probabilities(bid, ask)
            new_bid = best_depth(model, b_up + pa * curv)
            pb, _ = model.fill_probabilities(new_bid, ask)
            new_ask = best_depth(model, b_down + pb * curv)
            moved = max(np.max(np.abs(new_bid - bid)), np.max(np.abs(new_ask - ask)))
            bid, ask = new_bid, new_ask
            if moved < _TOL:
                break
        values[i] = model.expected(bid, ask, w)
        model.store_depths(i, bid, ask, bids, asks)
    return LatticeValue(config, model.inventories, values, bids, asks)


class DiscreteOptimalAgent(Agent):
    """The best policy of the discrete-time env (Bellman recursion on ``(step, q)``).

    Args:
        config: the market; conditions: arithmetic mid (any ``mu``) or GBM with ``mu = 0``,
            reward ``pnl`` or ``inventory_penalty`` (ValueError otherwise).
        q_max: lattice bound, default the config's inventory limit or
            :func:`agents.optimal.default_q_max` (a truncation when the env has none).

    Observations are mapped to the nearest decision step ``round((T - tau) / dt)`` and the
    nearest inventory of the grid (clipped into it). A side that is not quoted gets
    ``max_depth``.
    """

    def __init__(self, config: MarketConfig, *, q_max: float | None = None) -> None:
        super().__init__(config)
        self.solution = solve_discrete_optimum(config, q_max)
        self.inventories = self.solution.inventories
        self.n_grid = (self.inventories.size - 1) // 2
        md = config.max_depth
        self._bid = np.where(np.isnan(self.solution.bid_depths), md, self.solution.bid_depths)
        self._ask = np.where(np.isnan(self.solution.ask_depths), md, self.solution.ask_depths)

    def _act_batch(self, obs: np.ndarray) -> np.ndarray:
        tau, q, _ = split_obs(obs)
        c = self.config
        i = nearest_steps(c, tau)
        j = np.rint(q / c.order_size).astype(np.intp) + self.n_grid
        j = np.clip(j, 0, 2 * self.n_grid)
        out = np.empty((obs.shape[0], 2))
        out[:, 0] = self._bid[i, j]
        out[:, 1] = self._ask[i, j]
        return out

    def value(self, t: Any, q: Any) -> np.ndarray:
        """Optimal expected sum of the remaining rewards at decision time ``t`` and inventory ``q``.

        ``t`` must be a decision time ``i dt`` (``0 <= i <= n_steps``); arrays broadcast.
        """
        return self.solution.at(decision_steps(self.config, t), q)

    def __repr__(self) -> str:
        return f"DiscreteOptimalAgent(q_max={self.n_grid * self.config.order_size:g})"
