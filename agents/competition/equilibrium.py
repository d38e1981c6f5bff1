"""Exploitability of a two-maker profile and a Markov perfect equilibrium by best responses.

**Exploitability** of a profile ``(pi_0, pi_1)`` at the starting state (step 0, ``q = (0, 0)``):

    sum_j ( max_sigma V_j(sigma, pi_(-j)) - V_j(pi_j, pi_(-j)) )  >= 0,

each maximum an exact best response (:func:`agents.competition.best_response.best_response`)
and each value an exact profile evaluation; it is zero exactly at a Nash equilibrium.

**Equilibrium** (:func:`solve_equilibrium`): backward induction over the steps; at each step
the stage game of every joint inventory, whose payoffs are the makers' step values with their
equilibrium continuations, is solved by iterated best response (maker 0 replies, then maker
1, Gauss-Seidel; each reply exact, :func:`agents.competition.stage.stage_best_response`),
started from the previous step's equilibrium quotes (the monopolist's at the last step). A
state has settled when both replies reproduce the current quotes: a pure Nash equilibrium of
its stage game. States that cycle are retried (maker 1 first, and from the monopolists'
quotes in both orders); where no run settles, the pairing of the runs' last iterates with the
smallest stage gap (the makers' total gain from a one-step deviation) is kept, and counted
(:attr:`Equilibrium.settled`). If every state settles, the profile is a Markov perfect
(subgame perfect) equilibrium of the lattice game, by the one-step deviation principle, and
its exploitability is zero up to rounding; :attr:`Equilibrium.exploitability` is computed
independently by full best responses, so it also measures what is left where some stage did
not settle (pure best-reply iteration cycles where the stage game has only mixed
equilibria, which pure tables cannot represent). On a tick grid every reply moves by whole
ticks, so the iteration is finite per stage. Without a tick, Bertrand undercutting by
``undercut`` would take about ``spread / undercut`` rounds: :func:`solve_equilibrium` needs
``tick_size > 0``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from agents.competition.best_response import BestResponse, best_response
from agents.competition.evaluate import ProfileValue, evaluate_profile, occupancy
from agents.competition.game import CompetitionLattice
from agents.competition.stage import Side, side_law, stage_best_response, step_value

_DEFAULT_MAX_ROUNDS = 500
#: A stage game has settled when its quotes leave both makers less than this to gain.
SETTLED_GAP = 1e-12


@dataclass(frozen=True)
class Exploitability:
    """Exploitability of a profile: the best-response gains of both makers at the start."""

    profile: ProfileValue
    best_responses: tuple[BestResponse, BestResponse]

    @property
    def gains(self) -> np.ndarray:
        """``(2,)``: each maker's best-response value minus its profile value (``>= 0``)."""
        br = np.array([b.initial for b in self.best_responses])
        return br - self.profile.initial

    @property
    def value(self) -> float:
        """The sum of the gains."""
        return float(np.sum(self.gains))


def exploitability(game: CompetitionLattice, tables: Sequence[object]) -> Exploitability:
    """Exact exploitability of the profile ``tables`` (one table per maker)."""
    profile = evaluate_profile(game, tables)
    brs = (best_response(game, tables[1], 0), best_response(game, tables[0], 1))
    return Exploitability(profile, brs)


@dataclass(frozen=True)
class Equilibrium:
    """Result of :func:`solve_equilibrium`."""

    game: CompetitionLattice
    tables: tuple[np.ndarray, np.ndarray]
    """Both makers' equilibrium tables ``(n_steps, n_0, n_1, 2)`` (effective depths)."""
    profile: ProfileValue
    """The exact values of the profile (:func:`agents.competition.evaluate.evaluate_profile`)."""
    rounds: np.ndarray
    """``(n_steps,)`` best-reply rounds the slowest state of each step needed."""
    settled: np.ndarray
    """``(n_steps, n_0, n_1)``: whether the best-reply iteration of each stage game settled
    on a pure equilibrium."""
    stage_gaps: np.ndarray
    """``(n_steps,)`` largest stage-game gap (:func:`stage_gap`) of the kept quotes per step:
    0 where every state settled."""
    check: Exploitability
    """Full best responses to the equilibrium tables (independent check)."""

    @property
    def unconverged(self) -> np.ndarray:
        """``(n_steps,)`` the number of joint inventories per step that did not settle."""
        return np.asarray((~self.settled).sum(axis=(1, 2)))

    @property
    def converged(self) -> bool:
        """Whether every stage game reached a pure equilibrium."""
        return bool(self.settled.all())

    @property
    def unsettled_visits(self) -> float:
        """Expected number of steps of an episode (from ``q = (0, 0)``, under the profile)
        spent in a state whose stage game did not settle: 0 means that the unsettled states
        are never reached, and the profile is a Nash equilibrium from the start."""
        occ = occupancy(self.game, self.tables)[:-1]
        return float(np.sum(occ * ~self.settled))

    @property
    def exploitability(self) -> float:
        """Exact exploitability of the equilibrium profile at the start."""
        return self.check.value

    @property
    def iterations(self) -> int:
        """Largest number of best-reply rounds any stage needed."""
        return int(self.rounds.max())


def solve_equilibrium(
    game: CompetitionLattice, *, max_rounds: int = _DEFAULT_MAX_ROUNDS
) -> Equilibrium:
    """A Markov perfect equilibrium of the two-maker game (module docstring); tick needed."""
    if game.tick <= 0:
        raise ValueError(
            f"solve_equilibrium needs a tick (config.tick_size > 0, got {game.tick!r}): "
            "without one, best replies undercut by an epsilon and never settle"
        )
    if isinstance(max_rounds, bool) or not isinstance(max_rounds, int) or max_rounds < 1:
        raise ValueError(f"max_rounds must be an int >= 1, got {max_rounds!r}")
    n = game.n_steps
    qb, qa = game.bid_quoted, game.ask_quoted
    quoted = ((qb[0], qa[0]), (qb[1], qa[1]))
    values = np.zeros((2, n + 1, *game.shape))
    tables = np.empty((2, n, *game.shape, 2))
    rounds = np.zeros(n, dtype=np.int64)
    settled = np.zeros((n, *game.shape), dtype=bool)
    gaps = np.zeros(n)
    absent = np.zeros(game.shape, bool)
    far = np.full(game.shape, game.max_effective)
    d: Quotes = ((far, far), (far, far))
    for i in range(n - 1, -1, -1):
        w = (
            game.shifted(0, game.continuation(0, i, values[0, i + 1])),
            game.shifted(1, game.continuation(1, i, values[1, i + 1])),
        )
        mono = (
            stage_best_response(game, 0, w[0], far, far, (absent, absent), quoted[0])[:2],
            stage_best_response(game, 1, w[1], far, far, (absent, absent), quoted[1])[:2],
        )
        if i == n - 1:  # the monopolists' quotes start the last stage
            d = mono
        d, rounds[i], done, gap = _stage_equilibrium(game, w, quoted, (d, mono), max_rounds)
        settled[i] = done
        gaps[i] = float(gap.max())
        sides = _sides(game, d)
        for j in (0, 1):
            values[j, i] = step_value(game, w[j], *sides[j])
            tables[j, i, ..., 0], tables[j, i, ..., 1] = d[j]
    pair = (tables[0], tables[1])
    profile = evaluate_profile(game, pair)
    check = exploitability(game, pair)
    return Equilibrium(game, pair, profile, rounds, settled, gaps, check)


Quotes = tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]
Quoted = tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]
W = tuple[dict[tuple[int, int], np.ndarray], dict[tuple[int, int], np.ndarray]]


def _sides(game: CompetitionLattice, d: Quotes) -> tuple[tuple[Side, Side], tuple[Side, Side]]:
    """Both makers' views ``(bid, ask)`` of the step law under quotes ``d``."""
    qb, qa = game.bid_quoted, game.ask_quoted
    b0, b1 = side_law(game, d[0][0], d[1][0], qb[0], qb[1])
    a0, a1 = side_law(game, d[0][1], d[1][1], qa[0], qa[1])
    return (
        (Side(d[0][0], b0, b1), Side(d[0][1], a0, a1)),
        (Side(d[1][0], b1, b0), Side(d[1][1], a1, a0)),
    )


def stage_gap(game: CompetitionLattice, w: W, quoted: Quoted, d: Quotes) -> np.ndarray:
    """Per state: the sum of both makers' best-reply gains in the stage game at quotes ``d``."""
    sides = _sides(game, d)
    gap = np.zeros(game.shape)
    for j in (0, 1):
        o = 1 - j
        best = stage_best_response(game, j, w[j], *d[o], quoted[o], quoted[j])[2]
        gap += best - step_value(game, w[j], *sides[j])
    return gap


def _iterate(
    game: CompetitionLattice, w: W, quoted: Quoted, start: Quotes, first: int, max_rounds: int
) -> tuple[Quotes, Quotes, np.ndarray, int]:
    """Alternating best replies (maker ``first`` replies first) from ``start``.

    Stops when every state has converged or entered a cycle of length 2; returns the last two
    iterates, the converged mask and the rounds played.
    """
    d = [start[0], start[1]]
    prev: list[tuple[np.ndarray, np.ndarray]] = [start[0], start[1]]
    older: list[tuple[np.ndarray, np.ndarray]] | None = None
    done = np.zeros(game.shape, bool)
    r = 0
    while r < max_rounds:
        r += 1
        a, b = first, 1 - first
        new = [d[0], d[1]]
        new[a] = stage_best_response(game, a, w[a], *d[b], quoted[b], quoted[a])[:2]
        new[b] = stage_best_response(game, b, w[b], *new[a], quoted[a], quoted[b])[:2]
        done = _same(new[0], d[0]) & _same(new[1], d[1])
        cycling = np.zeros(game.shape, bool)
        if older is not None:
            cycling = _same(new[0], older[0]) & _same(new[1], older[1])
        older, prev, d = [d[0], d[1]], [d[0], d[1]], new
        if (done | cycling).all():
            break
    return (d[0], d[1]), (prev[0], prev[1]), done, r


def _stage_equilibrium(
    game: CompetitionLattice, w: W, quoted: Quoted, starts: tuple[Quotes, Quotes], max_rounds: int
) -> tuple[Quotes, int, np.ndarray, np.ndarray]:
    """Pure equilibria of every state's stage game, by alternating best replies.

    Runs from ``starts[0]`` (the previous step's equilibrium) with maker 0 replying first;
    where a state does not settle, also with maker 1 first and from ``starts[1]`` (the
    monopolists' quotes) in both orders. Where no run settles, every pairing of the runs' last
    two iterates (maker 0's quotes from one, maker 1's from another) is a candidate, and the
    one with the smallest :func:`stage_gap` is kept. Returns the quotes, the rounds, the
    settled mask (gap <= :data:`SETTLED_GAP`) and the gaps.
    """
    last, prev, done, rounds = _iterate(game, w, quoted, starts[0], 0, max_rounds)
    best = last
    if done.all():
        return best, rounds, done, np.zeros(game.shape)
    iterates = [last, prev]
    for start, first in ((starts[0], 1), (starts[1], 0), (starts[1], 1)):
        last_r, prev_r, done_r, r = _iterate(game, w, quoted, start, first, max_rounds)
        rounds += r
        best = _where(~done & done_r, last_r, best)
        done = done | done_r
        iterates += [last_r, prev_r]
        if done.all():
            return best, rounds, done, np.zeros(game.shape)
    gap = np.where(done, 0.0, stage_gap(game, w, quoted, best))
    for x in iterates:
        for y in iterates:
            cand = (x[0], y[1])
            g = stage_gap(game, w, quoted, cand)
            better = ~done & (g < gap)
            best = _where(better, cand, best)
            gap = np.where(better, g, gap)
    return best, rounds, done | (gap <= SETTLED_GAP), gap


def _where(mask: np.ndarray, a: Quotes, b: Quotes) -> Quotes:
    return tuple(
        tuple(np.where(mask, x, y) for x, y in zip(pa, pb, strict=True))
        for pa, pb in zip(a, b, strict=True)
    )  # type: ignore[return-value]


def _same(a: tuple[np.ndarray, np.ndarray], b: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """Where two quote pairs are equal (to a thousandth of a tick)."""
    return np.asarray((np.abs(a[0] - b[0]) < 1e-9) & (np.abs(a[1] - b[1]) < 1e-9))
