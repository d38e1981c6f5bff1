"""The data of one transition: the state, the richer models' extra noise, the step's result.

NamedTuples of floats (scalar env) or of numpy arrays of equal shape (vector env); the
transition that produces them is :meth:`mm_env.dynamics.MarketDynamics.step`.
"""

from __future__ import annotations

from typing import Any, NamedTuple


class MarketState(NamedTuple):
    """State of one market maker (floats) or of a batch (arrays of equal shape).

    The first four fields are the base model's. The others belong to the richer market
    models and are maintained only while their feature is on (otherwise they keep their
    default, 0).
    """

    step: Any
    """Steps taken so far, ``t = step * dt``."""
    mid: Any
    """Mid-price ``S`` [price units]."""
    cash: Any
    """Cash ``X`` [price units]."""
    inventory: Any
    """Inventory ``q`` [shares]."""
    signal: Any = 0.0
    """Alpha signal ``a`` [drift units] (``signal_std > 0``)."""
    signal_obs: Any = 0.0
    """The signal as the agent observes it, ``a + signal_obs_noise * eps``."""
    buy_excitation: Any = 0.0
    """Hawkes excitation ``Y_b`` of buy market orders [orders/session]."""
    sell_excitation: Any = 0.0
    """Hawkes excitation ``Y_s`` of sell market orders [orders/session]."""
    buy_rate: Any = 0.0
    """Exponential average of buy market orders per session (``flow_imbalance``)."""
    sell_rate: Any = 0.0
    """Exponential average of sell market orders per session (``flow_imbalance``)."""
    variance: Any = 0.0
    """Exponential average of squared mid moves per session [mid units^2/session]."""
    offset: Any = 0
    """Index of the replayed series at step 0 (``replay``)."""


class ExtraNoise(NamedTuple):
    """The random numbers of one step beyond the base model's ``z``, ``u_bid``, ``u_ask``.

    Floats (scalar path) or arrays (vector path); a field whose feature is off is None.
    Draw them with :meth:`mm_env.dynamics.MarketDynamics.draw_noise`.
    """

    signal: Any = None
    """Standard normal of the alpha signal's step."""
    signal_obs: Any = None
    """Standard normal of the signal's observation noise."""
    jump_count: Any = None
    """Number of exogenous jumps in the step, Poisson(jump_rate dt)."""
    jump: Any = None
    """Standard normal of the jumps' total size."""
    adverse_bid: Any = None
    """Uniform deciding the adverse jump after a bid fill."""
    adverse_ask: Any = None
    """Uniform deciding the adverse jump after an ask fill."""
    arrival_sell: Any = None
    """Uniform giving the count of sell market orders by inversion."""
    arrival_buy: Any = None
    """Uniform giving the count of buy market orders by inversion."""


class StepResult(NamedTuple):
    """Everything one transition produced; rewards are functions of it."""

    state: MarketState
    """State after the step (new mid, cash and inventory)."""
    prev_wealth: Any
    """Mark-to-market wealth ``X + q S`` before the step."""
    wealth: Any
    """Mark-to-market wealth after the step (at the new mid)."""
    bid: Any
    """Bid price quoted this step, NaN where the bid side was not quoted."""
    ask: Any
    """Ask price quoted this step, NaN where the ask side was not quoted."""
    bid_filled: Any
    """Whether the bid was hit (the market maker bought)."""
    ask_filled: Any
    """Whether the ask was lifted (the market maker sold)."""
    terminated: Any
    """Whether the horizon ``T`` is reached after this step."""
    fees: Any = 0.0
    """Fees paid this step [price units] (``maker_fee``; negative: rebates received)."""
    liquidation_cost: Any = 0.0
    """Cost of liquidating the terminal inventory [price units] (``liquidation_impact``)."""
    arrivals_buy: Any = 0.0
    """Buy market orders this step (when arrivals are counted)."""
    arrivals_sell: Any = 0.0
    """Sell market orders this step (when arrivals are counted)."""
    size: Any = None
    """Quote size of this step [shares] (with ``size_action``; None otherwise)."""

    @property
    def inventory(self) -> Any:
        """Inventory after the step."""
        return self.state.inventory
