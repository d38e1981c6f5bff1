"""The training env stack and the metadata that lets a saved model see what it trained on.

``SB3VecEnv`` (all envs in one numpy batch) → ``VecMonitor`` (episode statistics of the
env's own reward) → ``VecMartingaleReward`` (optional, training-only variance reduction) →
``VecPotentialShaping`` (optional, training-only potential-based reward shaping) →
``VecSelectObservation`` (the features of ``cfg.obs_features``, fixed scaling) →
``VecNormalize`` (reward scaling; running observation normalisation if
``obs_scaling="running"``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from stable_baselines3.common.vec_env import VecEnv, VecMonitor, VecNormalize

from train.sb3.config import TrainConfig
from train.sb3.model_dir import model_meta
from train.sb3.vec_env import SB3VecEnv
from train.sb3.wrappers import (
    VecMartingaleReward,
    VecPotentialShaping,
    VecSelectObservation,
    fixed_observation_scale,
)


@dataclass
class EnvStack:
    """The training env and handles on its layers."""

    cfg: TrainConfig
    base: SB3VecEnv
    monitor: VecMonitor
    martingale: VecMartingaleReward | None
    shaping: VecPotentialShaping | None
    select: VecSelectObservation
    vecnorm: VecNormalize

    def policy_input(self, obs: np.ndarray) -> np.ndarray:
        """Raw env observations ``(n, 3)`` as the network sees them in training."""
        x = self.select.transform(np.asarray(obs, dtype=np.float32))
        return np.asarray(self.vecnorm.normalize_obs(x), dtype=np.float32)

    def meta(self, num_timesteps: int) -> dict[str, Any]:
        """``meta.json`` of a model saved from this stack."""
        return model_meta(
            self.cfg.algo,
            self.cfg.market(),
            self.cfg.obs_features,
            self.vecnorm if self.vecnorm.norm_obs else None,
            num_timesteps,
            offset=self.select.offset.tolist(),
            scale=self.select.scale.tolist(),
        )


def make_env_stack(cfg: TrainConfig, vecnorm_path: Path | None = None) -> EnvStack:
    """Build the training env; with ``vecnorm_path``, load its normalisation statistics."""
    market = cfg.market()
    base = SB3VecEnv(cfg.n_envs, market)
    base.stagger_episodes = cfg.stagger_episodes
    monitor = VecMonitor(base)
    martingale = VecMartingaleReward(monitor) if cfg.martingale_reward else None
    inner: VecEnv = monitor if martingale is None else martingale
    shaping = None
    if cfg.reward_shaping != "none":
        shaping = VecPotentialShaping(inner, cfg.reward_shaping)
        inner = shaping
    offset = scale = None
    if cfg.obs_scaling == "fixed":
        offset, scale = fixed_observation_scale(market, cfg.obs_features)
    select = VecSelectObservation(inner, cfg.obs_features, offset, scale)
    if vecnorm_path is not None:
        vecnorm = VecNormalize.load(str(vecnorm_path), select)
    else:
        vecnorm = VecNormalize(
            select,
            norm_obs=cfg.obs_scaling == "running",
            norm_reward=cfg.norm_reward,
            gamma=cfg.gamma,
        )
    return EnvStack(cfg, base, monitor, martingale, shaping, select, vecnorm)
