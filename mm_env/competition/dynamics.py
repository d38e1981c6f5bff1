"""The competition step: ``N`` market makers quoting one market, batched over games.

:meth:`CompetitionDynamics.step` is the one transition of the game, shared by the PettingZoo
env (one game) and the batched env (many): a pure function of the state, the makers' depths
and the step's draws (:meth:`CompetitionDynamics.draw_noise`), on arrays of shape
``(games, N)`` for the makers (maker axis last) and ``(games,)`` for the market.

The market is the single-asset one, composed from the same components
(:class:`mm_env.dynamics.MarketDynamics` builds it; nothing of it is copied here). One step of
length ``dt``, for each side independently:

1. **quotes**: each maker's depth is clipped into ``[min_depth, max_depth]`` and moved by the
   quote frictions (the tick), as in the single-asset step; a maker whose fill would take
   ``|q_j|`` past its own inventory limit does not quote that side;
2. **best quote**: among the quoting makers, the best depth ``d* = min_j d_j`` (the highest
   bid, the lowest ask); if ``m`` makers are at ``d*`` exactly, the winner is the
   ``floor(U_tie m)``-th of them in maker order (:func:`best_quote`);
3. **fill**: the order flow and the fill model of the single-asset market give ``p(d*)``, the
   probability that a quote at the best depth fills within the step; the side trades one order
   of ``order_size`` with the winner iff ``U_side < p(d*)``; nobody else trades on that side
   (a side trades at most once per step, as a single quote does);
4. **accounting** per maker as single-asset (bid fill ``q += s``, ``X -= s (S - d)``; ask fill
   ``q -= s``, ``X += s (S + d)``; fees per maker); then the mid moves (the mid process and
   its shocks: an adverse-selection jump follows a side's trade, whoever made it), the market
   components' states advance (Hawkes excitation, flow averages, realised variance, alpha
   signal: they are the market's, not a maker's), the terminal frictions are paid per maker,
   and each maker gets its reward on its own cash and inventory.

With ``N = 1`` this is the single-asset step, operation for operation: the same numbers as
:class:`mm_env.MarketMakingVectorEnv` from the same draws.

Draws per step, whatever the actions (common random numbers): the single-asset vector env's
(``games`` standard normals for the mid, ``2 games`` uniforms for the sides, then the market
components' draws), then, when ``N >= 2``, ``2 games`` tie uniforms (bid row, ask row). With
one maker there is no tie and no tie draw, so the random stream is the single-asset one.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from mm_env.competition.config import CompetitionConfig
from mm_env.dynamics import MarketDynamics
from mm_env.ops import ArrayOps
from mm_env.rewards import get_reward
from mm_env.state import MarketState, StepResult, market_state, step_result

__all__ = [
    "CompetitionDynamics",
    "CompetitionNoise",
    "CompetitionState",
    "CompetitionStep",
    "best_quote",
    "where_state",
]


class CompetitionState(NamedTuple):
    """The state of ``games`` games: market arrays ``(games,)``, maker arrays ``(games, N)``."""

    step: np.ndarray
    """Steps taken so far (int64), ``t = step * dt``."""
    mid: np.ndarray
    """Mid-price ``S`` [price units]."""
    cash: np.ndarray
    """Cash ``X_j`` of each maker [price units]."""
    inventory: np.ndarray
    """Inventory ``q_j`` of each maker [shares]."""
    wealth: np.ndarray
    """Mark-to-market wealth ``X_j + q_j S`` of each maker [price units]."""
    bid_depth: np.ndarray
    """Each maker's last bid depth ``S - bid`` (after clipping and the tick; where the side was
    not quoted, the depth it would have had) [price units]; ``max_depth`` at reset."""
    ask_depth: np.ndarray
    """Each maker's last ask depth ``ask - S``, as :attr:`bid_depth`."""
    parts: dict[str, Any]
    """The market components' state fields, arrays ``(games,)`` (never mutated)."""


class CompetitionStep(NamedTuple):
    """Everything one competition step produced (maker arrays ``(games, N)``)."""

    state: CompetitionState
    prev_wealth: np.ndarray
    wealth: np.ndarray
    bid: np.ndarray
    """Each maker's bid price of the step (the would-be price where not quoted)."""
    ask: np.ndarray
    bid_quoted: np.ndarray
    ask_quoted: np.ndarray
    bid_filled: np.ndarray
    ask_filled: np.ndarray
    bid_traded: np.ndarray
    """``(games,)``: whether the bid side traded (with one maker, the winner)."""
    ask_traded: np.ndarray
    best_bid_depth: np.ndarray
    """``(games,)``: the best quoting bid depth ``d*`` (``inf`` where nobody quoted)."""
    best_ask_depth: np.ndarray
    terminated: np.ndarray
    """``(games,)``: whether the horizon is reached after this step."""
    extras: dict[str, Any]
    """The components' per-step quantities: ``(games,)`` for the market's (arrivals),
    ``(games, N)`` for the makers' (fees, liquidation cost)."""


class CompetitionNoise(NamedTuple):
    """The draws of one step (see the module doc for their order)."""

    z: np.ndarray
    u_bid: np.ndarray
    u_ask: np.ndarray
    tie_bid: Any
    """``(games,)`` uniforms (``0.0`` with one maker: no tie, nothing drawn)."""
    tie_ask: Any
    components: dict[str, Any]


def best_quote(
    depth: np.ndarray, quoted: np.ndarray, tie: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The allocation of one side: ``(best_depth, anyone_quoted, winner)``.

    ``depth`` and ``quoted``: ``(games, N)``; ``tie``: uniforms ``(games,)`` in [0, 1). The best
    depth is the smallest depth among the quoting makers (``inf`` where none quotes); the
    winner (one-hot ``(games, N)``, all False where none quotes) is the ``floor(tie m)``-th, in
    maker order, of the ``m`` quoting makers at exactly that depth.
    """
    masked = np.where(quoted, depth, np.inf)
    n = depth.shape[1]
    best = masked[:, 0]
    for j in range(1, n):  # column by column: numpy reduces a short last axis slowly
        best = np.minimum(best, masked[:, j])
    anyone = best < np.inf
    at_best = (masked == best[:, None]) & anyone[:, None]
    if n == 1:
        return best, anyone, at_best
    at = at_best.view(np.int8)  # 0/1 counts (at most MAX_MAKERS, inside int8)
    rank = (np.asarray(tie) * row_sum(at)).astype(np.int8) + np.int8(1)  # 1-based floor
    winner = np.empty_like(at_best)
    cum = at[:, 0]
    winner[:, 0] = at_best[:, 0] & (cum == rank)
    for j in range(1, n):
        cum = cum + at[:, j]
        winner[:, j] = at_best[:, j] & (cum == rank)
    return best, anyone, winner


def row_sum(x: np.ndarray) -> np.ndarray:
    """``x.sum(axis=1)`` of a ``(games, N)`` array, column by column for a few makers (the
    same sum in the same order, many times faster than numpy's reduction of a short axis)."""
    n = x.shape[1]
    if n > 16:
        return x.sum(axis=1)
    total = x[:, 0]
    for j in range(1, n):
        total = total + x[:, j]
    return total


class CompetitionDynamics:
    """The game of a :class:`CompetitionConfig` and its batched step (module doc)."""

    def __init__(self, config: CompetitionConfig) -> None:
        self.config = config
        self.market = MarketDynamics(config.market)
        """The single-asset market the makers quote on (its components, draws and bounds)."""
        m, c = self.market, config.market
        self.n_makers = config.n_makers
        self._n_steps = c.n_steps
        self._lo, self._hi = c.min_depth, c.max_depth
        self._size = c.order_size
        self.limits = np.array(config.limits, dtype=np.float64)
        """Each maker's inventory limit, ``(N,)``."""
        self._neg_limits = -self.limits
        self._hooks = m.hooks  # the single-asset market's (mm_env.dynamics.StepHooks)
        self._sell_rate, self._buy_rate = m.flow.rates()
        self._rewards = [
            (get_reward(name), [j for j, n in enumerate(config.reward_names) if n == name])
            for name in dict.fromkeys(config.reward_names)
        ]

    # ------------------------------------------------------------ randomness
    def draw_noise(self, rng: np.random.Generator, games: int) -> CompetitionNoise:
        """One step's draws for ``games`` games (module doc: the order and number)."""
        z = rng.standard_normal(games)
        u = rng.random((2, games))
        components = self.market.draw_noise(rng, (games,))
        if self.n_makers == 1:
            return CompetitionNoise(z, u[0], u[1], 0.0, 0.0, components)
        tie = rng.random((2, games))
        return CompetitionNoise(z, u[0], u[1], tie[0], tie[1], components)

    def initial_state(self, games: int, rng: np.random.Generator | None = None) -> CompetitionState:
        """The state at t = 0: the single-asset market's initial state (mid ``S0``, the
        components' initial slices; ``rng`` for those that start at random), every maker
        with no cash and no inventory, last depths ``max_depth``."""
        s = self.market.initial_state((games,), rng)
        shape = (games, self.n_makers)
        zeros = np.zeros(shape, order="F")
        depth = np.full(shape, float(self._hi), order="F")
        return CompetitionState(
            step=s.step,
            mid=s.mid,
            cash=zeros,
            inventory=zeros.copy(),
            wealth=zeros.copy(),
            bid_depth=depth,
            ask_depth=depth.copy(),
            parts=s.parts,
        )

    def market_view(self, state: CompetitionState) -> MarketState:
        """The market as a component sees it: the mid, the step and the components' fields,
        with the makers' total cash, inventory and wealth (one maker: its own)."""
        return market_state(
            step=state.step,
            mid=state.mid,
            cash=row_sum(state.cash),
            inventory=row_sum(state.inventory),
            wealth=row_sum(state.wealth),
            parts=state.parts,
        )

    # ------------------------------------------------------------ transition
    def fill_probability(self, depth: Any) -> Any:
        """``p(d)``: probability that the best quote at ``depth`` trades within one step at
        the base arrival rate (the single-asset fill probability)."""
        return self.market.fill_probability(depth)

    def step(
        self,
        state: CompetitionState,
        bid_depth: np.ndarray,
        ask_depth: np.ndarray,
        noise: CompetitionNoise,
    ) -> CompetitionStep:
        """Advance every game by one step (module doc); depths ``(games, N)``, finite."""
        ops: Any = ArrayOps
        m = self.market
        hooks = self._hooks
        extras: dict[str, Any] = {}
        mid, q = state.mid, state.inventory
        mid_col = mid[:, None]
        size = self._size
        # 1. quotes
        # maker arrays are kept in Fortran order (games contiguous per maker): broadcasting
        # a market array (games,) over them then runs numpy's inner loop over the games
        bid_depth = ops.clip(np.asfortranarray(bid_depth), self._lo, self._hi)
        ask_depth = ops.clip(np.asfortranarray(ask_depth), self._lo, self._hi)
        bid_quoted = q + size <= self.limits
        ask_quoted = q - size >= self._neg_limits
        bid_price = mid_col - bid_depth
        ask_price = mid_col + ask_depth
        for f in hooks.quote_frictions:
            bid_price, ask_price, bid_depth, ask_depth = f.quote(ops, mid_col, bid_price, ask_price)
        # 2. best quote per side
        best_bid, any_bid, bid_winner = best_quote(bid_depth, bid_quoted, noise.tie_bid)
        best_ask, any_ask, ask_winner = best_quote(ask_depth, ask_quoted, noise.tie_ask)
        # 3. the market's flow and fill probability at the best quotes
        view = self.market_view(state)
        sell_rate: Any = self._sell_rate
        buy_rate: Any = self._buy_rate
        for modify in hooks.flow_modifiers:
            sell_rate, buy_rate = modify(ops, view, sell_rate, buy_rate)
        p_bid, p_ask, n_sell, n_buy = m.fills.sides(
            ops,
            np.where(any_bid, best_bid, self._hi),
            np.where(any_ask, best_ask, self._hi),
            sell_rate,
            buy_rate,
            noise.components,
            extras,
        )
        bid_traded = any_bid & (noise.u_bid < p_bid)
        ask_traded = any_ask & (noise.u_ask < p_ask)
        bid_filled = bid_winner & bid_traded[:, None]
        ask_filled = ask_winner & ask_traded[:, None]
        # 4. accounting, per maker
        bought = size * bid_filled
        sold = size * ask_filled
        cash = state.cash - bought * bid_price + sold * ask_price
        for f in hooks.fill_frictions:
            cash = f.on_fills(ops, cash, bought, sold, extras)
        inventory = q + bought - sold
        step = state.step + 1
        # the mid and the market components' states
        move = m.mid.move(ops, view, noise.z)
        for term in hooks.shock_terms:
            move = move + term(ops, view, noise.components, bid_traded, ask_traded)
        new_mid = m.mid.advance_mid(ops, view, move, step)
        parts = state.parts
        if hooks.advancing:
            parts = dict(parts)
            for advance in hooks.advancing:
                advance(ops, view, parts, new_mid, noise.z, noise.components, n_sell, n_buy)
        # end
        terminated = step >= self._n_steps
        for f in hooks.end_frictions:
            cash = f.at_end(ops, cash, inventory, terminated[:, None], extras)
        wealth = cash + inventory * new_mid[:, None]
        new_state = CompetitionState(
            step=step,
            mid=new_mid,
            cash=cash,
            inventory=inventory,
            wealth=wealth,
            bid_depth=bid_depth,
            ask_depth=ask_depth,
            parts=parts,
        )
        if hooks.state_info:
            after = self.market_view(new_state)
            for c in hooks.state_info:
                extras.update(c.state_info(after))
        return CompetitionStep(
            state=new_state,
            prev_wealth=state.wealth,
            wealth=wealth,
            bid=bid_price,
            ask=ask_price,
            bid_quoted=bid_quoted,
            ask_quoted=ask_quoted,
            bid_filled=bid_filled,
            ask_filled=ask_filled,
            bid_traded=bid_traded,
            ask_traded=ask_traded,
            best_bid_depth=best_bid,
            best_ask_depth=best_ask,
            terminated=terminated,
            extras=extras,
        )

    # ------------------------------------------------------------ read-outs
    def rewards(self, result: CompetitionStep) -> np.ndarray:
        """Each maker's reward of the step, ``(games, N)``: its reward function (the
        single-asset one) on its own wealth, inventory, fills and quotes."""
        per_maker = self.maker_result(result)
        if len(self._rewards) == 1:
            fn = self._rewards[0][0]
            return _shaped(fn(self.config.market, per_maker), result.wealth.shape)
        out = np.empty(result.wealth.shape, order="F")
        for fn, cols in self._rewards:
            out[:, cols] = _shaped(fn(self.config.market, per_maker), out.shape)[:, cols]
        return out

    def maker_result(self, result: CompetitionStep) -> StepResult:
        """The step as each maker's single-asset :class:`~mm_env.state.StepResult` (arrays
        ``(games, N)`` or broadcastable to it), which the reward functions read."""
        s = result.state
        return step_result(
            state=market_state(
                step=s.step[:, None],
                mid=s.mid[:, None],
                cash=s.cash,
                inventory=s.inventory,
                wealth=s.wealth,
                parts=s.parts,
            ),
            prev_wealth=result.prev_wealth,
            wealth=result.wealth,
            bid=result.bid,
            ask=result.ask,
            bid_quoted=result.bid_quoted,
            ask_quoted=result.ask_quoted,
            bid_filled=result.bid_filled,
            ask_filled=result.ask_filled,
            terminated=result.terminated[:, None],
            extras=result.extras,
        )

    def info_extras(
        self, result: CompetitionStep | None, state: CompetitionState
    ) -> dict[str, np.ndarray]:
        """The components' ``info`` entries (the market's ``info_keys``) as ``(games, N)``
        float arrays; ``result`` None: their values at reset."""
        if result is None:
            view = self.market_view(state)
            values: dict[str, Any] = {}
            for c in self.market.components:
                values.update(c.reset_info())
                values.update(c.state_info(view))
        else:
            values = result.extras
        shape = state.cash.shape
        out = {}
        for key in self.market.info_keys:
            v = np.asarray(values[key], dtype=np.float64)
            out[key] = np.broadcast_to(v[:, None] if v.ndim == 1 else v, shape)
        return out

    def time_remaining(self, step: Any) -> Any:
        """``T - t`` [sessions] after ``step`` steps."""
        return self.market.time_remaining(step)


def _shaped(value: Any, shape: tuple[int, ...]) -> np.ndarray:
    """``value`` as a writable float64 array of ``shape``."""
    arr = np.asarray(value, dtype=np.float64)
    return arr if arr.shape == shape else np.broadcast_to(arr, shape).copy()


def where_state(mask: np.ndarray, new: CompetitionState, old: CompetitionState) -> CompetitionState:
    """Per game: ``new`` where ``mask`` (``(games,)``) else ``old``."""
    col = mask[:, None]
    parts = {name: np.where(mask, value, old.parts[name]) for name, value in new.parts.items()}
    return CompetitionState(
        step=np.where(mask, new.step, old.step),
        mid=np.where(mask, new.mid, old.mid),
        cash=np.where(col, new.cash, old.cash),
        inventory=np.where(col, new.inventory, old.inventory),
        wealth=np.where(col, new.wealth, old.wealth),
        bid_depth=np.where(col, new.bid_depth, old.bid_depth),
        ask_depth=np.where(col, new.ask_depth, old.ask_depth),
        parts=parts,
    )
