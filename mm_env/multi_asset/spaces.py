"""Observation and action spaces of the multi-asset market, and action validation.

Observation ``[time_remaining, q_1..q_n, S_1..S_n]``; action ``[bid_1, ask_1, bid_2, ask_2,
...]`` (``action.reshape(n, 2)`` has one row ``[bid_depth, ask_depth]`` per asset). The
checks are those of the single-asset env (:mod:`mm_env.spaces`): real numbers only (bool,
complex, string and object actions refused) in one message naming the expected shape,
non-finite depths refused, depths outside the box clipped by the step.
"""

from __future__ import annotations

import math

import numpy as np
from gymnasium import spaces

from mm_env.multi_asset.config import MultiAssetConfig
from mm_env.multi_asset.dynamics import MultiAssetDynamics
from mm_env.spaces import as_real_array, float32_box, short_repr

__all__ = [
    "action_names",
    "action_space",
    "as_multi_action",
    "as_multi_batch_action",
    "observation_names",
    "observation_space",
]


def observation_names(config: MultiAssetConfig) -> tuple[str, ...]:
    """``("time_remaining", "inventory_1", ..., "inventory_n", "mid_1", ..., "mid_n")``."""
    n = config.n_assets
    return (
        "time_remaining",
        *(f"inventory_{i + 1}" for i in range(n)),
        *(f"mid_{i + 1}" for i in range(n)),
    )


def action_names(config: MultiAssetConfig) -> tuple[str, ...]:
    """``("bid_depth_1", "ask_depth_1", "bid_depth_2", ...)``."""
    return tuple(f"{side}_depth_{i + 1}" for i in range(config.n_assets) for side in ("bid", "ask"))


def observation_space(
    config: MultiAssetConfig, dynamics: MultiAssetDynamics | None = None
) -> spaces.Box:
    """``Box(float32, (1 + 2n,))``: time remaining in ``[0, T]``, each inventory within its
    limit, each mid within its mid process's bounds (``[0, inf)`` under gbm)."""
    low, high = (MultiAssetDynamics(config) if dynamics is None else dynamics).observation_bounds()
    return float32_box(low, high)


def action_space(config: MultiAssetConfig) -> spaces.Box:
    """``Box(float32, (2n,))``: asset ``i``'s bid and ask depths within its
    ``[min_depth_i, max_depth_i]`` (clipped by the env; non-finite depths are an error)."""
    low = np.repeat(np.array(config.min_depth, dtype=np.float32), 2)
    high = np.repeat(np.array(config.max_depth, dtype=np.float32), 2)
    return spaces.Box(low=low, high=high, dtype=np.float32)


def _expected(shape: str, n: int) -> str:
    return (
        f"an array of shape {shape} of real numbers, [bid_1, ask_1, ..., bid_{n}, ask_{n}] "
        f"(depths per asset, n_assets = {n})"
    )


def as_multi_action(action: object, n: int) -> list[float]:
    """One action of the scalar env as ``2n`` Python floats: shape ``(2n,)`` of real numbers,
    or ValueError naming the expected shape (finiteness is checked by
    :func:`check_finite_action`)."""
    expected = _expected(f"({2 * n},)", n)
    arr = as_real_array(action, "action", expected)
    if arr.shape != (2 * n,):
        raise ValueError(
            f"action must be {expected}; got {short_repr(action)} of shape {arr.shape}"
        )
    with np.errstate(all="ignore"):  # a float128 beyond float64 becomes inf, refused later
        values: list[float] = arr.astype(np.float64).tolist()
    return values


def check_finite_action(values: list[float]) -> None:
    """ValueError naming the first non-finite depth (``bid_i``/``ask_i``, 1-based)."""
    for j, x in enumerate(values):
        if not math.isfinite(x):
            side = "bid" if j % 2 == 0 else "ask"
            raise ValueError(
                f"action depths must be finite numbers, got {side}_{j // 2 + 1}={x!r} in {values!r}"
            )


def as_multi_batch_action(actions: object, num_envs: int, n: int) -> np.ndarray:
    """A batch of actions as a finite float64 array of shape ``(num_envs, 2n)``, or
    ValueError naming the expected shape (or the sub-env with a non-finite depth)."""
    expected = (
        f"actions must have shape ({num_envs}, {2 * n}) = (num_envs, [bid_1, ask_1, ..., "
        f"bid_{n}, ask_{n}])"
    )
    if type(actions) is np.ndarray and actions.dtype.kind == "f":
        arr = actions
    else:
        arr = as_real_array(actions, "actions", expected.replace("actions must have", "of"))
    if arr.shape != (num_envs, 2 * n):
        raise ValueError(f"{expected}, got shape {arr.shape}")
    with np.errstate(all="ignore"):
        arr = np.asarray(arr, dtype=np.float64)
    finite = np.isfinite(arr)
    if not finite.all():
        bad = int(np.flatnonzero(~finite.all(axis=1))[0])
        raise ValueError(
            f"action depths must be finite numbers, got {arr[bad].tolist()} for env {bad}"
        )
    return arr
