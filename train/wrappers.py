"""SB3 ``VecEnv`` wrappers used in training (preprocessing lives in wrappers, not the env)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from gymnasium import spaces
from stable_baselines3.common.vec_env import VecEnv, VecEnvWrapper
from stable_baselines3.common.vec_env.base_vec_env import VecEnvObs, VecEnvStepReturn

from mm_env import OBSERVATION_NAMES, MarketConfig, observation_names
from train.features import check_available, check_features, compute_features, fixed_scale
from train.sb3_vec_env import SB3VecEnv


class VecSelectObservation(VecEnvWrapper):
    """Keep only some observation features, e.g. ``("time_remaining", "inventory")``, and
    optionally apply a fixed affine scaling ``(x - offset) / scale`` to them.

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
        self.features = check_features(features)
        base = venv.unwrapped
        self.names: tuple[str, ...] = OBSERVATION_NAMES
        if isinstance(base, SB3VecEnv):
            check_available(self.features, base.config)
            self.names = observation_names(base.config)
        n = len(self.features)
        self.offset = np.zeros(n, np.float32) if offset is None else np.asarray(offset, np.float32)
        self.scale = np.ones(n, np.float32) if scale is None else np.asarray(scale, np.float32)
        space = venv.observation_space
        assert isinstance(space, spaces.Box)
        low = (compute_features(space.low, self.features, self.names) - self.offset) / self.scale
        high = (compute_features(space.high, self.features, self.names) - self.offset) / self.scale
        sub = spaces.Box(low.astype(np.float32), high.astype(np.float32), dtype=np.float32)
        super().__init__(venv, observation_space=sub)

    def reset(self) -> VecEnvObs:
        obs = self.venv.reset()
        assert isinstance(obs, np.ndarray)
        return self.transform(obs)

    def transform(self, obs: np.ndarray) -> np.ndarray:
        """Select the features of raw observations ``(n, d)`` and apply the fixed scaling."""
        x = compute_features(obs, self.features, self.names)
        return ((x - self.offset) / self.scale).astype(np.float32)

    def step_wait(self) -> VecEnvStepReturn:
        obs, reward, done, infos = self.venv.step_wait()
        assert isinstance(obs, np.ndarray)
        for i in np.flatnonzero(done):
            infos[i]["terminal_observation"] = self.transform(infos[i]["terminal_observation"])
        return self.transform(obs), reward, done, infos


def fixed_observation_scale(
    config: MarketConfig, features: Sequence[str]
) -> tuple[np.ndarray, np.ndarray]:
    """``(offset, scale)`` so that ``(feature - offset) / scale`` is O(1) for each feature.

    Fixed by the market config (:func:`train.features.fixed_scale`), not estimated from data:
    unlike running statistics (``VecNormalize``), the network's input for a given state never
    changes during training.
    """
    pairs = [fixed_scale(f, config) for f in features]
    offset = np.array([p[0] for p in pairs], dtype=np.float32)
    scale = np.array([p[1] for p in pairs], dtype=np.float32)
    return offset, scale


#: Market features under which the mid's conditional drift is not the one this wrapper removes.
MID_EXPECTATION_UNKNOWN = ("ou", "replay", "adverse_selection", "signal")


class VecMartingaleReward(VecEnvWrapper):
    """Training-only variance reduction: remove the zero-mean price noise from the reward.

    The PnL of a step is the spread captured plus ``q' (S' - S)``, ``q'`` being the inventory
    held over the move. Its conditional mean given the state and the action is
    ``q' E[S' - S | S]`` (``mu dt`` under ABM, ``S (e^(mu dt) - 1)`` under GBM), so replacing
    ``q' (S' - S)`` by ``q' E[S' - S | S]`` leaves every policy's expected return, hence the
    optimal policy, unchanged while removing most of the reward's variance. Use it to
    train a risk-neutral objective (``pnl``, ``inventory_penalty``); always evaluate on the
    env's own reward. Must wrap an :class:`SB3VecEnv` (possibly through a VecMonitor).
    """

    def __init__(self, venv: VecEnv) -> None:
        super().__init__(venv)
        base = venv.unwrapped
        if not isinstance(base, SB3VecEnv):
            raise ValueError(
                f"VecMartingaleReward must wrap an SB3VecEnv, got {type(base).__name__}"
            )
        self.base = base
        c = base.config
        moving = sorted(set(c.features) & set(MID_EXPECTATION_UNKNOWN))
        if moving:
            raise ValueError(
                f"martingale_reward assumes E[dS | S] = mu dt (abm) or S(e^(mu dt) - 1) (gbm), "
                f"which the market's features {moving} break (they move the mid predictably); "
                "train with martingale_reward=False"
            )
        self._gbm = c.mid_model == "gbm"
        self._drift = float(np.expm1(c.mu * c.dt)) if self._gbm else c.mu * c.dt
        self.mid = np.zeros(base.num_envs)

    def reset(self) -> VecEnvObs:
        obs = self.venv.reset()
        self.mid = np.array(self.base.last_info["mid"], dtype=np.float64)
        return obs

    def step_wait(self) -> VecEnvStepReturn:
        obs, reward, done, infos = self.venv.step_wait()
        info = self.base.last_info
        q, mid = info["inventory"], info["mid"]
        if done.any():  # for finished envs last_info is the reset state: use the final one
            q, mid = q.copy(), mid.copy()
            for i in np.flatnonzero(done):
                q[i], mid[i] = infos[i]["inventory"], infos[i]["mid"]
        expected = self.mid * self._drift if self._gbm else self._drift
        reward = reward - (q * (mid - self.mid - expected)).astype(np.float32)
        self.mid = np.array(info["mid"], dtype=np.float64)
        return obs, reward, done, infos
