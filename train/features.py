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

from mm_env import OBSERVATION_NAMES, MarketConfig, observation_names

#: Optional observation components a market can append (``MarketConfig.obs_extras``).
EXTRA_NAMES: tuple[str, ...] = ("signal", "flow_imbalance", "realized_vol")

_DERIVED: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "sqrt_time_remaining": lambda obs: np.sqrt(np.maximum(obs[..., 0], 0.0)),
}

#: Every feature name accepted by ``TrainConfig.obs_features``.
FEATURE_NAMES: tuple[str, ...] = (*OBSERVATION_NAMES, *EXTRA_NAMES, *_DERIVED)


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
    """``(offset, scale)`` of one feature for the fixed scaling of :mod:`train.wrappers`:
    time / T, inventory / min(limit, 10 sizes), mid as (S - S0) / (sigma_abs sqrt(T)), the
    alpha signal / its stationary std, flow imbalance as is, realised vol around sigma."""
    c = config
    inventory = min(c.inventory_limit, 10.0 * c.order_size)
    vol = max(c.price_sigma * float(np.sqrt(c.T)), 1e-12)
    table = {
        "time_remaining": (0.0, c.T),
        "sqrt_time_remaining": (0.0, float(np.sqrt(c.T))),
        "inventory": (0.0, inventory),
        "mid": (c.S0, vol),
        "signal": (0.0, max(getattr(c, "signal_std", 0.0), 1e-12)),
        "flow_imbalance": (0.0, 1.0),
        "realized_vol": (c.sigma, max(c.sigma, 1e-12)),
    }
    return table[name]
