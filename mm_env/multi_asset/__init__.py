"""The multi-asset market: ``n`` correlated assets, one market maker quoting a bid and an
ask on each (``"mm_env/MultiAssetMarketMaking-v0"``).

- :class:`MultiAssetConfig` (:mod:`.config`) and its presets (:mod:`.presets`): per-asset
  fields, the correlation ``rho``, the penalty matrices ``phi`` and ``alpha``;
- :mod:`.asset_axis`: the single-asset market composed with an asset axis (per-asset
  parameter arrays broadcasting against ``(..., n)`` states);
- :class:`~.dynamics.MultiAssetDynamics` (:mod:`.dynamics`): the one transition, on per-asset
  floats (scalar env) or ``(num_envs, n)`` arrays (vector env), and the rewards;
- :class:`MultiAssetMarketMakingEnv` (:mod:`.env`) and
  :class:`MultiAssetMarketMakingVectorEnv` (:mod:`.vector_env`); their spaces in
  :mod:`.spaces`.

The model, the API and an example are in ``docs/multi_asset.md``.
"""

from __future__ import annotations

from mm_env.multi_asset.config import MultiAssetConfig, available_presets, mean_variance_penalty
from mm_env.multi_asset.dynamics import MultiAssetDynamics, MultiAssetState, MultiAssetStepResult
from mm_env.multi_asset.env import MultiAssetMarketMakingEnv
from mm_env.multi_asset.spaces import action_names, observation_names
from mm_env.multi_asset.vector_env import MultiAssetMarketMakingVectorEnv

__all__ = [
    "MultiAssetConfig",
    "MultiAssetDynamics",
    "MultiAssetMarketMakingEnv",
    "MultiAssetMarketMakingVectorEnv",
    "MultiAssetState",
    "MultiAssetStepResult",
    "action_names",
    "available_presets",
    "mean_variance_penalty",
    "observation_names",
]
