"""The richer markets' transition (issue #6): the general step of ``MarketDynamics``.

:class:`RichDynamicsMixin` is the part of :class:`mm_env.dynamics.MarketDynamics` that only
the richer market models use: the set-up of their constants, the draw of their extra random
numbers (:class:`~mm_env.state.ExtraNoise`), their initial state, and the general transition
:meth:`~RichDynamicsMixin._step_rich` with its helpers. ``MarketDynamics`` inherits it and
chooses once, on construction, between its base fast path and this general transition,
which like the base step works on Python floats and on numpy arrays alike (:mod:`mm_env.ops`):
one transition for the scalar and the vector env.

Richer markets (issue #6; every piece off by default)
-----------------------------------------------------

Units: "mid units" are those of ``sigma`` (log-price under gbm, price units under abm),
"drift units" those of ``mu`` (1/session under gbm, price/session under abm); ``x`` below is
the mid's state variable (``ln S`` under gbm, ``S`` under abm). With any piece on, the step
runs the general transition :meth:`RichDynamicsMixin._step_rich`, in this order:

1. **Size.** With ``size_action`` the quote size ``s`` is the action's third component clipped
   into ``[order_size, max_order_size]`` [shares]; else ``s = order_size``. A side is quoted
   iff its fill keeps ``|q| <= inventory_limit``.
2. **Tick.** With ``tick_size = h > 0`` the quotes are snapped to the grid away from the mid:
   ``bid = h floor((S - delta_b)/h)``, ``ask = h ceil((S + delta_a)/h)`` (values within 1e-9
   ticks of a grid point count as on it, and a bid requested at or below the mid never ends
   above it, an ask never below it). The fill probabilities use the effective depths
   ``S - bid`` and ``ask - S`` (at most one tick beyond ``max_depth``).
3. **Arrival rates** [orders/session]: sell market orders (hitting the bid) at
   ``lambda_s = A (1 - rho) e^(-beta a) + Y_s``, buy market orders (lifting the ask) at
   ``lambda_b = A (1 + rho) e^(beta a) + Y_b``, with ``rho = flow_skew``,
   ``beta = signal_flow``, ``a`` the alpha signal and ``Y`` the Hawkes excitation (0 without
   Hawkes). A positive signal (price about to rise) brings buyers: the flow tilts towards the
   market maker's side that is about to lose.
4. **Fills.** A market order reaches depth ``d`` with probability ``h(d) = e^(-k d)``
   (``fill_shape="exponential"``) or ``(1 + k d / m)^(-m)`` (``"power"``, ``m = power_tail``:
   the same slope ``-k`` at ``d = 0``, a heavier tail, ``e^(-k d)`` as ``m -> inf``).

   - Arrivals not counted (default): the side fills with probability
     ``1 - exp(-lambda h(d) dt)`` (poisson) or ``min(1, lambda h(d) dt)`` (bernoulli).
   - Arrivals counted (Hawkes, or the ``flow_imbalance`` feature; poisson only): the step's
     market orders per side are ``N ~ Poisson(lambda dt)`` (by inversion of a uniform) and the
     quote fills iff one of them reaches it: ``P(fill | N) = 1 - (1 - min(1, h(d)))^N``. With a
     constant rate this is the poisson fill model again: ``E[1 - (1-h)^N] = 1 - e^(-lambda h dt)``.
5. **Accounting.** ``q += s`` on a bid fill, ``q -= s`` on an ask fill; cash moves at the
   (snapped) quotes and pays ``maker_fee * s`` per fill (negative fee: a rebate):
   ``X' = X - s 1_b bid + s 1_a ask - f s (1_b + 1_a)``.
6. **Mid.** ``x' = x + drift + sigma sqrt(dt) z + a dt + J + eta (1_up - 1_down)`` where

   - ``J`` (``jump_rate = lJ > 0``): compound Poisson jumps ``J = K m + sqrt(K) s_J z_J``,
     ``K ~ Poisson(lJ dt)``, each jump ``N(m, s_J^2)`` in mid units (Merton). They are
     compensated: under gbm ``drift -= lJ (e^(m + s_J^2/2) - 1) dt`` so ``E[S'/S]`` is
     unchanged, under abm/OU ``drift -= lJ m dt``;
   - adverse selection (``adverse_prob = p``, ``adverse_jump = eta``): after a bid fill, with
     probability ``p`` a downward jump ``1_down``; after an ask fill, with probability ``p`` an
     upward one ``1_up`` (fill-triggered: information the fill carried);
   - Ornstein-Uhlenbeck (``ou_rate = kappa > 0``, ``mu = 0``): the exact OU step around
     ``xbar = ou_mean`` (``ln ou_mean`` under gbm), ``x' = xbar + (x - xbar) e^(-kappa dt)
     + sigma sqrt((1 - e^(-2 kappa dt)) / (2 kappa)) z + ...`` (the other terms as above; no
     Ito term, as it is ``ln S`` that is OU under gbm);
   - replay (``replay`` set): ``S_i = P_(o + i)``, the series at the episode's offset ``o``;
     nothing else moves it.

   Under gbm ``S' = e^(x')``, i.e. ``S' = S exp(...)``; under abm ``S' = x'``.
7. **Alpha signal** (``signal_std = s_a > 0``, ``signal_decay = kappa_a``): exact OU
   ``a' = a e^(-kappa_a dt) + s_a sqrt(1 - e^(-2 kappa_a dt)) z_a`` (stationary
   ``N(0, s_a^2)``, started from it); it adds ``a dt`` to the mid's state variable each step
   (drift units) and is observed as ``a + signal_obs_noise * eps`` (fresh ``eps`` each step).
8. **Hawkes excitation** (``hawkes_branching = n``, ``hawkes_decay = kappa_H``): per side,
   ``Y' = Y e^(-kappa_H dt) + n (1 - e^(-kappa_H dt)) / dt * N``, the kernel
   ``n kappa_H e^(-kappa_H t)`` integrated over an arrival time uniform in the step. The
   stationary mean rate is exactly ``A (1 +- rho) / (1 - n)``; ``Y`` starts there.
9. **Observation averages** (weight ``w = 2^(-dt / obs_halflife)``): arrival rates
   ``R' = w R + (1 - w) N / dt`` per side (``flow_imbalance = (R_b - R_s)/(R_b + R_s)``,
   starting at the stationary rates), and realised variance ``v' = w v + (1 - w) r^2 / dt``
   with ``r = x' - x`` (``realized_vol = sqrt(v)`` [mid units / sqrt(session)], starting at
   ``sigma``).
10. **Liquidation** (``liquidation_impact = lambda_L > 0``): at the terminal step the inventory
    is sold into a linear book (a market order walking a price impact ``lambda_L`` per share),
    at the average price ``S' -+ lambda_L |q|/2``: cash pays ``lambda_L q^2 / 2``, so the
    terminal wealth ``X + q S'`` is the liquidation value.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from mm_env.config import MarketConfig
from mm_env.ops import ArrayOps, ScalarOps
from mm_env.state import ExtraNoise, MarketState, StepResult


class RichDynamicsMixin:
    """The general transition and its companions, mixed into :class:`MarketDynamics`.

    Uses the base model's constants that ``MarketDynamics.__init__`` sets (declared below);
    everything else it needs is set by :meth:`_init_rich`, which runs only when the general
    transition is used.
    """

    # set by MarketDynamics.__init__
    config: MarketConfig
    _rich: bool
    _n_steps: int
    _size: float
    _limit: float
    _lo: float
    _hi: float
    _neg_k: float
    _poisson: bool
    _gbm: bool
    _vol: float
    _drift: float

    # ---------------------------------------------------------------- set-up
    def _init_rich(self, c: MarketConfig) -> None:
        dt = c.dt
        self._dt = dt
        self._size_action = c.size_action
        self._max_size = c.max_order_size
        self._tick = c.tick_size
        self._sell_base = c.A * (1.0 - c.flow_skew)
        self._buy_base = c.A * (1.0 + c.flow_skew)
        self._power = c.fill_shape == "power"
        self._power_c = c.k / c.power_tail
        self._neg_tail = -c.power_tail
        self._counts = c.counts_arrivals
        self._hawkes = c.hawkes_branching > 0
        decay_h = math.exp(-c.hawkes_decay * dt)
        self._hawkes_decay = decay_h
        self._hawkes_jump = c.hawkes_branching * (1.0 - decay_h) / dt
        n = c.hawkes_branching
        self._buy_stationary = self._buy_base / (1.0 - n)
        self._sell_stationary = self._sell_base / (1.0 - n)
        self._fee = c.maker_fee
        self._liquidation = c.liquidation_impact > 0
        self._liq = 0.5 * c.liquidation_impact
        self._replay = c.replay is not None
        self._series = None if c.replay is None else c.replay.values
        self._random_start = c.replay_random_start
        # mid
        self._ou = c.ou_rate > 0
        drift = self._drift
        vol = self._vol
        if self._ou:
            self._ou_decay = math.exp(-c.ou_rate * dt)
            self._ou_level = math.log(c.ou_level) if self._gbm else c.ou_level
            vol = c.sigma * math.sqrt(-math.expm1(-2.0 * c.ou_rate * dt) / (2.0 * c.ou_rate))
            drift = 0.0  # mu = 0 (validated); no Ito term: x = ln S itself is OU under gbm
        self._jumps = c.jump_rate > 0
        self._jump_lam = c.jump_rate * dt
        self._jump_m = c.jump_mean
        self._jump_s = c.jump_std
        if self._jumps:
            if self._gbm and not self._ou:
                drift -= c.jump_rate * math.expm1(c.jump_mean + 0.5 * c.jump_std**2) * dt
            else:
                drift -= c.jump_rate * c.jump_mean * dt
        self._rich_drift = drift
        self._rich_vol = vol
        self._adverse = c.adverse_prob > 0 and c.adverse_jump > 0
        self._adverse_p = c.adverse_prob
        self._eta = c.adverse_jump
        # signal
        self._signal = c.signal_std > 0
        phi = math.exp(-c.signal_decay * dt)
        self._signal_phi = phi
        self._signal_vol = c.signal_std * math.sqrt(-math.expm1(-2.0 * c.signal_decay * dt))
        self._signal_std = c.signal_std
        self._signal_obs = c.signal_obs_noise
        self._beta = c.signal_flow
        self._tilt = c.signal_flow > 0
        # observation averages
        self._extras = c.obs_extras
        self._track_flow = "flow_imbalance" in c.obs_extras
        self._track_vol = "realized_vol" in c.obs_extras
        self._w = 0.5 ** (dt / c.obs_halflife)
        self._sigma2 = c.sigma**2
        # noise layout: which ExtraNoise fields are drawn, as normals / uniforms
        normals = []
        if self._signal:
            normals.append("signal")
            if self._signal_obs > 0:
                normals.append("signal_obs")
        if self._jumps:
            normals.append("jump")
        uniforms = []
        if self._adverse:
            uniforms += ["adverse_bid", "adverse_ask"]
        if self._counts:
            uniforms += ["arrival_sell", "arrival_buy"]
        self._normal_names = tuple(normals)
        self._uniform_names = tuple(uniforms)
        self.needs_noise = bool(normals or uniforms or self._jumps)
        """Whether :meth:`step` needs an :class:`ExtraNoise` (see :meth:`draw_noise`)."""
        keys = []
        if self._signal:
            keys.append("signal")
        if self._fee != 0:
            keys.append("fees")
        if self._liquidation:
            keys.append("liquidation_cost")
        if self._counts:
            keys += ["arrivals_buy", "arrivals_sell"]
        if self._size_action:
            keys.append("size")
        self.info_keys: tuple[str, ...] = tuple(keys)
        """Keys the envs add to ``info`` for this config (see :meth:`info_extras`)."""

    # ------------------------------------------------------------ randomness
    def draw_noise(self, rng: np.random.Generator, shape: tuple[int, ...]) -> ExtraNoise:
        """The :class:`ExtraNoise` of ``shape`` steps/envs, drawn from ``rng``.

        One call per kind (normals, uniforms, jump counts), in that order; how many numbers
        are drawn depends only on the config and ``shape``, never on actions or state.
        Returns an all-None ExtraNoise for the base model (and draws nothing).
        """
        if not self._rich or not self.needs_noise:
            return ExtraNoise()
        values: dict[str, Any] = {}
        if self._normal_names:
            normals = rng.standard_normal((len(self._normal_names), *shape))
            values.update(zip(self._normal_names, normals, strict=True))
        if self._uniform_names:
            uniforms = rng.random((len(self._uniform_names), *shape))
            values.update(zip(self._uniform_names, uniforms, strict=True))
        if self._jumps:
            values["jump_count"] = rng.poisson(self._jump_lam, shape).astype(np.float64)
        return ExtraNoise(**values)

    def _initial_state_rich(
        self, shape: tuple[int, ...] | None, rng: np.random.Generator | None
    ) -> MarketState:
        """:meth:`MarketDynamics.initial_state` of the general transition."""
        c = self.config
        random = (self._replay and self._random_start) or self._signal
        if random and rng is None:
            raise ValueError(
                f"initial_state needs rng (a numpy Generator) for this config: its features "
                f"{list(c.features)} start from a random state"
            )
        scalar = shape is None
        dims: tuple[int, ...] = () if shape is None else shape

        def full(value: float) -> Any:
            return float(value) if scalar else np.full(dims, float(value))

        offset: Any = 0 if scalar else np.zeros(shape, np.int64)
        mid: Any = full(c.S0)
        if self._replay:
            assert self._series is not None
            if self._random_start:
                assert rng is not None
                high = self._series.size - self._n_steps
                offset = int(rng.integers(high)) if scalar else rng.integers(high, size=dims)
            mid = float(self._series[offset]) if scalar else self._series[offset]
        signal: Any = full(0.0)
        signal_obs = signal
        if self._signal:
            assert rng is not None
            size = None if scalar else dims
            signal = self._signal_std * rng.standard_normal(size)
            signal_obs = signal
            if self._signal_obs > 0:
                signal_obs = signal + self._signal_obs * rng.standard_normal(size)
            if scalar:
                signal, signal_obs = float(signal), float(signal_obs)
        n = c.hawkes_branching
        return MarketState(
            0 if scalar else np.zeros(shape, np.int64),
            mid,
            full(0.0),
            full(0.0),
            signal,
            signal_obs,
            full(n * self._buy_stationary if self._hawkes else 0.0),
            full(n * self._sell_stationary if self._hawkes else 0.0),
            full(self._buy_stationary if self._track_flow else 0.0),
            full(self._sell_stationary if self._track_flow else 0.0),
            full(self._sigma2 if self._track_vol else 0.0),
            offset,
        )

    # ------------------------------------------------------------ transition
    def _reach(self, ops: Any, depth: Any) -> Any:
        """Probability ``h(d)`` that one market order reaches depth ``d`` (may exceed 1 for
        negative depths, as in the base model's intensity ``A e^(-k d)``)."""
        if self._power:
            return (1.0 + self._power_c * depth) ** self._neg_tail
        return ops.exp(self._neg_k * depth)

    def _fill_probability(self, ops: Any, depth: Any, rate_dt: Any) -> Any:
        intensity_dt = rate_dt * self._reach(ops, depth)
        if self._poisson:
            return -ops.expm1(-intensity_dt)
        return ops.minimum(intensity_dt, 1.0)

    def _snap(self, ops: Any, mid: Any, bid_price: Any, ask_price: Any) -> tuple[Any, Any]:
        """Quotes on the tick grid, away from the mid (module doc, step 2)."""
        h = self._tick
        nb = ops.floor(bid_price / h + 1e-9)
        na = ops.ceil(ask_price / h - 1e-9)
        bid = nb * h
        ask = na * h
        # a quote requested on its own side of the mid stays there (rounding guard)
        bid = ops.where((bid > mid) & (bid_price <= mid), (nb - 1.0) * h, bid)
        ask = ops.where((ask < mid) & (ask_price >= mid), (na + 1.0) * h, ask)
        return bid, ask

    def _step_rich(
        self,
        state: MarketState,
        bid_depth: Any,
        ask_depth: Any,
        z: Any,
        u_bid: Any,
        u_ask: Any,
        noise: ExtraNoise | None,
        size: Any,
    ) -> StepResult:
        """The general transition (module doc, "Richer markets"), floats or arrays."""
        ops: Any = ScalarOps if isinstance(state.mid, float) else ArrayOps
        if noise is None:
            if self.needs_noise:
                raise ValueError(
                    f"this config's features {list(self.config.features)} need extra random "
                    "numbers each step: pass noise=dynamics.draw_noise(rng, shape)"
                )
            noise = ExtraNoise()
        mid, q = state.mid, state.inventory
        # 1. size and quoted sides
        if self._size_action:
            if size is None:
                raise ValueError("size_action=True: step needs the quote size (size=...)")
            size = ops.clip(size, self._size, self._max_size)
        else:
            size = self._size
        bid_depth = ops.clip(bid_depth, self._lo, self._hi)
        ask_depth = ops.clip(ask_depth, self._lo, self._hi)
        bid_quoted = q + size <= self._limit
        ask_quoted = q - size >= -self._limit
        bid_price = mid - bid_depth
        ask_price = mid + ask_depth
        # 2. tick
        if self._tick > 0:
            bid_price, ask_price = self._snap(ops, mid, bid_price, ask_price)
            bid_depth = mid - bid_price
            ask_depth = ask_price - mid
        # 3. arrival rates [orders/session]
        a = state.signal
        sell_rate: Any = self._sell_base
        buy_rate: Any = self._buy_base
        if self._tilt:
            tilt = ops.exp(self._beta * a)
            buy_rate = buy_rate * tilt
            sell_rate = sell_rate / tilt
        if self._hawkes:
            buy_rate = buy_rate + state.buy_excitation
            sell_rate = sell_rate + state.sell_excitation
        # 4. fills
        dt = self._dt
        n_sell: Any = 0.0
        n_buy: Any = 0.0
        if self._counts:
            n_sell = ops.poisson_inverse(sell_rate * dt, noise.arrival_sell)
            n_buy = ops.poisson_inverse(buy_rate * dt, noise.arrival_buy)
            miss_bid = 1.0 - ops.minimum(self._reach(ops, bid_depth), 1.0)
            miss_ask = 1.0 - ops.minimum(self._reach(ops, ask_depth), 1.0)
            p_bid = 1.0 - miss_bid**n_sell
            p_ask = 1.0 - miss_ask**n_buy
        else:
            p_bid = self._fill_probability(ops, bid_depth, sell_rate * dt)
            p_ask = self._fill_probability(ops, ask_depth, buy_rate * dt)
        bid_filled = bid_quoted & (u_bid < p_bid)
        ask_filled = ask_quoted & (u_ask < p_ask)
        # 5. accounting
        bought = size * bid_filled
        sold = size * ask_filled
        cash = state.cash - bought * bid_price + sold * ask_price
        fees: Any = 0.0
        if self._fee != 0:
            fees = self._fee * (bought + sold)
            cash = cash - fees
        inventory = q + bought - sold
        step = state.step + 1
        # 6. mid
        if self._replay:
            assert self._series is not None
            index = state.offset + step
            new_mid = float(self._series[index]) if ops is ScalarOps else self._series[index]
        else:
            move = self._rich_drift + self._rich_vol * z
            if self._signal:
                move = move + dt * a
            if self._jumps:
                k = noise.jump_count
                move = move + (k * self._jump_m + ops.sqrt(k) * self._jump_s * noise.jump)
            if self._adverse:
                up = ask_filled & (noise.adverse_ask < self._adverse_p)
                down = bid_filled & (noise.adverse_bid < self._adverse_p)
                move = move + (self._eta * up - self._eta * down)
            if self._ou:
                x = ops.log(mid) if self._gbm else mid
                x_new = self._ou_level + (x - self._ou_level) * self._ou_decay + move
                new_mid = ops.exp(x_new) if self._gbm else x_new
            elif self._gbm:
                new_mid = mid * ops.exp(move)
            else:
                new_mid = mid + move
        # 7. signal
        signal, signal_obs = a, state.signal_obs
        if self._signal:
            signal = a * self._signal_phi + self._signal_vol * noise.signal
            signal_obs = signal
            if self._signal_obs > 0:
                signal_obs = signal + self._signal_obs * noise.signal_obs
        # 8. Hawkes
        buy_exc, sell_exc = state.buy_excitation, state.sell_excitation
        if self._hawkes:
            buy_exc = buy_exc * self._hawkes_decay + self._hawkes_jump * n_buy
            sell_exc = sell_exc * self._hawkes_decay + self._hawkes_jump * n_sell
        # 9. observation averages
        w = self._w
        buy_avg, sell_avg, variance = state.buy_rate, state.sell_rate, state.variance
        if self._track_flow:
            buy_avg = w * buy_avg + (1.0 - w) / dt * n_buy
            sell_avg = w * sell_avg + (1.0 - w) / dt * n_sell
        if self._track_vol:
            r = ops.log(new_mid / mid) if self._gbm else new_mid - mid
            variance = w * variance + (1.0 - w) / dt * (r * r)
        # 10. end and liquidation
        terminated = step >= self._n_steps
        liquidation: Any = 0.0
        if self._liquidation:
            liquidation = self._liq * (inventory * inventory) * terminated
            cash = cash - liquidation
        new_state = MarketState(
            step, new_mid, cash, inventory, signal, signal_obs, buy_exc, sell_exc,
            buy_avg, sell_avg, variance, state.offset,
        )
        return StepResult(
            state=new_state,
            prev_wealth=state.cash + q * mid,
            wealth=cash + inventory * new_mid,
            bid=ops.where(bid_quoted, bid_price, math.nan),
            ask=ops.where(ask_quoted, ask_price, math.nan),
            bid_filled=bid_filled,
            ask_filled=ask_filled,
            terminated=terminated,
            fees=fees,
            liquidation_cost=liquidation,
            arrivals_buy=n_buy,
            arrivals_sell=n_sell,
            size=size,
        )
