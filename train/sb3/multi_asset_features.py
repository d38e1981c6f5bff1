"""Network input of the multi-asset market: feature columns and their fixed scaling (numpy only).

The multi-asset env observes ``[time_remaining, q_1..q_n, S_1..S_n]`` in raw units. A feature
name selects one or ``n`` columns computed from it:

| feature | columns | value | offset, scale |
| --- | --- | --- | --- |
| ``time_remaining`` | 1 | ``tau = T - t`` | ``0, T`` |
| ``sqrt_time_remaining`` | 1 | ``sqrt(tau)`` | ``0, sqrt(T)`` |
| ``inverse_steps_remaining`` | 1 | ``dt / max(tau, dt)``: 1, 1/2, 1/3, ... at the end | ``0, 1`` |
| ``final_step`` | 1 | 1 at the last decision (``tau <= dt``), else 0 | ``0, 1`` |
| ``inventory`` | n | ``q_i`` | ``0, s_i`` |
| ``inventory_sqrt_time`` | n | ``q_i sqrt(tau)`` | ``0, s_i sqrt(T)`` |
| ``inventory_inverse_steps`` | n | ``q_i dt / max(tau, dt)`` | ``0, s_i`` |
| ``inventory_final_step`` | n | ``q_i`` at the last decision, else 0 | ``0, s_i`` |
| ``mid`` | n | ``S_i`` | the single-asset market's mid scaling of asset ``i`` |

``s_i = min(inventory_limit_i, 10 order sizes)``, the single-asset inventory scale
(:func:`mm_env.observation_scales` of ``config.asset(i)``), so every column of a network input
is ``(x - offset) / scale = O(1)``. The scaling is fixed by the market config (never estimated
from data): a state's network input does not change during training, and the saved model
directory stores the offsets and scales.

Under an arithmetic mid with a risk-neutral reward (``pnl``, ``inventory_penalty``) the
optimal quotes depend on ``(t, q)`` only (the value is ``x + q.S + h(t, q)``), so the default
input drops the mids: feeding the network a price level that carries no information only adds
noise. ``sqrt_time_remaining`` stretches the end of the episode, where the optimal quotes
change fastest; ``inverse_steps_remaining`` (one over the number of decisions left) resolves
the last few steps, where the discrete-time optimum departs from the continuous one (at the
last step it is the one-step problem: with a terminal penalty it quotes wide on the side that
would add inventory), which a smooth function of ``tau`` reaches only with a sharp bend.
There the optimal depths are close to linear in ``q`` with a slope of the order of the
terminal penalty ``Psi`` (``1/k + (2 Psi q + Psi_ii)_i`` at the last step), tens of times the
slope earlier in the episode; ``inventory_inverse_steps`` lets the network represent that
steepening as a linear term. The last decision is a problem of its own (no future to unwind
in), but only one sample in ``n_steps``: ``final_step`` and ``inventory_final_step`` give its
quotes their own intercept and slope, so the other steps' gradients do not drag them along.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from mm_env import observation_scales
from mm_env.multi_asset import MultiAssetConfig

#: Feature names and whether each has one column per asset.
MULTI_ASSET_FEATURES: dict[str, bool] = {
    "time_remaining": False,
    "sqrt_time_remaining": False,
    "inverse_steps_remaining": False,
    "final_step": False,
    "inventory": True,
    "inventory_sqrt_time": True,
    "inventory_inverse_steps": True,
    "inventory_final_step": True,
    "mid": True,
}
#: The default network input: the mids carry no information under an arithmetic mid.
DEFAULT_FEATURES: tuple[str, ...] = ("time_remaining", "sqrt_time_remaining", "inventory")


def check_multi_asset_features(features: Sequence[str]) -> tuple[str, ...]:
    """``features`` as a tuple; ValueError naming the unknown or repeated ones."""
    if isinstance(features, str):
        raise ValueError(
            f"features must be a list of names from {list(MULTI_ASSET_FEATURES)}, got the "
            f"string {features!r}"
        )
    chosen = tuple(features)
    unknown = [f for f in chosen if f not in MULTI_ASSET_FEATURES]
    if unknown or not chosen or len(set(chosen)) != len(chosen):
        raise ValueError(
            f"features must be a non-empty list of distinct names from "
            f"{list(MULTI_ASSET_FEATURES)}, got {list(chosen)}"
        )
    return chosen


class MultiAssetFeatures:
    """The network input ``(x - offset) / scale`` (float32) of raw multi-asset observations.

    ``MultiAssetFeatures(config, features)`` computes the columns of ``features`` (see the
    module table) with the fixed scaling of ``config``; ``offset`` and ``scale``, when given
    (a model directory's float lists), are used as they are.
    """

    def __init__(
        self,
        config: MultiAssetConfig,
        features: Sequence[str] = DEFAULT_FEATURES,
        *,
        offset: Sequence[float] | np.ndarray | None = None,
        scale: Sequence[float] | np.ndarray | None = None,
    ) -> None:
        if not isinstance(config, MultiAssetConfig):
            raise TypeError(f"config must be a MultiAssetConfig, got {type(config).__name__}")
        self.config = config
        self.features = check_multi_asset_features(features)
        self.n_assets = config.n_assets
        self.columns = column_names(self.features, self.n_assets)
        fixed_offset, fixed_scale = fixed_multi_asset_scale(config, self.features)
        width = len(self.columns)
        self.offset = fixed_offset if offset is None else _vector("offset", offset, width)
        self.scale = fixed_scale if scale is None else _vector("scale", scale, width)
        if not (self.scale > 0).all():
            raise ValueError(f"scale must be > 0 in every column, got {self.scale.tolist()}")

    @property
    def width(self) -> int:
        """Number of columns of the network input."""
        return len(self.columns)

    def raw(self, obs: np.ndarray) -> np.ndarray:
        """The unscaled feature columns (float64) of observations ``(..., 1 + 2n)``."""
        x = np.asarray(obs, dtype=np.float64)
        n = self.n_assets
        if x.shape[-1] != 1 + 2 * n:
            raise ValueError(
                f"obs must have {1 + 2 * n} entries [time_remaining, q_1..q_{n}, S_1..S_{n}] "
                f"in its last axis, got shape {x.shape}"
            )
        tau = np.maximum(x[..., :1], 0.0)
        q, mid = x[..., 1 : 1 + n], x[..., 1 + n :]
        inverse_steps = self.config.dt / np.maximum(tau, self.config.dt)
        final = (tau < 1.5 * self.config.dt).astype(np.float64)  # float32 tau: not == dt
        blocks = {
            "time_remaining": tau,
            "sqrt_time_remaining": np.sqrt(tau),
            "inverse_steps_remaining": inverse_steps,
            "final_step": final,
            "inventory": q,
            "inventory_sqrt_time": q * np.sqrt(tau),
            "inventory_inverse_steps": q * inverse_steps,
            "inventory_final_step": q * final,
            "mid": mid,
        }
        return np.concatenate([blocks[f] for f in self.features], axis=-1)

    def __call__(self, obs: np.ndarray) -> np.ndarray:
        """The network input (float32) of observations ``(..., 1 + 2n)``."""
        return ((self.raw(obs) - self.offset) / self.scale).astype(np.float32)

    def bounds(self, low: np.ndarray, high: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Elementwise bounds of the network input for observations in the box
        ``[low, high]`` (every feature is monotone in each of its raw entries; the product
        ``q sqrt(tau)`` takes its extremes at the box's corners)."""
        corners = []
        n = self.n_assets
        for t in (low[0], high[0]):
            for q_side in (low[1 : 1 + n], high[1 : 1 + n]):
                for m_side in (low[1 + n :], high[1 + n :]):
                    corners.append(self(np.concatenate([[t], q_side, m_side])))
        stack = np.stack(corners)
        return stack.min(axis=0), stack.max(axis=0)


def column_names(features: Sequence[str], n_assets: int) -> tuple[str, ...]:
    """The column names of ``features``: ``inventory_1, inventory_2, ...`` per asset."""
    names: list[str] = []
    for f in features:
        if MULTI_ASSET_FEATURES[f]:
            names += [f"{f}_{i + 1}" for i in range(n_assets)]
        else:
            names.append(f)
    return tuple(names)


def fixed_multi_asset_scale(
    config: MultiAssetConfig, features: Sequence[str]
) -> tuple[np.ndarray, np.ndarray]:
    """``(offset, scale)`` (float64, one entry per column) of the fixed scaling."""
    scales = [observation_scales(config.asset(i)) for i in range(config.n_assets)]
    inv = [s["inventory"][1] for s in scales]
    per_feature: dict[str, list[tuple[float, float]]] = {
        "time_remaining": [(0.0, config.T)],
        "sqrt_time_remaining": [(0.0, math.sqrt(config.T))],
        "inverse_steps_remaining": [(0.0, 1.0)],
        "final_step": [(0.0, 1.0)],
        "inventory": [(0.0, s) for s in inv],
        "inventory_sqrt_time": [(0.0, s * math.sqrt(config.T)) for s in inv],
        "inventory_inverse_steps": [(0.0, s) for s in inv],
        "inventory_final_step": [(0.0, s) for s in inv],
        "mid": [s["mid"] for s in scales],
    }
    pairs = [p for f in check_multi_asset_features(features) for p in per_feature[f]]
    return (
        np.array([p[0] for p in pairs], dtype=np.float64),
        np.array([p[1] for p in pairs], dtype=np.float64),
    )


def _vector(name: str, value: Sequence[float] | np.ndarray, width: int) -> np.ndarray:
    arr = np.asarray(value, dtype=np.float64)
    if arr.shape != (width,) or not np.isfinite(arr).all():
        raise ValueError(f"{name} must be {width} finite numbers (one per column), got {value!r}")
    return arr
