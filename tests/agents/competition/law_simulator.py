"""An independent Monte Carlo simulator of the competition law (two makers), for the tests.

Written from the law's text, not from agents.competition: prices snapped on the tick grid
(bid down, ask up, with the env's 1e-9 tolerance), the best quoting maker wins each side, ties
go to the floor(U_tie m)-th tied maker, one trade per side iff U_s < p(best depth), then the
mid moves (arithmetic) and each maker gets the inventory-penalty reward.
"""

from __future__ import annotations

import numpy as np

from mm_env.config import MarketConfig


def fill_probability(config: MarketConfig, depth: np.ndarray) -> np.ndarray:
    lam = config.A * np.exp(-config.k * depth) * config.dt
    if config.fill_model == "bernoulli":
        return np.minimum(1.0, lam)
    return 1.0 - np.exp(-lam)


def simulate(
    config: MarketConfig,
    limits: tuple[float, float],
    tables: list[np.ndarray],
    n_episodes: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """Episode returns ``(n_episodes, 2)`` of both makers playing their joint tables."""
    c = config
    size, dt, h = c.order_size, c.dt, c.tick_size
    half = [int(np.floor(lim / size + 1e-9)) for lim in limits]
    m = n_episodes
    mid = np.full(m, c.S0)
    cash = np.zeros((m, 2))
    q = np.zeros((m, 2))
    total = np.zeros((m, 2))
    rows = np.arange(m)
    for i in range(c.n_steps):
        a = np.rint(q[:, 0] / size).astype(int) + half[0]
        b = np.rint(q[:, 1] / size).astype(int) + half[1]
        eff = np.empty((m, 2, 2))
        for j in (0, 1):
            d = np.clip(tables[j][i, a, b], c.min_depth, c.max_depth)
            if h > 0:
                bid = h * np.floor((mid - d[:, 0]) / h + 1e-9)
                ask = h * np.ceil((mid + d[:, 1]) / h - 1e-9)
                d = np.stack([mid - bid, ask - mid], axis=1)
            eff[:, j] = d
        wealth_before = cash + q * mid[:, None]
        u_side = rng.random((m, 2))
        u_tie = rng.random((m, 2))
        lim = np.array(limits)
        new_q = q.copy()
        for s, sign in ((0, 1.0), (1, -1.0)):
            quoted = np.abs(q + sign * size) <= lim + 1e-12
            depth = np.where(quoted, eff[:, :, s], np.inf)
            best = depth.min(axis=1)
            tied = quoted & (depth == best[:, None])
            n_tied = tied.sum(axis=1)
            pick = np.floor(u_tie[:, s] * np.maximum(n_tied, 1)).astype(int)
            rank = np.cumsum(tied, axis=1) - 1
            winner = tied & (rank == pick[:, None])
            p = np.where(n_tied > 0, fill_probability(c, np.where(n_tied > 0, best, 0.0)), 0.0)
            trade = (u_side[:, s] < p)[:, None] & winner
            new_q += sign * size * trade
            cash -= sign * size * trade * (mid[:, None] - sign * eff[:, :, s])
        q = new_q
        mid = mid + c.mu * dt + c.sigma * np.sqrt(dt) * rng.standard_normal(m)
        reward = cash + q * mid[:, None] - wealth_before - c.phi * q * q * dt
        if i == c.n_steps - 1:
            reward -= c.alpha * q * q
        total += reward
    del rows
    return total
