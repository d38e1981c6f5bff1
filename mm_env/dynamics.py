"""The one transition function of the model, shared by the scalar and the vector env.

:meth:`MarketDynamics.step` works on plain Python floats (the scalar env's fast path:
``math`` instead of numpy, no array allocation) and on numpy arrays of any shape (the
vector env), with the same arithmetic written once. Randomness is passed in (standard
normal ``z``, two uniforms and, for the richer models, an :class:`ExtraNoise`), so the
function is pure and the market noise of an episode does not depend on the actions taken
(common random numbers): every draw is made whatever the actions, and how many draws a step
takes depends only on the config.

Base model: one step of length ``dt``
-------------------------------------

1. depths are clipped into ``[min_depth, max_depth]``; a side whose fill would take
   ``|q|`` past ``inventory_limit`` is not quoted;
2. each quoted side fills with probability ``p(delta)``: ``1 - exp(-A e^(-k delta) dt)``
   (poisson) or ``min(1, A e^(-k delta) dt)`` (bernoulli), independently;
3. accounting at the quotes: a bid fill buys ``order_size`` at ``S - delta_b``, an ask
   fill sells ``order_size`` at ``S + delta_a``;
4. the mid moves: ``S exp((mu - sigma^2/2) dt + sigma sqrt(dt) z)`` (gbm) or
   ``S + mu dt + sigma sqrt(dt) z`` (abm).

Richer markets (issue #6; every piece off by default): their equations and units, and the
general transition that runs when any of them is on, are in :mod:`mm_env.rich_dynamics`
(:class:`~mm_env.rich_dynamics.RichDynamicsMixin`, a base class of :class:`MarketDynamics`).
The data types of a step (:class:`MarketState`, :class:`ExtraNoise`, :class:`StepResult`)
live in :mod:`mm_env.state` and the float/array operations in :mod:`mm_env.ops`; all of them
are importable from here as before.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from mm_env.config import MarketConfig
from mm_env.ops import ArrayOps as _ArrayOps
from mm_env.ops import ScalarOps as _ScalarOps
from mm_env.rich_dynamics import RichDynamicsMixin
from mm_env.state import ExtraNoise, MarketState, StepResult


class MarketDynamics(RichDynamicsMixin):
    """The model's transition for a given :class:`MarketConfig`, constants precomputed.

    With every issue #6 feature off (``config.features == ()``) :meth:`step` runs the base
    model's arithmetic (the fast path); otherwise the general transition
    :meth:`_step_rich`, which with all features off computes exactly the same numbers
    (``tests/test_rich_dynamics.py`` checks that). The choice is made once, here.
    """

    def __init__(self, config: MarketConfig, *, general: bool = False) -> None:
        """``general=True`` forces the general transition even for the base model (tests)."""
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
        self._rich = general or bool(config.features)
        if self._rich:
            self._init_rich(config)

    @property
    def general(self) -> bool:
        """Whether :meth:`step` runs the general transition (some feature is on)."""
        return self._rich

    def initial_state(
        self, shape: tuple[int, ...] | None = None, rng: np.random.Generator | None = None
    ) -> MarketState:
        """The state at t = 0 (floats, or arrays of ``shape``).

        Base model: mid ``S0``, no cash, no inventory (``rng`` unused). With a replayed mid the
        episode's offset is drawn from ``rng`` (``replay_random_start``) and the mid is the
        series there; with the alpha signal it starts from its stationary law ``N(0, s_a^2)``
        (then its observation noise), so ``rng`` is required for those.
        """
        c = self.config
        if not self._rich:
            if shape is None:
                return MarketState(0, c.S0, 0.0, 0.0)
            def zeros() -> np.ndarray:
                return np.zeros(shape)

            return MarketState(
                np.zeros(shape, np.int64), np.full(shape, c.S0), zeros(), zeros(), zeros(),
                zeros(), zeros(), zeros(), zeros(), zeros(), zeros(), np.zeros(shape, np.int64),
            )
        return self._initial_state_rich(shape, rng)

    # ------------------------------------------------------------ transition
    def fill_probability(self, depth: Any) -> Any:
        """Probability that a quote at ``depth`` (already clipped) fills within one step, at
        the base arrival rate ``A`` (no skew, signal or Hawkes excitation)."""
        if self._rich:
            ops: Any = _ScalarOps if isinstance(depth, float) else _ArrayOps
            return self._fill_probability(ops, depth, self.config.A * self._dt)
        return self._base_fill_probability(depth)

    def _base_fill_probability(self, depth: Any) -> Any:
        ops: Any = _ScalarOps if isinstance(depth, float) else _ArrayOps
        intensity_dt = self._a_dt * ops.exp(self._neg_k * depth)
        if self._poisson:
            return -ops.expm1(-intensity_dt)
        return ops.minimum(intensity_dt, 1.0)

    def step(
        self,
        state: MarketState,
        bid_depth: Any,
        ask_depth: Any,
        z: Any,
        u_bid: Any,
        u_ask: Any,
        noise: ExtraNoise | None = None,
        size: Any = None,
    ) -> StepResult:
        """Advance ``state`` by one step.

        Args:
            state: current state (floats or arrays).
            bid_depth, ask_depth: requested depths [price units], finite; clipped here.
            z: standard normal draw(s) for the mid-price move.
            u_bid, u_ask: uniform [0, 1) draws deciding the fills.
            noise: the extra draws of the richer models (:meth:`draw_noise`); None for the
                base model.
            size: the quote size [shares] when ``size_action`` is on (clipped here).
        """
        if self._rich:
            return self._step_rich(state, bid_depth, ask_depth, z, u_bid, u_ask, noise, size)
        ops: Any = _ScalarOps if isinstance(state.mid, float) else _ArrayOps
        mid, q, size = state.mid, state.inventory, self._size
        bid_depth = ops.clip(bid_depth, self._lo, self._hi)
        ask_depth = ops.clip(ask_depth, self._lo, self._hi)
        bid_quoted = q + size <= self._limit
        ask_quoted = q - size >= -self._limit
        bid_filled = bid_quoted & (u_bid < self._base_fill_probability(bid_depth))
        ask_filled = ask_quoted & (u_ask < self._base_fill_probability(ask_depth))
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

    # ------------------------------------------------------------ read-outs
    def time_remaining(self, step: Any) -> Any:
        """``T - t`` [sessions] after ``step`` steps (exactly 0 at the horizon)."""
        return (self._n_steps - step) * self.config.dt

    def observation_extras(self, state: MarketState) -> list[Any]:
        """The ``obs_extras`` features of ``state``, in the config's order (floats or arrays).

        ``signal``: the observed alpha [drift units]; ``flow_imbalance``:
        ``(R_b - R_s) / (R_b + R_s)`` in [-1, 1]; ``realized_vol``: ``sqrt(v)``
        [mid units / sqrt(session)].
        """
        out: list[Any] = []
        for name in self.config.obs_extras:
            if name == "signal":
                out.append(state.signal_obs)
            elif name == "flow_imbalance":
                b, s = state.buy_rate, state.sell_rate
                out.append((b - s) / (b + s + 1e-300))  # 0 when no order at all is remembered
            else:
                out.append(state.variance**0.5)
        return out

    def info_extras(self, result: StepResult | None, state: MarketState) -> dict[str, Any]:
        """The extra ``info`` entries of this config (:attr:`info_keys`) after ``result``
        (None: at reset, when the per-step quantities are 0, the size NaN).

        ``signal``: the true alpha [drift units]; ``fees``: fees paid this step [price];
        ``liquidation_cost``: at the terminal step [price]; ``arrivals_buy``/``arrivals_sell``:
        market orders this step; ``size``: the quote size [shares].
        """
        out: dict[str, Any] = {}
        if not self._rich:
            return out
        batch = not isinstance(state.mid, float)
        shape = np.shape(state.mid)
        for key in self.info_keys:
            if key == "signal":
                value: Any = state.signal
            elif result is None:
                value = math.nan if key == "size" else 0.0
            else:
                value = getattr(result, key)
            if batch:
                value = np.broadcast_to(np.asarray(value, dtype=np.float64), shape)
            else:
                value = float(value)
            out[key] = value
        return out
