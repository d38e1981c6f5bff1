"""The training preprocessing as Gymnasium wrappers, and its arithmetic, shared by every framework.

Network input and training reward are computed here once, for SB3 (whose ``VecEnvWrapper`` s in
:mod:`train.sb3.wrappers` call the same :class:`FeatureTransform` and
:class:`MartingaleCorrection`), RLlib (:mod:`train.rllib.env`), CleanRL-style loops and TorchRL:

- :class:`SelectFeatures` / :class:`VectorSelectFeatures`: keep some observation features
  (:mod:`train.features`, e.g. ``time_remaining, sqrt_time_remaining, inventory``) with the
  fixed affine scaling ``(x - offset) / scale`` of :func:`train.features.fixed_scale`.
- :class:`MartingaleReward` / :class:`VectorMartingaleReward`: a training-only variance
  reduction, the reward minus its zero-mean price noise ``q'(S' - S - E[S' - S | S])``, with
  ``E[S' - S | S]`` from :func:`mm_env.mid_move_expectation`; every policy keeps its expected
  return, so the optimal policy is unchanged. Evaluate on the env's own reward.

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

import mm_env
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
    """Feature selection and the affine scaling ``(x - offset) / scale``, as float32.

    ``FeatureTransform(config, features, scaling)`` takes the offsets and scales of
    ``scaling`` (``"fixed"``: :func:`train.features.fixed_scale`; ``"none"``: raw units);
    ``offset`` and ``scale`` arrays, when given, are used as they are (SB3 model directories
    store them in float32).
    """

    def __init__(
        self,
        config: MarketConfig,
        features: Sequence[str],
        scaling: str = "fixed",
        *,
        offset: np.ndarray | None = None,
        scale: np.ndarray | None = None,
    ) -> None:
        if scaling not in SCALINGS:
            raise ValueError(f"scaling must be one of {list(SCALINGS)}, got {scaling!r}")
        self.features = check_features(features)
        check_available(self.features, config)
        self.names = observation_names(config)
        if offset is None or scale is None:
            offset, scale = fixed_offset_scale(config, self.features, scaling)
        self.offset, self.scale = np.asarray(offset), np.asarray(scale)

    def __call__(self, obs: np.ndarray) -> np.ndarray:
        x = compute_features(obs, self.features, self.names)
        return ((x - self.offset) / self.scale).astype(np.float32)

    def space(self, base: spaces.Space[Any]) -> spaces.Box:
        assert isinstance(base, spaces.Box)
        low, high = self(base.low), self(base.high)
        return spaces.Box(np.minimum(low, high), np.maximum(low, high), dtype=np.float32)


def fixed_offset_scale(
    config: MarketConfig, features: Sequence[str], scaling: str = "fixed", dtype: Any = np.float64
) -> tuple[np.ndarray, np.ndarray]:
    """``(offset, scale)`` arrays of ``features`` for ``scaling`` (``"none"``: 0 and 1).

    Fixed by the market config, not estimated from data: unlike running statistics, the
    network's input for a given state never changes during training.
    """
    check_available(features, config)
    pairs = [fixed_scale(f, config) if scaling == "fixed" else (0.0, 1.0) for f in features]
    return (
        np.array([p[0] for p in pairs], dtype=dtype),
        np.array([p[1] for p in pairs], dtype=dtype),
    )


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


class MartingaleCorrection:
    """The zero-mean price noise ``q'(S' - S - E[S' - S | S])`` of a step, for one market.

    ValueError (saying to train with ``martingale_reward=False``) for a market whose mid
    moves predictably, where ``E[S' - S | S]`` depends on more than the mid.
    """

    def __init__(self, config: MarketConfig) -> None:
        try:
            self.expectation = mm_env.mid_move_expectation(config)
        except ValueError as exc:
            raise ValueError(
                f"the martingale reward removes E[S' - S | S] given the mid alone: {exc}; "
                "train without it (martingale_reward=False)"
            ) from None

    def noise(self, inventory: Any, mid_before: Any, mid_after: Any) -> Any:
        """``q' (S' - S - E[S' - S | S])`` (floats or arrays), ``q'`` the inventory held over
        the move from ``mid_before`` to ``mid_after``."""
        return inventory * (mid_after - mid_before - self.expectation.of(mid_before))


#: ``reward_shaping`` names of :class:`InventoryPotential` ("none": no shaping).
SHAPINGS = ("none", "terminal", "running")


def check_inventory_shaping(kind: str, reward: str) -> str:
    """``kind`` (``"terminal"`` or ``"running"``) if it can shape a market whose reward is
    ``reward``: the inventory potentials shape the ``inventory_penalty`` reward only.
    ValueError otherwise, naming ``reward_shaping`` or the market's reward."""
    if kind not in SHAPINGS[1:]:
        raise ValueError(f"reward_shaping must be one of {list(SHAPINGS)}, got {kind!r}")
    if reward != "inventory_penalty":
        raise ValueError(
            f"reward_shaping={kind!r} shapes the inventory penalty, but the market's reward "
            f"is {reward!r}; use reward_shaping='none'"
        )
    return kind


class InventoryPotential:
    """A potential ``Phi(t, q) = -c(T - t) q^2`` for potential-based reward shaping (Ng, Harada
    and Russell 1999): the training reward ``r + Phi(s') - Phi(s)``, with ``Phi = 0`` at the
    end of the episode.

    Over an episode the shaping terms sum to ``Phi(end) - Phi(start) = -Phi(0, q_0)``, a
    constant (0 from a flat start), so every policy keeps its expected return up to that
    constant and the optimal policy is unchanged; what changes is *when* the reward arrives.
    Under ``inventory_penalty`` the terminal penalty ``-alpha q_T^2`` is felt at once at the
    last step; with ``"terminal"`` (``c = alpha``) each step pays the change of ``alpha q^2``
    it causes, so the penalty is felt where the inventory is taken on. ``"running"``
    (``c(tau) = alpha + phi tau``) also prepays the running penalty still to come on the
    inventory held. Evaluate on the env's own reward.
    """

    def __init__(self, config: MarketConfig, kind: str) -> None:
        self.kind = check_inventory_shaping(kind, config.reward)
        self.alpha, self.phi = config.alpha, config.phi
        self.T, self.dt = config.T, config.dt

    def value(self, step: Any, inventory: Any) -> Any:
        """``Phi`` before the step with index ``step`` (floats or arrays; 0 at the end,
        ``step = n_steps``)."""
        tau = self.T - np.asarray(step, dtype=np.float64) * self.dt
        c = self.alpha + (self.phi * tau if self.kind == "running" else 0.0)
        return np.where(tau > 0.5 * self.dt, -c * np.square(inventory), 0.0)


class MartingaleReward(gym.Wrapper[np.ndarray, np.ndarray, np.ndarray, np.ndarray]):
    """Training reward ``r - q'(S' - S - E[S' - S | S])`` for the scalar env.

    Same expected return for every policy (so the same optimal policy), much less variance.
    Evaluate on the env's own reward. See :class:`MartingaleCorrection`.
    """

    def __init__(self, env: gym.Env[np.ndarray, np.ndarray]) -> None:
        super().__init__(env)
        self.correction = MartingaleCorrection(_market(env))
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
        reward = float(reward) - self.correction.noise(float(info["inventory"]), self.mid, mid)
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
        self.correction = MartingaleCorrection(_market(env))
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
        noise = np.where(self.autoreset, 0.0, self.correction.noise(q, self.mid, mid))
        reward = (np.asarray(reward, dtype=np.float64) - noise).astype(np.asarray(reward).dtype)
        self.mid = mid.copy()
        self.autoreset = np.logical_or(terminated, truncated)
        return obs, reward, terminated, truncated, info
