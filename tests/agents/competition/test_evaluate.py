"""Exact profile evaluation against Monte Carlo of the law, and its single-maker limit."""

from __future__ import annotations

import numpy as np
import pytest

from agents.competition import (
    CompetitionLattice,
    evaluate_profile,
    occupancy,
    table_from_discrete_optimum,
)
from agents.discrete_optimal import solve_discrete_optimum
from tests.agents.competition.conftest import small_config
from tests.agents.competition.law_simulator import simulate


def random_tables(game: CompetitionLattice, rng: np.random.Generator, tick: float) -> list:
    """Two random tables that often tie (depths on a coarse grid shared by both makers)."""
    shape = (game.n_steps, *game.shape, 2)
    levels = np.array([-0.3, 0.2, 0.5, 0.8, 1.1])
    if tick == 0:
        return [rng.choice(levels, size=shape), rng.choice(levels, size=shape)]
    # off-grid requests too: the snapping decides the ties
    return [rng.choice(levels, size=shape) + rng.uniform(0, 0.09, shape) for _ in range(2)]


@pytest.mark.parametrize(
    ("tick", "sigma", "fill_model"),
    [(0.0, 2.0, "bernoulli"), (0.0, 2.0, "poisson"), (0.1, 0.0, "bernoulli")],
)
def test_profile_value_matches_monte_carlo_of_the_law(
    tick: float, sigma: float, fill_model: str
) -> None:
    cfg = small_config(tick_size=tick, sigma=sigma, fill_model=fill_model)
    limits = (3.0, 2.0)
    game = CompetitionLattice(cfg, inventory_limits=limits)
    rng = np.random.default_rng(11)
    tables = random_tables(game, rng, tick)
    exact = evaluate_profile(game, tables).initial
    returns = simulate(cfg, limits, tables, 60_000, np.random.default_rng(5))
    mean = returns.mean(axis=0)
    se = returns.std(axis=0, ddof=1) / np.sqrt(returns.shape[0])
    assert np.all(np.abs(mean - exact) < 4.5 * se), (mean, exact, se)
    assert np.all(se < 0.05 * np.maximum(np.abs(exact), 0.1))  # the check has power


def test_identical_tables_split_the_flow_evenly() -> None:
    # both makers quote the same depths everywhere: every trade is a tie; with equal limits the
    # game is symmetric and both makers expect the same reward
    game = CompetitionLattice(small_config(tick_size=0.1, sigma=0.0))
    table = np.full((game.n_steps, *game.shape, 2), 0.7)
    value = evaluate_profile(game, [table, table])
    assert value.initial[0] == pytest.approx(value.initial[1], abs=1e-12)
    # one step from q = (0, 0): each maker earns half of p(0.7) * 0.7 per side, minus penalty
    one = CompetitionLattice(small_config(tick_size=0.1, sigma=0.0, n_steps=1, T=0.005))
    t1 = np.full((1, *one.shape, 2), 0.7)
    p = float(one.fill_probability(np.array(0.7)))
    c = one.config
    cost = c.phi * c.dt + c.alpha  # inventory 1 after a single fill, at the last step
    expected = 2 * (0.5 * p * 0.7) - 2 * (0.5 * p) * (1 - p) * cost - 2 * (0.25 * p * p) * cost
    assert evaluate_profile(one, [t1, t1]).initial[0] == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("fill_model", ["bernoulli", "poisson"])
def test_an_opponent_that_never_wins_leaves_the_single_maker_value(fill_model: str) -> None:
    cfg = small_config(fill_model=fill_model, n_steps=30, T=0.15)
    game = CompetitionLattice(cfg)
    mono = table_from_discrete_optimum(game, 0)
    far = np.full_like(mono, cfg.max_depth)  # ties only where maker 0 also quotes max_depth
    assert np.all(mono[..., 0][:, game.bid_quoted[0]] < cfg.max_depth)
    assert np.all(mono[..., 1][:, game.ask_quoted[0]] < cfg.max_depth)
    value = evaluate_profile(game, [mono, far])
    single = solve_discrete_optimum(cfg)
    assert np.max(np.abs(value.values[0, :, :, game.origin[1]] - single.values)) < 1e-9
    # maker 1 trades only where maker 0 cannot quote (at its limit), rarely, at depth 10
    assert 0.0 < value.initial[1] < 1e-4


def test_occupancy_is_a_distribution_that_respects_the_limits(tick_game) -> None:  # type: ignore[no-untyped-def]
    tables = random_tables(tick_game, np.random.default_rng(2), 0.1)
    occ = occupancy(tick_game, tables)
    assert np.allclose(occ.sum(axis=(1, 2)), 1.0, atol=1e-12)
    assert occ.min() >= 0.0
    # step 1: at most one inventory step away from (0, 0) for each maker
    a, b = tick_game.origin
    mask = np.zeros(tick_game.shape, bool)
    mask[a - 1 : a + 2, b - 1 : b + 2] = True
    assert occ[1][~mask].sum() == 0.0


def test_tables_are_checked(tick_game) -> None:  # type: ignore[no-untyped-def]
    good = np.zeros((tick_game.n_steps, *tick_game.shape, 2))
    with pytest.raises(ValueError, match=r"tables\[1\] must have shape"):
        evaluate_profile(tick_game, [good, good[:-1]])
    bad = good.copy()
    bad[0, 0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="finite depths"):
        evaluate_profile(tick_game, [bad, good])
    with pytest.raises(ValueError, match="one table per maker"):
        evaluate_profile(tick_game, [good])
