"""Observation and action spaces, and action validation, shared by both envs."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from gymnasium import spaces

from mm_env.config import MarketConfig
from mm_env.dynamics import MarketDynamics

#: Names of the base observation's components, in order; a config's ``obs_extras`` are
#: appended after them (see :func:`observation_names`).
OBSERVATION_NAMES = ("time_remaining", "inventory", "mid")
#: Names of the base action's components, in order (``size_action`` appends ``"size"``).
ACTION_NAMES = ("bid_depth", "ask_depth")


def observation_names(config: MarketConfig) -> tuple[str, ...]:
    """Names of the observation's components for ``config``: the base three, then
    ``config.obs_extras`` in their order."""
    return OBSERVATION_NAMES + tuple(config.obs_extras)


def action_names(config: MarketConfig) -> tuple[str, ...]:
    """Names of the action's components for ``config`` (``"size"`` last with ``size_action``)."""
    return ACTION_NAMES + (("size",) if config.size_action else ())


def observation_space(config: MarketConfig, dynamics: MarketDynamics | None = None) -> spaces.Box:
    """``[time_remaining, inventory, mid, *obs_extras]`` in raw units (sessions, shares, price,
    then each feature's units), float32, with the bounds the mid process and the observation
    features declare (``dynamics``: the market already composed from ``config``, if any)."""
    low, high = (MarketDynamics(config) if dynamics is None else dynamics).observation_bounds()
    return float32_box(low, high)


def float32_box(low: Sequence[float], high: Sequence[float]) -> spaces.Box:
    """``Box(low, high, float32)`` of the observation bounds ``low`` and ``high`` (one value per
    component): the observation spaces of the single- and multi-asset envs."""
    return spaces.Box(
        low=np.array(low, dtype=np.float32),
        high=np.array(high, dtype=np.float32),
        dtype=np.float32,
    )


def action_space(config: MarketConfig) -> spaces.Box:
    """``[bid_depth, ask_depth]`` in price units within ``[min_depth, max_depth]``, float32;
    with ``size_action`` a third component, the quote size in ``[order_size, max_order_size]``.

    Values outside the box are clipped by the env (not an error); non-finite ones are.
    """
    if config.size_action:
        return spaces.Box(
            low=np.array([config.min_depth, config.min_depth, config.order_size], np.float32),
            high=np.array([config.max_depth, config.max_depth, config.max_order_size], np.float32),
            dtype=np.float32,
        )
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


def check_scalar_size(size: float) -> None:
    """Raise ValueError unless the quote size is finite."""
    if not math.isfinite(size):
        raise ValueError(f"action size must be a finite number, got size={size!r}")


def _expected(shape: str, width: int) -> str:
    names = ", ".join(ACTION_NAMES + (("size",) if width == 3 else ()))
    extra = " (size_action=True)" if width == 3 else ""
    return f"an array of shape {shape} of real numbers, [{names}]{extra}"


def short_repr(value: object) -> str:
    """``repr(value)`` on one line (however numpy prints it), cut to 80 characters: how the
    action errors show what was given."""
    text = " ".join(repr(value).split())  # one line, however numpy prints it
    return text if len(text) <= 80 else text[:77] + "..."


def as_real_array(value: object, what: str, expected: str) -> np.ndarray:
    """``np.asarray(value)`` if it holds real numbers (float, int or uint dtype), else a
    ValueError that names ``what``, the ``expected`` shape and what was given: the first check
    of every action of the single- and multi-asset envs (ValueError:
    ``"{what} must be {expected}; got ..."``)."""
    try:
        with np.errstate(all="ignore"):
            arr = np.asarray(value)
    except (ValueError, TypeError, OverflowError) as exc:
        raise ValueError(
            f"{what} must be {expected}; got {short_repr(value)}, which is not an array of "
            f"numbers ({exc})"
        ) from None
    if arr.dtype.kind not in "fiu":
        raise ValueError(
            f"{what} must be {expected}; got {short_repr(value)} of dtype {arr.dtype} (bool, "
            "complex, string and object actions are refused)"
        )
    return arr


def as_action(action: object, width: int = 2) -> list[float]:
    """Validate one action of the scalar env: shape ``(width,)``, real numbers (a float, int
    or uint dtype: bools, complex numbers, strings and objects are refused). Returns its
    values as Python floats (not checked for finiteness: the env does that)."""
    expected = _expected(f"({width},)", width)
    arr = as_real_array(action, "action", expected)
    if arr.shape != (width,):
        raise ValueError(
            f"action must be {expected}; got {short_repr(action)} of shape {arr.shape}"
        )
    with np.errstate(all="ignore"):  # a float128 beyond float64 becomes inf, refused later
        values: list[float] = arr.astype(np.float64).tolist()
    return values


def as_batch_action(actions: object, num_envs: int, width: int = 2) -> np.ndarray:
    """Validate a batch of actions: shape ``(num_envs, width)``, real numbers (as
    :func:`as_action`), finite. Returns a float64 array."""
    names = ", ".join(ACTION_NAMES + (("size",) if width == 3 else ()))
    expected = f"actions must have shape ({num_envs}, {width}) = (num_envs, [{names}])"
    if type(actions) is np.ndarray and actions.dtype.kind == "f":
        arr = actions
    else:
        arr = as_real_array(
            actions,
            "actions",
            f"real numbers of shape ({num_envs}, {width}) = (num_envs, [{names}])",
        )
    if arr.shape != (num_envs, width):
        raise ValueError(f"{expected}, got shape {arr.shape}")
    with np.errstate(all="ignore"):
        arr = np.asarray(arr, dtype=np.float64)
    if not np.isfinite(arr).all():
        bad = int(np.flatnonzero(~np.isfinite(arr).all(axis=1))[0])
        what = "action depths" if np.isfinite(arr[bad, 2:]).all() else "actions"
        raise ValueError(f"{what} must be finite numbers, got {arr[bad].tolist()} for env {bad}")
    return arr
