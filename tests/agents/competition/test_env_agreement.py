"""The exact values agree with Monte Carlo of mm_env.competition (the env of the same law)."""

from __future__ import annotations

import numpy as np
import pytest

from agents.competition import CompetitionLattice, TablePolicy, evaluate_profile, solve_equilibrium
from tests.agents.competition.conftest import small_config

competition = pytest.importorskip("mm_env.competition")

BASE = {"n_steps": 10, "T": 0.05, "phi": 2.0, "alpha": 0.5}


def run_env(
    overrides: dict, limits: tuple[float, float], policies: list, games: int, seed: int
) -> np.ndarray:
    env = competition.CompetitionVectorEnv(
        num_games=games,
        n_makers=2,
        preset="penalty",
        full_information=True,
        inventory_limit=limits,
        autoreset_mode="Disabled",
        **overrides,
    )
    obs, _ = env.reset(seed=seed)
    total = np.zeros((games, 2))
    for _ in range(overrides["n_steps"]):
        actions = np.stack([policies[j].act(obs[:, j, :]) for j in (0, 1)], axis=1)
        obs, rewards, terminated, _, _ = env.step(actions)
        total += rewards
    assert terminated.all()
    return total


@pytest.mark.parametrize("tick", [0.0, 0.1])
def test_profile_values_match_the_competition_env(tick: float) -> None:
    limits = (3.0, 2.0)
    overrides = {**BASE, "tick_size": tick, "sigma": 0.0 if tick else 2.0}
    game = CompetitionLattice(small_config(**overrides), inventory_limits=limits)
    if tick:  # the equilibrium: joint tables, ties everywhere
        tables = list(solve_equilibrium(game).tables)
    else:
        rng = np.random.default_rng(9)
        shape = (game.n_steps, *game.shape, 2)
        tables = [rng.choice([0.2, 0.5, 0.8], size=shape) for _ in range(2)]
    exact = evaluate_profile(game, tables).initial
    policies = [TablePolicy(game, tables[j], j) for j in (0, 1)]
    returns = run_env(overrides, limits, policies, 40_000, seed=3)
    mean = returns.mean(axis=0)
    se = returns.std(axis=0, ddof=1) / np.sqrt(returns.shape[0])
    assert np.all(np.abs(mean - exact) < 4.5 * se), (mean, exact, se)
