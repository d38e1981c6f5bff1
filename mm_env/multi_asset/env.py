"""The scalar multi-asset Gymnasium environment."""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping
from typing import Any

import gymnasium as gym
import numpy as np

from mm_env.config import given_config
from mm_env.multi_asset.config import MultiAssetConfig
from mm_env.multi_asset.dynamics import MultiAssetDynamics, MultiAssetState, MultiAssetStepResult
from mm_env.multi_asset.spaces import (
    action_space,
    as_multi_action,
    check_finite_action,
    observation_space,
)
from mm_env.render import check_render_mode
from mm_env.seeding import check_seed
from mm_env.snapshots import check_snapshot

_NOISE_BLOCK = 4096  # steps of random numbers drawn per generator call (as the single env)
_isfinite = math.isfinite
_float32 = np.float32

#: The info keys: per-asset arrays of shape ``(n,)`` (floats, then bool flags), then floats.
ASSET_INFO_KEYS = ("mid", "inventory", "bid", "ask")
FLAG_INFO_KEYS = ("bid_quoted", "ask_quoted", "bid_filled", "ask_filled")
INFO_KEYS = (*ASSET_INFO_KEYS, *FLAG_INFO_KEYS, "cash", "wealth", "step")


def resolve_multi_config(
    config: MultiAssetConfig | None, preset: str | None, overrides: Mapping[str, Any]
) -> MultiAssetConfig:
    """The config an env is built from: ``config`` or ``preset`` (none: the class defaults),
    plus keyword overrides."""
    given = given_config(config, preset, overrides, MultiAssetConfig)
    if given is not None:
        return given
    if preset is None:
        return MultiAssetConfig.from_dict(overrides)
    return MultiAssetConfig.preset(preset, **overrides)


class MultiAssetMarketMakingEnv(gym.Env[np.ndarray, np.ndarray]):
    """One market maker quoting a bid and an ask on each of ``n`` correlated assets.

    ## Description

    Asset ``i`` has a mid-price ``S_i`` following arithmetic (``mid_model="abm"``,
    ``S_i + mu_i dt + sigma_i sqrt(dt) Z_i``) or geometric (``"gbm"``,
    ``S_i exp((mu_i - sigma_i^2/2) dt + sigma_i sqrt(dt) Z_i)``) Brownian motion, the normals
    ``Z ~ N(0, rho)`` correlated across assets (``Z = L eps``, ``L`` a Cholesky factor of
    ``rho``, or an eigen factor when ``rho`` is singular). Each asset is the single-asset
    market of :class:`mm_env.MarketMakingEnv` with its own ``A_i``, ``k_i``, order size,
    inventory limit, depth range and tick: each side of each asset fills independently, with
    probability ``1 - exp(-A_i e^(-k_i delta) dt)`` (``fill_model="poisson"``) or
    ``min(1, A_i e^(-k_i delta) dt)`` (``"bernoulli"``), at the quoted price. The assets are
    coupled by the correlation and by the penalty on the joint inventory. Parameters:
    :class:`mm_env.multi_asset.MultiAssetConfig`; the transition:
    :meth:`mm_env.multi_asset.dynamics.MultiAssetDynamics.step`, shared with the vector env.

    ## Action Space

    ``Box(float32, (2n,))``: ``[bid_1, ask_1, bid_2, ask_2, ..., bid_n, ask_n]``, the depths
    [price units of asset i] of asset ``i``'s quotes from its mid (``action.reshape(n, 2)``
    gives one row per asset), each within ``[min_depth_i, max_depth_i]``. Depths outside the
    box are clipped; non-finite depths raise ``ValueError``, so does an action of another
    shape or of non-real dtype. A side is not quoted when its fill would take ``|q_i|`` past
    ``inventory_limit_i``. With ticks, quotes are snapped to the grid away from the mid.

    ## Observation Space

    ``Box(float32, (1 + 2n,))`` in raw units:

    | Num        | Observation      | Unit     | Min                   | Max                |
    |------------|------------------|----------|-----------------------|--------------------|
    | 0          | time remaining   | sessions | 0                     | T                  |
    | 1 .. n     | inventory q_i    | shares   | -inventory_limit_i    | inventory_limit_i  |
    | n+1 .. 2n  | mid-price S_i    | price    | 0 (gbm) / -inf (abm)  | inf                |

    ## Rewards

    ``W = X + sum_i q_i S_i`` (cash ``X``, inventories ``q``, mids ``S``):

    - ``"pnl"``: ``W' - W``; the rewards of an episode sum to the terminal wealth;
    - ``"inventory_penalty"``: ``W' - W - q' Phi q dt`` each step and ``- q_T' Psi q_T`` at
      the end (``Phi = phi``, ``Psi = alpha``, ``q`` after the step's fills).

    With ``n = 1`` (:meth:`MultiAssetConfig.from_market`) the env is
    :class:`mm_env.MarketMakingEnv` on the same market: same draws, same trajectories and
    rewards to the last bit.

    ## Starting State

    ``S_i = S0_i``, cash 0, inventories 0, time remaining ``T``.

    ## Episode End

    - Termination: after ``n_steps`` steps (``t = T``).
    - Truncation: never by the env itself.

    ## Info

    Per-asset arrays of shape ``(n,)``: ``mid``, ``inventory`` (after the step), ``bid``,
    ``ask`` (the step's prices: a side not quoted reports the price it would have had, its
    ``bid_quoted``/``ask_quoted`` flag False; at reset both prices are the mid and both flags
    False), ``bid_quoted``, ``ask_quoted``, ``bid_filled``, ``ask_filled`` (bools); floats
    ``cash`` (``X``) and ``wealth`` (``W``); ``step``. All finite.

    ## Arguments

    ```python
    import gymnasium as gym
    import mm_env
    env = gym.make("mm_env/MultiAssetMarketMaking-v0", preset="pair", n_steps=100)
    # or: MultiAssetMarketMakingEnv(config=None, *, preset=None, render_mode=None, **overrides)
    ```

    ``config``: a :class:`MultiAssetConfig`; ``preset``: ``"pair"`` or ``"basket"`` (none:
    the class defaults); ``overrides``: any ``MultiAssetConfig`` field; ``render_mode``:
    ``None`` or ``"ansi"`` (one line of text per asset).

    ## Version History

    - v0: initial version.
    """

    metadata: dict[str, Any] = {"render_modes": ["ansi"], "render_fps": 4}

    def __init__(
        self,
        config: MultiAssetConfig | None = None,
        *,
        preset: str | None = None,
        render_mode: str | None = None,
        **overrides: Any,
    ) -> None:
        self.config = resolve_multi_config(config, preset, overrides)
        self.render_mode = check_render_mode(render_mode, self.metadata["render_modes"], "the env")
        self.dynamics = MultiAssetDynamics(self.config)
        self.observation_space = observation_space(self.config, self.dynamics)
        self.action_space = action_space(self.config)
        self.n_assets = self.config.n_assets
        self._width = 2 * self.n_assets
        self._state: MultiAssetState | None = None
        self._last: MultiAssetStepResult | None = None
        self._z: list[list[float]] = []
        self._u: list[list[list[float]]] = []
        self._noise_pos = 0
        self._n_steps = self.config.n_steps
        self._dt = self.config.dt
        self._step = self.dynamics.step

    # ------------------------------------------------------------------ API
    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=check_seed(seed))
        self._state = self.dynamics.initial_state()
        self._last = None
        self._draw_noise()
        return self._observation(), self._info()

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        if self._state is None:
            raise RuntimeError("call reset() before step()")
        if self._last is not None and self._last.terminated:
            raise RuntimeError("the episode has ended (terminated=True): call reset()")
        # fast path: a float ndarray of shape (2n,) or a list/tuple of 2n Python floats
        values = action.tolist() if type(action) is np.ndarray else action
        if (
            type(values) not in (list, tuple)
            or len(values) != self._width
            or any(type(x) is not float for x in values)
        ):
            values = as_multi_action(action, self.n_assets)  # raises, naming the shape
        if not all(map(_isfinite, values)):
            check_finite_action(values)
        i = self._noise_pos
        if i == len(self._z):
            self._draw_noise()
            i = 0
        self._noise_pos = i + 1
        u = self._u[i]
        result = self._step(self._state, values[0::2], values[1::2], self._z[i], u[0], u[1])
        self._state = result.state
        self._last = result
        return self._observation(), float(result.reward), result.terminated, False, self._info()

    def render(self) -> Any:  # the ansi text, or None
        if self.render_mode != "ansi" or self._state is None:
            return None
        s = self._state
        last = self._last
        lines = [f"t={s.step * self._dt:.4f} cash={sum(s.cash):.4f} wealth={s.wealth:.4f}"]
        for i in range(self.n_assets):
            quotes = (
                ""
                if last is None
                else (
                    f" bid={f'{last.bid[i]:.4f}' if last.bid_quoted[i] else '-'}"
                    f" ask={f'{last.ask[i]:.4f}' if last.ask_quoted[i] else '-'}"
                )
            )
            lines.append(f"  asset {i + 1}: mid={s.mid[i]:.4f} q={s.inventory[i]:g}{quotes}")
        return "\n".join(lines)

    # ---------------------------------------------------------------- state
    def get_state(self) -> dict[str, Any]:
        """A snapshot of everything the next steps depend on: the market state, the last
        step's result, the block of random numbers drawn ahead and the generator's state
        (a picklable dict; :meth:`set_state` on an env with the same config continues
        exactly as this env would)."""
        return copy.deepcopy(
            {
                "config": self.config,
                "market": self._state,
                "last": self._last,
                "noise": (self._z, self._u, self._noise_pos),
                "rng": self.np_random.bit_generator.state,
            }
        )

    def set_state(self, state: dict[str, Any]) -> None:
        """Restore a :meth:`get_state` snapshot (ValueError if it is from another market)."""
        check_snapshot(state, self.config)
        state = copy.deepcopy(state)
        self._state = state["market"]
        self._last = state["last"]
        self._z, self._u, self._noise_pos = state["noise"]
        self.np_random.bit_generator.state = state["rng"]

    # -------------------------------------------------------------- helpers
    def _draw_noise(self) -> None:
        """The next block of steps' draws in two generator calls: ``(steps, n)`` normals,
        correlated, and ``(steps, 2, n)`` uniforms (with ``n = 1`` the single-asset env's
        draws in the same order)."""
        steps = min(self._n_steps, _NOISE_BLOCK)
        rng = self.np_random
        eps = rng.standard_normal((steps, self.n_assets))
        self._z = self.dynamics.correlate(eps).tolist()
        self._u = rng.random((steps, 2, self.n_assets)).tolist()
        self._noise_pos = 0

    def _observation(self) -> np.ndarray:
        s = self._state
        assert s is not None
        return np.array([(self._n_steps - s.step) * self._dt, *s.inventory, *s.mid], dtype=_float32)

    def _info(self) -> dict[str, Any]:
        s = self._state
        assert s is not None
        last = self._last
        n = self.n_assets
        if last is None:
            prices = np.array([*s.mid, *s.inventory, *s.mid, *s.mid])
            flags = np.zeros(4 * n, dtype=bool)
        else:
            prices = np.array([*s.mid, *s.inventory, *last.bid, *last.ask])
            flags = np.array(
                [*last.bid_quoted, *last.ask_quoted, *last.bid_filled, *last.ask_filled],
                dtype=bool,
            )
        return {
            "mid": prices[:n],
            "inventory": prices[n : 2 * n],
            "bid": prices[2 * n : 3 * n],
            "ask": prices[3 * n :],
            "bid_quoted": flags[:n],
            "ask_quoted": flags[n : 2 * n],
            "bid_filled": flags[2 * n : 3 * n],
            "ask_filled": flags[3 * n :],
            "cash": sum(s.cash),
            "wealth": s.wealth,
            "step": s.step,
        }
