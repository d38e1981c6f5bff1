"""Markets and configs shared by the train tests.

``SMALL``: the penalty market in 20 steps with ``A dt = 1`` (non-trivial fill probabilities);
PPO gets close to the exact optimum in about 60k steps. ``rollout``: a seeded run of an SB3
``VecEnv`` with fixed actions. Test modules import the names
(``from tests.train.conftest import SMALL, small_market``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from mm_env import MarketConfig

if TYPE_CHECKING:  # the RL framework is imported only by the tests that use it
    from stable_baselines3.common.vec_env import VecEnv

SMALL: dict[str, Any] = {"n_steps": 20, "A": 20.0, "fill_model": "poisson"}


def small_market(preset: str = "penalty", **changes: Any) -> MarketConfig:
    """``preset`` with :data:`SMALL` and ``changes`` on top."""
    return MarketConfig.preset(preset, **{**SMALL, **changes})


def rollout(
    venv: VecEnv, n_steps: int, seed: int | None, actions: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[list[dict[str, Any]]]]:
    """Seeded reset (``seed`` None: unseeded), then ``n_steps`` steps of ``actions``: stacked
    obs, rewards, dones and the infos of every step."""
    if seed is not None:
        venv.seed(seed)
    obs = [venv.reset()]
    rewards, dones, infos = [], [], []
    for _ in range(n_steps):
        o, r, d, i = venv.step(actions)
        obs.append(o)
        rewards.append(r)
        dones.append(d)
        infos.append(i)
    return np.stack(obs), np.stack(rewards), np.stack(dones), infos
