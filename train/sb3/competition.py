"""Self-play training of competing market makers with one shared SB3 PPO policy.

Every maker of every game is a row of one SB3 batch (:class:`CompetitionSB3VecEnv`), so a
single policy is trained on the experience of all makers at once (parameter sharing; each
maker's reward is its own). The policy sees its own state (the single-asset features of
:mod:`train.features`, fixed scaling), optionally the other makers' inventories; it does not
know its maker index, so the profile it plays is symmetric.

::

    from train.sb3.competition import SelfPlayConfig, load_self_play, train_self_play

    result = train_self_play(SelfPlayConfig(n_makers=2, total_timesteps=2_000_000), "runs/sp2")
    policy = load_self_play(result.model_dir)        # act(obs) on per-maker observations
    policy.trained_market, policy.n_makers

The market defaults to the competition yardsticks' (:func:`agents.competition.yardstick_config`:
the ``"penalty"`` preset, inventory limit 10, tick 0.05, a still mid). ``total_timesteps``
counts maker-steps (rows), as SB3 does. The training stack is ``CompetitionSB3VecEnv`` →
``VecMonitor`` (per-maker episode statistics) → :class:`VecCompetitionFeatures` (fixed
scaling) → ``VecNormalize`` (reward scaling only). A run directory holds ``config.json`` (the
:class:`SelfPlayConfig`) and ``model/``: ``model.zip`` and ``meta.json`` (the market config,
``n_makers``, the per-maker limits and rewards, the network input and its scaling, the steps
trained).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from stable_baselines3 import PPO
from stable_baselines3.common.vec_env import VecMonitor, VecNormalize

from agents.competition import YARDSTICK_OVERRIDES
from mm_env import MarketConfig
from mm_env.competition import CompetitionConfig, build_config
from train.features import check_features
from train.run_config import check_int, check_number
from train.sb3.algorithms import schedule_objects
from train.sb3.competition_vec_env import (
    CompetitionFeatureTransform,
    CompetitionSB3VecEnv,
    VecCompetitionFeatures,
)
from train.sb3.model_dir import META_FILE, MODEL_FILE, save_model_dir
from train.sb3.ppo_run import JsonConfig, build_ppo, check_new_run, write_run_config
from train.values import UserError

__all__ = [
    "CompetitionSB3VecEnv",
    "SelfPlayConfig",
    "SelfPlayPolicy",
    "SelfPlayResult",
    "VecCompetitionFeatures",
    "load_self_play",
    "make_self_play_env",
    "train_self_play",
]

MODEL_DIR = "model"
META_KIND = "competition_self_play"


@dataclass(frozen=True)
class SelfPlayConfig(JsonConfig):
    """A self-play PPO run: the game, the network input, PPO's hyperparameters, the budget."""

    list_valid_fields: ClassVar[bool] = True

    n_makers: int = 2
    """Makers per game (1 to 64)."""
    preset: str = "penalty"
    """Market preset of the single-asset market."""
    overrides: dict[str, Any] = field(default_factory=lambda: dict(YARDSTICK_OVERRIDES))
    """MarketConfig overrides (default: the yardstick market's, tick 0.05, |q| <= 10)."""
    n_games: int = 500
    """Games stepped together; the batch has ``n_games * n_makers`` rows."""
    total_timesteps: int = 2_000_000
    """Maker-steps to train for (rows x steps, SB3's count)."""
    n_steps: int = 40
    """Steps per row per rollout."""
    batch_size: int = 10_000
    """PPO minibatch size."""
    n_epochs: int = 5
    """PPO epochs over each rollout."""
    learning_rate: float = 5e-4
    """Initial learning rate."""
    lr_schedule: str = "linear"
    """``"linear"`` (to 0) or ``"constant"``."""
    gamma: float = 1.0
    """Discount (1: the env's undiscounted finite-horizon sum)."""
    gae_lambda: float = 0.95
    """GAE lambda."""
    net_arch: tuple[int, ...] = (64, 64)
    """Hidden layers of the policy and value networks."""
    log_std_init: float = -1.0
    """Initial log std of the Gaussian policy."""
    obs_features: tuple[str, ...] = ("time_remaining", "sqrt_time_remaining", "inventory")
    """Own-state network input (:mod:`train.features`)."""
    other_inventories: bool = False
    """Also feed the other makers' inventories (plays on full-information observations)."""
    norm_reward: bool = True
    """Scale rewards by a running std of the return (VecNormalize)."""
    stagger_episodes: bool = False
    """Spread the games' episode phases at the start (:meth:`CompetitionSB3VecEnv.stagger`)."""
    seed: int = 0
    """Seed of the games and the networks."""
    torch_threads: int = 1
    """torch CPU threads (0: torch's default)."""

    def __post_init__(self) -> None:
        check_int("n_makers", self.n_makers, 1)
        for name in ("n_games", "total_timesteps", "n_steps", "n_epochs"):
            check_int(name, getattr(self, name), 1)
        check_int("batch_size", self.batch_size, 2)
        check_int("seed", self.seed, 0)
        check_int("torch_threads", self.torch_threads, 0)
        if self.lr_schedule not in ("linear", "constant"):
            raise ValueError(
                f"lr_schedule must be one of ['linear', 'constant'], got {self.lr_schedule!r}"
            )
        for name, low, high in (
            ("gamma", 0.0, 1.0),
            ("gae_lambda", 0.0, 1.0),
            ("learning_rate", 0.0, 1.0),
            ("log_std_init", -20.0, 20.0),
        ):
            check_number(name, getattr(self, name), low, high)
        object.__setattr__(self, "net_arch", tuple(self.net_arch))
        if not self.net_arch or any(
            isinstance(u, bool) or not isinstance(u, int) or u < 1 for u in self.net_arch
        ):
            raise ValueError(f"net_arch must be positive layer sizes, got {self.net_arch!r}")
        object.__setattr__(self, "obs_features", check_features(self.obs_features))
        if self.batch_size > self.n_steps * self.n_games * self.n_makers:
            raise ValueError(
                f"batch_size ({self.batch_size}) must be <= the rollout n_steps * n_games * "
                f"n_makers = {self.n_steps * self.n_games * self.n_makers}"
            )
        self.game()  # validates the preset and the overrides

    def game(self) -> CompetitionConfig:
        """The :class:`CompetitionConfig` the run trains on."""
        return build_config(
            n_makers=self.n_makers,
            preset=self.preset,
            full_information=self.other_inventories,
            overrides=dict(self.overrides),
        )


@dataclass
class SelfPlayStack:
    """The training env and handles on its layers."""

    base: CompetitionSB3VecEnv
    monitor: VecMonitor
    features: VecCompetitionFeatures
    vecnorm: VecNormalize


def make_self_play_env(cfg: SelfPlayConfig) -> SelfPlayStack:
    """The training stack of ``cfg`` (module doc)."""
    game = cfg.game()
    base = CompetitionSB3VecEnv(cfg.n_games, config=game)
    base.stagger_episodes = cfg.stagger_episodes
    base.seed(cfg.seed)
    monitor = VecMonitor(base)
    transform = CompetitionFeatureTransform(game, cfg.obs_features, cfg.other_inventories)
    features = VecCompetitionFeatures(monitor, transform)
    vecnorm = VecNormalize(features, norm_obs=False, norm_reward=cfg.norm_reward, gamma=cfg.gamma)
    return SelfPlayStack(base, monitor, features, vecnorm)


@dataclass
class SelfPlayResult:
    """What :func:`train_self_play` returns."""

    run_dir: Path
    model_dir: Path
    model: PPO
    num_timesteps: int
    wall_time: float
    episode_rewards: list[float]
    """Per-maker training episode rewards of the last episodes VecMonitor saw (at most 100)."""


def train_self_play(cfg: SelfPlayConfig, run_dir: str | Path) -> SelfPlayResult:
    """Train one shared PPO policy for all makers; write ``run_dir/config.json`` and
    ``run_dir/model/`` (see the module doc). A directory that already holds a run is refused."""
    run = Path(run_dir)
    check_new_run(run)
    if cfg.torch_threads:
        torch.set_num_threads(cfg.torch_threads)
    stack = make_self_play_env(cfg)
    model = build_ppo(cfg, stack.vecnorm)
    write_run_config(run, cfg)
    t0 = time.perf_counter()
    model.learn(total_timesteps=cfg.total_timesteps)
    wall = time.perf_counter() - t0
    model_dir = run / MODEL_DIR
    save_self_play(model_dir, model, cfg, stack.features.transform)
    rewards = [float(e["r"]) for e in model.ep_info_buffer or []]
    return SelfPlayResult(run, model_dir, model, model.num_timesteps, wall, rewards)


def self_play_meta(
    cfg: SelfPlayConfig, transform: CompetitionFeatureTransform, num_timesteps: int
) -> dict[str, Any]:
    """The ``meta.json`` of a self-play model."""
    game = cfg.game()
    return {
        "format": 1,
        "kind": META_KIND,
        "algo": "PPO",
        "market": game.market.to_dict(),
        "n_makers": game.n_makers,
        "inventory_limits": None if game.inventory_limits is None else list(game.inventory_limits),
        "rewards": None if game.rewards is None else list(game.rewards),
        "full_information": game.full_information,
        "obs_features": list(transform.features),
        "other_inventories": transform.other_inventories,
        "obs_offset": [float(x) for x in transform.base.offset],
        "obs_scale": [float(x) for x in transform.base.scale],
        "num_timesteps": int(num_timesteps),
        "train_config": cfg.to_dict(),
    }


def save_self_play(
    path: Path, model: PPO, cfg: SelfPlayConfig, transform: CompetitionFeatureTransform
) -> None:
    """Write a self-play model directory atomically (``model.zip``, ``meta.json``)."""
    save_model_dir(path, model, self_play_meta(cfg, transform, model.num_timesteps), None)


class SelfPlayPolicy:
    """A trained self-play policy: ``act(obs)`` on per-maker observations, like an agent.

    ``obs`` is one maker's raw observation ``(obs_dim,)`` or a batch ``(n, obs_dim)`` in the
    competition env's layout (full-information observations when ``full_information``); the
    result is deterministic depths ``(2,)`` or ``(n, 2)``. ``trained_market`` is the
    single-asset :class:`~mm_env.MarketConfig` (the evaluation refuses the policy on another
    market), ``game`` the :class:`~mm_env.competition.CompetitionConfig`, ``n_makers`` the
    makers it was trained among.
    """

    def __init__(self, model: PPO, meta: dict[str, Any]) -> None:
        self.model = model
        self.meta = meta
        market = MarketConfig.from_dict(meta["market"])
        limits, rewards = meta.get("inventory_limits"), meta.get("rewards")
        self.game = CompetitionConfig(
            n_makers=int(meta["n_makers"]),
            market=market,
            inventory_limits=None if limits is None else tuple(limits),
            rewards=None if rewards is None else tuple(rewards),
            full_information=bool(meta["full_information"]),
        )
        self.config = self.trained_market = market
        self.n_makers = self.game.n_makers
        self.full_information = self.game.full_information
        self.name = f"self-play {meta['algo']} (N={self.n_makers})"
        self.transform = CompetitionFeatureTransform(
            self.game,
            meta["obs_features"],
            bool(meta.get("other_inventories", False)),
            offset=meta["obs_offset"],
            scale=meta["obs_scale"],
        )
        expected = model.observation_space.shape
        if expected != (self.transform.width,):
            raise ValueError(
                f"the model's observation space has shape {expected}, but its meta.json "
                f"describes {self.transform.width} input columns"
            )

    def act(self, obs: np.ndarray) -> np.ndarray:
        """Deterministic ``[bid_depth, ask_depth]`` for one observation or a batch."""
        x = np.asarray(obs, dtype=np.float32)
        width = self.transform.base_width + 3 * (self.n_makers - 1)
        if self.transform.other_inventories and x.shape[-1] != width:
            raise ValueError(
                f"this policy reads the other makers' inventories of a {self.n_makers}-maker "
                f"game: observations need {width} columns (full_information=True), got shape "
                f"{x.shape}"
            )
        action, _ = self.model.predict(self.transform(x), deterministic=True)
        return np.asarray(action, dtype=np.float64)

    def __repr__(self) -> str:
        return f"SelfPlayPolicy(N={self.n_makers}, {self.meta.get('num_timesteps')} steps)"


def load_self_play(path: str | Path) -> SelfPlayPolicy:
    """Load a self-play model directory (``RUN_DIR/model``, or a run directory holding one)."""
    root = Path(path)
    if not (root / META_FILE).is_file() and (root / MODEL_DIR / META_FILE).is_file():
        root = root / MODEL_DIR
    meta_path = root / META_FILE
    if not meta_path.is_file():
        raise UserError(f"{str(path)!r} is not a self-play model directory (no {META_FILE})")
    try:
        meta = json.loads(meta_path.read_text())
    except (OSError, ValueError) as exc:
        raise UserError(f"cannot read {str(meta_path)!r}: {exc}") from None
    if not isinstance(meta, dict) or meta.get("kind") != META_KIND:
        raise UserError(
            f"{str(meta_path)!r} is not the meta.json of a self-play model (kind "
            f"{META_KIND!r}); single-asset models load with train.sb3.model_dir.load_policy"
        )
    try:
        model = PPO.load(root / MODEL_FILE, device="cpu", custom_objects=schedule_objects(None))
    except Exception as exc:  # whatever SB3/torch raise on a file they cannot read
        raise UserError(
            f"cannot load {str(root / MODEL_FILE)!r} as an SB3 PPO model: {exc}"
        ) from exc
    try:
        return SelfPlayPolicy(model, meta)
    except (KeyError, ValueError, TypeError) as exc:
        raise UserError(f"{str(meta_path)!r}: {exc}") from None
