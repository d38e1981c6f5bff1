"""The data of one transition: the market state and the step's result.

NamedTuples of floats (scalar env) or of numpy arrays of equal shape (vector env), always
built with keywords; the transition that produces them is
:meth:`mm_env.dynamics.MarketDynamics.step`. The market maker's own state (time, mid, cash,
inventory) are fields; each stateful market component keeps its slice, the named fields it
declares (``Component.state_fields``), in the flat dict ``parts`` (e.g.
``state.parts["buy_excitation"]`` of the Hawkes flow).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

#: The ``parts`` of a market without stateful components (shared, never mutated).
NO_PARTS: dict[str, Any] = {}


class MarketState(NamedTuple):
    """State of one market maker (floats) or of a batch (arrays of equal shape)."""

    step: Any
    """Steps taken so far, ``t = step * dt``."""
    mid: Any
    """Mid-price ``S`` [price units]."""
    cash: Any
    """Cash ``X`` [price units]."""
    inventory: Any
    """Inventory ``q`` [shares]."""
    wealth: Any
    """Mark-to-market wealth ``X + q S`` [price units], kept with the state so that the next
    step's reward needs no recomputation (build hand-made states with :func:`make_state`,
    which computes it)."""
    parts: dict[str, Any]
    """The stateful components' fields, by field name (never mutated: a step makes a new
    dict)."""


class StepResult(NamedTuple):
    """Everything one transition produced; rewards are functions of it."""

    state: MarketState
    """State after the step (new mid, cash and inventory)."""
    prev_wealth: Any
    """Mark-to-market wealth ``X + q S`` before the step."""
    wealth: Any
    """Mark-to-market wealth after the step (at the new mid)."""
    bid: Any
    """Bid price of this step (after clipping and the tick): the quote where
    :attr:`bid_quoted`, else the price the bid would have had (finite either way)."""
    ask: Any
    """Ask price of this step, as :attr:`bid` (see :attr:`ask_quoted`)."""
    bid_quoted: Any
    """Whether the bid was quoted (False where a fill would take inventory past the limit)."""
    ask_quoted: Any
    """Whether the ask was quoted."""
    bid_filled: Any
    """Whether the bid was hit (the market maker bought)."""
    ask_filled: Any
    """Whether the ask was lifted (the market maker sold)."""
    terminated: Any
    """Whether the horizon ``T`` is reached after this step."""
    extras: dict[str, Any]
    """The components' per-step quantities (their ``info_keys``: ``fees``,
    ``liquidation_cost``, ``arrivals_buy``, ``arrivals_sell``, ``size``, ``signal``, ...)."""

    @property
    def inventory(self) -> Any:
        """Inventory after the step."""
        return self.state.inventory


_new = tuple.__new__


def market_state(*, step: Any, mid: Any, cash: Any, inventory: Any, wealth: Any,
                 parts: dict[str, Any]) -> MarketState:
    """``MarketState(step=..., ...)`` at the cost of a positional tuple (a NamedTuple's own
    keyword construction takes twice as long, which the scalar env's step would feel)."""
    return _new(MarketState, (step, mid, cash, inventory, wealth, parts))


def make_state(*, step: Any, mid: Any, cash: Any, inventory: Any,
               parts: dict[str, Any] | None = None) -> MarketState:
    """A state with its wealth ``cash + inventory * mid`` computed (and no component fields
    unless given)."""
    return MarketState(step=step, mid=mid, cash=cash, inventory=inventory,
                       wealth=cash + inventory * mid, parts=NO_PARTS if parts is None else parts)


def step_result(*, state: MarketState, prev_wealth: Any, wealth: Any, bid: Any, ask: Any,
                bid_quoted: Any, ask_quoted: Any, bid_filled: Any, ask_filled: Any,
                terminated: Any, extras: dict[str, Any]) -> StepResult:
    """``StepResult(state=..., ...)`` at the cost of a positional tuple."""
    return _new(StepResult, (state, prev_wealth, wealth, bid, ask, bid_quoted, ask_quoted,
                             bid_filled, ask_filled, terminated, extras))


def where_state(mask: np.ndarray, new: MarketState, old: MarketState) -> MarketState:
    """Per sub-env: ``new`` where ``mask`` else ``old`` (every field and every slice)."""
    parts = {name: np.where(mask, value, old.parts[name]) for name, value in new.parts.items()}
    return MarketState(
        step=np.where(mask, new.step, old.step),
        mid=np.where(mask, new.mid, old.mid),
        cash=np.where(mask, new.cash, old.cash),
        inventory=np.where(mask, new.inventory, old.inventory),
        wealth=np.where(mask, new.wealth, old.wealth),
        parts=parts,
    )
