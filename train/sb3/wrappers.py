"""SB3 ``VecEnvWrapper`` s over :class:`train.sb3.vec_env.SB3VecEnv`: the training preprocessing.

They are adapters, not a second implementation: the arithmetic is that of the Gymnasium
wrappers (:class:`train.wrappers.FeatureTransform`, :class:`train.wrappers.MartingaleCorrection`),
applied to SB3's step convention (``SameStep`` autoreset, ``terminal_observation`` and the final
values of a finished episode in ``infos[i]``), so SB3, RLlib and CleanRL train on the same
network input and the same reward.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

import numpy as np
from stable_baselines3.common.vec_env import VecEnv, VecEnvWrapper
from stable_baselines3.common.vec_env.base_vec_env import VecEnvObs, VecEnvStepReturn

from mm_env import MarketConfig
from train.sb3.vec_env import SB3VecEnv
from train.wrappers import (
    FeatureTransform,
    InventoryPotential,
    MartingaleCorrection,
    fixed_offset_scale,
)

_Adapter = TypeVar("_Adapter", bound=SB3VecEnv)


def adapter_of(
    venv: VecEnv, required: type[_Adapter], wrapper: str, article: str = "a"
) -> _Adapter:
    """The adapter at the bottom of ``venv`` (``venv.unwrapped``), an instance of ``required``
    (:class:`SB3VecEnv` or a subclass); else ValueError saying that ``wrapper`` must wrap
    ``article`` ``required``."""
    base = venv.unwrapped
    if not isinstance(base, required):
        raise ValueError(
            f"{wrapper} must wrap {article} {required.__name__}, got {type(base).__name__}"
        )
    return base


def _adapter(venv: VecEnv, wrapper: str) -> SB3VecEnv:
    return adapter_of(venv, SB3VecEnv, wrapper, "an")


class VecObservationWrapper(VecEnvWrapper):
    """SB3's counterpart of ``gymnasium.ObservationWrapper``: :meth:`observation` applied to
    the observations of ``reset`` and ``step_wait`` and to the ``terminal_observation`` of
    every finished episode (SB3's ``SameStep`` convention), rewards and dones unchanged."""

    def observation(self, obs: np.ndarray) -> np.ndarray:
        """The wrapped env's observations ``(num_envs, ...)`` (or one terminal observation)
        as this wrapper's."""
        raise NotImplementedError

    def reset(self) -> VecEnvObs:
        obs = self.venv.reset()
        assert isinstance(obs, np.ndarray)
        return self.observation(obs)

    def step_wait(self) -> VecEnvStepReturn:
        obs, reward, done, infos = self.venv.step_wait()
        assert isinstance(obs, np.ndarray)
        for i in np.flatnonzero(done):
            infos[i]["terminal_observation"] = self.observation(infos[i]["terminal_observation"])
        return self.observation(obs), reward, done, infos


class VecSelectObservation(VecObservationWrapper):
    """Keep only some observation features, e.g. ``("time_remaining", "inventory")``, and
    optionally apply a fixed affine scaling ``(x - offset) / scale`` to them (float32
    constants, as stored in the model directory; none: raw units).

    Under an arithmetic mid with a PnL-type reward the mid's level carries no information
    (the optimal quotes depend on time and inventory only), and feeding it to the network
    only adds noise; dropping it is a modelling choice recorded with the saved model.
    """

    def __init__(
        self,
        venv: VecEnv,
        features: Sequence[str],
        offset: np.ndarray | None = None,
        scale: np.ndarray | None = None,
    ) -> None:
        config = _adapter(venv, "VecSelectObservation").config
        n = len(features)
        self.offset = np.zeros(n, np.float32) if offset is None else np.asarray(offset, np.float32)
        self.scale = np.ones(n, np.float32) if scale is None else np.asarray(scale, np.float32)
        self._transform = FeatureTransform(
            config, features, "none", offset=self.offset, scale=self.scale
        )
        self.features = self._transform.features
        super().__init__(venv, observation_space=self._transform.space(venv.observation_space))

    def transform(self, obs: np.ndarray) -> np.ndarray:
        """Select the features of raw observations ``(n, d)`` and apply the fixed scaling."""
        return self._transform(obs)

    observation = transform


def fixed_observation_scale(
    config: MarketConfig, features: Sequence[str]
) -> tuple[np.ndarray, np.ndarray]:
    """``(offset, scale)`` (float32) so that ``(feature - offset) / scale`` is O(1) for each
    feature: :func:`train.wrappers.fixed_offset_scale`."""
    return fixed_offset_scale(config, features, "fixed", np.float32)


class VecMartingaleReward(VecEnvWrapper):
    """Training-only variance reduction: the reward minus its zero-mean price noise
    (:class:`train.wrappers.MartingaleCorrection`).

    Every policy keeps its expected return, hence the optimal policy, while most of the
    reward's variance goes. Use it to train a risk-neutral objective (``pnl``,
    ``inventory_penalty``); always evaluate on the env's own reward. Must wrap an
    :class:`SB3VecEnv` (possibly through a VecMonitor).
    """

    def __init__(self, venv: VecEnv) -> None:
        super().__init__(venv)
        self.base = self._adapt(venv)
        self._correct(self.base.config)

    def _adapt(self, venv: VecEnv) -> SB3VecEnv:
        """The adapter under ``venv`` (a subclass may require a more specific one)."""
        return _adapter(venv, "VecMartingaleReward")

    def _correct(self, config: Any) -> None:
        """Set up the correction of ``config``'s market and the mids it starts from."""
        self.correction = MartingaleCorrection(config)
        self.mid = np.zeros(self.base.num_envs)

    def noise(self, inventory: np.ndarray, mid_before: np.ndarray, mid_after: np.ndarray) -> Any:
        """The zero-mean price noise of a step per env (:class:`MartingaleCorrection`)."""
        return self.correction.noise(inventory, mid_before, mid_after)

    def reset(self) -> VecEnvObs:
        obs = self.venv.reset()
        self.mid = np.array(self.base.last_info["mid"], dtype=np.float64)
        return obs

    def step_wait(self) -> VecEnvStepReturn:
        obs, reward, done, infos = self.venv.step_wait()
        info = self.base.last_info
        q = np.array(info["inventory"], dtype=np.float64)
        mid = np.array(info["mid"], dtype=np.float64)
        for i in np.flatnonzero(done):  # last_info holds the reset state: use the final one
            q[i], mid[i] = infos[i]["inventory"], infos[i]["mid"]
        reward = reward - np.asarray(self.noise(q, self.mid, mid), dtype=np.float32)
        self.mid = np.array(info["mid"], dtype=np.float64)
        return obs, reward, done, infos


class VecPotentialShaping(VecEnvWrapper):
    """Training-only reward shaping ``r + Phi(s') - Phi(s)`` with the inventory potential of
    :class:`train.wrappers.InventoryPotential` (``kind``: ``"terminal"`` or ``"running"``);
    ``Phi = 0`` at the end of an episode, so the optimal policy is unchanged. Must wrap an
    :class:`SB3VecEnv` (possibly through other wrappers); evaluate on the env's own reward.
    """

    def __init__(self, venv: VecEnv, kind: str) -> None:
        super().__init__(venv)
        self.base = self._adapt(venv)
        self.potential_of = self._potential(self.base.config, kind)
        self.potential = np.zeros(self.base.num_envs)

    def _adapt(self, venv: VecEnv) -> SB3VecEnv:
        """The adapter under ``venv`` (a subclass may require a more specific one)."""
        return _adapter(venv, type(self).__name__)

    def _potential(self, config: Any, kind: str) -> Any:
        """The potential, with ``value(step, inventory)`` (0 at the end of an episode)."""
        return InventoryPotential(config, kind)

    def reset(self) -> VecEnvObs:
        obs = self.venv.reset()
        info = self.base.last_info
        self.potential = self.potential_of.value(info["step"], info["inventory"])
        return obs

    def step_wait(self) -> VecEnvStepReturn:
        obs, reward, done, infos = self.venv.step_wait()
        info = self.base.last_info
        after = self.potential_of.value(info["step"], info["inventory"])
        # a finished episode ends in its terminal state (Phi = 0); last_info already holds the
        # next episode's first state, whose potential the next step starts from
        shaped = reward + (np.where(done, 0.0, after) - self.potential).astype(np.float32)
        self.potential = after
        return obs, shaped, done, infos
