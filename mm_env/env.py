"""The scalar Gymnasium environment."""

from __future__ import annotations

import copy
import math
from typing import Any

import gymnasium as gym
import numpy as np

from mm_env.config import MarketConfig, resolve_config
from mm_env.dynamics import MarketDynamics
from mm_env.render import EpisodeHistory, check_render_mode, render_episode
from mm_env.rewards import get_reward
from mm_env.seeding import check_seed
from mm_env.snapshots import check_snapshot
from mm_env.spaces import (
    action_space,
    as_action,
    check_scalar_action,
    check_scalar_size,
    observation_space,
)
from mm_env.state import MarketState, StepResult

_NOISE_BLOCK = 4096  # steps of random numbers drawn per generator call
_isfinite = math.isfinite


class MarketMakingEnv(gym.Env[np.ndarray, np.ndarray]):
    """Single-agent market making in the Avellaneda-Stoikov model.

    ## Description

    A market maker quotes a bid ``S - delta_b`` and an ask ``S + delta_a`` around a mid-price
    ``S`` that follows geometric (``mid_model="gbm"``) or arithmetic (``"abm"``) Brownian
    motion. Market orders arrive on each side as a Poisson process of rate ``A`` and fill a
    quote at depth ``delta`` with probability ``e^(-k delta)``; a fill of ``order_size`` moves
    cash and inventory at the quoted price. The agent earns the spread and carries
    inventory risk. All parameters live in :class:`mm_env.MarketConfig`; the transition is
    :meth:`mm_env.dynamics.MarketDynamics.step`, shared with the vector env.

    Market components (:mod:`mm_env.components`), each off by default and selected by
    ``MarketConfig`` fields (equations and units in each component's module; presets
    ``"adverse"``, ``"alpha"``, ``"microstructure"``; more can be registered from user code,
    ``docs/extending.md``):

    - adverse selection: a fill is followed, with probability ``adverse_prob``, by a mid jump
      of ``adverse_jump`` against the market maker (down after a bid fill, up after an ask);
    - alpha signal: an OU drift ``a`` (``signal_std``, ``signal_decay``) moves the mid by
      ``a dt`` per step and tilts the order flow (``signal_flow``) towards the side about to
      lose; observed, possibly with noise (``signal_obs_noise``), via ``obs_extras``;
    - mid-price: Ornstein-Uhlenbeck (``ou_rate``, ``ou_mean``; exact in ``dt``), compound
      Poisson jumps (``jump_rate``, ``jump_mean``, ``jump_std``), or the replay of a price
      series (``replay``: CSV, ``.npy`` or array; random start per episode);
    - order flow: Hawkes arrivals (``hawkes_branching``, ``hawkes_decay``), asymmetric rates
      (``flow_skew``), power-law fill probability (``fill_shape="power"``, ``power_tail``);
    - frictions: price tick (``tick_size``, quotes snapped away from the mid), maker fee or
      rebate (``maker_fee``), terminal liquidation into a linear book
      (``liquidation_impact``), quote sizes (``size_action``, ``max_order_size``).

    ## Action Space

    ``Box(min_depth, max_depth, (2,), float32)``: ``[bid_depth, ask_depth]`` in price units,
    distances of the quotes from the current mid. Depths outside the box are clipped;
    non-finite depths raise ``ValueError``. A side is not quoted (cannot fill) when its fill
    would take ``|inventory|`` past ``inventory_limit``.

    With ``size_action=True``: ``Box((3,), float32)``, ``[bid_depth, ask_depth, size]`` with
    the quote size [shares] in ``[order_size, max_order_size]`` (clipped; both sides quote
    that size and a fill trades all of it). With ``tick_size > 0`` the quotes are snapped to
    the tick grid away from the mid (the depth actually quoted can exceed ``max_depth`` by up
    to one tick).

    ## Observation Space

    ``Box(float32, (3,))`` in raw units (no normalisation: use wrappers for that):

    | Num | Observation      | Unit     | Min                          | Max               |
    |-----|------------------|----------|------------------------------|-------------------|
    | 0   | time remaining   | sessions | 0                            | T                 |
    | 1   | inventory q      | shares   | -inventory_limit             | inventory_limit   |
    | 2   | mid-price S      | price    | 0 (gbm) / -inf (abm)         | inf               |

    followed by the ``obs_extras`` of the config, in the order listed there
    (:func:`mm_env.observation_names` gives the names):

    | Name           | Observation                                  | Unit          | Min | Max |
    |----------------|----------------------------------------------|---------------|-----|-----|
    | signal         | alpha signal + observation noise             | drift (of mu) | -inf| inf |
    | flow_imbalance | (R_buy - R_sell) / (R_buy + R_sell), R: EWMA | 1             | -1  | 1   |
    |                | of market orders per session (obs_halflife)  |               |     |     |
    | realized_vol   | sqrt(EWMA of (dx)^2 / dt), x = S (abm) or    | sigma's units | 0   | inf |
    |                | ln S (gbm), starting at sigma                |               |     |     |

    ## Rewards

    Selected by ``config.reward`` (see :mod:`mm_env.rewards`):

    - ``"pnl"`` (default): the change of mark-to-market wealth ``W = cash + q S``;
      the rewards of an episode sum to the terminal wealth.
    - ``"inventory_penalty"``: ``dW - phi q^2 dt`` per step and ``- alpha q_T^2`` at the end
      (Cartea-Jaimungal), ``q`` being the inventory held over the step's price move.

    Fees (``maker_fee * size`` per fill) and the terminal liquidation cost
    (``liquidation_impact * q_T^2 / 2``) are paid from cash, so they are part of ``W`` and of
    both rewards.

    ## Starting State

    ``S = S0``, cash 0, inventory 0, time remaining ``T``. With ``replay`` the mid starts at
    the series' value at a random offset (``replay_random_start``); the alpha signal starts
    from its stationary law, the Hawkes rates at their stationary mean, the flow averages at
    the stationary arrival rates and the realised variance at ``sigma^2``.

    ## Episode End

    - Termination: after ``n_steps`` steps (``t = T``); the remaining time is observed, so the
      horizon is part of the MDP.
    - Truncation: never by the env itself (add ``gymnasium.wrappers.TimeLimit`` if you want).

    ## Info

    ``mid``, ``cash``, ``inventory``, ``wealth`` after the step; ``bid`` and ``ask``, the
    prices of the step (after clipping and the tick), and ``bid_quoted``/``ask_quoted``
    (bools): a side not quoted (inventory limit) reports the price it would have had
    (``mid - bid_depth`` / ``mid + ask_depth``, clipped and snapped) with its flag False, so
    info holds no NaN (frameworks that check buffers for NaN, e.g. Tianshou, accept it); at
    reset both prices are the mid and both flags False; ``bid_filled`` and ``ask_filled``;
    ``step``. Only when their feature is on: ``signal`` (the true alpha),
    ``fees`` (paid this step), ``liquidation_cost`` (at the last step), ``arrivals_buy`` and
    ``arrivals_sell`` (market orders this step, when arrivals are counted: Hawkes or
    ``flow_imbalance``), ``size`` (the quote size; ``order_size`` at reset).

    ## Arguments

    ```python
    import gymnasium as gym
    import mm_env
    env = gym.make("mm_env/MarketMaking-v0", preset="as2008", sigma=1.0)
    # or: mm_env.MarketMakingEnv(config=None, *, preset=None, render_mode=None, **overrides)
    ```

    ``config``: a :class:`MarketConfig`; ``preset``: a preset name (default ``"default"``);
    ``overrides``: any ``MarketConfig`` field; ``render_mode``: ``None``, ``"ansi"`` or
    ``"rgb_array"``:

    - ``"ansi"``: ``render()`` returns one line of text (time, mid, inventory, cash, wealth,
      last quotes);
    - ``"rgb_array"``: ``render()`` returns an image ``(320, 480, 3)`` of ``np.uint8`` of the
      episode so far, drawn without any plotting library (:mod:`mm_env.render`): the mid
      (black) with the bid (blue) and ask (red) quoted at each step, the time axis spanning
      the whole episode, and the inventory in a strip below. Only in this mode does the env
      keep the per-step history the image needs.

    ## Version History

    - v0: initial version; ``render_mode="rgb_array"`` added later (dynamics unchanged);
      the market components added later, all off by default (with them off, trajectories
      are bit-for-bit those of the initial version); info without NaN (``bid_quoted``,
      ``ask_quoted``) added later.
    """

    metadata: dict[str, Any] = {"render_modes": ["ansi", "rgb_array"], "render_fps": 4}

    def __init__(
        self,
        config: MarketConfig | None = None,
        *,
        preset: str | None = None,
        render_mode: str | None = None,
        **overrides: Any,
    ) -> None:
        self.config = resolve_config(config, preset, overrides)
        self.render_mode = check_render_mode(render_mode, self.metadata["render_modes"], "the env")
        self.dynamics = MarketDynamics(self.config)
        self._reward = get_reward(self.config.reward)
        self.observation_space = observation_space(self.config, self.dynamics)
        self.action_space = action_space(self.config)
        self._state: MarketState | None = None
        self._last: StepResult | None = None
        self._z: list[float] = []
        self._u: list[float] = []
        self._noise: list[dict[str, float]] = []  # the components' draws, one dict per step
        self._noise_pos = 0
        self._width = len(self.dynamics.action_names)
        self._observers = self.dynamics.observers
        self._n_steps = self.config.n_steps
        self._dt = self.config.dt
        self._info_keys = self.dynamics.info_keys
        self._history: EpisodeHistory | None = None  # kept only for render_mode="rgb_array"

    # ------------------------------------------------------------------ API
    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=check_seed(seed))
        self._state = self.dynamics.initial_state(rng=self.np_random)
        self._last = None
        self._draw_noise()
        if self.render_mode == "rgb_array":
            self._history = EpisodeHistory(self._state.mid, self._state.inventory)
        return self._observation(), self._info()

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        if self._state is None:
            raise RuntimeError("call reset() before step()")
        if self._last is not None and self._last.terminated:
            raise RuntimeError("the episode has ended (terminated=True): call reset()")
        # fast path: a float ndarray of shape (width,), or a list/tuple of Python floats;
        # anything else is checked (and converted or refused) by as_action
        values = action.tolist() if type(action) is np.ndarray else action
        size = None
        if self._width == 2:
            try:
                bid, ask = values
            except Exception:
                bid = None
            if type(bid) is not float or type(ask) is not float:
                bid, ask = as_action(action, 2)  # raises, naming the expected shape
        else:
            try:
                bid, ask, size = values
            except Exception:
                bid = None
            if type(bid) is not float or type(ask) is not float or type(size) is not float:
                bid, ask, size = as_action(action, 3)
        if not (_isfinite(bid) and _isfinite(ask)):
            check_scalar_action(bid, ask)  # raises, naming the depths
        if size is not None and not _isfinite(size):
            check_scalar_size(size)
        i = self._noise_pos
        if i == len(self._z):
            self._draw_noise()
            i = 0
        self._noise_pos = i + 1
        result = self.dynamics.step(
            self._state,
            bid,
            ask,
            self._z[i],
            self._u[2 * i],
            self._u[2 * i + 1],
            self._noise[i],
            size,
        )
        self._state = result.state
        self._last = result
        if self._history is not None:
            s = result.state
            self._history.record(
                result.bid if result.bid_quoted else math.nan,
                result.ask if result.ask_quoted else math.nan,
                s.mid,
                s.inventory,
            )
        reward = float(self._reward(self.config, result))
        return self._observation(), reward, bool(result.terminated), False, self._info()

    def render(self) -> Any:  # str (ansi), an RGB array (rgb_array) or None
        if self.render_mode == "rgb_array":
            c = self.config
            return render_episode(self._history, c.n_steps, c.inventory_limit)
        if self.render_mode != "ansi" or self._state is None:
            return None
        s = self._state
        last = self._last
        quotes = (
            ""
            if last is None
            else (
                f" bid={f'{last.bid:.4f}' if last.bid_quoted else '-'}"
                f" ask={f'{last.ask:.4f}' if last.ask_quoted else '-'}"
            )
        )
        return (
            f"t={s.step * self.config.dt:.4f} mid={s.mid:.4f} q={s.inventory:g} "
            f"cash={s.cash:.4f} wealth={s.cash + s.inventory * s.mid:.4f}{quotes}"
        )

    # ---------------------------------------------------------------- state
    def get_state(self) -> dict[str, Any]:
        """A snapshot of everything the next steps depend on: the market state, the last
        step's result, the block of random numbers drawn ahead and the generator's state.

        A plain dict of Python/numpy values (picklable); :meth:`set_state` on an env built
        from the same config continues exactly as this env would. Checkpoints use it.
        """
        return copy.deepcopy(
            {
                "config": self.config,
                "market": self._state,
                "last": self._last,
                "noise": (self._z, self._u, self._noise, self._noise_pos),
                "rng": self.np_random.bit_generator.state,
                "history": self._history,
            }
        )

    def set_state(self, state: dict[str, Any]) -> None:
        """Restore a :meth:`get_state` snapshot (ValueError if it is from another market)."""
        check_snapshot(state, self.config)
        state = copy.deepcopy(state)
        self._state = state["market"]
        self._last = state["last"]
        self._z, self._u, self._noise, self._noise_pos = state["noise"]
        self.np_random.bit_generator.state = state["rng"]
        self._history = state["history"] if self.render_mode == "rgb_array" else None

    # -------------------------------------------------------------- helpers
    def _draw_noise(self) -> None:
        """Draw the next block of normals and uniforms in two generator calls, then the
        components' draws for the same steps."""
        n = min(self.config.n_steps, _NOISE_BLOCK)
        self._z = self.np_random.standard_normal(n).tolist()
        self._u = self.np_random.random(2 * n).tolist()
        self._noise_pos = 0
        extra = self.dynamics.draw_noise(self.np_random, (n,))
        if extra:
            names = list(extra)
            rows = zip(*(extra[name].tolist() for name in names), strict=True)
            self._noise = [dict(zip(names, row, strict=True)) for row in rows]
        else:
            self._noise = [{}] * n  # the base model draws nothing more (never mutated)

    def _observation(self) -> np.ndarray:
        s = self._state
        assert s is not None
        values = [(self._n_steps - s.step) * self._dt, s.inventory, s.mid]
        if self._observers:
            values += [observe(s) for observe in self._observers]
        return np.array(values, dtype=np.float32)

    def _info(self) -> dict[str, Any]:
        s = self._state
        assert s is not None
        last = self._last
        info = {
            "mid": s.mid,
            "cash": s.cash,
            "inventory": s.inventory,
            "wealth": s.cash + s.inventory * s.mid,
            "bid": s.mid if last is None else last.bid,
            "ask": s.mid if last is None else last.ask,
            "bid_quoted": False if last is None else last.bid_quoted,
            "ask_quoted": False if last is None else last.ask_quoted,
            "bid_filled": False if last is None else bool(last.bid_filled),
            "ask_filled": False if last is None else bool(last.ask_filled),
            "step": s.step,
        }
        if self._info_keys:
            info.update(self.dynamics.info_extras(last, s))
        return info
