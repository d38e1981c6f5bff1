"""Exact expected rewards of a profile of two policy tables, by backward induction.

For fixed tables (maker ``j`` quotes ``tables[j][i, a, b]`` at step ``i`` with inventories
``(q_0, q_1) = (inventories[0][a], inventories[1][b])``) the expected sum of maker ``j``'s
remaining rewards solves, on the lattice of :mod:`agents.competition.game`,

    V_j,n = 0,
    V_j,i(q) = E[ Delta (d_j,b 1[j trades the bid] + d_j,a 1[j trades the ask])
                  + U_j(q_j') + V_j,(i+1)(q') ],

with the exact joint law of a step (:mod:`agents.competition.stage`): per side the best
quoting maker trades with probability ``p(delta*)``, ties split 1/2-1/2, sides independent,
a side that would cross a maker's limit not quoted by it. No Monte Carlo.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from agents.competition.game import CompetitionLattice
from agents.competition.stage import Side, side_law, step_value


@dataclass(frozen=True)
class ProfileValue:
    """Expected remaining rewards of both makers under a profile, on ``(step, q_0, q_1)``."""

    game: CompetitionLattice
    values: np.ndarray
    """``(2, n_steps + 1, n_0, n_1)``: ``values[j, i, a, b]`` maker ``j``'s expected sum of the
    rewards of steps ``i..n-1`` from ``(q_0, q_1)`` at grid indices ``(a, b)``."""
    depths: np.ndarray
    """``(2, n_steps, n_0, n_1, 2)`` effective (clipped, snapped) depths, NaN where the maker
    does not quote the side."""

    @property
    def initial(self) -> np.ndarray:
        """Both makers' expected episode rewards from step 0 and ``q = (0, 0)``, shape ``(2,)``."""
        a, b = self.game.origin
        return np.asarray(self.values[:, 0, a, b])


def effective_tables(game: CompetitionLattice, tables: Sequence[object]) -> np.ndarray:
    """``(2, n_steps, n_0, n_1, 2)`` effective depths of two policy tables (checked)."""
    if len(tables) != 2:
        raise ValueError(f"tables must hold one table per maker (2), got {len(tables)}")
    return np.stack(
        [game.process(game.check_table(f"tables[{j}]", t)) for j, t in enumerate(tables)]
    )


def evaluate_profile(game: CompetitionLattice, tables: Sequence[object]) -> ProfileValue:
    """Exact expected rewards of both makers when maker ``j`` plays ``tables[j]``.

    Tables have shape ``(n_steps, n_0, n_1, 2)`` (requested depths ``[bid, ask]``; the game
    clips and snaps them as the env does).
    """
    eff = effective_tables(game, tables)
    n = game.n_steps
    values = np.zeros((2, n + 1, *game.shape))
    qb, qa = game.bid_quoted, game.ask_quoted
    for i in range(n - 1, -1, -1):
        d = eff[:, i]
        b0, b1 = side_law(game, d[0, ..., 0], d[1, ..., 0], qb[0], qb[1])
        a0, a1 = side_law(game, d[0, ..., 1], d[1, ..., 1], qa[0], qa[1])
        sides = (
            (Side(d[0, ..., 0], b0, b1), Side(d[0, ..., 1], a0, a1)),
            (Side(d[1, ..., 0], b1, b0), Side(d[1, ..., 1], a1, a0)),
        )
        for j in (0, 1):
            w = game.shifted(j, game.continuation(j, i, values[j, i + 1]))
            values[j, i] = step_value(game, w, *sides[j])
    depths = eff.copy()
    for j in (0, 1):
        depths[j, ..., 0] = np.where(qb[j], depths[j, ..., 0], np.nan)
        depths[j, ..., 1] = np.where(qa[j], depths[j, ..., 1], np.nan)
    return ProfileValue(game, values, depths)


def occupancy(game: CompetitionLattice, tables: Sequence[object]) -> np.ndarray:
    """``(n_steps + 1, n_0, n_1)``: the probability of each joint inventory at each step
    under the profile, from ``q = (0, 0)`` at step 0 (exact forward recursion)."""
    eff = effective_tables(game, tables)
    n = game.n_steps
    qb, qa = game.bid_quoted, game.ask_quoted
    occ = np.zeros((n + 1, *game.shape))
    occ[0][game.origin] = 1.0
    n0, n1 = game.shape
    for i in range(n):
        d = eff[:, i]
        b0, b1 = side_law(game, d[0, ..., 0], d[1, ..., 0], qb[0], qb[1])
        a0, a1 = side_law(game, d[0, ..., 1], d[1, ..., 1], qa[0], qa[1])
        nb, na = 1.0 - b0 - b1, 1.0 - a0 - a1
        nxt = np.zeros((n0 + 2, n1 + 2))
        for pb, (x0, x1) in ((b0, (1, 0)), (b1, (0, 1)), (nb, (0, 0))):
            for pa, (y0, y1) in ((a0, (-1, 0)), (a1, (0, -1)), (na, (0, 0))):
                m0, m1 = x0 + y0, x1 + y1
                nxt[1 + m0 : 1 + m0 + n0, 1 + m1 : 1 + m1 + n1] += pb * pa * occ[i]
        occ[i + 1] = nxt[1:-1, 1:-1]
    return occ
