"""A stable-baselines3 ``VecEnv`` over the native numpy vector env.

SB3's ``DummyVecEnv`` steps its environments one by one in Python; this adapter steps all
of them in one call of :class:`mm_env.MarketMakingVectorEnv` (in Gymnasium's ``SameStep``
autoreset mode, which is SB3's convention) and only builds the per-environment ``infos``
dicts SB3 requires. On an episode end, ``infos[i]["terminal_observation"]`` holds the last
observation and ``infos[i]["TimeLimit.truncated"]`` is False: the horizon is observed, so the
end is a true termination (no bootstrapping), as in the env's spec.

The batched info arrays of the last step (``mid``, ``cash``, ``inventory``, ``wealth``, ...)
are in :attr:`SB3VecEnv.last_info` for callbacks; ``infos[i]`` of a finished episode also
carries its final per-env values.

Sub-environments are one numpy batch, not separate objects: :meth:`get_attr`,
:meth:`set_attr` and :meth:`env_method` act on the underlying vector env, which all
sub-environments share (setting an attribute on a strict subset is an error).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar, TypeVar

import gymnasium as gym
import numpy as np
from stable_baselines3.common.vec_env.base_vec_env import (
    VecEnv,
    VecEnvIndices,
    VecEnvObs,
    VecEnvStepReturn,
)

from mm_env import MarketConfig, MarketMakingVectorEnv

_Adapter = TypeVar("_Adapter", bound="SB3VecEnv")


def info_entry(value: Any) -> Any:
    """One sub-env's value of a batched info array: a Python float/bool for a scalar, a
    writable copy for a per-asset array (the multi-asset env's ``(n,)`` entries)."""
    arr = np.asarray(value)
    return arr.item() if arr.ndim == 0 else arr.copy()


def fill_final_infos(
    infos: list[dict[str, Any]],
    dones: np.ndarray,
    final_obs: np.ndarray,
    final_info: dict[str, Any],
    truncated: np.ndarray,
) -> None:
    """SB3's episode-end entries of ``infos[i]`` for each ``i`` with ``dones[i]``: the final
    info values (:func:`info_entry`; keys starting with ``_`` are Gymnasium's masks and left
    out), ``terminal_observation`` (``final_obs[i]``) and ``TimeLimit.truncated``
    (``truncated[i]``: cut by a time limit rather than terminated)."""
    keys = [k for k in final_info if not k.startswith("_")]
    for i in np.flatnonzero(dones):
        infos[i] = {k: info_entry(final_info[k][i]) for k in keys}
        infos[i]["terminal_observation"] = final_obs[i]
        infos[i]["TimeLimit.truncated"] = bool(truncated[i])


class SB3VecEnv(VecEnv):
    """SB3 VecEnv over a native vector env.

    ``SB3VecEnv(num_envs, config=None, *, preset=None, **overrides)`` builds one;
    ``SB3VecEnv.wrap(venv)`` adapts an existing ``MarketMakingVectorEnv``.

    With :attr:`stagger_episodes` set, :meth:`reset` spreads the sub-envs' episodes over the
    horizon (see :meth:`stagger`), so that a rollout shorter than an episode holds every
    stage of it instead of the same time slice for all envs.
    """

    #: spread the episodes' phases on reset (a training choice; the MDP is unchanged)
    stagger_episodes: bool = False
    #: the native vector env class this adapter steps (:meth:`wrap` accepts its instances)
    native_env: ClassVar[type[Any]] = MarketMakingVectorEnv
    venv: MarketMakingVectorEnv
    config: MarketConfig

    def __init__(
        self,
        num_envs: int = 1,
        config: MarketConfig | None = None,
        *,
        preset: str | None = None,
        **overrides: Any,
    ) -> None:
        venv = MarketMakingVectorEnv(
            num_envs, config, preset=preset, autoreset_mode="SameStep", **overrides
        )
        self._init_from(venv)

    @classmethod
    def wrap(cls: type[_Adapter], venv: Any) -> _Adapter:
        """Adapt an existing native vector env (an instance of :attr:`native_env`; it must use
        ``autoreset_mode="SameStep"``)."""
        native = cls.native_env
        if not isinstance(venv, native):
            raise ValueError(f"venv must be a {native.__name__}, got {type(venv).__name__}")
        if venv.autoreset_mode.value != "SameStep":
            raise ValueError(
                f"venv must use autoreset_mode='SameStep' (SB3's convention), got "
                f"{venv.autoreset_mode.value!r}; create it with autoreset_mode='SameStep'"
            )
        self = cls.__new__(cls)
        self._init_from(venv)
        return self

    def _init_from(
        self,
        venv: Any,
        config: Any = None,
        num_envs: int | None = None,
        observation_space: gym.spaces.Space[Any] | None = None,
    ) -> None:
        """Attach ``venv``: ``config`` (default ``venv.config``), ``num_envs`` sub-envs (default
        ``venv.num_envs``) and their ``observation_space`` (default the single one)."""
        self.venv = venv
        self.config = venv.config if config is None else config
        self.last_info: dict[str, Any] = {}
        self._actions: np.ndarray | None = None
        super().__init__(
            venv.num_envs if num_envs is None else num_envs,
            venv.single_observation_space if observation_space is None else observation_space,
            venv.single_action_space,
        )
        self.metadata = dict(venv.metadata)
        self.render_mode = None

    # ------------------------------------------------------------ stepping
    def reset(self) -> VecEnvObs:
        seed = self._seeds[0]
        obs, info = self.venv.reset(seed=seed)
        if self.stagger_episodes:
            obs, info = self.stagger(obs, info)
        self._reset_seeds()
        self._reset_options()
        self.last_info = info
        self.reset_infos = [{} for _ in range(self.num_envs)]
        return self._rows(obs)

    def _rows(self, obs: np.ndarray) -> np.ndarray:
        """The vector env's observations as SB3's rows (here: as they are)."""
        return obs

    def stagger(self, obs: np.ndarray, info: dict[str, Any]) -> tuple[np.ndarray, dict[str, Any]]:
        """Put sub-env ``i`` at step ``floor(i n_steps / num_envs)`` of a fresh episode.

        All envs step together under the naive quotes (depth ``1/k`` both sides, the
        order size if the size is an action) and each is reset (``reset_mask``) when it has
        as many steps left as its phase asks: none ends an episode, the draws come from the
        env's own generator (so a seeded reset staggers the same way every time), and the
        steps before an env's reset are not part of any episode. Returns the observation and
        info after the last step (``obs``, ``info``: those of the fresh reset before it).
        """
        n, horizon = self.num_envs, self.config.n_steps
        phase = (np.arange(n) * horizon) // n
        last = int(phase.max())
        space = self.venv.single_action_space
        assert isinstance(space, gym.spaces.Box)
        naive = np.full(space.shape, 1.0 / self.config.k)
        if naive.size == 3:
            naive[2] = self.config.order_size
        actions = np.tile(np.clip(naive, space.low, space.high), (n, 1))
        for done in range(1, last + 1):
            obs, _, _, _, info = self.venv.step(actions)
            starts = phase == last - done
            if starts.any():
                obs, info = self.venv.reset(options={"reset_mask": starts})
        return obs, info

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = actions

    def step_wait(self) -> VecEnvStepReturn:
        if self._actions is None:
            raise RuntimeError("call step_async(actions) before step_wait()")
        obs, reward, terminated, truncated, info = self.venv.step(self._actions)
        self._actions = None
        self.last_info = info
        dones = terminated | truncated
        infos: list[dict[str, Any]] = [{} for _ in range(self.num_envs)]
        if dones.any():
            cut = truncated & ~terminated
            fill_final_infos(infos, dones, info["final_obs"], info["final_info"], cut)
        return obs, reward.astype(np.float32), dones, infos

    def close(self) -> None:
        self.venv.close()

    # --------------------------------------------------- attribute access
    def get_attr(self, attr_name: str, indices: VecEnvIndices = None) -> list[Any]:
        """The attribute of the shared vector env, once per requested index."""
        value = getattr(self.venv, attr_name)
        return [value for _ in self._get_indices(indices)]

    def set_attr(self, attr_name: str, value: Any, indices: VecEnvIndices = None) -> None:
        """Set an attribute of the shared vector env (only for all sub-envs at once)."""
        self._require_all(indices, "set_attr")
        if not hasattr(self.venv, attr_name):
            raise AttributeError(f"MarketMakingVectorEnv has no attribute {attr_name!r}")
        setattr(self.venv, attr_name, value)

    def env_method(
        self,
        method_name: str,
        *method_args: Any,
        indices: VecEnvIndices = None,
        **method_kwargs: Any,
    ) -> list[Any]:
        """Call a method of the shared vector env once; its result is returned per index."""
        self._require_all(indices, "env_method")
        result = getattr(self.venv, method_name)(*method_args, **method_kwargs)
        return [result for _ in self._get_indices(indices)]

    def env_is_wrapped(
        self, wrapper_class: type[gym.Wrapper], indices: VecEnvIndices = None
    ) -> list[bool]:
        """Sub-envs are numpy rows, never wrapped by a ``gymnasium.Wrapper``: all False."""
        return [False for _ in self._get_indices(indices)]

    def get_images(self) -> Sequence[np.ndarray | None]:
        return [None for _ in range(self.num_envs)]

    def _require_all(self, indices: VecEnvIndices, what: str) -> None:
        chosen = list(self._get_indices(indices))
        if sorted(chosen) != list(range(self.num_envs)):
            raise ValueError(
                f"{what} acts on the one vector env that all {self.num_envs} sub-envs share; "
                f"pass indices=None (all), got {indices!r}"
            )
