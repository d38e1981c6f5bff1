"""Network input features computed from the env's raw observation.

A feature is a base observation component (``time_remaining``, ``inventory``, ``mid``, see
:data:`mm_env.OBSERVATION_NAMES`) or a fixed function of them:

- ``sqrt_time_remaining``: ``sqrt(T - t)``, the diffusive time scale of inventory risk
  (the price can move by ``sigma sqrt(T - t)`` before the end). It stretches the last part of
  the episode, where the optimal quotes change fastest, so a small network resolves it.
- ``inventory_time``: ``q (T - t)`` and ``inventory_sqrt_time``: ``q sqrt(T - t)``, products
  that the optimal skew is close to linear in (the AS skew is ``gamma sigma^2 (T - t) q``).

Training (:class:`train.wrappers.FeatureTransform`, in the Gymnasium and the SB3 wrappers)
and loading (:class:`train.sb3.model_dir.TrainedPolicy`) both build the network's input with
:func:`compute_features`, so a saved model always sees what it was trained on.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from mm_env import (
    OBS_EXTRAS,
    OBSERVATION_NAMES,
    MarketConfig,
    observation_names,
    observation_scales,
)

_DERIVED: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "sqrt_time_remaining": lambda obs: np.sqrt(np.maximum(obs[..., 0], 0.0)),
    "inventory_time": lambda obs: obs[..., 1] * np.maximum(obs[..., 0], 0.0),
    "inventory_sqrt_time": lambda obs: obs[..., 1] * np.sqrt(np.maximum(obs[..., 0], 0.0)),
}

#: Every feature name accepted by ``TrainConfig.obs_features``.
FEATURE_NAMES: tuple[str, ...] = (*OBSERVATION_NAMES, *OBS_EXTRAS, *_DERIVED)


def check_features(features: Sequence[str]) -> tuple[str, ...]:
    """``features`` as a tuple, or ValueError naming the unknown ones."""
    chosen = tuple(features)
    unknown = [f for f in chosen if f not in FEATURE_NAMES]
    if unknown or not chosen:
        raise ValueError(
            f"obs_features must be a non-empty list of {list(FEATURE_NAMES)}, got {list(chosen)}"
        )
    return chosen


def check_available(features: Sequence[str], config: MarketConfig) -> None:
    """ValueError if a feature is an observation component the market does not observe."""
    names = observation_names(config)
    missing = [f for f in features if f not in _DERIVED and f not in names]
    if missing:
        raise ValueError(
            f"obs_features {missing} are not observed in this market (its observation is "
            f"{list(names)}); add them to the market's obs_extras or drop them"
        )


def compute_features(
    obs: np.ndarray, features: Sequence[str], names: Sequence[str] = OBSERVATION_NAMES
) -> np.ndarray:
    """The features (columns, in order) of raw observations ``(..., len(names))``, float64.

    ``names``: the observation's component names (:func:`mm_env.observation_names`).
    """
    x = np.asarray(obs, dtype=np.float64)
    index = {name: i for i, name in enumerate(names)}
    cols = [x[..., index[f]] if f in index else _DERIVED[f](x) for f in features]
    return np.stack(cols, axis=-1)


def fixed_scale(name: str, config: MarketConfig) -> tuple[float, float]:
    """``(offset, scale)`` of one feature for the fixed scaling of the training wrappers:
    :func:`mm_env.observation_scales` for an observation component, ``(0, sqrt(T))`` for
    ``sqrt_time_remaining``."""
    if name == "sqrt_time_remaining":
        return 0.0, math.sqrt(config.T)
    scales = observation_scales(config)
    if name == "inventory_time":
        return 0.0, scales["inventory"][1] * config.T
    if name == "inventory_sqrt_time":
        return 0.0, scales["inventory"][1] * math.sqrt(config.T)
    if name not in scales:
        raise ValueError(
            f"feature {name!r} is not observed in this market (its observation is "
            f"{list(scales)})"
        )
    return scales[name]
