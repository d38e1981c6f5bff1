"""SB3 ``VecEnv`` wrappers used in training (preprocessing lives in wrappers, not the env)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from gymnasium import spaces
from stable_baselines3.common.vec_env import VecEnv, VecEnvWrapper
from stable_baselines3.common.vec_env.base_vec_env import VecEnvObs, VecEnvStepReturn

from train.sb3_policy import feature_indices


class VecSelectObservation(VecEnvWrapper):
    """Keep only some observation features, e.g. ``("time_remaining", "inventory")``.

    Under an arithmetic mid with a PnL-type reward the mid's level carries no information
    (the optimal quotes depend on time and inventory only), and feeding it to the network
    only adds noise; dropping it is a modelling choice recorded with the saved model.
    """

    def __init__(self, venv: VecEnv, features: Sequence[str]) -> None:
        self.features = tuple(features)
        self.indices = feature_indices(self.features)
        space = venv.observation_space
        assert isinstance(space, spaces.Box)
        sub = spaces.Box(space.low[self.indices], space.high[self.indices], dtype=space.dtype)
        super().__init__(venv, observation_space=sub)

    def reset(self) -> VecEnvObs:
        obs = self.venv.reset()
        assert isinstance(obs, np.ndarray)
        return obs[:, self.indices]

    def step_wait(self) -> VecEnvStepReturn:
        obs, reward, done, infos = self.venv.step_wait()
        assert isinstance(obs, np.ndarray)
        for i in np.flatnonzero(done):
            infos[i]["terminal_observation"] = infos[i]["terminal_observation"][self.indices]
        return obs[:, self.indices], reward, done, infos
