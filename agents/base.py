"""The policy protocol shared by every agent in the package.

A policy maps observations to actions: ``act(obs)`` takes one observation of shape
``(3,)`` (``[time_remaining, inventory, mid]``, see :data:`mm_env.OBSERVATION_NAMES`) and
returns ``[bid_depth, ask_depth]`` of shape ``(2,)``, or takes a batch ``(n, 3)`` and
returns ``(n, 2)`` in one vectorised numpy call. Agents are built from the
:class:`~mm_env.MarketConfig` of the market they trade (``AgentClass(config, ...)``).

``predict`` gives every agent the stable-baselines3 signature, so the evaluation harness
treats package agents and trained SB3 models alike.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from typing import Any, Protocol, runtime_checkable

import numpy as np

from mm_env.config import MarketConfig


@runtime_checkable
class Policy(Protocol):
    """Anything with ``act(obs) -> action`` (one observation or a batch)."""

    def act(self, obs: np.ndarray) -> np.ndarray: ...


class Agent(ABC):
    """Base class of the package's policies. Subclasses implement :meth:`_act_batch`."""

    def __init__(self, config: MarketConfig) -> None:
        if not isinstance(config, MarketConfig):
            raise ValueError(
                f"config must be a mm_env.MarketConfig, got {type(config).__name__}; "
                "build one with MarketConfig.preset(name, **overrides)"
            )
        self.config = config

    def act(self, obs: np.ndarray) -> np.ndarray:
        """Depths ``[bid, ask]`` for one observation ``(3,)`` or a batch ``(n, 3)``."""
        arr = np.asarray(obs, dtype=np.float64)
        if arr.ndim == 1 and arr.shape[0] >= 3:
            return self._act_batch(arr[None, :])[0]
        if arr.ndim == 2 and arr.shape[1] >= 3:
            return self._act_batch(arr)
        raise ValueError(
            f"obs must have shape (3,) or (n, 3) = [time_remaining, inventory, mid], "
            f"got shape {arr.shape}"
        )

    def predict(
        self,
        observation: np.ndarray,
        state: Any = None,
        episode_start: Any = None,
        deterministic: bool = True,
    ) -> tuple[np.ndarray, None]:
        """stable-baselines3's ``predict`` signature: ``(action, None)``."""
        return self.act(observation), None

    @abstractmethod
    def _act_batch(self, obs: np.ndarray) -> np.ndarray:
        """Actions ``(n, 2)`` for observations ``(n, >=3)`` (float64)."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def split_obs(obs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(time_remaining, inventory, mid)`` columns of a batch of observations."""
    return obs[:, 0], obs[:, 1], obs[:, 2]


# ------------------------------------------------------------------ shared helpers
def check_real(name: str, value: object, *, low: float = -np.inf, low_open: bool = False,
               high: float = np.inf) -> float:
    """``value`` as a float, or ValueError naming ``name``, the value and the allowed range.

    The range is ``[low, high]`` (``(low, high]`` with ``low_open``); infinite bounds are
    open, so the value must be finite.
    """
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    x = float(value) if ok else math.nan  # type: ignore[arg-type]
    in_range = math.isfinite(x) and (x > low if low_open else x >= low) and x <= high
    if not in_range:
        lo = "(" if low_open or not math.isfinite(low) else "["
        hi = "]" if math.isfinite(high) else ")"
        raise ValueError(
            f"{name} must be a real number in {lo}{low:g}, {high:g}{hi}, got {value!r}"
        )
    return x


def price_volatility(config: MarketConfig, mid: np.ndarray, sigma: float | None) -> np.ndarray:
    """Absolute volatility [price units / sqrt(session)] at the observed mid(s), shape of ``mid``.

    ``sigma`` (if given) is already absolute and is used as is. Otherwise the config's sigma:
    in price units under arithmetic Brownian motion, relative under GBM and there multiplied by
    the observed mid (``sigma * S``): a relative sigma put straight into a formula written in
    price units would all but switch the inventory skew off.
    """
    if sigma is not None:
        return np.full_like(mid, sigma)
    if config.mid_model == "gbm":
        return config.sigma * np.abs(mid)
    return np.full_like(mid, config.sigma)
