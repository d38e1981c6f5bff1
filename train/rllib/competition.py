"""RLlib multi-agent PPO on the competition game: one shared policy for all makers.

Needs the ``ray`` extra (this module imports Ray). ::

    from train.rllib.competition import CompetitionRLlibConfig, train_competition_rllib

    result = train_competition_rllib(CompetitionRLlibConfig(n_makers=2, total_timesteps=200_000))
    result.policy.act(obs)          # per-maker observations -> [bid_depth, ask_depth]

How the pieces map onto RLlib's new API stack (Ray 2.60):

- :class:`CompetitionMultiAgentEnv` is a ``MultiAgentEnv`` over
  :func:`mm_env.competition.parallel_env` (agents ``maker_0``, ...): the PettingZoo dicts pass
  through, with each observation replaced by its network input
  (:class:`train.wrappers.FeatureTransform` on the single-asset part, fixed scaling) and
  ``terminateds["__all__"]`` / ``truncateds["__all__"]`` added. RLlib's own
  ``ParallelPettingZooEnv`` would do the plumbing, but not the scaling, which every training
  stack of the package shares; it is registered as :data:`ENV_NAME` with the creator
  :func:`make_competition_env`.
- one module, :data:`SHARED_MODULE`, is mapped to every agent (``policy_mapping_fn``):
  parameter sharing, each agent's experience trains the same network on its own reward;
- actions are raw depths clipped to the action space, the PPO loss is SB3's (clip 0.2, no KL
  penalty, unclipped value loss at weight 0.5, gradients clipped at 0.5), the free log std
  starts at ``log_std_init`` as in :func:`train.rllib.trainer.build_algo`.

:func:`train_competition_rllib` runs a short training and returns the shared policy as an
``act(obs)`` agent (:class:`train.rllib.policy.RLlibPolicy`), which
:func:`train.evaluation.competition.evaluate_competition` plays for every maker.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from gymnasium import spaces
from ray.rllib.env.multi_agent_env import MultiAgentEnv

from agents.competition import YARDSTICK_OVERRIDES
from mm_env.competition import CompetitionConfig, build_config
from train.features import check_features
from train.rllib.env import overrides_from_env_config
from train.rllib.policy import RLlibPolicy
from train.rllib.ppo_setup import sb3_ppo_training, set_free_log_std, tanh_mlp
from train.run_config import check_int
from train.wrappers import FeatureTransform

__all__ = [
    "ENV_NAME",
    "SHARED_MODULE",
    "CompetitionMultiAgentEnv",
    "CompetitionRLlibConfig",
    "CompetitionRLlibResult",
    "build_competition_algo",
    "make_competition_env",
    "train_competition_rllib",
]

#: The name the env creator is registered under in Ray's registry.
ENV_NAME = "mm_env_competition_rllib"
#: The one RLModule every maker is mapped to.
SHARED_MODULE = "shared"

_KEYS = frozenset({"n_makers", "preset", "overrides", "obs_features"})


def game_from_env_config(env_config: Mapping[str, Any]) -> CompetitionConfig:
    """The game an ``env_config`` describes (ValueError naming unknown keys or bad values)."""
    unknown = sorted(set(env_config) - _KEYS)
    if unknown:
        raise ValueError(f"unknown env_config key(s) {unknown}; valid keys are {sorted(_KEYS)}")
    return build_config(
        n_makers=int(env_config.get("n_makers", 2)),
        preset=env_config.get("preset", "penalty"),
        overrides=overrides_from_env_config(env_config),
    )


class CompetitionMultiAgentEnv(MultiAgentEnv):
    """RLlib ``MultiAgentEnv`` over the competition ``ParallelEnv`` (module doc).

    Observation of each agent: ``features`` of its own state (:mod:`train.features`), fixed
    scaling, float32; action: ``[bid_depth, ask_depth]`` (the env's box); rewards, infos:
    the parallel env's; the episode ends for all agents after ``n_steps``.
    """

    def __init__(self, game: CompetitionConfig, features: tuple[str, ...]) -> None:
        super().__init__()
        from mm_env.competition import CompetitionParallelEnv

        self.par_env = CompetitionParallelEnv(config=game)
        self.game = game
        self.transform = FeatureTransform(game.market, check_features(features), "fixed")
        self.possible_agents = list(self.par_env.possible_agents)
        self.agents = list(self.possible_agents)
        # RLlib types agent ids as Hashable | str; ours are the ParallelEnv's names
        self.observation_spaces: dict[Any, spaces.Space[Any]] = {
            a: self.transform.space(self.par_env.observation_space(str(a))) for a in self.agents
        }
        self.action_spaces: dict[Any, spaces.Space[Any]] = {
            a: self.par_env.action_space(str(a)) for a in self.agents
        }
        self.observation_space = spaces.Dict(self.observation_spaces)
        self.action_space = spaces.Dict(self.action_spaces)

    def _obs(self, obs: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        return {a: self.transform(o) for a, o in obs.items()}

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[Any, Any], dict[Any, Any]]:
        obs, infos = self.par_env.reset(seed=seed, options=options)
        self.agents = list(self.par_env.agents)
        return self._obs(obs), dict(infos)

    def step(self, action_dict: dict[Any, Any]) -> tuple[Any, Any, Any, Any, Any]:
        obs, rewards, terminated, truncated, infos = self.par_env.step(dict(action_dict))
        terminateds: dict[str, bool] = {a: bool(v) for a, v in terminated.items()}
        truncateds: dict[str, bool] = {a: bool(v) for a, v in truncated.items()}
        terminateds["__all__"] = all(terminated.values())
        truncateds["__all__"] = all(truncated.values())
        self.agents = list(self.par_env.agents)
        rew = {a: float(r) for a, r in rewards.items()}
        return self._obs(obs), rew, terminateds, truncateds, dict(infos)


def make_competition_env(env_config: Mapping[str, Any]) -> CompetitionMultiAgentEnv:
    """The creator RLlib calls on every EnvRunner (keys: ``n_makers``, ``preset``,
    ``overrides``, ``obs_features``)."""
    features = tuple(env_config.get("obs_features", DEFAULT_FEATURES))
    return CompetitionMultiAgentEnv(game_from_env_config(env_config), features)


DEFAULT_FEATURES = ("time_remaining", "sqrt_time_remaining", "inventory")


def shared_module_for(agent_id: Any, episode: Any = None, **kwargs: Any) -> str:
    """RLlib's ``policy_mapping_fn``: every maker plays :data:`SHARED_MODULE`."""
    return SHARED_MODULE


@dataclass(frozen=True)
class CompetitionRLlibConfig:
    """A short multi-agent PPO run on the competition game."""

    n_makers: int = 2
    preset: str = "penalty"
    overrides: dict[str, Any] = field(default_factory=lambda: dict(YARDSTICK_OVERRIDES))
    obs_features: tuple[str, ...] = DEFAULT_FEATURES
    total_timesteps: int = 100_000
    """Env steps (RLlib's count: one step of the game, all makers together)."""
    rollout_fragment_length: int = 100
    num_envs_per_env_runner: int = 1
    train_batch_size: int = 2000
    """Env steps per training iteration."""
    minibatch_size: int = 500
    num_epochs: int = 5
    learning_rate: float = 3e-4
    gamma: float = 1.0
    gae_lambda: float = 0.95
    net_arch: tuple[int, ...] = (64, 64)
    log_std_init: float = -1.0
    seed: int = 0

    def __post_init__(self) -> None:
        for name in (
            "total_timesteps",
            "rollout_fragment_length",
            "num_envs_per_env_runner",
            "train_batch_size",
            "minibatch_size",
            "num_epochs",
        ):
            check_int(name, getattr(self, name), 1)
        if self.minibatch_size > self.train_batch_size:
            raise ValueError(
                f"minibatch_size ({self.minibatch_size}) must be <= train_batch_size "
                f"({self.train_batch_size})"
            )
        object.__setattr__(self, "obs_features", check_features(self.obs_features))
        object.__setattr__(self, "net_arch", tuple(self.net_arch))
        self.game()  # validates n_makers, the preset and the overrides

    def env_config(self) -> dict[str, Any]:
        """RLlib's ``env_config`` for :func:`make_competition_env`."""
        return {
            "n_makers": self.n_makers,
            "preset": self.preset,
            "overrides": dict(self.overrides),
            "obs_features": list(self.obs_features),
        }

    def game(self) -> CompetitionConfig:
        return game_from_env_config(self.env_config())

    def replace(self, **changes: Any) -> CompetitionRLlibConfig:
        return dataclasses.replace(self, **changes)


def ppo_competition_config(cfg: CompetitionRLlibConfig) -> Any:
    """RLlib's ``PPOConfig`` with one shared module for every maker."""
    from ray.rllib.algorithms.ppo import PPOConfig
    from ray.rllib.core.rl_module.multi_rl_module import MultiRLModuleSpec
    from ray.rllib.core.rl_module.rl_module import RLModuleSpec
    from ray.tune.registry import register_env

    register_env(ENV_NAME, make_competition_env)
    model = tanh_mlp(cfg.net_arch)
    return (
        PPOConfig()
        .environment(
            ENV_NAME, env_config=cfg.env_config(), normalize_actions=False, clip_actions=True
        )
        .multi_agent(policies={SHARED_MODULE}, policy_mapping_fn=shared_module_for)
        .rl_module(
            rl_module_spec=MultiRLModuleSpec(
                rl_module_specs={SHARED_MODULE: RLModuleSpec(model_config=model)}
            )
        )
        .env_runners(
            num_env_runners=0,
            num_envs_per_env_runner=cfg.num_envs_per_env_runner,
            rollout_fragment_length=cfg.rollout_fragment_length,
        )
        .training(**sb3_ppo_training(cfg, cfg.learning_rate))  # SB3's PPO objective
        .debugging(seed=cfg.seed, log_level="WARN")
    )


def build_competition_algo(cfg: CompetitionRLlibConfig) -> Any:
    """The PPO algorithm of ``cfg``, the shared module's log std set to ``log_std_init``."""
    algo = ppo_competition_config(cfg).build_algo()
    set_free_log_std(algo, SHARED_MODULE, cfg.log_std_init)
    return algo


@dataclass
class CompetitionRLlibResult:
    """What :func:`train_competition_rllib` returns."""

    policy: RLlibPolicy
    """The shared module as an ``act(obs)`` agent on per-maker observations."""
    num_env_steps: int
    num_agent_steps: int
    wall_time: float
    iterations: list[dict[str, Any]]
    """Per iteration: ``env_steps``, ``agent_steps`` (all makers), ``module_steps`` (sampled
    for the modules: all of them for the shared one), ``modules_trained`` (the learner's
    modules), ``return_mean`` (RLlib's smoothed episode return, summed over the makers, NaN
    before an episode ended)."""


def _total(counts: Any, default: int) -> int:
    """RLlib's per-agent (or per-module) step counts summed (a plain number as it is)."""
    if isinstance(counts, Mapping):
        return int(sum(v for k, v in counts.items() if not str(k).startswith("__")))
    return default if counts is None else int(counts)


def train_competition_rllib(cfg: CompetitionRLlibConfig) -> CompetitionRLlibResult:
    """Train ``cfg`` (Ray must be initialised or is started locally); the algorithm is
    stopped at the end and its shared policy returned."""
    import ray

    if not ray.is_initialized():
        ray.init(include_dashboard=False, log_to_driver=False)
    algo = build_competition_algo(cfg)
    rows: list[dict[str, Any]] = []
    env_steps = agent_steps = 0
    t0 = time.perf_counter()
    try:
        while env_steps < cfg.total_timesteps:
            result = algo.train()
            runners = result.get("env_runners", {})
            env_steps = int(runners.get("num_env_steps_sampled_lifetime", env_steps))
            agent_steps = _total(runners.get("num_agent_steps_sampled_lifetime"), agent_steps)
            rows.append(
                {
                    "env_steps": env_steps,
                    "agent_steps": agent_steps,
                    "module_steps": _total(runners.get("num_module_steps_sampled_lifetime"), 0),
                    "modules_trained": sorted(
                        k for k in result.get("learners", {}) if not k.startswith("__")
                    ),
                    "return_mean": float(runners.get("episode_return_mean", float("nan"))),
                }
            )
        module = algo.get_module(SHARED_MODULE)
        policy = RLlibPolicy(module, cfg.game().market, cfg.obs_features, "fixed")
    finally:
        algo.stop()
    return CompetitionRLlibResult(policy, env_steps, agent_steps, time.perf_counter() - t0, rows)
