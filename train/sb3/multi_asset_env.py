"""stable-baselines3 adapter and training wrappers for the multi-asset market.

- :class:`MultiAssetSB3VecEnv`: the SB3 ``VecEnv`` over
  :class:`mm_env.multi_asset.MultiAssetMarketMakingVectorEnv`, all sub-envs in one numpy batch,
  in Gymnasium's ``SameStep`` autoreset mode (SB3's convention). It is
  :class:`train.sb3.vec_env.SB3VecEnv` (its ``wrap``, reset, step, attribute access and
  conventions) with the multi-asset vector env underneath (``native_env``); on an episode end
  ``infos[i]`` holds the final info of sub-env ``i`` (per-asset keys as arrays ``(n,)``, the
  others as floats), its ``terminal_observation`` and ``TimeLimit.truncated = False`` (the
  horizon is observed). With one asset, observations and rewards equal
  :class:`~train.sb3.vec_env.SB3VecEnv`'s on the same market bit for bit.
- :class:`VecMultiAssetFeatures`: the network input of
  :class:`train.sb3.multi_asset_features.MultiAssetFeatures` (selection, derived features,
  fixed scaling), on observations and terminal observations.
- :class:`VecMultiAssetMartingaleReward`: the training reward
  ``r - sum_i q_i' (dS_i - E[dS_i | S_i])``, asset by asset the single-asset correction
  :class:`train.wrappers.MartingaleCorrection`: each term has mean zero given the state
  whatever the policy, so every policy keeps its expected return (the optimal policy is
  unchanged) while the price noise, most of the reward's variance, is gone. Training only;
  evaluate on the env's reward.
- :class:`VecMultiAssetPotentialShaping`: potential-based shaping ``r + Psi(s') - Psi(s)`` with
  the joint inventory potential ``-q' C q`` of :class:`MultiAssetInventoryPotential`, 0 at the
  end (the multi-asset :class:`train.wrappers.InventoryPotential`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces
from stable_baselines3.common.vec_env import VecEnv

from mm_env.multi_asset import MultiAssetConfig, MultiAssetMarketMakingVectorEnv
from train.sb3.multi_asset_features import MultiAssetFeatures
from train.sb3.vec_env import SB3VecEnv
from train.sb3.wrappers import (
    VecMartingaleReward,
    VecObservationWrapper,
    VecPotentialShaping,
    adapter_of,
)
from train.wrappers import MartingaleCorrection, check_inventory_shaping


class MultiAssetSB3VecEnv(SB3VecEnv):
    """SB3 VecEnv over a native multi-asset vector env.

    ``MultiAssetSB3VecEnv(num_envs, config=None, *, preset=None, **overrides)`` builds one
    (``preset``: a :class:`~mm_env.multi_asset.MultiAssetConfig` preset such as ``"pair"``);
    ``MultiAssetSB3VecEnv.wrap(venv)`` adapts an existing vector env in ``SameStep`` mode.
    """

    config: MultiAssetConfig  # type: ignore[assignment]
    venv: MultiAssetMarketMakingVectorEnv  # type: ignore[assignment]
    native_env = MultiAssetMarketMakingVectorEnv

    def __init__(
        self,
        num_envs: int = 1,
        config: MultiAssetConfig | None = None,
        *,
        preset: str | None = None,
        **overrides: Any,
    ) -> None:
        venv = MultiAssetMarketMakingVectorEnv(
            num_envs, config, preset=preset, autoreset_mode="SameStep", **overrides
        )
        self._init_from(venv)

    @property
    def n_assets(self) -> int:
        return self.config.n_assets


def multi_asset_adapter(venv: VecEnv, wrapper: str) -> MultiAssetSB3VecEnv:
    """The :class:`MultiAssetSB3VecEnv` under ``venv``, or ValueError naming ``wrapper``."""
    return adapter_of(venv, MultiAssetSB3VecEnv, wrapper)


class VecMultiAssetFeatures(VecObservationWrapper):
    """The network input of :class:`MultiAssetFeatures` in place of the raw observation."""

    def __init__(self, venv: VecEnv, features: MultiAssetFeatures) -> None:
        base = multi_asset_adapter(venv, "VecMultiAssetFeatures")
        if features.config != base.config:
            raise ValueError("features must be built from the wrapped env's MultiAssetConfig")
        self.features = features
        box = venv.observation_space
        assert isinstance(box, spaces.Box)
        low, high = features.bounds(box.low, box.high)
        space = spaces.Box(low, high, dtype=np.float32)
        super().__init__(venv, observation_space=space)

    def observation(self, obs: np.ndarray) -> np.ndarray:
        return self.features(obs)


class VecMultiAssetMartingaleReward(VecMartingaleReward):
    """Training reward ``r - sum_i q_i' (S_i' - S_i - E[S_i' - S_i | S_i])`` (module doc).

    :class:`train.sb3.wrappers.VecMartingaleReward` with one correction per asset. Must wrap a
    :class:`MultiAssetSB3VecEnv` (possibly through a VecMonitor). ValueError (saying to train
    without it) for a market whose mids move predictably.
    """

    def _adapt(self, venv: VecEnv) -> MultiAssetSB3VecEnv:
        return multi_asset_adapter(venv, "VecMultiAssetMartingaleReward")

    def _correct(self, config: Any) -> None:
        self.corrections = [MartingaleCorrection(config.asset(i)) for i in range(config.n_assets)]
        self.mid = np.zeros((self.base.num_envs, config.n_assets))

    def noise(self, inventory: np.ndarray, mid_before: np.ndarray, mid_after: np.ndarray) -> Any:
        """``sum_i q_i' (S_i' - S_i - E[S_i' - S_i | S_i])`` of arrays ``(num_envs, n)``."""
        total = np.zeros(inventory.shape[0])
        for i, correction in enumerate(self.corrections):
            total = total + correction.noise(inventory[:, i], mid_before[:, i], mid_after[:, i])
        return total


class MultiAssetInventoryPotential:
    """A potential ``P(t, q) = -q' C(T - t) q`` for potential-based reward shaping (Ng, Harada
    and Russell 1999), ``P = 0`` at the end of the episode.

    Over an episode the shaping terms ``P(s') - P(s)`` sum to ``-P(0, q_0)`` (0 from a flat
    start), so every policy keeps its expected return and the optimal policy is unchanged;
    what changes is when the reward arrives. Under ``inventory_penalty`` the terminal penalty
    ``-q_T' Psi q_T`` is otherwise felt all at once at the last step; with ``"terminal"``
    (``C = Psi``) each step pays the change of ``q' Psi q`` it causes, where the inventory is
    taken on. ``"running"`` (``C(tau) = Psi + Phi tau``) also prepays the running penalty
    still to come on the inventory held.
    """

    def __init__(self, config: MultiAssetConfig, kind: str) -> None:
        self.kind = check_inventory_shaping(kind, config.reward)
        self.alpha = np.asarray(config.alpha_matrix, dtype=np.float64)
        self.phi = np.asarray(config.phi_matrix, dtype=np.float64)
        self.T, self.dt = config.T, config.dt

    def value(self, step: np.ndarray, inventory: np.ndarray) -> np.ndarray:
        """``P`` before the step with index ``step`` ``(m,)`` at inventories ``(m, n)``
        (0 at the end, ``step = n_steps``)."""
        tau = self.T - np.asarray(step, dtype=np.float64) * self.dt
        q = np.asarray(inventory, dtype=np.float64)
        quad = np.einsum("mi,ij,mj->m", q, self.alpha, q)
        if self.kind == "running":
            quad = quad + tau * np.einsum("mi,ij,mj->m", q, self.phi, q)
        return np.asarray(np.where(tau > 0.5 * self.dt, -quad, 0.0))


class VecMultiAssetPotentialShaping(VecPotentialShaping):
    """Training reward ``r + P(s') - P(s)`` with :class:`MultiAssetInventoryPotential`
    (``kind``: ``"terminal"`` or ``"running"``): :class:`train.sb3.wrappers.VecPotentialShaping`
    on a :class:`MultiAssetSB3VecEnv` (possibly through other wrappers); evaluate on the env's
    own reward."""

    def _adapt(self, venv: VecEnv) -> MultiAssetSB3VecEnv:
        return multi_asset_adapter(venv, "VecMultiAssetPotentialShaping")

    def _potential(self, config: Any, kind: str) -> MultiAssetInventoryPotential:
        return MultiAssetInventoryPotential(config, kind)
