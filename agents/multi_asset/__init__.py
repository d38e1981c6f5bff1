"""Policies for the multi-asset market: baselines, closed forms, the exact optima, evaluation.

Every agent is built from a :class:`~mm_env.multi_asset.MultiAssetConfig`
(``AgentClass(config, ...)``) and maps observations ``[time_remaining, q_1..q_n, S_1..S_n]``
(inventories in shares) to depths ``[bid_1, ask_1, bid_2, ask_2, ...]`` with ``act(obs)`` (one
observation or a batch) and ``predict`` (stable-baselines3's signature); see
:mod:`agents.multi_asset.base`. With one asset each reduces to its single-asset counterpart.

- :class:`MultiAssetASAgent`: Avellaneda-Stoikov with reservation prices
  ``S_i - gamma (T - t) (Sigma q)_i``;
- :class:`QuadraticApproximationAgent`: the closed-form quadratic approximation of Bergault,
  Evangelista, Gueant & Vieira (2021), finite horizon (matrix Riccati) or stationary;
- :class:`MultiAssetOptimalAgent`: the exact continuous-time optimum of the
  ``inventory_penalty`` reward on the joint inventory grid;
- :class:`IndependentAgent`: one single-asset agent per asset, correlations ignored;
- :class:`MultiAssetDiscreteOptimalAgent`: the exact optimum of the discrete-time env;
- :func:`evaluate_on_multi_lattice`: the exact expected episode reward of a Markov policy.

The mathematics and a worked comparison are in ``docs/multi_asset_agents.md``.
"""

from agents.multi_asset.avellaneda_stoikov import MultiAssetASAgent
from agents.multi_asset.base import MultiAssetAgent
from agents.multi_asset.discrete_optimal import (
    MultiAssetDiscreteOptimalAgent,
    solve_multi_asset_discrete_optimum,
)
from agents.multi_asset.grid import InventoryGrid
from agents.multi_asset.independent import IndependentAgent
from agents.multi_asset.lattice import (
    MultiAssetLatticeModel,
    MultiAssetLatticeValue,
    evaluate_on_multi_lattice,
)
from agents.multi_asset.linear_hjb import LogGridExp
from agents.multi_asset.nonlinear_hjb import GridHJB
from agents.multi_asset.optimal import MultiAssetOptimalAgent
from agents.multi_asset.quadratic import (
    QuadraticApproximationAgent,
    QuadraticRiccati,
    hamiltonian_coefficients,
    stationary_quadratic,
)

__all__ = [
    "GridHJB",
    "IndependentAgent",
    "InventoryGrid",
    "LogGridExp",
    "MultiAssetASAgent",
    "MultiAssetAgent",
    "MultiAssetDiscreteOptimalAgent",
    "MultiAssetLatticeModel",
    "MultiAssetLatticeValue",
    "MultiAssetOptimalAgent",
    "QuadraticApproximationAgent",
    "QuadraticRiccati",
    "evaluate_on_multi_lattice",
    "hamiltonian_coefficients",
    "solve_multi_asset_discrete_optimum",
    "stationary_quadratic",
]
