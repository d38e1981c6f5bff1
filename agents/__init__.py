"""Policies for the market-making env: baselines, the optimum, SB3 adapters.

All share :class:`agents.base.Agent`'s protocol: ``AgentClass(config, ...)`` and
``act(obs) -> action`` for one observation or a batch.
"""

from agents.base import Agent, Policy
from agents.simple import FixedSpreadAgent, RandomAgent

__all__ = ["Agent", "FixedSpreadAgent", "Policy", "RandomAgent"]
