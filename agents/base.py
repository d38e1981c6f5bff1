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


class SB3Predict(ABC):
    """stable-baselines3's ``predict`` on top of ``act``, for anything that acts like an agent
    (the package's agents, trained models with their preprocessing)."""

    @abstractmethod
    def act(self, obs: np.ndarray) -> np.ndarray:
        """Deterministic actions for one observation or a batch."""

    def predict(
        self,
        observation: np.ndarray,
        state: Any = None,
        episode_start: Any = None,
        deterministic: bool = True,
    ) -> tuple[np.ndarray, None]:
        """stable-baselines3's ``predict`` signature: ``(action, None)``."""
        return self.act(observation), None


class BatchAgent(SB3Predict):
    """``act`` on one observation ``(width,)`` or a batch ``(m, width)`` through one vectorised
    :meth:`_act_batch`; wider observations (appended features) are accepted, narrower ones are
    a ValueError naming the expected layout. Subclasses give :attr:`obs_width`,
    :meth:`_obs_layout` and :meth:`_act_batch`."""

    @property
    @abstractmethod
    def obs_width(self) -> int:
        """Length of an observation the policy reads."""

    @abstractmethod
    def _obs_layout(self) -> str:
        """The shapes and columns the ValueError for a bad observation names."""

    def act(self, obs: np.ndarray) -> np.ndarray:
        """Actions for one observation ``(width,)`` or a batch ``(m, width)``."""
        arr = np.asarray(obs, dtype=np.float64)
        width = self.obs_width
        if arr.ndim == 1 and arr.shape[0] >= width:
            return self._act_batch(arr[None, :])[0]
        if arr.ndim == 2 and arr.shape[1] >= width:
            return self._act_batch(arr)
        raise ValueError(f"obs must have shape {self._obs_layout()}, got shape {arr.shape}")

    @abstractmethod
    def _act_batch(self, obs: np.ndarray) -> np.ndarray:
        """Actions ``(m, action width)`` for observations ``(m, >= obs_width)`` (float64)."""


class Agent(BatchAgent):
    """Base class of the package's policies. Subclasses implement :meth:`_act_batch`:
    depths ``[bid, ask]`` ``(n, 2)`` for observations ``(n, >=3)`` (float64)."""

    def __init__(self, config: MarketConfig) -> None:
        if not isinstance(config, MarketConfig):
            raise ValueError(
                f"config must be a mm_env.MarketConfig, got {type(config).__name__}; "
                "build one with MarketConfig.preset(name, **overrides)"
            )
        self.config = config

    @property
    def obs_width(self) -> int:
        """Length of an observation: 3 (``[time_remaining, inventory, mid]``)."""
        return 3

    def _obs_layout(self) -> str:
        return "(3,) or (n, 3) = [time_remaining, inventory, mid]"

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def split_obs(obs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(time_remaining, inventory, mid)`` columns of a batch of observations."""
    return obs[:, 0], obs[:, 1], obs[:, 2]


# ------------------------------------------------------------------ shared helpers
def check_real(
    name: str, value: object, *, low: float = -np.inf, low_open: bool = False, high: float = np.inf
) -> float:
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
