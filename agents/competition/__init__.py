"""Exact game-theoretic yardsticks for competing market makers.

Two market makers on the lattice ``(step, q_0, q_1)`` of the competition law of
:mod:`mm_env.competition` (best quote wins the side, exact ties split 1/2-1/2):

- :class:`CompetitionLattice`: the game of a :class:`~mm_env.MarketConfig` and per-maker
  inventory limits (depth processing, quoting masks, rewards);
- policy tables ``(n_steps, n_0, n_1, 2)``: :func:`table_from_agent`,
  :func:`table_from_discrete_optimum`, :class:`TablePolicy` (plays a table in the env);
- :func:`evaluate_profile`: both makers' exact expected rewards under two tables;
- :func:`best_response`: one maker's exact best response to the other's table (or to an
  absent opponent: the monopolist optimum on the game's depth grid);
- :func:`exploitability` and :func:`solve_equilibrium` (a Markov perfect equilibrium by
  backward induction with alternating best replies in each stage game, tick needed);
- baselines for any N (:func:`avellaneda_stoikov_profile`, :func:`monopolist_profile`,
  :func:`fixed_spread_profile`) and :func:`yardstick_config`, the documented preset.

The math and a runnable example are in ``docs/competition_yardsticks.md``.
"""

from agents.competition.baselines import (
    avellaneda_stoikov_profile,
    fixed_spread_profile,
    maker_configs,
    monopolist_profile,
)
from agents.competition.best_response import BestResponse, best_response
from agents.competition.equilibrium import (
    Equilibrium,
    Exploitability,
    exploitability,
    solve_equilibrium,
    stage_gap,
)
from agents.competition.evaluate import ProfileValue, evaluate_profile, occupancy
from agents.competition.game import CompetitionLattice
from agents.competition.presets import YARDSTICK_OVERRIDES, yardstick_config
from agents.competition.stage import DEFAULT_UNDERCUT, stage_best_response
from agents.competition.tables import TablePolicy, table_from_agent, table_from_discrete_optimum

__all__ = [
    "DEFAULT_UNDERCUT",
    "YARDSTICK_OVERRIDES",
    "BestResponse",
    "CompetitionLattice",
    "Equilibrium",
    "Exploitability",
    "ProfileValue",
    "TablePolicy",
    "avellaneda_stoikov_profile",
    "best_response",
    "evaluate_profile",
    "exploitability",
    "fixed_spread_profile",
    "maker_configs",
    "monopolist_profile",
    "occupancy",
    "solve_equilibrium",
    "stage_best_response",
    "stage_gap",
    "table_from_agent",
    "table_from_discrete_optimum",
    "yardstick_config",
]
