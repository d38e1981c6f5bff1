"""The market the optima are measured on, shared by the agent tests.

``PENALTY_AS2008``: the AS 2008 market (bernoulli fills, ``dt = 0.005``) with the
inventory-penalty reward (``phi = 0.05``, ``alpha = 0.1``) and inventory limit 10.
``DISCRETISATION_ALLOWANCE``: how far the env's expected episode reward of a continuous-time
optimum may be from its ``value(0, 0)`` there (measured exactly in test_optimal.py: 0.466).
Test modules import the names (``from tests.agents.conftest import PENALTY_AS2008``).
"""

from __future__ import annotations

from mm_env import MarketConfig

PENALTY_AS2008 = MarketConfig.preset(
    "as2008", reward="inventory_penalty", phi=0.05, alpha=0.1, inventory_limit=10
)
DISCRETISATION_ALLOWANCE = 0.5
