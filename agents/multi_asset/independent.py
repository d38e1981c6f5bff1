"""Independent single-asset policies, one per asset: the practitioner's baseline.

Each asset ``i`` is quoted by a single-asset agent built on
:meth:`MultiAssetConfig.asset(i) <mm_env.multi_asset.MultiAssetConfig.asset>`, the market of
that asset alone (its ``A``, ``k``, ``sigma``, order size, limit, depths, and the diagonal
penalties ``phi_ii``, ``alpha_ii``), and sees only its own coordinates
``[time_remaining, q_i, S_i]``: correlations and the off-diagonal penalties are ignored. With
:class:`~agents.optimal.OptimalAgent` (the default) this is the exact optimum of each asset's
own problem, which is the exact joint optimum when ``Phi`` and ``Psi`` are diagonal; with
:class:`~agents.discrete_optimal.DiscreteOptimalAgent` the discrete-time one. The gap to
:class:`~agents.multi_asset.optimal.MultiAssetOptimalAgent` is the value of managing the
book jointly.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from agents.base import Agent
from agents.multi_asset.base import MultiAssetAgent, split_obs
from agents.optimal import OptimalAgent
from mm_env.config import MarketConfig
from mm_env.multi_asset import MultiAssetConfig


class IndependentAgent(MultiAssetAgent):
    """One single-asset agent per asset, each on its own market (module docstring).

    Args:
        config: the multi-asset market.
        agent_class: a single-asset agent class (or any callable ``MarketConfig -> Agent``),
            called as ``agent_class(config.asset(i), **kwargs)``; default
            :class:`~agents.optimal.OptimalAgent`.
        **kwargs: passed to every ``agent_class`` call.

    ``agents`` holds the single-asset agents, in asset order.
    """

    def __init__(
        self,
        config: MultiAssetConfig,
        agent_class: Callable[..., Agent] = OptimalAgent,
        **kwargs: Any,
    ) -> None:
        super().__init__(config)
        if not callable(agent_class):
            raise ValueError(f"agent_class must be a single-asset agent class, got {agent_class!r}")
        self.agents: list[Any] = []
        for i in range(self.n_assets):
            market: MarketConfig = config.asset(i)
            agent = agent_class(market, **kwargs)
            if not callable(getattr(agent, "act", None)):
                raise ValueError(
                    f"agent_class must build agents with act(obs), got {type(agent).__name__}"
                )
            self.agents.append(agent)
        self._name = getattr(agent_class, "__name__", repr(agent_class))

    def _act_batch(self, obs: np.ndarray) -> np.ndarray:
        tau, q, mid = split_obs(obs, self.n_assets)
        out = np.empty((obs.shape[0], 2 * self.n_assets))
        single = np.empty((obs.shape[0], 3))
        single[:, 0] = tau
        for i, agent in enumerate(self.agents):
            single[:, 1] = q[:, i]
            single[:, 2] = mid[:, i]
            out[:, 2 * i : 2 * i + 2] = agent.act(single)
        return out

    def __repr__(self) -> str:
        return f"IndependentAgent({self._name}, n_assets={self.n_assets})"
