"""Network input features computed from the env's raw observation.

A feature is a base observation component (``time_remaining``, ``inventory``, ``mid``, see
:data:`mm_env.OBSERVATION_NAMES`) or a fixed function of them:

- ``sqrt_time_remaining``: ``sqrt(T - t)``, the diffusive time scale of inventory risk
  (the price can move by ``sigma sqrt(T - t)`` before the end). It stretches the last part of
  the episode, where the optimal quotes change fastest, so a small network resolves it.

Training (:class:`train.wrappers.VecSelectObservation`) and loading
(:class:`train.sb3_policy.TrainedPolicy`) both build the network's input with
:func:`compute_features`, so a saved model always sees what it was trained on.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from mm_env import OBSERVATION_NAMES

_DERIVED: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "sqrt_time_remaining": lambda obs: np.sqrt(np.maximum(obs[..., 0], 0.0)),
}

#: Every feature name accepted by ``TrainConfig.obs_features``.
FEATURE_NAMES: tuple[str, ...] = (*OBSERVATION_NAMES, *_DERIVED)


def check_features(features: Sequence[str]) -> tuple[str, ...]:
    """``features`` as a tuple, or ValueError naming the unknown ones."""
    chosen = tuple(features)
    unknown = [f for f in chosen if f not in FEATURE_NAMES]
    if unknown or not chosen:
        raise ValueError(
            f"obs_features must be a non-empty list of {list(FEATURE_NAMES)}, got {list(chosen)}"
        )
    return chosen


def compute_features(obs: np.ndarray, features: Sequence[str]) -> np.ndarray:
    """The features (columns, in order) of raw observations ``(..., 3)``, float64."""
    x = np.asarray(obs, dtype=np.float64)
    cols = [
        x[..., OBSERVATION_NAMES.index(f)] if f in OBSERVATION_NAMES else _DERIVED[f](x)
        for f in features
    ]
    return np.stack(cols, axis=-1)


def fixed_scale(
    name: str, T: float, inventory: float, S0: float, vol: float
) -> tuple[float, float]:
    """``(offset, scale)`` of one feature for the fixed scaling of :mod:`train.wrappers`."""
    table = {
        "time_remaining": (0.0, T),
        "sqrt_time_remaining": (0.0, float(np.sqrt(T))),
        "inventory": (0.0, inventory),
        "mid": (S0, vol),
    }
    return table[name]
