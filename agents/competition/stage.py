"""One step of the two-maker game: the joint law of the fills and a maker's best reply.

Per side, given both makers' effective depths and quoting flags, the law of
:mod:`agents.competition.game` gives maker ``j`` the trade probability

    pi_own = p(d_j) [j alone or strictly best] + p(d_j) / 2 [tie],
    pi_opp = the same for the other maker,

and the two sides are independent (separate uniforms), so the joint outcome of a step is
the product of a bid outcome (own fill: own ``q + Delta``; other's fill: its ``q + Delta``;
none) and an ask outcome (own ``q - Delta``; other's ``q - Delta``; none). The expected value of
the step for maker ``j`` with continuation ``W`` (its running reward plus its next value) is

    sum_(o_b, o_a) P(o_b) P(o_a) W(landing(o_b, o_a)) + Delta (d_b pi_own,b + d_a pi_own,a).

**Best reply.** For a fixed ask outcome law the value is affine in the bid outcome law:
``const + pi_own,b (Delta d_b + B_own) + pi_opp,b B_opp`` with ``B_own``/``B_opp`` the gains of
landing after the own / other's bid fill instead of no bid fill, averaged over the ask. A
quoting maker facing a quoting opponent at ``d_o`` has three kinds of bid:

- *win* (``d < d_o``): ``p(d) (Delta d + B_own)``, unimodal in ``d``: its continuous maximiser
  over the depth range (:func:`agents.side_response.best_depth`, exact, bernoulli or
  poisson) capped below ``d_o``. With a tick the cap is the level ``n_o - 1`` and the best level
  is the better of the two grid levels around the capped maximiser (exact by unimodality).
  Without a tick the supremum ``d -> d_o`` is not attained: the rule is to undercut by
  ``undercut`` (default :data:`DEFAULT_UNDERCUT`), i.e. the candidate ``d_o - undercut``, and
  the value reported is that of the depth played (exact for that rule);
- *tie* (``d = d_o``): ``p(d_o) (Delta d_o + B_own + B_opp) / 2``;
- *lose* (``d > d_o``, if the range allows it): ``p(d_o) B_opp``, whatever the depth; the
  rule plays it one tick (without a tick: ``undercut``) behind the best quote, capped at the
  largest effective depth. Every losing depth is a best reply then; the one right behind the
  winner is the one that supports equilibria (it caps the winner's depth), where quoting far
  away would invite the winner to raise its quote and start an Edgeworth cycle.

If the opponent does not quote the side, only *win* exists (uncapped); if the maker cannot
quote it (its limit), the side is forced. The sides couple through ``W`` (both may trade in one
step): every pair of kinds (3 x 3) is solved by coordinate ascent over the sides whose kind
is *win* (each update exact, so the value never decreases; the ascent stops when the depths
stop moving), and the best pair is kept. The tests check this against a brute-force search
over a depth grid.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from agents.competition.game import CompetitionLattice
from agents.side_response import best_depth

#: Undercut of the tick-free best reply [price units]: the winning candidate ``d_o - 1e-9``.
DEFAULT_UNDERCUT = 1e-9
_MAX_SWEEPS = 100
_TOL = 1e-13
_WIN, _TIE, _LOSE = 0, 1, 2


@dataclass
class Side:
    """One side of one maker: effective depth and the two makers' trade probabilities."""

    depth: np.ndarray
    own: np.ndarray
    opp: np.ndarray


def side_law(
    game: CompetitionLattice,
    d_own: np.ndarray,
    d_opp: np.ndarray,
    quoted_own: np.ndarray,
    quoted_opp: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """``(pi_own, pi_opp)``: each maker's probability of trading the side (effective depths)."""
    best = np.where(
        quoted_own & quoted_opp, np.minimum(d_own, d_opp), np.where(quoted_own, d_own, d_opp)
    )
    p = np.where(quoted_own | quoted_opp, game.fill_probability(best), 0.0)
    share = np.where(
        quoted_opp, np.where(d_own < d_opp, 1.0, np.where(d_own == d_opp, 0.5, 0.0)), 1.0
    )
    own = np.where(quoted_own, p * share, 0.0)
    return own, np.where(quoted_opp, p - own, 0.0)


def step_value(
    game: CompetitionLattice,
    w: dict[tuple[int, int], np.ndarray],
    bid: Side,
    ask: Side,
) -> np.ndarray:
    """Expected value of one step for a maker (``w`` from :meth:`CompetitionLattice.shifted`)."""
    size = game.order_size
    none_b = 1.0 - bid.own - bid.opp
    none_a = 1.0 - ask.own - ask.opp
    # bid outcomes move (own, other) by (+1, 0), (0, +1), (0, 0); ask by (-1, 0), (0, -1), (0, 0)
    total = size * (bid.depth * bid.own + ask.depth * ask.own)
    for pb, (b0, b1) in ((bid.own, (1, 0)), (bid.opp, (0, 1)), (none_b, (0, 0))):
        for pa, (a0, a1) in ((ask.own, (-1, 0)), (ask.opp, (0, -1)), (none_a, (0, 0))):
            total = total + pb * pa * w[(b0 + a0, b1 + a1)]
    return total


def _gains(
    w: dict[tuple[int, int], np.ndarray], other: Side, sign: int
) -> tuple[np.ndarray, np.ndarray]:
    """``(B_own, B_opp)`` of one side (``sign`` +1 bid, -1 ask) given the other side's law."""
    none = 1.0 - other.own - other.opp
    s = -sign  # the other side moves the other way

    def avg(m0: int, m1: int) -> np.ndarray:
        return other.own * w[(m0 + s, m1)] + other.opp * w[(m0, m1 + s)] + none * w[(m0, m1)]

    base = avg(0, 0)
    return avg(sign, 0) - base, avg(0, sign) - base


class _Reply:
    """Best replies of one maker on one side, for fixed opponent quotes (vectorised)."""

    def __init__(
        self,
        game: CompetitionLattice,
        maker: int,
        d_opp: np.ndarray,
        quoted_own: np.ndarray,
        quoted_opp: np.ndarray,
        undercut: float,
    ) -> None:
        self.game = game
        self.model = game.models[maker]
        self.d_opp = d_opp
        self.q_own = quoted_own
        self.q_opp = quoted_opp
        self.p_opp = np.where(quoted_opp, game.fill_probability(d_opp), 0.0)
        g = game
        self.step = g.tick if g.tick > 0 else undercut
        self.cap = np.where(quoted_opp, d_opp - self.step, g.max_effective)
        self.can_win = quoted_own & (self.cap >= g.min_effective - 1e-12 * max(1.0, g.tick))
        self.can_tie = quoted_own & quoted_opp
        self.can_lose = quoted_own & quoted_opp & (d_opp < g.max_effective)
        self.forced = ~quoted_own

    def fixed(self, kind: int) -> Side:
        """The side under a kind that does not depend on the gains (tie, lose, or forced)."""
        zero = np.zeros_like(self.p_opp)
        if kind == _TIE:
            half = 0.5 * self.p_opp
            return Side(
                self.d_opp.copy(),
                np.where(self.can_tie, half, 0.0),
                np.where(self.can_tie, half, self.p_opp),
            )
        # losing (or forced): one tick (or one undercut) behind the best quote
        depth = np.where(
            self.can_lose,
            np.minimum(self.d_opp + self.step, self.game.max_effective),
            self.game.max_effective,
        )
        return Side(depth, zero, self.p_opp.copy())

    def win(self, b_own: np.ndarray) -> Side:
        """The best winning depth for gains ``b_own`` (forced where the maker cannot quote)."""
        g = self.game
        x = best_depth(self.model, b_own)
        if g.tick > 0:
            lo = g.level(g.min_effective)
            hi = np.maximum(g.level(np.maximum(self.cap, g.min_effective)), lo)
            n_lo = np.clip(np.floor(x / g.tick + 1e-9).astype(np.int64), lo, hi)
            n_hi = np.clip(np.ceil(x / g.tick - 1e-9).astype(np.int64), lo, hi)
            d_lo, d_hi = n_lo * g.tick, n_hi * g.tick
            p_lo, p_hi = g.fill_probability(d_lo), g.fill_probability(d_hi)
            size = g.order_size
            pick_hi = p_hi * (size * d_hi + b_own) > p_lo * (size * d_lo + b_own)
            depth = np.where(pick_hi, d_hi, d_lo)
        else:
            depth = np.minimum(x, np.maximum(self.cap, g.min_effective))
        p = g.fill_probability(depth)
        own = np.where(self.can_win, p, 0.0)
        opp = np.where(self.can_win, 0.0, self.p_opp)
        depth = np.where(self.can_win, depth, g.max_effective)
        return Side(depth, own, opp)

    def available(self, kind: int) -> np.ndarray:
        if kind == _WIN:
            return self.can_win | self.forced
        if kind == _TIE:
            return self.can_tie
        return self.can_lose


def stage_best_response(
    game: CompetitionLattice,
    maker: int,
    w: dict[tuple[int, int], np.ndarray],
    opp_bid: np.ndarray,
    opp_ask: np.ndarray,
    opp_quoted: tuple[np.ndarray, np.ndarray],
    own_quoted: tuple[np.ndarray, np.ndarray],
    undercut: float = DEFAULT_UNDERCUT,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Maker ``maker``'s best ``(bid, ask)`` effective depths and step value, per state.

    ``w``: its continuation at the nine moves (:meth:`CompetitionLattice.shifted`);
    ``opp_bid``/``opp_ask``: the opponent's effective depths; ``*_quoted``: ``(bid, ask)``
    quoting masks. Where the maker cannot quote a side its depth is reported as the largest
    effective depth (it is not sent to the market).
    """
    bid_r = _Reply(game, maker, opp_bid, own_quoted[0], opp_quoted[0], undercut)
    ask_r = _Reply(game, maker, opp_ask, own_quoted[1], opp_quoted[1], undercut)
    best_val = np.full(game.shape, -np.inf)
    best_bid = np.zeros(game.shape)
    best_ask = np.zeros(game.shape)
    for kb in (_WIN, _TIE, _LOSE):
        for ka in (_WIN, _TIE, _LOSE):
            ok = bid_r.available(kb) & ask_r.available(ka)
            if not ok.any():
                continue
            bid, ask = _solve_pair(w, bid_r, ask_r, kb, ka)
            val = np.where(ok, step_value(game, w, bid, ask), -np.inf)
            better = val > best_val
            best_val = np.where(better, val, best_val)
            best_bid = np.where(better, bid.depth, best_bid)
            best_ask = np.where(better, ask.depth, best_ask)
    return best_bid, best_ask, best_val


def _solve_pair(
    w: dict[tuple[int, int], np.ndarray], bid_r: _Reply, ask_r: _Reply, kb: int, ka: int
) -> tuple[Side, Side]:
    """The best depths of the pair of kinds ``(kb, ka)``: exact for one winning side,
    coordinate ascent (each update exact) when both sides win."""
    if kb != _WIN and ka != _WIN:
        return bid_r.fixed(kb), ask_r.fixed(ka)
    if kb != _WIN:
        bid = bid_r.fixed(kb)
        return bid, ask_r.win(_gains(w, bid, -1)[0])
    if ka != _WIN:
        ask = ask_r.fixed(ka)
        return bid_r.win(_gains(w, ask, +1)[0]), ask
    ask = ask_r.win(_gains(w, bid_r.fixed(_LOSE), -1)[0])
    bid = bid_r.win(_gains(w, ask, +1)[0])
    for _ in range(_MAX_SWEEPS):
        new_ask = ask_r.win(_gains(w, bid, -1)[0])
        new_bid = bid_r.win(_gains(w, new_ask, +1)[0])
        moved = max(
            np.max(np.abs(new_bid.depth - bid.depth)), np.max(np.abs(new_ask.depth - ask.depth))
        )
        bid, ask = new_bid, new_ask
        if moved < _TOL:
            break
    return bid, ask
