"""SB3 ``VecEnv`` over the batched competition env: one batch row per (game, maker).

:class:`CompetitionSB3VecEnv` steps :class:`mm_env.competition.CompetitionVectorEnv` (in
Gymnasium's ``SameStep`` autoreset mode, SB3's convention) and shows SB3 ``num_games * N``
sub-environments, row ``g * N + j`` being maker ``j`` of game ``g``
(:meth:`~mm_env.competition.CompetitionVectorEnv.flat`). One SB3 policy then acts for every
maker of every game: self-play with parameter sharing. Each row's reward is its maker's
reward; all the rows of a game end together (the horizon is observed: a termination,
``TimeLimit.truncated`` False), and ``infos[row]`` of a finished episode carries the maker's
final info values and ``terminal_observation``.

Spaces: a row's observation space is the env's ``shared_observation_space`` (the widest
bounds over the makers), its action space the single-asset ``[bid_depth, ask_depth]`` box.
With one maker (and no full information) a row is exactly the single-asset
:class:`train.sb3.vec_env.SB3VecEnv`'s, step for step (same seed, same actions: same numbers).

:class:`VecCompetitionFeatures` is the network input: the single-asset features of
:mod:`train.features` with their fixed scaling (:class:`train.wrappers.FeatureTransform`, the
same arithmetic as single-asset training), optionally followed by the other makers'
inventories (full-information observations) divided by the inventory scale.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from gymnasium import spaces
from stable_baselines3.common.vec_env import VecEnv
from stable_baselines3.common.vec_env.base_vec_env import VecEnvStepReturn

from mm_env import MarketConfig, observation_scales
from mm_env.competition import CompetitionConfig, CompetitionVectorEnv
from train.sb3.vec_env import SB3VecEnv, fill_final_infos
from train.sb3.wrappers import VecObservationWrapper, adapter_of
from train.wrappers import FeatureTransform

__all__ = ["CompetitionFeatureTransform", "CompetitionSB3VecEnv", "VecCompetitionFeatures"]


class CompetitionSB3VecEnv(SB3VecEnv):
    """SB3 VecEnv of ``num_games * n_makers`` rows over one :class:`CompetitionVectorEnv`.

    ``CompetitionSB3VecEnv(num_games, n_makers, config=None, *, preset=None,
    full_information=None, **overrides)`` takes the arguments of
    :class:`~mm_env.competition.CompetitionVectorEnv` (but its autoreset mode, always
    ``SameStep``). Attributes: ``venv`` (the batched env), ``competition`` (its
    :class:`~mm_env.competition.CompetitionConfig`), ``config`` (the single-asset
    :class:`~mm_env.MarketConfig` of the market), ``n_makers``, ``num_games`` and
    ``last_info`` (the batched info of the last step, ``(num_games, N)`` arrays).

    With :attr:`stagger_episodes` set, :meth:`reset` spreads the games' episodes over the
    horizon (:meth:`stagger`), so that a rollout shorter than an episode holds every stage of
    it instead of the same time slice for all games (a training choice; the game is unchanged).
    """

    #: spread the games' phases on reset
    stagger_episodes: bool = False
    native_env = CompetitionVectorEnv

    def __init__(
        self,
        num_games: int = 1,
        n_makers: int | None = None,
        config: MarketConfig | CompetitionConfig | None = None,
        *,
        preset: str | None = None,
        full_information: bool | None = None,
        **overrides: Any,
    ) -> None:
        venv = CompetitionVectorEnv(
            num_games,
            n_makers,
            config,
            preset=preset,
            full_information=full_information,
            autoreset_mode="SameStep",
            **overrides,
        )
        self._init_from(venv)

    @classmethod
    def wrap_competition(cls, venv: CompetitionVectorEnv) -> CompetitionSB3VecEnv:
        """Adapt an existing batched env (it must use ``autoreset_mode="SameStep"``):
        :meth:`~train.sb3.vec_env.SB3VecEnv.wrap`."""
        return cls.wrap(venv)

    def _init_from(
        self,
        venv: Any,
        config: Any = None,
        num_envs: int | None = None,
        observation_space: spaces.Space[Any] | None = None,
    ) -> None:
        """Attach the batched env: ``num_games * n_makers`` rows of its shared observation
        space, ``config`` the single-asset market."""
        self.competition = venv.config
        self.n_makers = venv.n_makers
        self.num_games = venv.num_games
        super()._init_from(
            venv,
            venv.config.market,
            venv.num_games * venv.n_makers,
            venv.shared_observation_space,
        )

    def _rows(self, obs: np.ndarray) -> np.ndarray:
        """Batched observations ``(num_games, N, d)`` as rows ``(num_games * N, d)``."""
        return self._env.flat(obs)

    def stagger(self, obs: np.ndarray, info: dict[str, Any]) -> tuple[np.ndarray, dict[str, Any]]:
        """Put game ``g`` at step ``floor(g n_steps / num_games)`` of a fresh episode.

        Every game steps under the naive quotes (depth ``1/k`` on both sides, for every maker)
        and is reset (``reset_mask``) when it has as many steps left as its phase asks: no game
        ends an episode, the draws come from the env's own generator (a seeded reset staggers
        the same way every time), and the steps before a game's reset belong to no episode.
        Returns the batched observation and info after the last step (``obs``, ``info``: those
        of the fresh reset before it).
        """
        env = self._env
        horizon = self.config.n_steps
        phase = (np.arange(self.num_games) * horizon) // self.num_games
        last = int(phase.max())
        space = env.single_action_space
        naive = np.clip(np.full(2, 1.0 / self.config.k), space.low, space.high)
        actions = np.broadcast_to(naive, (self.num_games, self.n_makers, 2))
        for done in range(1, last + 1):
            obs, _, _, _, info = env.step(actions)
            starts = phase == last - done
            if starts.any():
                obs, info = env.reset(options={"reset_mask": starts})
        return obs, info

    def step_wait(self) -> VecEnvStepReturn:
        if self._actions is None:
            raise RuntimeError("call step_async(actions) before step_wait()")
        env = self._env
        actions = np.asarray(self._actions).reshape(self.num_envs, 2)
        obs, reward, terminated, truncated, info = env.step(env.unflat(actions))
        self._actions = None
        self.last_info = info
        n = self.n_makers
        dones = np.repeat(terminated | truncated, n)
        infos: list[dict[str, Any]] = [{} for _ in range(self.num_envs)]
        if dones.any():
            final = info["final_info"]
            final_info = {k: env.flat(v) for k, v in final.items() if not k.startswith("_")}
            cut = np.repeat(truncated & ~terminated, n)
            fill_final_infos(infos, dones, env.flat(info["final_obs"]), final_info, cut)
        return env.flat(obs), env.flat(reward).astype(np.float32), dones, infos

    def get_attr(self, attr_name: str, indices: Any = None) -> list[Any]:
        """The attribute of the shared batched env, once per requested index (``render_mode``:
        None, the batched env does not render)."""
        if attr_name == "render_mode" and not hasattr(self.venv, attr_name):
            return [None for _ in self._get_indices(indices)]
        return super().get_attr(attr_name, indices)

    @property
    def _env(self) -> CompetitionVectorEnv:
        venv = self.venv
        assert isinstance(venv, CompetitionVectorEnv)
        return venv


class CompetitionFeatureTransform:
    """Raw per-maker observations ``(..., obs_dim)`` to the network input, float32.

    The columns are ``features`` (:mod:`train.features` names, computed from the single-asset
    part of the observation, ``(x - offset) / scale`` with the fixed offsets and scales of
    :func:`train.wrappers.fixed_offset_scale`), then with ``other_inventories`` the ``N - 1``
    other makers' inventories (maker order, skipping the maker itself; they need
    full-information observations) divided by the inventory scale. ``offset`` and ``scale``
    (of the ``features`` columns), when given, are used as they are (a saved model's).
    """

    def __init__(
        self,
        config: CompetitionConfig,
        features: Sequence[str],
        other_inventories: bool = False,
        *,
        offset: Sequence[float] | None = None,
        scale: Sequence[float] | None = None,
    ) -> None:
        if other_inventories and not config.full_information:
            raise ValueError(
                "other_inventories=True reads the other makers' inventories from "
                "full-information observations; build the game with full_information=True"
            )
        market = config.market
        arrays: dict[str, Any] = {}
        if offset is not None and scale is not None:
            arrays = {
                "offset": np.asarray(offset, np.float32),
                "scale": np.asarray(scale, np.float32),
            }
        self.base = FeatureTransform(market, features, "fixed", **arrays)
        self.features = self.base.features
        self.other_inventories = bool(other_inventories)
        self.n_makers = config.n_makers
        self.base_width = len(self.base.names)
        self.inventory_scale = float(observation_scales(market)["inventory"][1])
        self.width = len(self.features) + (self.n_makers - 1 if self.other_inventories else 0)

    def __call__(self, obs: np.ndarray) -> np.ndarray:
        x = np.asarray(obs)
        base = self.base(x)
        if not self.other_inventories or self.n_makers == 1:
            return base
        b = self.base_width
        others = x[..., b : b + 3 * (self.n_makers - 1) : 3].astype(np.float64)
        return np.concatenate([base, (others / self.inventory_scale).astype(np.float32)], axis=-1)

    def space(self, base: spaces.Space[Any]) -> spaces.Box:
        """The box of the transformed observations of the box ``base``."""
        assert isinstance(base, spaces.Box)
        low, high = self(base.low), self(base.high)
        return spaces.Box(np.minimum(low, high), np.maximum(low, high), dtype=np.float32)


class VecCompetitionFeatures(VecObservationWrapper):
    """Apply a :class:`CompetitionFeatureTransform` to the rows of a
    :class:`CompetitionSB3VecEnv` (possibly through other wrappers, e.g. ``VecMonitor``)."""

    def __init__(self, venv: VecEnv, transform: CompetitionFeatureTransform) -> None:
        adapter_of(venv, CompetitionSB3VecEnv, "VecCompetitionFeatures")
        self.transform = transform
        super().__init__(venv, observation_space=transform.space(venv.observation_space))

    def observation(self, obs: np.ndarray) -> np.ndarray:
        return self.transform(obs)
