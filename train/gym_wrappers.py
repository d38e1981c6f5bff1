"""Gymnasium wrappers with the training preprocessing of :mod:`train.wrappers`.

SB3 training stacks SB3 ``VecEnvWrapper`` s (:mod:`train.wrappers`); other frameworks (RLlib,
CleanRL-style loops, TorchRL) take Gymnasium envs. These wrappers give them the same network
input and the same training reward, computed by the same functions:

- :class:`SelectFeatures` / :class:`VectorSelectFeatures`: keep some observation features
  (:mod:`train.features`, e.g. ``time_remaining, sqrt_time_remaining, inventory``) with the
  fixed affine scaling ``(x - offset) / scale`` of :func:`train.features.fixed_scale`.
- :class:`MartingaleReward` / :class:`VectorMartingaleReward`: the training-only variance
  reduction of :class:`train.wrappers.VecMartingaleReward` (reward minus the zero-mean price
  noise ``q'(dS - E[dS])``; every policy keeps its expected return).

The vector wrappers need the vector env's default next-step autoreset (RLlib's env runners use
it too): on the step after an episode ends the env returns the new episode's first observation
with reward 0, and the martingale correction is not applied to that step.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, SupportsFloat

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.vector import AutoresetMode, VectorEnv, VectorObservationWrapper, VectorWrapper

from mm_env import MarketConfig, observation_names
from train.features import check_available, check_features, compute_features, fixed_scale

SCALINGS = ("fixed", "none")


def _market(env: gym.Env[Any, Any] | VectorEnv[Any, Any, Any]) -> MarketConfig:
    config = getattr(env.unwrapped, "config", None)
    if not isinstance(config, MarketConfig):
        raise TypeError(
            f"expected an mm_env environment (with a MarketConfig in .unwrapped.config), "
            f"got {type(env.unwrapped).__name__}"
        )
    return config


class FeatureTransform:
    """Feature selection and scaling shared by the scalar and the vector wrapper."""

    def __init__(self, config: MarketConfig, features: Sequence[str], scaling: str) -> None:
        if scaling not in SCALINGS:
            raise ValueError(f"scaling must be one of {list(SCALINGS)}, got {scaling!r}")
        self.features = check_features(features)
        check_available(self.features, config)
        self.names = observation_names(config)
        pairs = [
            fixed_scale(f, config) if scaling == "fixed" else (0.0, 1.0) for f in self.features
        ]
        self.offset = np.array([p[0] for p in pairs], dtype=np.float64)
        self.scale = np.array([p[1] for p in pairs], dtype=np.float64)

    def __call__(self, obs: np.ndarray) -> np.ndarray:
        x = compute_features(obs, self.features, self.names)
        return ((x - self.offset) / self.scale).astype(np.float32)

    def space(self, base: spaces.Space[Any]) -> spaces.Box:
        assert isinstance(base, spaces.Box)
        low, high = self(base.low), self(base.high)
        return spaces.Box(np.minimum(low, high), np.maximum(low, high), dtype=np.float32)


class SelectFeatures(gym.ObservationWrapper[np.ndarray, np.ndarray, np.ndarray]):
    """The network-input features of an mm_env observation, optionally scaled.

    ``SelectFeatures(env, ("time_remaining", "sqrt_time_remaining", "inventory"))`` gives a
    float32 observation of those three features divided by their fixed scales (T, sqrt(T),
    min(inventory limit, 10 sizes)). ``scaling="none"`` keeps raw units.
    """

    def __init__(
        self, env: gym.Env[np.ndarray, np.ndarray], features: Sequence[str], scaling: str = "fixed"
    ) -> None:
        super().__init__(env)
        self.transform = FeatureTransform(_market(env), features, scaling)
        self.observation_space = self.transform.space(env.observation_space)

    def observation(self, observation: np.ndarray) -> np.ndarray:
        return self.transform(observation)


class VectorSelectFeatures(VectorObservationWrapper):
    """:class:`SelectFeatures` for :class:`mm_env.MarketMakingVectorEnv` (one numpy call)."""

    def __init__(
        self, env: VectorEnv[Any, Any, Any], features: Sequence[str], scaling: str = "fixed"
    ) -> None:
        super().__init__(env)
        self.transform = FeatureTransform(_market(env), features, scaling)
        self.single_observation_space = self.transform.space(env.single_observation_space)
        self.observation_space = self.transform.space(env.observation_space)

    def observations(self, observations: Any) -> Any:
        return self.transform(observations)


#: Market features under which E[dS | S] is not the one the martingale correction removes.
MID_EXPECTATION_UNKNOWN = ("ou", "replay", "adverse_selection", "signal")


def expected_move(config: MarketConfig) -> tuple[bool, float]:
    """``(gbm, drift)``: E[S' - S | S] is ``S * drift`` (gbm) or ``drift`` (abm)."""
    moving = sorted(set(config.features) & set(MID_EXPECTATION_UNKNOWN))
    if moving:
        raise ValueError(
            f"the martingale reward assumes E[dS | S] = mu dt (abm) or S(e^(mu dt) - 1) (gbm), "
            f"which the market's features {moving} break (they move the mid predictably); "
            "train without it (martingale_reward=False)"
        )
    gbm = config.mid_model == "gbm"
    return gbm, float(np.expm1(config.mu * config.dt)) if gbm else config.mu * config.dt


class MartingaleReward(gym.Wrapper[np.ndarray, np.ndarray, np.ndarray, np.ndarray]):
    """Training reward ``r - q'(S' - S - E[S' - S | S])`` for the scalar env.

    Same expected return for every policy (so the same optimal policy), much less variance.
    Evaluate on the env's own reward. See :class:`train.wrappers.VecMartingaleReward`.
    """

    def __init__(self, env: gym.Env[np.ndarray, np.ndarray]) -> None:
        super().__init__(env)
        self._gbm, self._drift = expected_move(_market(env))
        self.mid = 0.0

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        obs, info = self.env.reset(seed=seed, options=options)
        self.mid = float(info["mid"])
        return obs, info

    def step(
        self, action: np.ndarray
    ) -> tuple[np.ndarray, SupportsFloat, bool, bool, dict[str, Any]]:
        obs, reward, terminated, truncated, info = self.env.step(action)
        mid = float(info["mid"])
        expected = self.mid * self._drift if self._gbm else self._drift
        reward = float(reward) - float(info["inventory"]) * (mid - self.mid - expected)
        self.mid = mid
        return obs, reward, terminated, truncated, info


class VectorMartingaleReward(VectorWrapper):
    """:class:`MartingaleReward` for the vector env in next-step autoreset mode."""

    def __init__(self, env: VectorEnv[Any, Any, Any]) -> None:
        super().__init__(env)
        mode = env.metadata.get("autoreset_mode")
        if mode != AutoresetMode.NEXT_STEP:
            raise ValueError(
                f"VectorMartingaleReward needs autoreset_mode NextStep (the vector env's "
                f"default), got {mode}"
            )
        self._gbm, self._drift = expected_move(_market(env))
        self.mid = np.zeros(self.num_envs)
        self.autoreset = np.zeros(self.num_envs, dtype=bool)

    def reset(
        self, *, seed: Any = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        # seed: an int or None (gymnasium 1.2 also types a list of ints)
        obs, info = self.env.reset(seed=seed, options=options)
        mask = None if options is None else options.get("reset_mask")
        # info["mid"] is every sub-env's current mid, reset or not (a partial reset keeps the
        # others' state; the very first reset is a full one whatever the mask)
        self.mid = np.array(info["mid"], dtype=np.float64)
        if mask is None:
            self.autoreset[:] = False
        else:
            self.autoreset[np.asarray(mask, dtype=bool)] = False
        return obs, info

    def step(self, actions: Any) -> tuple[Any, Any, Any, Any, dict[str, Any]]:
        obs, reward, terminated, truncated, info = self.env.step(actions)
        mid = np.asarray(info["mid"], dtype=np.float64)
        q = np.asarray(info["inventory"], dtype=np.float64)
        expected = self.mid * self._drift if self._gbm else self._drift
        noise = np.where(self.autoreset, 0.0, q * (mid - self.mid - expected))
        reward = (np.asarray(reward, dtype=np.float64) - noise).astype(np.asarray(reward).dtype)
        self.mid = mid.copy()
        self.autoreset = np.logical_or(terminated, truncated)
        return obs, reward, terminated, truncated, info
