"""The one transition function of the model, composed from market components and shared by
the scalar and the vector env.

:meth:`MarketDynamics.step` works on plain Python floats (the scalar env's fast path:
``math`` instead of numpy, no array allocation) and on numpy arrays of any shape (the
vector env), with the same arithmetic written once (:mod:`mm_env.ops`). Randomness is
passed in (the standard normal ``z`` of the mid, two uniforms for the fills and the
components' draws of :meth:`MarketDynamics.draw_noise`), so the function is pure and the
market noise of an episode does not depend on the actions taken (common random numbers).

One step of length ``dt``, each stage a component (:mod:`mm_env.components`):

1. **size** (``size``): ``order_size``, or the action's size clipped into
   ``[order_size, max_order_size]``; depths are clipped into ``[min_depth, max_depth]``; a
   side is quoted iff its fill keeps ``|q| <= inventory_limit``;
2. **quote frictions** (``friction``): the tick moves the quotes onto its grid;
3. **arrival rates** (``flow``, then each ``flow_modifier``) [orders/session]: sell orders
   hit the bid, buy orders lift the ask;
4. **fills** (``fill_model`` with its ``fill_shape``): the probability that each quoted side
   fills, compared with the step's uniforms;
5. **accounting**: a bid fill buys ``s`` at the bid, an ask fill sells ``s`` at the ask, then
   the fill frictions (fees) are paid from cash;
6. **mid** (``mid`` and each ``shock``): the mid process's move, plus every shock's term, is
   applied to the mid's state variable;
7. **component states**: every stateful component advances its slice of the state;
8. **end**: after ``n_steps`` the episode terminates and the terminal frictions
   (liquidation) are paid.

The base model (``gbm`` or ``abm`` mid, constant flow, exponential shape, poisson or
bernoulli fills, fixed size, no shock, friction or feature) runs through the same code; its
equations are in the README and the components' module docs.

Axes. Every stage is elementwise in the state's arrays, which may have any shape: the vector
env uses ``(num_envs,)``. A trailing asset axis ``(..., n)`` (one mid, inventory and cash
account per asset, correlated normals ``z`` drawn by the env, wealth summed over the axis)
and a maker axis (several makers' quotes on one mid) are added by the env that owns them:
the first needs only the sum in the wealth and a reward over the axis; the second replaces
the fill model's :meth:`~mm_env.components.FillModel.sides` by an allocation of each order to
the best quote it reaches. Component hooks never assume a scalar or a 1-d array.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from mm_env.components import (
    Component,
    FillModel,
    FillShape,
    FlowModel,
    FlowModifier,
    Friction,
    MidMoveExpectation,
    MidProcess,
    ObservationFeature,
    QuoteSize,
    Shock,
    registered,
)
from mm_env.config import MarketConfig
from mm_env.ops import ArrayOps, ScalarOps
from mm_env.state import NO_PARTS, MarketState, StepResult, make_state, market_state, step_result

_NO_NOISE: dict[str, Any] = {}


def _first(kind: str, config: MarketConfig) -> type[Component]:
    for cls in registered(kind).values():
        if cls.applies(config):
            return cls
    raise ValueError(
        f"no registered {kind} component applies to this config (registered: "
        f"{list(registered(kind))})"
    )


def _all(kind: str, config: MarketConfig) -> list[type[Component]]:
    return [cls for cls in registered(kind).values() if cls.applies(config)]


def _overrides(component: Component, base: type, method: str) -> bool:
    return getattr(type(component), method) is not getattr(base, method)


class StepHooks(NamedTuple):
    """The components' hooks a step calls, selected once per market: each tuple holds, in
    component order, only the components that implement the hook (a component that keeps the
    base class's no-op is left out, so the step does not call it). :meth:`MarketDynamics.step`
    binds them as attributes; the competition step
    (:class:`mm_env.competition.CompetitionDynamics`) reads its market's."""

    quote_frictions: tuple[Friction, ...]
    """Frictions that move the quotes (:meth:`~mm_env.components.Friction.quote`: the tick)."""
    fill_frictions: tuple[Friction, ...]
    """Frictions paid on fills (:meth:`~mm_env.components.Friction.on_fills`: fees)."""
    end_frictions: tuple[Friction, ...]
    """Frictions paid at the horizon (:meth:`~mm_env.components.Friction.at_end`)."""
    advancing: tuple[Callable[..., None], ...]
    """The ``advance`` methods of the stateful components that implement it."""
    state_info: tuple[Component, ...]
    """Components whose :meth:`~mm_env.components.Component.state_info` adds info entries."""
    flow_modifiers: tuple[Callable[..., tuple[Any, Any]], ...]
    """The ``modify`` methods of the flow modifiers, in order."""
    shock_terms: tuple[Callable[..., Any], ...]
    """The ``term`` methods of the mid shocks, in order."""


class MarketDynamics:
    """The market of a :class:`MarketConfig` as a composition of components, and its step."""

    def __init__(self, config: MarketConfig) -> None:
        self.config = config
        self._n_steps = config.n_steps
        self._dt = config.dt
        self._limit = config.inventory_limit
        self._lo = config.min_depth
        self._hi = config.max_depth
        size: Any = _first("size", config)(config)
        mid: Any = _first("mid", config)(config)
        shocks: list[Any] = [cls(config) for cls in _all("shock", config)]
        flow: Any = _first("flow", config)(config)
        modifiers: list[Any] = [cls(config) for cls in _all("flow_modifier", config)]
        shape: Any = _first("fill_shape", config)(config)
        fills: Any = _first("fill_model", config)(config)
        frictions: list[Any] = [cls(config) for cls in _all("friction", config)]
        features_by_name = registered("feature")
        unknown = [n for n in config.obs_extras if n not in features_by_name]
        if unknown:
            raise ValueError(
                f"obs_extras {unknown} are not registered observation features "
                f"(registered: {list(features_by_name)})"
            )
        features: list[Any] = [features_by_name[n](config) for n in config.obs_extras]
        for s in shocks:
            mid.compensate(s.compensation(mid))
        self.size: QuoteSize = size
        self.mid: MidProcess = mid
        self.shocks: tuple[Shock, ...] = tuple(shocks)
        self.flow: FlowModel = flow
        self.flow_modifiers: tuple[FlowModifier, ...] = tuple(modifiers)
        self.fill_shape: FillShape = shape
        self.fills: FillModel = fills
        self.frictions: tuple[Friction, ...] = tuple(frictions)
        self.features: tuple[ObservationFeature, ...] = tuple(features)
        self.components: tuple[Component, ...] = (
            size,
            mid,
            *shocks,
            flow,
            *modifiers,
            shape,
            fills,
            *frictions,
            *features,
        )
        self._check_unique_names()
        for c in self.components:
            c.bind(self)
        self._stateful = tuple(c for c in self.components if c.state_fields)
        self.hooks = StepHooks(
            quote_frictions=tuple(f for f in frictions if _overrides(f, Friction, "quote")),
            fill_frictions=tuple(f for f in frictions if _overrides(f, Friction, "on_fills")),
            end_frictions=tuple(f for f in frictions if _overrides(f, Friction, "at_end")),
            advancing=tuple(
                c.advance for c in self._stateful if _overrides(c, Component, "advance")
            ),
            state_info=tuple(c for c in self.components if _overrides(c, Component, "state_info")),
            flow_modifiers=tuple(m.modify for m in modifiers),
            shock_terms=tuple(s.term for s in shocks),
        )
        """The hooks :meth:`step` calls (:class:`StepHooks`)."""
        # bound once: the step's hooks without attribute look-ups
        hooks = self.hooks
        self._quote_frictions = hooks.quote_frictions
        self._fill_frictions = hooks.fill_frictions
        self._end_frictions = hooks.end_frictions
        self._advancing = hooks.advancing
        self._state_info = hooks.state_info
        self._sell_rate, self._buy_rate = flow.rates()
        self._modifiers = hooks.flow_modifiers
        self._terms = hooks.shock_terms
        self._normal_names = tuple(n for c in self.components for n in c.normals)
        self._uniform_names = tuple(n for c in self.components for n in c.uniforms)
        self._drawing = tuple(c for c in self.components if _overrides(c, Component, "draw"))
        self.info_keys: tuple[str, ...] = tuple(k for c in self.components for k in c.info_keys)
        """Keys the envs add to ``info`` for this market (see :meth:`info_extras`)."""
        self.needs_noise = bool(self._normal_names or self._uniform_names or self._drawing)
        """Whether :meth:`step` needs the draws of :meth:`draw_noise`."""
        self.action_names: tuple[str, ...] = ("bid_depth", "ask_depth", *size.action_names)
        self._size_of = size.size
        self._move = mid.move
        self._advance_mid = mid.advance_mid
        self._sides = fills.sides
        self.observers = tuple(f.observe for f in features)
        """The observation features' read-outs, in ``obs_extras`` order."""

    def _check_unique_names(self) -> None:
        seen: dict[str, str] = {}
        for c in self.components:
            names = (*c.normals, *c.uniforms, *c.info_keys)
            for n in names:
                if n in seen and seen[n] != c.name:
                    raise ValueError(
                        f"components {seen[n]!r} and {c.name!r} both declare {n!r} (draws and "
                        "info keys must have distinct names)"
                    )
                seen[n] = c.name
        owners: dict[str, str] = {}
        for c in self.components:
            for f in c.state_fields:
                if f in owners:
                    raise ValueError(
                        f"components {owners[f]!r} and {c.name!r} both declare the state "
                        f"field {f!r} (state fields must have distinct names)"
                    )
                owners[f] = c.name

    # ------------------------------------------------------------ randomness
    def draw_noise(self, rng: np.random.Generator, shape: tuple[int, ...]) -> dict[str, Any]:
        """The components' draws for ``shape`` steps/envs, by name: one generator call for
        all standard normals, one for all uniforms (in component order), then each
        component's other draws. Their number depends only on the config; the base model
        draws nothing."""
        values: dict[str, Any] = {}
        if self._normal_names:
            normals = rng.standard_normal((len(self._normal_names), *shape))
            values.update(zip(self._normal_names, normals, strict=True))
        if self._uniform_names:
            uniforms = rng.random((len(self._uniform_names), *shape))
            values.update(zip(self._uniform_names, uniforms, strict=True))
        for c in self._drawing:
            values.update(c.draw(rng, shape))
        return values

    def initial_state(
        self, shape: tuple[int, ...] | None = None, rng: np.random.Generator | None = None
    ) -> MarketState:
        """The state at t = 0 (floats, or arrays of ``shape``): mid ``S0`` (or the replayed
        series' value at the episode's offset), no cash, no inventory, each component's
        initial slice. ``rng`` is needed by components that start from a random state
        (a random replay offset, the alpha signal's stationary law)."""
        parts: dict[str, Any] = {}
        for c in self._stateful:
            parts.update(c.initial(shape, rng))
        mid = self.mid.initial_mid(parts, shape)
        if shape is None:
            return make_state(step=0, mid=mid, cash=0.0, inventory=0.0, parts=parts or NO_PARTS)
        return make_state(
            step=np.zeros(shape, np.int64),
            mid=mid,
            cash=np.zeros(shape),
            inventory=np.zeros(shape),
            parts=parts or NO_PARTS,
        )

    # ------------------------------------------------------------ transition
    def fill_probability(self, depth: Any) -> Any:
        """Probability that a quote at ``depth`` (already clipped) fills within one step, at
        the base arrival rate ``A`` (no skew, signal or Hawkes excitation)."""
        ops: Any = ScalarOps if isinstance(depth, float) else ArrayOps
        return self.fills.probability(ops, depth, self.config.A * self._dt)

    def step(
        self,
        state: MarketState,
        bid_depth: Any,
        ask_depth: Any,
        z: Any,
        u_bid: Any,
        u_ask: Any,
        noise: dict[str, Any] = _NO_NOISE,
        size: Any = None,
    ) -> StepResult:
        """Advance ``state`` by one step (module doc).

        Args:
            state: current state (floats or arrays).
            bid_depth, ask_depth: requested depths [price units], finite; clipped here.
            z: standard normal draw(s) for the mid-price move.
            u_bid, u_ask: uniform [0, 1) draws deciding the fills.
            noise: the components' draws of this step (:meth:`draw_noise`).
            size: the quote size [shares] with ``size_action`` (clipped here).
        """
        ops: Any = ScalarOps if type(state.mid) is float else ArrayOps
        if self.needs_noise and not noise:
            raise ValueError(
                f"this market's components need random numbers each step "
                f"({list(self._normal_names + self._uniform_names)}): pass "
                "noise=dynamics.draw_noise(rng, shape)"
            )
        extras: dict[str, Any] = {}
        mid, q = state.mid, state.inventory
        # 1. size and quoted sides
        size = self._size_of(ops, size, extras)
        bid_depth = ops.clip(bid_depth, self._lo, self._hi)
        ask_depth = ops.clip(ask_depth, self._lo, self._hi)
        bid_quoted = q + size <= self._limit
        ask_quoted = q - size >= -self._limit
        bid_price = mid - bid_depth
        ask_price = mid + ask_depth
        # 2. quote frictions
        for f in self._quote_frictions:
            bid_price, ask_price, bid_depth, ask_depth = f.quote(ops, mid, bid_price, ask_price)
        # 3. arrival rates
        sell_rate: Any = self._sell_rate
        buy_rate: Any = self._buy_rate
        for modify in self._modifiers:
            sell_rate, buy_rate = modify(ops, state, sell_rate, buy_rate)
        # 4. fills
        p_bid, p_ask, n_sell, n_buy = self._sides(
            ops, bid_depth, ask_depth, sell_rate, buy_rate, noise, extras
        )
        bid_filled = bid_quoted & (u_bid < p_bid)
        ask_filled = ask_quoted & (u_ask < p_ask)
        # 5. accounting
        bought = size * bid_filled
        sold = size * ask_filled
        cash = state.cash - bought * bid_price + sold * ask_price
        for f in self._fill_frictions:
            cash = f.on_fills(ops, cash, bought, sold, extras)
        inventory = q + bought - sold
        step = state.step + 1
        # 6. mid
        move = self._move(ops, state, z)
        for term in self._terms:
            move = move + term(ops, state, noise, bid_filled, ask_filled)
        new_mid = self._advance_mid(ops, state, move, step)
        # 7. component states
        parts = state.parts
        if self._advancing:
            parts = dict(parts)
            for advance in self._advancing:
                advance(ops, state, parts, new_mid, z, noise, n_sell, n_buy)
        # 8. end
        terminated = step >= self._n_steps
        for f in self._end_frictions:
            cash = f.at_end(ops, cash, inventory, terminated, extras)
        wealth = cash + inventory * new_mid
        new_state = market_state(
            step=step, mid=new_mid, cash=cash, inventory=inventory, wealth=wealth, parts=parts
        )
        for c in self._state_info:
            extras.update(c.state_info(new_state))
        return step_result(
            state=new_state,
            prev_wealth=state.wealth,
            wealth=wealth,
            bid=bid_price,
            ask=ask_price,
            bid_quoted=bid_quoted,
            ask_quoted=ask_quoted,
            bid_filled=bid_filled,
            ask_filled=ask_filled,
            terminated=terminated,
            extras=extras,
        )

    # ------------------------------------------------------------ read-outs
    def time_remaining(self, step: Any) -> Any:
        """``T - t`` [sessions] after ``step`` steps (exactly 0 at the horizon)."""
        return (self._n_steps - step) * self._dt

    def observation_extras(self, state: MarketState) -> list[Any]:
        """The observation features of ``state``, in the config's ``obs_extras`` order."""
        return [observe(state) for observe in self.observers]

    def info_extras(self, result: StepResult | None, state: MarketState) -> dict[str, Any]:
        """The components' ``info`` entries (:attr:`info_keys`) after ``result`` (None: at
        reset, each component's reset values), floats or arrays of the state's shape."""
        if result is None:
            values: dict[str, Any] = {}
            for c in self.components:
                values.update(c.reset_info())
                values.update(c.state_info(state))
        else:
            values = result.extras
        if isinstance(state.mid, float):
            return {k: float(values[k]) for k in self.info_keys}
        shape = np.shape(state.mid)
        return {
            k: np.broadcast_to(np.asarray(values[k], dtype=np.float64), shape)
            for k in self.info_keys
        }

    def expected_mid_move(self) -> MidMoveExpectation:
        """``E[S' - S | S]`` of one step, or ValueError naming the components under which it
        depends on more than the mid (they move it predictably)."""
        parts = [(c.name, c.expected_move()) for c in (self.mid, *self.shocks)]
        unknown = [name for name, e in parts if e is None]
        if unknown:
            raise ValueError(
                f"E[S' - S | S] depends on more than the mid in this market: its components "
                f"{unknown} move the mid predictably"
            )
        return MidMoveExpectation(
            sum(e.relative for _, e in parts if e is not None),
            sum(e.absolute for _, e in parts if e is not None),
        )

    def observation_bounds(self) -> tuple[list[float], list[float]]:
        """Lower and upper bounds of the observation's components."""
        c = self.config
        mid_lo, mid_hi = self.mid.mid_bounds()
        low = [0.0, -c.inventory_limit, mid_lo] + [f.bounds[0] for f in self.features]
        high = [c.T, c.inventory_limit, mid_hi] + [f.bounds[1] for f in self.features]
        return low, high

    def observation_scales(self) -> dict[str, tuple[float, float]]:
        """``(offset, scale)`` per observation component for the fixed scaling."""
        c = self.config
        scales = {
            "time_remaining": (0.0, c.T),
            "inventory": (0.0, min(c.inventory_limit, 10.0 * c.order_size)),
            "mid": self.mid.observation_scale(),
        }
        scales.update({f.name: f.observation_scale() for f in self.features})
        return scales
