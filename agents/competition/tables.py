"""Markov policy tables of the two-maker game, and policies that play them.

A policy of maker ``j`` on the lattice is a table of requested depths of shape
``(n_steps, n_0, n_1, 2)``: ``table[i, a, b] = [bid_depth, ask_depth]`` at step ``i`` with
inventories ``(q_0, q_1) = (inventories[0][a], inventories[1][b])`` (maker order, not "own,
other"). A single-asset policy (``act(obs)`` on ``[time_remaining, own q, mid]``) gives a table
constant in the other maker's inventory (:func:`table_from_agent`): it is queried with the
float32 observations ``[T - i dt, q_j, S0]`` of :meth:`agents.lattice.LatticeModel.observations`,
i.e. with the mid frozen at ``S0`` (exact for policies that ignore the mid, such as the optima
and fixed spreads; under the lattice conditions the mid carries no information; AS under GBM
reads ``sigma S`` and is evaluated at ``S0``).

:class:`TablePolicy` plays a table in the competition env through the ``act(obs)`` protocol:
it reads the step from the time remaining, its own inventory from ``obs[:, 1]`` and the other
maker's from ``obs[:, 3]`` (the first ``full_information`` column of
:mod:`mm_env.competition`); a table constant in the other inventory needs no such column.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from agents.base import Agent, split_obs
from agents.competition.best_response import check_maker
from agents.competition.game import CompetitionLattice
from agents.discrete_optimal import DiscreteOptimalAgent
from agents.lattice import check_acts, lattice_actions

#: Observation column of the other maker's inventory with ``full_information=True`` (N = 2).
OTHER_INVENTORY_COLUMN = 3


def table_from_agent(game: CompetitionLattice, agent: Any, maker: int) -> np.ndarray:
    """The ``(n_steps, n_0, n_1, 2)`` table of a single-asset policy played by ``maker``."""
    maker = check_maker(maker)
    check_acts(agent, "agent")
    model = game.models[maker]
    out = np.empty((game.n_steps, *game.shape, 2))
    for i in range(game.n_steps):
        act = lattice_actions(agent, model.observations(i), 2, "agent")
        out[i] = act[:, None, :] if maker == 0 else act[None, :, :]
    return out


def table_from_discrete_optimum(game: CompetitionLattice, maker: int) -> np.ndarray:
    """The single-asset exact optimum (:class:`DiscreteOptimalAgent` on the maker's own
    limit) as a table of ``maker``: the monopolist's quotes, blind to the competitor."""
    maker = check_maker(maker)
    agent = DiscreteOptimalAgent(game.models[maker].config)
    return table_from_agent(game, agent, maker)


class TablePolicy(Agent):
    """Plays maker ``maker``'s table of ``game`` in the competition env (``act(obs)``).

    Args:
        game: the lattice game the table belongs to.
        table: ``(n_steps, n_0, n_1, 2)`` requested depths.
        maker: 0 or 1, the maker this policy plays.
        needs_other: read the other maker's inventory from ``obs[:, 3]`` (``full_information``
            observations); default: only when the table depends on it.

    Observations map to the nearest step ``round((T - tau) / dt)`` and the nearest grid
    inventories (clipped into the grid).
    """

    def __init__(
        self, game: CompetitionLattice, table: Any, maker: int, *, needs_other: bool | None = None
    ) -> None:
        super().__init__(game.config)
        self.game = game
        self.maker = check_maker(maker)
        self.table = game.check_table("table", table)
        axis = 2 if self.maker == 0 else 1
        depends = not np.array_equal(
            self.table,
            np.repeat(
                np.take(self.table, [game.origin[1 - self.maker]], axis=axis),
                game.shape[1 - self.maker],
                axis=axis,
            ),
        )
        self.needs_other = depends if needs_other is None else bool(needs_other)

    def _index(self, q: np.ndarray, who: int) -> np.ndarray:
        j = np.rint(q / self.config.order_size).astype(np.intp) + self.game.origin[who]
        return np.clip(j, 0, self.game.shape[who] - 1)

    def _act_batch(self, obs: np.ndarray) -> np.ndarray:
        tau, q_own, _ = split_obs(obs)
        c = self.config
        i = np.clip(np.rint((c.T - tau) / c.dt).astype(np.intp), 0, c.n_steps - 1)
        if self.needs_other:
            if obs.shape[1] <= OTHER_INVENTORY_COLUMN:
                raise ValueError(
                    f"this table depends on the other maker's inventory: obs needs column "
                    f"{OTHER_INVENTORY_COLUMN} (full_information=True), got shape {obs.shape}"
                )
            q_other = obs[:, OTHER_INVENTORY_COLUMN]
        else:
            q_other = np.zeros_like(q_own)
        own = self._index(q_own, self.maker)
        other = self._index(q_other, 1 - self.maker)
        a, b = (own, other) if self.maker == 0 else (other, own)
        return np.asarray(self.table[i, a, b])

    def __repr__(self) -> str:
        return f"TablePolicy(maker={self.maker}, needs_other={self.needs_other})"
