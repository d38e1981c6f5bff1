"""The native numpy-batched multi-asset vector environment."""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium.vector import AutoresetMode
from gymnasium.vector.utils import batch_space

from mm_env.batched_vector_env import BatchedVectorEnv
from mm_env.multi_asset.config import MultiAssetConfig
from mm_env.multi_asset.dynamics import MultiAssetDynamics, MultiAssetState, asset_sum
from mm_env.multi_asset.env import resolve_multi_config
from mm_env.multi_asset.spaces import action_space, as_multi_batch_action, observation_space


def where_state(mask: np.ndarray, new: MultiAssetState, old: MultiAssetState) -> MultiAssetState:
    """Per sub-env: ``new`` where ``mask`` (shape ``(num_envs,)``) else ``old``."""
    per_asset = mask[:, None]
    return MultiAssetState(
        step=np.where(mask, new.step, old.step),
        mid=np.where(per_asset, new.mid, old.mid),
        cash=np.where(per_asset, new.cash, old.cash),
        inventory=np.where(per_asset, new.inventory, old.inventory),
        wealth=np.where(mask, new.wealth, old.wealth),
    )


class MultiAssetMarketMakingVectorEnv(BatchedVectorEnv[MultiAssetState]):
    """``num_envs`` independent multi-asset market makers stepped together in numpy.

    The model, spaces, rewards and info keys are those of
    :class:`mm_env.multi_asset.MultiAssetMarketMakingEnv` (whose docstring is the spec); the
    transition is the same function (:meth:`~mm_env.multi_asset.dynamics.MultiAssetDynamics.step`)
    on arrays of shape ``(num_envs, n)``. One generator (``self.np_random``) drives all
    sub-envs: each step draws ``num_envs x n`` normals and ``2 x num_envs x n`` uniforms
    whatever the actions, so two policies run from the same seed face the same market
    (common random numbers); with ``n = 1`` these are the draws of
    :class:`mm_env.MarketMakingVectorEnv`, and its trajectories are reproduced to the bit.

    Actions: shape ``(num_envs, 2n)``, ``[bid_1, ask_1, ..., bid_n, ask_n]`` per row.
    Observations: ``(num_envs, 1 + 2n)``. Info: per-asset keys as ``(num_envs, n)`` arrays,
    ``cash``, ``wealth`` and ``step`` as ``(num_envs,)``, each with its Gymnasium ``"_key"``
    mask (all True); every array read-only.

    Autoreset: ``autoreset_mode`` is ``"NextStep"`` (default: the step after a termination
    resets that sub-env and returns its first observation with reward 0), ``"SameStep"``
    (the terminating step already returns the reset observation; the last observation and
    info are in ``info["final_obs"]`` / ``info["final_info"]``), or ``"Disabled"`` (call
    ``reset(options={"reset_mask": m})``).

    Arguments: ``MultiAssetMarketMakingVectorEnv(num_envs, config=None, *, preset=None,
    autoreset_mode="NextStep", render_mode=None, **overrides)``.

    Reset, autoresets and ``get_state``/``set_state``:
    :class:`~mm_env.batched_vector_env.BatchedVectorEnv`,
    shared with the single-asset vector env.
    """

    def __init__(
        self,
        num_envs: int = 1,
        config: MultiAssetConfig | None = None,
        *,
        preset: str | None = None,
        autoreset_mode: str | AutoresetMode = AutoresetMode.NEXT_STEP,
        render_mode: str | None = None,
        **overrides: Any,
    ) -> None:
        super().__init__(num_envs, autoreset_mode, render_mode)
        self.config = resolve_multi_config(config, preset, overrides)
        self.n_assets = self.config.n_assets
        self.dynamics = MultiAssetDynamics(self.config)
        self.single_observation_space = observation_space(self.config, self.dynamics)
        self.single_action_space = action_space(self.config)
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self._shape = (self.num_envs, self.n_assets)
        self._uniform_shape = (2, self.num_envs, self.n_assets)

    # ------------------------------------------------------------------ API
    def step(
        self, actions: Any
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        if self._state is None:
            raise RuntimeError("call reset() before step()")
        acts = as_multi_batch_action(actions, self.num_envs, self.n_assets)
        rng = self.np_random
        z = self.dynamics.correlate(rng.standard_normal(self._shape))
        u = rng.random(self._uniform_shape)
        depths = acts.reshape(self.num_envs, self.n_assets, 2)
        result = self.dynamics.step(self._state, depths[:, :, 0], depths[:, :, 1], z, u[0], u[1])
        reward = np.asarray(result.reward, dtype=np.float64)
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
        return obs, reward, terminated, np.zeros(self.num_envs, dtype=bool), info

    # ------------------------------------------- what BatchedVectorEnv needs
    _where_state = staticmethod(where_state)

    def _fresh_state(self) -> MultiAssetState:
        return self.dynamics.initial_state(self.num_envs)

    def _start_info(self, state: MultiAssetState) -> dict[str, Any]:
        no = np.zeros(self._shape, dtype=bool)
        # at reset nothing is quoted: bid and ask are the mid, their flags False
        return self._info(state, state.mid, state.mid, no, no, no, no)

    def _reset_info(
        self, mask: np.ndarray, state: MultiAssetState, info: dict[str, Any]
    ) -> dict[str, Any]:
        """The info of ``state`` where the sub-envs of ``mask`` have just been reset (their
        quotes are the mid, their flags False) and ``info``'s quotes elsewhere."""
        per_asset = mask[:, None]
        return self._info(
            state,
            np.where(per_asset, state.mid, info["bid"]),
            np.where(per_asset, state.mid, info["ask"]),
            info["bid_quoted"] & ~per_asset,
            info["ask_quoted"] & ~per_asset,
            info["bid_filled"] & ~per_asset,
            info["ask_filled"] & ~per_asset,
        )

    def _observation(self, s: MultiAssetState) -> np.ndarray:
        n = self.n_assets
        obs = np.empty((self.num_envs, 1 + 2 * n), dtype=np.float32)
        obs[:, 0] = self.dynamics.time_remaining(s.step)
        obs[:, 1 : 1 + n] = s.inventory
        obs[:, 1 + n :] = s.mid
        return obs

    def _info(
        self,
        s: MultiAssetState,
        bid: np.ndarray,
        ask: np.ndarray,
        bid_quoted: np.ndarray,
        ask_quoted: np.ndarray,
        bid_filled: np.ndarray,
        ask_filled: np.ndarray,
    ) -> dict[str, Any]:
        values = {
            "mid": s.mid,
            "inventory": s.inventory,
            "bid": bid,
            "ask": ask,
            "bid_quoted": bid_quoted,
            "ask_quoted": ask_quoted,
            "bid_filled": bid_filled,
            "ask_filled": ask_filled,
            "cash": asset_sum(s.cash),
            "wealth": s.wealth,
            "step": s.step,
        }
        info: dict[str, Any] = {}
        for key, value in values.items():
            # read-only: writing into an info must not move the market
            value = np.asarray(value)
            value.flags.writeable = False
            info[key] = value
            info["_" + key] = self._all
        return info
