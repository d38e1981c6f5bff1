"""The base of the native Gymnasium vector envs: what the single-asset
(:class:`mm_env.MarketMakingVectorEnv`) and the multi-asset
(:class:`mm_env.multi_asset.MultiAssetMarketMakingVectorEnv`) vector envs do alike.

Their sub-envs are the rows of one batched market state. The base checks the constructor's
batch arguments, and does the ``reset`` (the seed, ``options["reset_mask"]``), the
autoresets (``NextStep``, ``SameStep``) and the ``get_state``/``set_state`` snapshot, with the
shared pieces of :mod:`mm_env.batching`, :mod:`mm_env.seeding` and :mod:`mm_env.snapshots`.
Each env keeps its own ``step`` (the hot loop, with its autoreset branches written inline),
observation and info, and gives the base the few things that differ, as methods:
:meth:`~BatchedVectorEnv._fresh_state`, :meth:`~BatchedVectorEnv._where_state`,
:meth:`~BatchedVectorEnv._start_info`, :meth:`~BatchedVectorEnv._reset_info` and
:meth:`~BatchedVectorEnv._observation`.
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

import numpy as np
from gymnasium.vector import AutoresetMode, VectorEnv

from mm_env.batching import (
    autoreset_mode_of,
    check_count,
    reset_mask_option,
    reset_rows,
    same_step_final,
)
from mm_env.render import check_render_mode
from mm_env.seeding import VECTOR_SEED_RULE, check_seed
from mm_env.snapshots import BatchName, batch_snapshot, restore_batch_snapshot

__all__ = ["VECTOR_BATCH", "BatchedVectorEnv"]

#: How the native vector envs name their batch in snapshots and their errors
#: (:mod:`mm_env.snapshots`).
VECTOR_BATCH = BatchName(size="num_envs", units="sub-envs", env="this vector env")

State = TypeVar("State")


class BatchedVectorEnv(VectorEnv[np.ndarray, np.ndarray, np.ndarray], Generic[State]):
    """A numpy-batched Gymnasium vector env whose ``num_envs`` sub-envs are the rows of one
    batched market state of type ``State`` (module doc).

    A subclass calls ``super().__init__(num_envs, autoreset_mode, render_mode)`` first in its
    constructor (so these arguments are checked before its config), and implements
    :meth:`_fresh_state`, :meth:`_where_state`, :meth:`_start_info`, :meth:`_reset_info`,
    :meth:`_observation` and ``step``; its ``step`` keeps ``self._needs_reset`` (the
    sub-envs that ended at the last step) and calls :meth:`_autoreset_next` (``NextStep``) or
    :meth:`_autoreset_same` (``SameStep``).
    """

    metadata: dict[str, Any] = {"autoreset_mode": AutoresetMode.NEXT_STEP, "render_modes": []}
    config: Any
    """The env's config (compared with a snapshot's by :meth:`set_state`)."""

    def __init__(
        self, num_envs: object, autoreset_mode: str | AutoresetMode, render_mode: str | None
    ) -> None:
        num_envs = check_count("num_envs", num_envs)
        check_render_mode(render_mode, (), "the vector env")
        mode = autoreset_mode_of(autoreset_mode)
        self.num_envs = num_envs
        self.render_mode = None
        self.metadata = {**self.metadata, "autoreset_mode": mode}
        self.autoreset_mode = mode
        self._state: State | None = None
        self._needs_reset = np.zeros(num_envs, dtype=bool)
        self._all = np.ones(num_envs, dtype=bool)
        """The all-True ``"_key"`` mask of every info entry (read-only)."""
        self._all.flags.writeable = False

    # ------------------------------------------------------------ what differs
    def _fresh_state(self) -> State:
        """A new episode's state for every sub-env (drawing from ``self.np_random`` if the
        market starts at random)."""
        raise NotImplementedError

    def _where_state(self, mask: np.ndarray, new: State, old: State) -> State:
        """Per sub-env: ``new`` where ``mask`` (shape ``(num_envs,)``) else ``old``."""
        raise NotImplementedError

    def _start_info(self, state: State) -> dict[str, Any]:
        """The info of ``state`` at reset: nothing quoted (bid and ask the mid, flags False)."""
        raise NotImplementedError

    def _reset_info(self, mask: np.ndarray, state: State, info: dict[str, Any]) -> dict[str, Any]:
        """The info of ``state`` where the sub-envs of ``mask`` have just been reset (as
        :meth:`_start_info`) and ``info``'s entries elsewhere."""
        raise NotImplementedError

    def _observation(self, state: State) -> np.ndarray:
        """The observations ``(num_envs, obs_dim)`` of ``state``."""
        raise NotImplementedError

    # ------------------------------------------------------------------ API
    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Start every sub-env afresh, or those of ``options["reset_mask"]`` (a bool array
        ``(num_envs,)``; the others keep their state); ``seed`` (one int for the batch)
        reseeds the env's generator."""
        seed = check_seed(seed, VECTOR_SEED_RULE)
        mask = reset_mask_option(options, self.num_envs)
        super().reset(seed=seed)
        fresh = self._fresh_state()
        self._state = reset_rows(mask, fresh, self._state, self._needs_reset, self._where_state)
        return self._observation(self._state), self._start_info(self._state)

    # ---------------------------------------------------------------- state
    def get_state(self) -> dict[str, Any]:
        """A snapshot of everything the next steps depend on: the market state of every
        sub-env, which of them reset at the next step, and the generator's state.

        A plain dict of Python/numpy values (picklable); :meth:`set_state` on a vector env
        with the same config and ``num_envs`` continues exactly as this one would.
        Checkpoints use it.
        """
        return batch_snapshot(
            self.config, VECTOR_BATCH, self.num_envs, self._state, self._needs_reset, self.np_random
        )

    def set_state(self, state: dict[str, Any]) -> None:
        """Restore a :meth:`get_state` snapshot (ValueError if it is from another market or
        another number of sub-envs)."""
        self._state, self._needs_reset, self.np_random.bit_generator.state = restore_batch_snapshot(
            state, self.config, VECTOR_BATCH, self.num_envs
        )

    # ------------------------------------------------------------ autoreset
    def _autoreset_next(
        self, state: State, reward: np.ndarray, terminated: np.ndarray, info: dict[str, Any]
    ) -> tuple[State, np.ndarray, np.ndarray, dict[str, Any]]:
        """``NextStep``: replace the sub-envs that ended last step (``self._needs_reset``) by
        fresh ones (reward 0, not terminated, the info of a reset)."""
        mask = self._needs_reset
        state = self._where_state(mask, self._fresh_state(), state)
        reward = np.where(mask, 0.0, reward)
        terminated = terminated & ~mask
        return state, reward, terminated, self._reset_info(mask, state, info)

    def _autoreset_same(
        self, obs: np.ndarray, terminated: np.ndarray, info: dict[str, Any]
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """``SameStep``: reset the sub-envs that just ended, as Gymnasium lays it out
        (:func:`mm_env.batching.same_step_final`): their last observation in
        ``info["final_obs"]``, their last info in ``info["final_info"]``; the top-level obs
        and info of a reset sub-env are those of its new episode."""
        assert self._state is not None
        self._state = self._where_state(terminated, self._fresh_state(), self._state)
        new_info = self._reset_info(terminated, self._state, info)
        new_info.update(same_step_final(obs, terminated, info))
        return self._observation(self._state), new_info
