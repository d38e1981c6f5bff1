"""The policy protocol of the multi-asset agents.

A multi-asset policy maps observations ``[time_remaining, q_1..q_n, S_1..S_n]`` (inventories
in shares, mids in price units, the multi-asset env's observation) to actions
``[bid_1, ask_1, bid_2, ask_2, ...]`` (depths from each mid, price units): ``act(obs)`` takes
one observation ``(1 + 2n,)`` and returns ``(2n,)``, or a batch ``(m, 1 + 2n)`` and returns
``(m, 2n)`` in one vectorised call. Agents are built from the
:class:`~mm_env.multi_asset.MultiAssetConfig` of the market they trade
(``AgentClass(config, ...)``), and ``predict`` gives them stable-baselines3's signature, as
:class:`agents.base.Agent` does for one asset.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from agents.base import BatchAgent
from mm_env.multi_asset import MultiAssetConfig


class MultiAssetAgent(BatchAgent):
    """Base class of the multi-asset policies. Subclasses implement :meth:`_act_batch`:
    depths ``(m, 2n)`` for observations ``(m, >= 1+2n)`` (float64)."""

    def __init__(self, config: MultiAssetConfig) -> None:
        if not isinstance(config, MultiAssetConfig):
            raise ValueError(
                f"config must be a mm_env.multi_asset.MultiAssetConfig, got "
                f"{type(config).__name__}; build one with MultiAssetConfig.preset(name, ...) "
                "or MultiAssetConfig.from_market(market)"
            )
        self.config = config
        self.n_assets = config.n_assets

    @property
    def obs_width(self) -> int:
        """Length of an observation: ``1 + 2 n_assets``."""
        return 1 + 2 * self.n_assets

    def _obs_layout(self) -> str:
        width, n = self.obs_width, self.n_assets
        return f"({width},) or (m, {width}) = [time_remaining, q_1..q_{n}, S_1..S_{n}]"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(n_assets={self.n_assets})"


def split_obs(obs: np.ndarray, n_assets: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(time_remaining (m,), inventories (m, n), mids (m, n))`` of a batch."""
    return obs[:, 0], obs[:, 1 : 1 + n_assets], obs[:, 1 + n_assets : 1 + 2 * n_assets]


def interleave(bid: np.ndarray, ask: np.ndarray) -> np.ndarray:
    """``[bid_1, ask_1, bid_2, ask_2, ...]`` from ``bid`` and ``ask`` of shape ``(m, n)``."""
    out = np.empty((bid.shape[0], 2 * bid.shape[1]))
    out[:, 0::2] = bid
    out[:, 1::2] = ask
    return out


def price_volatilities(config: MultiAssetConfig, mids: np.ndarray) -> np.ndarray:
    """Absolute volatility of each mid at the observed mids, shape of ``mids`` ``(m, n)``.

    ``sigma_i`` under abm, ``sigma_i |S_i|`` under gbm (as :func:`agents.base.price_volatility`
    for one asset: a relative sigma in a formula written in price units would all but switch
    the inventory skew off).
    """
    sigma = np.asarray(config.sigma, dtype=np.float64)
    if config.mid_model == "gbm":
        return np.asarray(sigma * np.abs(mids))
    return np.broadcast_to(sigma, mids.shape).copy()


def check_matrix(name: str, value: Any, n: int) -> np.ndarray:
    """``value`` as a finite symmetric PSD ``(n, n)`` array (a number ``c >= 0``: ``c I``).

    ValueError naming ``name``, the value and what is allowed otherwise.
    """
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        c = float(value)
        if not (np.isfinite(c) and c >= 0):
            raise ValueError(
                f"{name} must be a number >= 0 or a finite symmetric positive semi-definite "
                f"{n} x {n} matrix, got {value!r}"
            )
        return np.eye(n) * c
    try:
        arr = np.array(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be an {n} x {n} matrix of numbers, got {value!r}") from None
    ok = arr.shape == (n, n) and bool(np.isfinite(arr).all())
    if ok:
        scale = max(1.0, float(np.abs(arr).max()))
        ok = float(np.abs(arr - arr.T).max()) <= 1e-10 * scale
        ok = ok and float(np.linalg.eigvalsh((arr + arr.T) / 2).min()) >= -1e-10 * scale
    if not ok:
        raise ValueError(
            f"{name} must be a finite symmetric positive semi-definite {n} x {n} matrix, got "
            f"{value!r}"
        )
    return (arr + arr.T) / 2
