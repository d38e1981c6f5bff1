"""The env creator RLlib calls on every EnvRunner, and its registration with Ray's registry.

RLlib builds environments from a registered *creator* and a plain-dict ``env_config``; on a
cluster the creator runs on each worker node, so the config must carry everything needed to
rebuild the market there. :func:`make_env` reads:

==================  =====================================================================
key                 meaning (defaults in brackets)
==================  =====================================================================
preset              market preset name ["default"]
overrides           dict of MarketConfig overrides [{}]
obs_features        network-input features, :mod:`train.features` [raw observation]
obs_scaling         "fixed" or "none" ["fixed"]
martingale_reward   train on the variance-reduced reward [False]
norm_reward         scale rewards by the running return std (NormalizeReward) [False]
gamma               the discount NormalizeReward accumulates the return with [1.0]
num_envs            set by RLlib in ``vector_entry_point`` mode: build the native vector env
==================  =====================================================================

With ``num_envs`` (RLlib's ``gym_env_vectorize_mode="vector_entry_point"``) it returns one
:class:`mm_env.MarketMakingVectorEnv` stepping all envs in one numpy call; without, one
:class:`mm_env.MarketMakingEnv`. Both get the same wrappers (:mod:`train.wrappers`).

A multi-asset preset (``"pair"``, ``"basket"``: :func:`mm_env.multi_asset.available_presets`;
``overrides`` are :class:`~mm_env.multi_asset.MultiAssetConfig` fields) gives
:class:`~mm_env.multi_asset.MultiAssetMarketMakingVectorEnv` /
:class:`~mm_env.multi_asset.MultiAssetMarketMakingEnv` on their raw observations, with
``norm_reward`` as above; the single-asset feature and martingale wrappers do not apply there
and are refused (the multi-asset preprocessing is :mod:`train.sb3.multi_asset_features`).
Nothing here imports Ray except :func:`register`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import gymnasium as gym
from gymnasium.vector import VectorEnv
from gymnasium.wrappers import NormalizeReward
from gymnasium.wrappers.vector import NormalizeReward as VectorNormalizeReward

from mm_env import MarketConfig, MarketMakingEnv, MarketMakingVectorEnv
from mm_env.multi_asset import (
    MultiAssetConfig,
    MultiAssetMarketMakingEnv,
    MultiAssetMarketMakingVectorEnv,
)
from mm_env.multi_asset import available_presets as multi_asset_presets
from train.values import UserError
from train.wrappers import (
    MartingaleReward,
    SelectFeatures,
    VectorMartingaleReward,
    VectorSelectFeatures,
)

#: The name :func:`register` gives the creator in Ray's registry (``config.environment(ENV)``).
ENV_NAME = "mm_env_rllib"

_KEYS = frozenset(
    {
        "preset",
        "overrides",
        "obs_features",
        "obs_scaling",
        "martingale_reward",
        "norm_reward",
        "gamma",
        "num_envs",
    }
)


def overrides_from_env_config(env_config: Mapping[str, Any]) -> dict[str, Any]:
    """``env_config["overrides"]`` as a dict (``{}`` when absent or empty); ValueError when it
    is not a mapping."""
    overrides = env_config.get("overrides", {}) or {}
    if not isinstance(overrides, Mapping):
        raise ValueError(f"env_config['overrides'] must be a dict, got {overrides!r}")
    return dict(overrides)


def market_from_env_config(env_config: Mapping[str, Any]) -> MarketConfig:
    """The market an ``env_config`` describes (ValueError naming bad values)."""
    overrides = overrides_from_env_config(env_config)
    return MarketConfig.preset(env_config.get("preset", "default"), **overrides)


def make_env(env_config: Mapping[str, Any]) -> gym.Env[Any, Any] | VectorEnv[Any, Any, Any]:
    """Build the (wrapped) env an ``env_config`` describes; see the module docstring.

    RLlib passes an ``EnvContext`` (a dict with ``worker_index`` and friends as attributes),
    so unknown keys are rejected only among those that are plain dict items.
    """
    unknown = sorted(set(env_config) - _KEYS)
    if unknown:
        raise ValueError(f"unknown env_config key(s) {unknown}; valid keys are {sorted(_KEYS)}")
    if env_config.get("preset") in multi_asset_presets():
        return _multi_asset_env(env_config)
    market = market_from_env_config(env_config)
    num_envs = env_config.get("num_envs")
    if num_envs is None:
        return _wrap(MarketMakingEnv(market), env_config, vector=False, single_asset=True)
    venv = MarketMakingVectorEnv(int(num_envs), market)
    return _wrap(venv, env_config, vector=True, single_asset=True)


def _multi_asset_env(
    env_config: Mapping[str, Any],
) -> gym.Env[Any, Any] | VectorEnv[Any, Any, Any]:
    """The multi-asset env of a multi-asset preset (raw observations, see the module doc)."""
    for key in ("obs_features", "martingale_reward"):
        if env_config.get(key):
            raise ValueError(
                f"env_config[{key!r}] applies to single-asset markets only; the multi-asset "
                f"preset {env_config['preset']!r} trains on its raw observations"
            )
    overrides = overrides_from_env_config(env_config)
    market = MultiAssetConfig.preset(env_config["preset"], **overrides)
    num_envs = env_config.get("num_envs")
    if num_envs is None:
        env = MultiAssetMarketMakingEnv(market)
        return _wrap(env, env_config, vector=False, single_asset=False)
    venv = MultiAssetMarketMakingVectorEnv(int(num_envs), market)
    return _wrap(venv, env_config, vector=True, single_asset=False)


#: (martingale reward, reward normalisation, feature selection) wrappers, scalar and vector
_SCALAR_WRAPPERS: tuple[Callable[..., Any], Callable[..., Any], Callable[..., Any]] = (
    MartingaleReward,
    NormalizeReward,
    SelectFeatures,
)
_VECTOR_WRAPPERS: tuple[Callable[..., Any], Callable[..., Any], Callable[..., Any]] = (
    VectorMartingaleReward,
    VectorNormalizeReward,
    VectorSelectFeatures,
)


def _wrap(env: Any, env_config: Mapping[str, Any], *, vector: bool, single_asset: bool) -> Any:
    """``env`` with the training wrappers ``env_config`` asks for, in this order: martingale
    reward, reward normalisation, feature selection (the first and last on a single-asset
    market only); the Gymnasium vector wrappers on a vector env."""
    martingale, normalize, select = _VECTOR_WRAPPERS if vector else _SCALAR_WRAPPERS
    gamma = float(env_config.get("gamma", 1.0))
    if single_asset and env_config.get("martingale_reward", False):
        env = martingale(env)
    if env_config.get("norm_reward", False):
        env = normalize(env, gamma=gamma)
    features = env_config.get("obs_features")
    if single_asset and features is not None:
        env = select(env, features, env_config.get("obs_scaling", "fixed"))
    return env


def require_ray() -> None:
    """UserError saying how to install Ray RLlib when it is missing."""
    try:
        import ray.rllib
        import ray.tune  # noqa: F401
    except ImportError as exc:
        raise UserError(
            f"Ray RLlib is not installed ({exc}); install the ray extra: "
            "pip install 'mm-env[ray]' (or: MM_ENV_STACK=ray bash scripts/setup.sh, which "
            "sets up .venv-ray with the tested versions)"
        ) from None


def register(name: str = ENV_NAME) -> str:
    """Register :func:`make_env` with Ray's registry under ``name`` (idempotent); returns it.

    Needs the ``ray`` extra (``pip install mm-env[ray]``).
    """
    require_ray()
    from ray.tune.registry import register_env

    register_env(name, make_env)
    return name
