"""The protocol of each kind of market component: the hooks the step calls.

Every hook works on Python floats and on numpy arrays alike: ``ops`` is
:class:`mm_env.ops.ScalarOps` or :class:`mm_env.ops.ArrayOps`, chosen once per step.
The order in which :meth:`mm_env.dynamics.MarketDynamics.step` calls them is the model's
(see :mod:`mm_env.dynamics`).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, ClassVar

from mm_env.components.base import Component, full
from mm_env.params import FieldSpec

if TYPE_CHECKING:
    from mm_env.config import MarketConfig
    from mm_env.state import MarketState


class QuoteSize(Component):
    """The size quoted on both sides [shares]."""

    kind = "size"
    action_names: tuple[str, ...] = ()
    """Action components this size adds after ``[bid_depth, ask_depth]``."""

    def size(self, ops: Any, requested: Any, extras: dict[str, Any]) -> Any:
        """The size of this step from the action's size component (None without one)."""
        raise NotImplementedError


class MidProcess(Component):
    """The mid-price's own dynamics; shocks are added to its move.

    A process is selected by ``config.mid_model == name`` (unless
    :attr:`selected_by_mid_model` is False and it overrides :meth:`applies`). Parameters of
    its own, beyond the :class:`~mm_env.config.MarketConfig` fields, are declared in
    :attr:`own_params` and given as ``config.mid_params``.
    """

    kind = "mid"
    multiplicative = False
    """Whether the move applies to ``ln S`` with ``S' = S e^(move)`` and jumps are
    compensated so that ``E[S'/S]`` is unchanged (gbm)."""
    selected_by_mid_model: ClassVar[bool] = True
    """Whether ``mid_model=name`` selects this process (the OU and replayed mids are
    selected by their own fields instead)."""
    own_params: ClassVar[dict[str, FieldSpec]] = {}
    """The declarations (doc, units, range) of the entries of ``config.mid_params``."""

    @classmethod
    def applies(cls, config: MarketConfig) -> bool:
        return config.mid_model == cls.name

    def __init__(self, config: MarketConfig) -> None:
        super().__init__(config)
        self.drift = 0.0
        """The deterministic part of the move per step [mid units] (after compensations)."""
        self.log_price = self.multiplicative or config.mid_model == "gbm"
        """Whether the mid's state variable is ``ln S`` (a multiplicative process, or any mid
        under ``mid_model="gbm"``): the mid is then positive and its increments are log
        returns."""

    def compensate(self, amount: float) -> None:
        """Subtract a shock's expected contribution from the drift of every step."""
        self.drift -= amount

    def initial_mid(self, parts: dict[str, Any], shape: tuple[int, ...] | None) -> Any:
        """The mid at t = 0 (``parts``: the components' initial state fields)."""
        return full(shape, self.config.S0)

    def move(self, ops: Any, state: MarketState, z: Any) -> Any:
        """The move of the mid's state variable before shocks, from the standard normal z."""
        raise NotImplementedError

    def advance_mid(self, ops: Any, state: MarketState, move: Any, step: Any) -> Any:
        """The new mid from the total move (shocks included) of step number ``step``."""
        raise NotImplementedError

    def increment(self, ops: Any, mid: Any, new_mid: Any) -> Any:
        """The step's increment of the state variable ``x`` (``ln S`` or ``S``)."""
        return ops.log(new_mid / mid) if self.log_price else new_mid - mid

    def mid_bounds(self) -> tuple[float, float]:
        """The mid's observation bounds."""
        return (0.0 if self.log_price else -math.inf, math.inf)

    def observation_scale(self) -> tuple[float, float]:
        """``(offset, scale)`` of the mid for the fixed observation scaling."""
        c = self.config
        return c.S0, max(c.price_sigma * math.sqrt(c.T), 1e-12)


class Shock(Component):
    """An additive term of the mid's move (in the mid's state variable)."""

    kind = "shock"

    def compensation(self, mid: MidProcess) -> float:
        """The amount the mid's drift is reduced by each step (0: none)."""
        return 0.0

    def term(self, ops: Any, state: MarketState, noise: dict[str, Any],
             bid_filled: Any, ask_filled: Any) -> Any:
        """This step's term of the move."""
        raise NotImplementedError


class FlowModel(Component):
    """The base arrival rates of market orders [orders/session] per side."""

    kind = "flow"

    def rates(self) -> tuple[float, float]:
        """``(sell_rate, buy_rate)``: sell orders hit the bid, buy orders lift the ask."""
        raise NotImplementedError


class FlowModifier(Component):
    """A state-dependent change of the arrival rates."""

    kind = "flow_modifier"

    def modify(self, ops: Any, state: MarketState, sell: Any, buy: Any) -> tuple[Any, Any]:
        """The rates after this modifier."""
        raise NotImplementedError


class FillShape(Component):
    """The probability ``h(d)`` that one market order reaches a quote at depth ``d``."""

    kind = "fill_shape"

    def reach(self, ops: Any, depth: Any) -> Any:
        """``h(depth)`` (may exceed 1 at negative depths, like the intensity ``A e^(-k d)``)."""
        raise NotImplementedError


class FillModel(Component):
    """How a quote fills within a step given its depth and the arrival rate."""

    kind = "fill_model"
    shape: FillShape
    """The market's fill shape (set by :meth:`bind`)."""

    def __init__(self, config: MarketConfig) -> None:
        super().__init__(config)
        self.dt = config.dt

    def bind(self, market: Any) -> None:
        self.shape = market.fill_shape

    def probability(self, ops: Any, depth: Any, rate_dt: Any) -> Any:
        """Probability that a quote at ``depth`` fills when ``rate_dt`` orders are expected."""
        raise NotImplementedError

    def sides(self, ops: Any, bid_depth: Any, ask_depth: Any, sell_rate: Any, buy_rate: Any,
              noise: dict[str, Any], extras: dict[str, Any]) -> tuple[Any, Any, Any, Any]:
        """``(p_bid, p_ask, arrivals_sell, arrivals_buy)`` of this step."""
        dt = self.dt
        return (self.probability(ops, bid_depth, sell_rate * dt),
                self.probability(ops, ask_depth, buy_rate * dt), 0.0, 0.0)


class Friction(Component):
    """A cost or constraint of trading: on the quotes, on the cash of fills, at the end."""

    kind = "friction"

    def quote(self, ops: Any, mid: Any, bid: Any, ask: Any) -> tuple[Any, Any, Any, Any]:
        """``(bid, ask, bid_depth, ask_depth)`` after this friction (quote frictions)."""
        return bid, ask, mid - bid, ask - mid

    def on_fills(self, ops: Any, cash: Any, bought: Any, sold: Any,
                 extras: dict[str, Any]) -> Any:
        """Cash after this friction's charge on the step's fills."""
        return cash

    def at_end(self, ops: Any, cash: Any, inventory: Any, terminated: Any,
               extras: dict[str, Any]) -> Any:
        """Cash after this friction's charge at the end of the episode."""
        return cash


class ObservationFeature(Component):
    """A column appended to the observation (selected by ``config.obs_extras``)."""

    kind = "feature"
    bounds: tuple[float, float] = (-math.inf, math.inf)

    @classmethod
    def applies(cls, config: MarketConfig) -> bool:
        return cls.name in config.obs_extras

    def observe(self, state: MarketState) -> Any:
        """The feature's value in ``state``."""
        raise NotImplementedError

    def observation_scale(self) -> tuple[float, float]:
        """``(offset, scale)`` for the fixed observation scaling."""
        return 0.0, 1.0
