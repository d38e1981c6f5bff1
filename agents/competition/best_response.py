"""Exact best response of one maker to a fixed policy table of the other.

Backward induction over ``(step, q_0, q_1)``: at each step and joint inventory the maker
maximises its exact expected step value (its fills' earnings plus its continuation ``W``)
over its own ``(bid, ask)`` against the opponent's quotes of that state
(:func:`agents.competition.stage.stage_best_response`: win / tie / lose per side, exact on a
tick grid, the undercut rule without a tick). By the one-step deviation principle of finite
Markov decision problems the result is a best response among *all* policies (the opponent's
table makes the maker's problem an MDP on the lattice), so its value bounds every other
table's value from above.

``opponent=None`` means an absent opponent (it never quotes): the single-maker market, whose
best response is the monopolist optimum on the game's depth grid; without a tick it equals
:class:`agents.discrete_optimal.DiscreteOptimalAgent`'s value.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from agents.competition.game import CompetitionLattice
from agents.competition.stage import DEFAULT_UNDERCUT, stage_best_response


@dataclass(frozen=True)
class BestResponse:
    """A best response of ``maker``: its table (effective depths) and its values."""

    game: CompetitionLattice
    maker: int
    table: np.ndarray
    """``(n_steps, n_0, n_1, 2)`` effective depths (the largest depth on a side the maker
    cannot quote)."""
    values: np.ndarray
    """``(n_steps + 1, n_0, n_1)`` the maker's optimal expected remaining rewards."""

    @property
    def initial(self) -> float:
        """The best-response value from step 0 and ``q = (0, 0)``."""
        a, b = self.game.origin
        return float(self.values[0, a, b])


def check_maker(maker: Any) -> int:
    """``maker`` as 0 or 1, or ValueError."""
    if isinstance(maker, bool) or not isinstance(maker, (int, np.integer)) or maker not in (0, 1):
        raise ValueError(f"maker must be 0 or 1, got {maker!r}")
    return int(maker)


def best_response(
    game: CompetitionLattice,
    opponent: Any,
    maker: int,
    *,
    undercut: float = DEFAULT_UNDERCUT,
) -> BestResponse:
    """Best response of ``maker`` (0 or 1) to the other maker's table ``opponent``.

    ``opponent``: a table ``(n_steps, n_0, n_1, 2)`` of requested depths, or None (absent
    opponent). ``undercut`` (> 0, tick-free markets only): how far below the opponent's depth
    a winning quote is placed when the unconstrained optimum lies beyond it.
    """
    maker = check_maker(maker)
    if not (
        isinstance(undercut, (int, float)) and not isinstance(undercut, bool) and 0 < undercut < 1
    ):
        raise ValueError(f"undercut must be a number in (0, 1) price units, got {undercut!r}")
    other = 1 - maker
    n = game.n_steps
    if opponent is None:
        opp = np.full((n, *game.shape, 2), game.max_effective)
        opp_quoted = (np.zeros(game.shape, bool), np.zeros(game.shape, bool))
    else:
        opp = game.process(game.check_table("opponent", opponent))
        opp_quoted = (game.bid_quoted[other], game.ask_quoted[other])
    own_quoted = (game.bid_quoted[maker], game.ask_quoted[maker])
    values = np.zeros((n + 1, *game.shape))
    table = np.empty((n, *game.shape, 2))
    for i in range(n - 1, -1, -1):
        w = game.shifted(maker, game.continuation(maker, i, values[i + 1]))
        bid, ask, val = stage_best_response(
            game, maker, w, opp[i, ..., 0], opp[i, ..., 1], opp_quoted, own_quoted, undercut
        )
        values[i] = val
        table[i, ..., 0] = bid
        table[i, ..., 1] = ask
    return BestResponse(game, maker, table, values)
