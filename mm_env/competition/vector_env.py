"""The batched competition env: ``num_games`` games of ``n_makers`` makers in one numpy step."""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces
from gymnasium.vector import AutoresetMode

from mm_env.batching import autoreset_mode_of, check_count, reset_rows
from mm_env.competition.config import CompetitionConfig, build_config
from mm_env.competition.dynamics import (
    CompetitionDynamics,
    CompetitionState,
    CompetitionStep,
    where_state,
)
from mm_env.competition.observation import CompetitionObserver
from mm_env.seeding import LazyGenerator, check_seed
from mm_env.snapshots import BatchName, batch_snapshot, restore_batch_snapshot

__all__ = ["CompetitionVectorEnv", "check_actions"]

#: How the batched competition env names its batch in snapshots and their errors
#: (:mod:`mm_env.snapshots`).
GAME_BATCH = BatchName(size="num_games", units="games", env="this env", kind="game")
#: The keys of every info, in this order, then the market components' info keys.
INFO_KEYS = (
    "mid",
    "cash",
    "inventory",
    "wealth",
    "bid",
    "ask",
    "bid_quoted",
    "ask_quoted",
    "bid_filled",
    "ask_filled",
    "step",
)


def check_actions(actions: Any, games: int, n_makers: int) -> np.ndarray:
    """``actions`` as a float64 array ``(games, n_makers, 2)`` of finite depths, or
    ValueError naming the expected shape or the first bad action."""
    expected = (
        f"actions must be real numbers of shape ({games}, {n_makers}, 2) = "
        "(games, makers, [bid_depth, ask_depth])"
    )
    try:
        with np.errstate(all="ignore"):
            arr = np.asarray(actions)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{expected}; got an object that is not an array ({exc})") from None
    if arr.dtype.kind not in "fiu":
        raise ValueError(
            f"{expected}; got dtype {arr.dtype} (bool, complex, string and object "
            "actions are refused)"
        )
    if arr.shape != (games, n_makers, 2):
        raise ValueError(f"{expected}; got shape {arr.shape}")
    with np.errstate(all="ignore"):
        arr = arr.astype(np.float64, copy=False)
    finite = np.isfinite(arr)
    if not finite.all():
        g, j = (int(i) for i in np.argwhere(~finite.all(axis=2))[0])
        raise ValueError(
            f"action depths must be finite numbers, got {arr[g, j].tolist()} for maker {j} of "
            f"game {g}"
        )
    return arr


class CompetitionVectorEnv(LazyGenerator):
    """``num_games`` independent competition games stepped together in numpy.

    The game is that of :class:`mm_env.competition.CompetitionParallelEnv` (whose docstring is
    the spec; the law is in :mod:`mm_env.competition.dynamics`), on arrays with the game axis
    first and the maker axis second:

    - ``reset(seed=None, options=None) -> (obs, info)``;
    - ``step(actions) -> (obs, rewards, terminated, truncated, info)`` with ``actions``
      ``(num_games, N, 2)`` (``[bid_depth, ask_depth]`` per maker), ``obs``
      ``(num_games, N, obs_dim)`` float32, ``rewards`` ``(num_games, N)``, ``terminated`` and
      ``truncated`` ``(num_games,)`` (truncated always False), ``info`` a dict of
      ``(num_games, N)`` arrays under the keys of the parallel env's infos (read-only).

    One generator (``self.np_random``, seeded by ``reset(seed=...)`` as Gymnasium's vector
    envs are) drives every game. Each step draws the same numbers whatever the actions
    (:meth:`~mm_env.competition.CompetitionDynamics.draw_noise`), so two policies run from one
    seed face the same mids and order flow (common random numbers); with ``num_games=1`` the
    trajectory is the parallel env's from the same seed, and with ``n_makers=1`` that of
    :class:`mm_env.MarketMakingVectorEnv`.

    Autoreset (``autoreset_mode``), as :class:`mm_env.MarketMakingVectorEnv`: ``"NextStep"``
    (default: the step after a game's termination resets it and returns its first observation
    with rewards 0), ``"SameStep"`` (the terminating step returns the reset observation; the
    last ones are in ``info["final_obs"]`` ``(num_games, N, obs_dim)`` and
    ``info["final_info"]``, with the mask ``info["_final_obs"]`` ``(num_games,)``), or
    ``"Disabled"`` (call ``reset(options={"reset_mask": mask})``).

    Parameter sharing (self-play): :meth:`flat` turns ``(num_games, N, ...)`` arrays into
    ``(num_games * N, ...)`` rows (game-major: row ``g * N + j`` is maker ``j`` of game ``g``)
    and :meth:`unflat` back; :attr:`shared_observation_space` holds every row.

    Arguments: ``CompetitionVectorEnv(num_games=1, n_makers=None, config=None, *, preset=None,
    full_information=None, autoreset_mode="NextStep", **overrides)``; ``n_makers`` defaults to
    2 (or the given :class:`CompetitionConfig`'s), ``overrides`` are
    :class:`~mm_env.MarketConfig` fields, ``inventory_limit`` and ``reward`` possibly per
    maker (tuples).
    """

    metadata: dict[str, Any] = {"autoreset_mode": AutoresetMode.NEXT_STEP, "render_modes": []}

    def __init__(
        self,
        num_games: int = 1,
        n_makers: int | None = None,
        config: CompetitionConfig | Any = None,
        *,
        preset: str | None = None,
        full_information: bool | None = None,
        autoreset_mode: str | AutoresetMode = AutoresetMode.NEXT_STEP,
        **overrides: Any,
    ) -> None:
        num_games = check_count("num_games", num_games)
        mode = autoreset_mode_of(autoreset_mode)
        self.config = build_config(
            config,
            n_makers=n_makers,
            preset=preset,
            full_information=full_information,
            overrides=overrides,
        )
        self.num_games = int(num_games)
        self.n_makers = self.config.n_makers
        self.autoreset_mode = mode
        self.metadata = {**self.metadata, "autoreset_mode": mode}
        self.dynamics = CompetitionDynamics(self.config)
        self.observer = CompetitionObserver(self.dynamics)
        self.single_action_space = self.observer.action_space
        """One maker's action space, ``Box(min_depth, max_depth, (2,))``."""
        self.observation_spaces = self.observer.observation_spaces
        """Each maker's observation space (a list, maker order)."""
        self.shared_observation_space = self.observer.shared_observation_space()
        self.action_space = spaces.Box(
            low=float(self.single_action_space.low[0]),
            high=float(self.single_action_space.high[0]),
            shape=(self.num_games, self.n_makers, 2),
            dtype=np.float32,
        )
        self.observation_space = spaces.Box(
            low=np.broadcast_to(self.observer.low, (self.num_games, *self.observer.low.shape)),
            high=np.broadcast_to(self.observer.high, (self.num_games, *self.observer.high.shape)),
            dtype=np.float32,
        )
        self._state: CompetitionState | None = None
        self._needs_reset = np.zeros(self.num_games, dtype=bool)

    # ------------------------------------------------------------------ API
    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Start every game (or those of ``options["reset_mask"]``, a bool array
        ``(num_games,)``) afresh; ``seed`` reseeds the generator."""
        seed = check_seed(seed)
        mask = None if options is None else options.get("reset_mask")
        if mask is not None:
            mask = self._check_reset_mask(mask)
        self._reseed(seed)
        fresh = self.dynamics.initial_state(self.num_games, self.np_random)
        self._state = reset_rows(mask, fresh, self._state, self._needs_reset, where_state)
        return self.observer.observe(self._state), self._reset_info(self._state)

    def step(
        self, actions: Any
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        """One step of every game (class doc)."""
        if self._state is None:
            raise RuntimeError("call reset() before step()")
        acts = check_actions(actions, self.num_games, self.n_makers)
        noise = self.dynamics.draw_noise(self.np_random, self.num_games)
        result = self.dynamics.step(self._state, acts[:, :, 0], acts[:, :, 1], noise)
        rewards = self.dynamics.rewards(result)
        terminated = result.terminated
        state = result.state
        info = self._step_info(result)
        mode = self.autoreset_mode
        if mode is AutoresetMode.NEXT_STEP:
            if self._needs_reset.any():
                mask = self._needs_reset
                fresh = self.dynamics.initial_state(self.num_games, self.np_random)
                state = where_state(mask, fresh, state)
                rewards = np.where(mask[:, None], 0.0, rewards)
                terminated = terminated & ~mask
                info = _merge_info(mask, self._reset_info(state), info)
            self._needs_reset = terminated.copy()
        elif mode is AutoresetMode.DISABLED:
            if self._needs_reset.any():
                raise RuntimeError(
                    "stepped a terminated game with autoreset disabled: call "
                    "reset(options={'reset_mask': terminated}) first"
                )
            self._needs_reset = terminated.copy()
        obs = self.observer.observe(state)
        if mode is AutoresetMode.SAME_STEP and terminated.any():
            fresh = self.dynamics.initial_state(self.num_games, self.np_random)
            final_obs, final_info = obs, info
            state = where_state(terminated, fresh, state)
            obs = self.observer.observe(state)
            info = _merge_info(terminated, self._reset_info(state), info)
            mask = terminated.copy()
            mask.flags.writeable = False
            info.update(
                final_obs=final_obs, _final_obs=mask, final_info=final_info, _final_info=mask
            )
        self._state = state
        return obs, rewards, terminated, np.zeros(self.num_games, dtype=bool), info

    def flat(self, values: np.ndarray) -> np.ndarray:
        """``(num_games, N, ...)`` -> ``(num_games * N, ...)`` (row ``g * N + j``)."""
        return values.reshape(self.num_games * self.n_makers, *values.shape[2:])

    def unflat(self, values: Any) -> np.ndarray:
        """``(num_games * N, ...)`` -> ``(num_games, N, ...)``, the inverse of :meth:`flat`."""
        arr = np.asarray(values)
        return arr.reshape(self.num_games, self.n_makers, *arr.shape[1:])

    def close(self) -> None:
        """Nothing to release."""

    # ---------------------------------------------------------------- state
    def get_state(self) -> dict[str, Any]:
        """A picklable snapshot (config, every game's state, pending resets, the generator's
        state); :meth:`set_state` on an env of the same config and ``num_games`` continues
        exactly as this one would."""
        return batch_snapshot(
            self.config, GAME_BATCH, self.num_games, self._state, self._needs_reset, self.np_random
        )

    def set_state(self, state: dict[str, Any]) -> None:
        """Restore a :meth:`get_state` snapshot (ValueError if it is from another game)."""
        self._state, self._needs_reset, self.np_random.bit_generator.state = restore_batch_snapshot(
            state, self.config, GAME_BATCH, self.num_games
        )

    # -------------------------------------------------------------- helpers
    def _check_reset_mask(self, mask: Any) -> np.ndarray:
        arr = np.asarray(mask)
        if arr.dtype != bool or arr.shape != (self.num_games,):
            raise ValueError(
                f"options['reset_mask'] must be a boolean array of shape ({self.num_games},) "
                f"(True: reset that game), got {mask!r}"
            )
        return arr

    def _reset_info(self, state: CompetitionState) -> dict[str, Any]:
        shape = state.cash.shape
        mid = np.broadcast_to(state.mid[:, None], shape)
        no = np.zeros(shape, dtype=bool)
        return _freeze(
            {
                "mid": mid,
                "cash": state.cash,
                "inventory": state.inventory,
                "wealth": state.wealth,
                "bid": mid,
                "ask": mid,
                "bid_quoted": no,
                "ask_quoted": no,
                "bid_filled": no,
                "ask_filled": no,
                "step": np.broadcast_to(state.step[:, None], shape),
                **self.dynamics.info_extras(None, state),
            }
        )

    def _step_info(self, result: CompetitionStep) -> dict[str, Any]:
        s = result.state
        shape = s.cash.shape
        return _freeze(
            {
                "mid": np.broadcast_to(s.mid[:, None], shape),
                "cash": s.cash,
                "inventory": s.inventory,
                "wealth": s.wealth,
                "bid": result.bid,
                "ask": result.ask,
                "bid_quoted": result.bid_quoted,
                "ask_quoted": result.ask_quoted,
                "bid_filled": result.bid_filled,
                "ask_filled": result.ask_filled,
                "step": np.broadcast_to(s.step[:, None], shape),
                **self.dynamics.info_extras(result, s),
            }
        )


def _freeze(info: dict[str, Any]) -> dict[str, Any]:
    """The info's arrays as read-only ``(games, N)`` arrays (writing into an info must not
    move the market)."""
    out = {}
    for key, value in info.items():
        arr = np.asarray(value)
        arr.flags.writeable = False  # the state's arrays are never written in place
        out[key] = arr
    return out


def _merge_info(mask: np.ndarray, fresh: dict[str, Any], info: dict[str, Any]) -> dict[str, Any]:
    """``fresh`` where ``mask`` (per game) else ``info``, key by key."""
    col = mask[:, None]
    return _freeze({key: np.where(col, fresh[key], value) for key, value in info.items()})
