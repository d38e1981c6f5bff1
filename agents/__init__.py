"""Policies for the market-making env: baselines, the optima, exact evaluation.

**The policy protocol** (:class:`agents.base.Agent`). Every agent is built from the
:class:`~mm_env.MarketConfig` of the market it trades plus its own parameters,
``AgentClass(config, ...)`` (all parameters have defaults, so ``AgentClass(config)`` works),
and maps observations ``[time_remaining, inventory, mid]`` to actions
``[bid_depth, ask_depth]`` (price units, distances from the mid):

- ``agent.act(obs)``: one observation ``(3,)`` -> ``(2,)``, or a batch ``(n, 3)`` -> ``(n, 2)``
  in one vectorised numpy call (no Python loop over the batch);
- ``agent.predict(obs, state=None, episode_start=None, deterministic=True)`` ->
  ``(action, None)``: stable-baselines3's signature, so an evaluation harness treats package
  agents and trained SB3 models alike (``model.predict(obs)[0]`` either way).

Agents return the depths their formula gives; the env clips them into
``[min_depth, max_depth]`` and does not quote a side whose fill would cross the inventory
limit. Subclasses implement ``_act_batch(obs (n, 3) float64) -> (n, 2)``.

Baselines: :class:`AvellanedaStoikovAgent`, :class:`SymmetricAgent` (AS 2008),
:class:`GLFTAgent` (GLFT 2013 closed form), :class:`FixedSpreadAgent`, :class:`RandomAgent`.
Optima: :class:`OptimalAgent` (Cartea-Jaimungal-Penalva, the ``inventory_penalty`` reward,
continuous time), :class:`CARAOptimalAgent` (GLFT 2013, exponential utility, continuous time),
:class:`DiscreteOptimalAgent` (the exact optimum of the discrete-time env itself).
Exact evaluation: :func:`evaluate_on_lattice` (the expected episode reward of a policy,
without Monte Carlo noise).

Subpackages: :mod:`agents.multi_asset` (multi-asset AS, the closed-form quadratic
approximation, the joint exact optima and evaluator, per-asset independent optima; built from
a :class:`~mm_env.MultiAssetConfig`) and :mod:`agents.competition` (competing makers: exact
best responses, exploitability and an equilibrium for two makers, baselines for any number).
"""

from agents.avellaneda_stoikov import (
    AvellanedaStoikovAgent,
    SymmetricAgent,
    as_depths,
    as_quotes,
    as_reservation_price,
    as_spread,
)
from agents.base import Agent, Policy
from agents.discrete_optimal import DiscreteOptimalAgent, solve_discrete_optimum
from agents.glft import GLFTAgent, glft_depths
from agents.lattice import LatticeValue, evaluate_on_lattice
from agents.optimal import CARAOptimalAgent, OptimalAgent, default_q_max
from agents.simple import FixedSpreadAgent, RandomAgent

__all__ = [
    "Agent",
    "AvellanedaStoikovAgent",
    "CARAOptimalAgent",
    "DiscreteOptimalAgent",
    "FixedSpreadAgent",
    "GLFTAgent",
    "LatticeValue",
    "OptimalAgent",
    "Policy",
    "RandomAgent",
    "SymmetricAgent",
    "as_depths",
    "as_quotes",
    "as_reservation_price",
    "as_spread",
    "default_q_max",
    "evaluate_on_lattice",
    "glft_depths",
    "solve_discrete_optimum",
]
