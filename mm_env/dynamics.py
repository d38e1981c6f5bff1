"""The one transition function of the model, shared by the scalar and the vector env.

:meth:`MarketDynamics.step` works on plain Python floats (the scalar env's fast path:
``math`` instead of numpy, no array allocation) and on numpy arrays of any shape (the
vector env), with the same arithmetic written once. Randomness is passed in (standard
normal ``z`` and two uniforms), so the function is pure and the market noise of an
episode does not depend on the actions taken (common random numbers).

One step of length ``dt``:

1. depths are clipped into ``[min_depth, max_depth]``; a side whose fill would take
   ``|q|`` past ``inventory_limit`` is not quoted;
2. each quoted side fills with probability ``p(delta)``: ``1 - exp(-A e^(-k delta) dt)``
   (poisson) or ``min(1, A e^(-k delta) dt)`` (bernoulli), independently;
3. accounting at the quotes: a bid fill buys ``order_size`` at ``S - delta_b``, an ask
   fill sells ``order_size`` at ``S + delta_a``;
4. the mid moves: ``S exp((mu - sigma^2/2) dt + sigma sqrt(dt) z)`` (gbm) or
   ``S + mu dt + sigma sqrt(dt) z`` (abm).
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np

from mm_env.config import MarketConfig


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

    @property
    def inventory(self) -> Any:
        """Inventory after the step."""
        return self.state.inventory


class _ScalarOps:
    """Elementary operations on Python floats."""

    exp = staticmethod(math.exp)
    expm1 = staticmethod(math.expm1)

    @staticmethod
    def clip(x: float, lo: float, hi: float) -> float:
        return lo if x < lo else (hi if x > hi else x)

    @staticmethod
    def minimum(x: float, y: float) -> float:
        return x if x < y else y

    @staticmethod
    def where(cond: bool, x: float, y: float) -> float:
        return x if cond else y


class _ArrayOps:
    """The same operations on numpy arrays (``np.clip`` avoided: it is slow on small arrays)."""

    exp = staticmethod(np.exp)
    expm1 = staticmethod(np.expm1)
    minimum = staticmethod(np.minimum)
    where = staticmethod(np.where)

    @staticmethod
    def clip(x: np.ndarray, lo: float, hi: float) -> np.ndarray:
        return np.minimum(np.maximum(x, lo), hi)


class MarketDynamics:
    """The model's transition for a given :class:`MarketConfig`, constants precomputed."""

    def __init__(self, config: MarketConfig) -> None:
        self.config = config
        dt = config.dt
        self._n_steps = config.n_steps
        self._size = config.order_size
        self._limit = config.inventory_limit
        self._lo = config.min_depth
        self._hi = config.max_depth
        self._neg_k = -config.k
        self._a_dt = config.A * dt
        self._poisson = config.fill_model == "poisson"
        self._gbm = config.mid_model == "gbm"
        self._vol = config.sigma * math.sqrt(dt)
        self._drift = (config.mu - 0.5 * config.sigma**2) * dt if self._gbm else config.mu * dt

    def initial_state(self, shape: tuple[int, ...] | None = None) -> MarketState:
        """The state at t = 0: mid ``S0``, no cash, no inventory (floats or ``shape`` arrays)."""
        c = self.config
        if shape is None:
            return MarketState(0, c.S0, 0.0, 0.0)
        return MarketState(
            np.zeros(shape, np.int64), np.full(shape, c.S0), np.zeros(shape), np.zeros(shape)
        )

    def fill_probability(self, depth: Any) -> Any:
        """Probability that a quote at ``depth`` (already clipped) fills within one step."""
        ops: Any = _ScalarOps if isinstance(depth, float) else _ArrayOps
        intensity_dt = self._a_dt * ops.exp(self._neg_k * depth)
        if self._poisson:
            return -ops.expm1(-intensity_dt)
        return ops.minimum(intensity_dt, 1.0)

    def step(
        self, state: MarketState, bid_depth: Any, ask_depth: Any, z: Any, u_bid: Any, u_ask: Any
    ) -> StepResult:
        """Advance ``state`` by one step.

        Args:
            state: current state (floats or arrays).
            bid_depth, ask_depth: requested depths [price units], finite; clipped here.
            z: standard normal draw(s) for the mid-price move.
            u_bid, u_ask: uniform [0, 1) draws deciding the fills.
        """
        ops: Any = _ScalarOps if isinstance(state.mid, float) else _ArrayOps
        mid, q, size = state.mid, state.inventory, self._size
        bid_depth = ops.clip(bid_depth, self._lo, self._hi)
        ask_depth = ops.clip(ask_depth, self._lo, self._hi)
        bid_quoted = q + size <= self._limit
        ask_quoted = q - size >= -self._limit
        bid_filled = bid_quoted & (u_bid < self.fill_probability(bid_depth))
        ask_filled = ask_quoted & (u_ask < self.fill_probability(ask_depth))
        bid_price = mid - bid_depth
        ask_price = mid + ask_depth
        bought = size * bid_filled
        sold = size * ask_filled
        cash = state.cash - bought * bid_price + sold * ask_price
        inventory = q + bought - sold
        if self._gbm:
            new_mid = mid * ops.exp(self._drift + self._vol * z)
        else:
            new_mid = mid + (self._drift + self._vol * z)
        step = state.step + 1
        new_state = MarketState(step, new_mid, cash, inventory)
        return StepResult(
            state=new_state,
            prev_wealth=state.cash + q * mid,
            wealth=cash + inventory * new_mid,
            bid=ops.where(bid_quoted, bid_price, math.nan),
            ask=ops.where(ask_quoted, ask_price, math.nan),
            bid_filled=bid_filled,
            ask_filled=ask_filled,
            terminated=step >= self._n_steps,
        )

    def time_remaining(self, step: Any) -> Any:
        """``T - t`` [sessions] after ``step`` steps (exactly 0 at the horizon)."""
        return (self._n_steps - step) * self.config.dt
