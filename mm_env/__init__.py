"""mm_env: a Gymnasium environment for market making (Avellaneda-Stoikov model, with
optional market components: adverse selection, alpha signals, jumps, OU and replayed mids,
Hawkes arrivals, power-law fills, ticks, fees, liquidation cost, a size action, and any
registered from user code: see :mod:`mm_env.components` and ``docs/extending.md``).

``import mm_env`` registers ``"mm_env/MarketMaking-v0"`` for ``gymnasium.make`` and
``gymnasium.make_vec(..., vectorization_mode="vector_entry_point")``.
"""

from __future__ import annotations

import gymnasium

from mm_env.components import available_components, register_component
from mm_env.config import OBS_EXTRAS, PRESETS, MarketConfig, available_presets
from mm_env.dynamics import MarketDynamics
from mm_env.env import MarketMakingEnv
from mm_env.multi_asset import (
    MultiAssetConfig,
    MultiAssetMarketMakingEnv,
    MultiAssetMarketMakingVectorEnv,
)
from mm_env.readouts import MidMoveExpectation, mid_move_expectation, observation_scales
from mm_env.replay import PriceSeries
from mm_env.rewards import available_rewards, register_reward
from mm_env.spaces import ACTION_NAMES, OBSERVATION_NAMES, action_names, observation_names
from mm_env.state import MarketState, StepResult, make_state
from mm_env.vector_env import MarketMakingVectorEnv

__version__ = "0.1.0"

ENV_ID = "mm_env/MarketMaking-v0"

__all__ = [
    "ACTION_NAMES",
    "ENV_ID",
    "OBSERVATION_NAMES",
    "OBS_EXTRAS",
    "PRESETS",
    "MarketConfig",
    "MarketDynamics",
    "MarketMakingEnv",
    "MarketMakingVectorEnv",
    "MarketState",
    "MidMoveExpectation",
    "MultiAssetConfig",
    "MultiAssetMarketMakingEnv",
    "MultiAssetMarketMakingVectorEnv",
    "PriceSeries",
    "StepResult",
    "action_names",
    "available_components",
    "available_presets",
    "available_rewards",
    "make_state",
    "mid_move_expectation",
    "observation_names",
    "observation_scales",
    "register_component",
    "register_reward",
]

if ENV_ID not in gymnasium.registry:
    # No max_episode_steps: the episode ends by the env's own termination at T.
    gymnasium.register(
        id=ENV_ID,
        entry_point="mm_env.env:MarketMakingEnv",
        vector_entry_point="mm_env.vector_env:MarketMakingVectorEnv",
    )
if "mm_env/MultiAssetMarketMaking-v0" not in gymnasium.registry:
    gymnasium.register(
        id="mm_env/MultiAssetMarketMaking-v0",
        entry_point="mm_env.multi_asset.env:MultiAssetMarketMakingEnv",
        vector_entry_point="mm_env.multi_asset.vector_env:MultiAssetMarketMakingVectorEnv",
    )
