"""Observation and action spaces, and action validation, shared by both envs."""

from __future__ import annotations

import math

import numpy as np
from gymnasium import spaces

from mm_env.config import MarketConfig

#: Names of the observation's components, in order (more may be appended later).
OBSERVATION_NAMES = ("time_remaining", "inventory", "mid")
#: Names of the action's components, in order.
ACTION_NAMES = ("bid_depth", "ask_depth")


def observation_space(config: MarketConfig) -> spaces.Box:
    """``[time_remaining, inventory, mid]`` in raw units (sessions, shares, price), float32."""
    lim = config.inventory_limit
    mid_low = 0.0 if config.mid_model == "gbm" else -np.inf
    low = np.array([0.0, -lim, mid_low], dtype=np.float32)
    high = np.array([config.T, lim, np.inf], dtype=np.float32)
    return spaces.Box(low=low, high=high, dtype=np.float32)


def action_space(config: MarketConfig) -> spaces.Box:
    """``[bid_depth, ask_depth]`` in price units within ``[min_depth, max_depth]``, float32.

    Depths outside the box are clipped by the env (not an error); non-finite ones are.
    """
    return spaces.Box(
        low=np.float32(config.min_depth),
        high=np.float32(config.max_depth),
        shape=(2,),
        dtype=np.float32,
    )


def check_scalar_action(bid: float, ask: float) -> None:
    """Raise ValueError unless both depths are finite."""
    if not (math.isfinite(bid) and math.isfinite(ask)):
        raise ValueError(
            f"action depths must be finite numbers, got bid_depth={bid!r}, ask_depth={ask!r}"
        )


def as_batch_action(actions: object, num_envs: int) -> np.ndarray:
    """Validate a batch of actions: shape ``(num_envs, 2)``, finite. Returns float64 array."""
    arr = np.asarray(actions, dtype=np.float64)
    if arr.shape != (num_envs, 2):
        raise ValueError(
            f"actions must have shape ({num_envs}, 2) = (num_envs, [bid_depth, ask_depth]), "
            f"got shape {arr.shape}"
        )
    if not np.isfinite(arr).all():
        bad = int(np.flatnonzero(~np.isfinite(arr).all(axis=1))[0])
        raise ValueError(
            f"action depths must be finite numbers, got {arr[bad].tolist()} for env {bad}"
        )
    return arr
