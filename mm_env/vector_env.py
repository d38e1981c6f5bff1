"""The native numpy-batched vector environment."""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium.vector import AutoresetMode
from gymnasium.vector.utils import batch_space

from mm_env.batched_vector_env import BatchedVectorEnv
from mm_env.batching import autoreset_mode_of as autoreset_mode_of  # re-exported, as before
from mm_env.batching import check_count as check_count  # re-exported, as before
from mm_env.config import MarketConfig, resolve_config
from mm_env.dynamics import MarketDynamics
from mm_env.rewards import get_reward
from mm_env.spaces import action_space, as_batch_action, observation_space
from mm_env.state import MarketState, where_state


class MarketMakingVectorEnv(BatchedVectorEnv[MarketState]):
    """``num_envs`` independent market makers stepped together in numpy.

    The model, spaces, rewards and info keys are those of :class:`mm_env.MarketMakingEnv`
    (whose docstring is the spec); the transition is the same function
    (:meth:`mm_env.dynamics.MarketDynamics.step`) applied to arrays. One generator
    (``self.np_random``) drives all sub-environments: each step draws ``num_envs`` normals and
    ``2 * num_envs`` uniforms whatever the actions (then the market components'
    draws of :meth:`~mm_env.dynamics.MarketDynamics.draw_noise`, whose number
    depends only on the config), so two policies run from the same seed see the same market
    (common random numbers). With ``size_action`` the actions have shape ``(num_envs, 3)``.

    Autoreset: ``autoreset_mode`` is ``"NextStep"`` (Gymnasium's default: the step after a
    termination resets that sub-env and returns its first observation with reward 0),
    ``"SameStep"`` (the terminating step already returns the reset observation; the last
    observation and info are in ``info["final_obs"]`` / ``info["final_info"]``, masks in
    ``info["_final_obs"]``), or ``"Disabled"`` (call ``reset(options={"reset_mask": m})``).

    Info: arrays of shape ``(num_envs,)`` under the scalar env's keys, each with its
    Gymnasium ``"_key"`` mask (all True).

    Arguments: ``MarketMakingVectorEnv(num_envs, config=None, *, preset=None,
    autoreset_mode="NextStep", render_mode=None, **overrides)``.

    Reset, autoresets and ``get_state``/``set_state``:
    :class:`~mm_env.batched_vector_env.BatchedVectorEnv`,
    shared with the multi-asset vector env.
    """

    def __init__(
        self,
        num_envs: int = 1,
        config: MarketConfig | None = None,
        *,
        preset: str | None = None,
        autoreset_mode: str | AutoresetMode = AutoresetMode.NEXT_STEP,
        render_mode: str | None = None,
        **overrides: Any,
    ) -> None:
        super().__init__(num_envs, autoreset_mode, render_mode)
        self.config = resolve_config(config, preset, overrides)
        self.dynamics = MarketDynamics(self.config)
        self._reward = get_reward(self.config.reward)
        self.single_observation_space = observation_space(self.config, self.dynamics)
        self.single_action_space = action_space(self.config)
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self._width = len(self.dynamics.action_names)
        self._info_keys = self.dynamics.info_keys
        self._observers = self.dynamics.observers
        self._obs_width = self.single_observation_space.shape[0]

    # ------------------------------------------------------------------ API
    def step(
        self, actions: Any
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        if self._state is None:
            raise RuntimeError("call reset() before step()")
        acts = as_batch_action(actions, self.num_envs, self._width)
        rng = self.np_random
        z = rng.standard_normal(self.num_envs)
        u = rng.random((2, self.num_envs))
        noise = self.dynamics.draw_noise(rng, (self.num_envs,))
        size = acts[:, 2] if self._width == 3 else None
        result = self.dynamics.step(self._state, acts[:, 0], acts[:, 1], z, u[0], u[1], noise, size)
        extras = self.dynamics.info_extras(result, result.state) if self._info_keys else None
        reward = np.asarray(self._reward(self.config, result), dtype=np.float64)
        terminated = result.terminated
        state = result.state
        info = self._info(
            state,
            result.bid,
            result.ask,
            result.bid_quoted,
            result.ask_quoted,
            result.bid_filled,
            result.ask_filled,
            extras,
            result.wealth,
        )
        mode = self.autoreset_mode
        if mode is AutoresetMode.NEXT_STEP:
            if self._needs_reset.any():
                state, reward, terminated, info = self._autoreset_next(
                    state, reward, terminated, info
                )
            self._needs_reset = terminated.copy()
        elif mode is AutoresetMode.DISABLED:
            if self._needs_reset.any():
                raise RuntimeError(
                    "stepped a terminated sub-env with autoreset disabled: call "
                    "reset(options={'reset_mask': terminated}) first"
                )
            self._needs_reset = terminated.copy()
        self._state = state
        obs = self._observation(state)
        if mode is AutoresetMode.SAME_STEP and terminated.any():
            obs, info = self._autoreset_same(obs, terminated, info)
        # a fresh truncated array: frameworks turn it into writable tensors (TorchRL warns
        # about read-only ones)
        return obs, reward, terminated, np.zeros(self.num_envs, dtype=bool), info

    # ------------------------------------------- what BatchedVectorEnv needs
    _where_state = staticmethod(where_state)

    def _fresh_state(self) -> MarketState:
        return self.dynamics.initial_state((self.num_envs,), self.np_random)

    def _start_info(self, state: MarketState) -> dict[str, Any]:
        no = np.zeros(self.num_envs, dtype=bool)
        extras = self.dynamics.info_extras(None, state)
        # at reset nothing is quoted: bid and ask are the mid, their flags False
        return self._info(state, state.mid, state.mid, no, no, no, no, extras)

    def _reset_info(
        self, mask: np.ndarray, state: MarketState, info: dict[str, Any]
    ) -> dict[str, Any]:
        """The info of ``state`` where the sub-envs of ``mask`` have just been reset (their
        quotes are the mid, their flags False, their components' entries the reset values)
        and ``info``'s elsewhere."""
        return self._info(
            state,
            np.where(mask, state.mid, info["bid"]),
            np.where(mask, state.mid, info["ask"]),
            info["bid_quoted"] & ~mask,
            info["ask_quoted"] & ~mask,
            info["bid_filled"] & ~mask,
            info["ask_filled"] & ~mask,
            self._reset_extras(mask, state, info),
        )

    def _reset_extras(
        self, mask: np.ndarray, state: MarketState, info: dict[str, Any]
    ) -> dict[str, Any]:
        """The components' info entries with their reset values where ``mask``."""
        reset = self.dynamics.info_extras(None, state)
        return {key: np.where(mask, value, info[key]) for key, value in reset.items()}

    def _observation(self, s: MarketState) -> np.ndarray:
        obs = np.empty((self.num_envs, self._obs_width), dtype=np.float32)
        obs[:, 0] = self.dynamics.time_remaining(s.step)
        obs[:, 1] = s.inventory
        obs[:, 2] = s.mid
        for j, observe in enumerate(self._observers, start=3):
            obs[:, j] = observe(s)
        return obs

    def _info(
        self,
        s: MarketState,
        bid: np.ndarray,
        ask: np.ndarray,
        bid_quoted: np.ndarray,
        ask_quoted: np.ndarray,
        bid_filled: np.ndarray,
        ask_filled: np.ndarray,
        extras: dict[str, Any] | None = None,
        wealth: np.ndarray | None = None,
    ) -> dict[str, Any]:
        """The info of state ``s`` (``wealth``: its wealth if already computed)."""
        values = {
            "mid": s.mid,
            "cash": s.cash,
            "inventory": s.inventory,
            "wealth": s.cash + s.inventory * s.mid if wealth is None else wealth,
            "bid": bid,
            "ask": ask,
            "bid_quoted": bid_quoted,
            "ask_quoted": ask_quoted,
            "bid_filled": bid_filled,
            "ask_filled": ask_filled,
            "step": s.step,
        }
        if extras:
            values.update(extras)
        info: dict[str, Any] = {}
        for key, value in values.items():
            # read-only: writing into an info must not move the market (the state's arrays
            # are never written in place, so they are frozen rather than viewed)
            value.flags.writeable = False
            info[key] = value
            info["_" + key] = self._all
        return info
