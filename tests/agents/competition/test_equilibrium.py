"""Exploitability and the stage-wise equilibrium."""

from __future__ import annotations

import numpy as np
import pytest

from agents.competition import (
    CompetitionLattice,
    avellaneda_stoikov_profile,
    best_response,
    exploitability,
    solve_equilibrium,
    stage_gap,
    table_from_agent,
    table_from_discrete_optimum,
)
from tests.agents.competition.conftest import small_config


def test_exploitability_is_nonnegative_and_positive_off_equilibrium(
    tick_game: CompetitionLattice,
) -> None:
    rng = np.random.default_rng(0)
    shape = (tick_game.n_steps, *tick_game.shape, 2)
    profiles = [[rng.uniform(-0.3, 1.5, shape), rng.uniform(-0.3, 1.5, shape)] for _ in range(3)]
    profiles.append([table_from_discrete_optimum(tick_game, j) for j in (0, 1)])
    cfg = tick_game.config
    agents = avellaneda_stoikov_profile(cfg, 2, inventory_limits=tick_game.inventory_limits)
    profiles.append([table_from_agent(tick_game, a, j) for j, a in enumerate(agents)])
    for tables in profiles:
        ex = exploitability(tick_game, tables)
        assert np.all(ex.gains >= -1e-12)
        assert ex.value > 1e-3  # none of these is an equilibrium
        assert ex.value == pytest.approx(float(np.sum(ex.gains)))


def test_equilibrium_has_zero_exploitability() -> None:
    game = CompetitionLattice(small_config(tick_size=0.1, sigma=0.0, n_steps=12, T=0.06))
    eq = solve_equilibrium(game)
    assert eq.converged, eq.unconverged
    assert eq.unsettled_visits == 0.0
    assert abs(eq.exploitability) < 1e-10
    assert np.all(eq.stage_gaps < 1e-12)
    # the profile's values are the equilibrium's, and each table is a best response everywhere
    for j in (0, 1):
        br = best_response(game, eq.tables[1 - j], j)
        assert np.max(np.abs(br.values - eq.profile.values[j])) < 1e-10
    # competition: both quote tighter than the monopolist at the start
    mono = table_from_discrete_optimum(game, 0)[0, game.origin[0], game.origin[1]]
    spread = eq.tables[0][0, game.origin[0], game.origin[1]].sum()
    assert spread < mono.sum() - 0.5


def test_stage_gap_is_zero_at_the_equilibrium_quotes() -> None:
    game = CompetitionLattice(small_config(tick_size=0.1, sigma=0.0, n_steps=3, T=0.015))
    eq = solve_equilibrium(game)
    i = 0
    values = eq.profile.values
    w = tuple(game.shifted(j, game.continuation(j, i, values[j, i + 1])) for j in (0, 1))
    quoted = ((game.bid_quoted[0], game.ask_quoted[0]), (game.bid_quoted[1], game.ask_quoted[1]))
    d = tuple((eq.tables[j][i, ..., 0], eq.tables[j][i, ..., 1]) for j in (0, 1))
    assert np.max(stage_gap(game, w, quoted, d)) < 1e-12  # type: ignore[arg-type]
    shifted = ((d[0][0] + 0.3, d[0][1]), d[1])
    assert np.max(stage_gap(game, w, quoted, shifted)) > 1e-4  # type: ignore[arg-type]


def test_equilibrium_needs_a_tick_and_valid_rounds(smooth_game: CompetitionLattice) -> None:
    with pytest.raises(ValueError, match="needs a tick"):
        solve_equilibrium(smooth_game)
    game = CompetitionLattice(small_config(tick_size=0.1, n_steps=2, T=0.01))
    with pytest.raises(ValueError, match="max_rounds must be an int >= 1"):
        solve_equilibrium(game, max_rounds=0)
