"""Exact best responses: the single-maker limit, optimality against other tables, brute force."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from agents.competition import CompetitionLattice, best_response, evaluate_profile
from agents.discrete_optimal import solve_discrete_optimum
from tests.agents.competition.conftest import small_config
from tests.agents.competition.law_simulator import fill_probability


@pytest.mark.parametrize("fill_model", ["bernoulli", "poisson"])
def test_best_response_to_no_competition_is_the_single_maker_optimum(fill_model: str) -> None:
    cfg = small_config(fill_model=fill_model, n_steps=40, T=0.2)
    game = CompetitionLattice(cfg)
    single = solve_discrete_optimum(cfg)
    absent = best_response(game, None, 0)
    far = best_response(game, np.full((game.n_steps, *game.shape, 2), cfg.max_depth), 0)
    for br in (absent, far):
        assert np.max(np.abs(br.values[:, :, game.origin[1]] - single.values)) < 1e-9
    # the absent opponent's best response does not depend on the other inventory
    assert np.max(np.abs(absent.values - absent.values[:, :, :1])) < 1e-12


@pytest.mark.parametrize("game_name", ["tick_game", "smooth_game"])
def test_best_response_table_achieves_its_value(
    game_name: str, request: pytest.FixtureRequest
) -> None:
    game = request.getfixturevalue(game_name)
    rng = np.random.default_rng(3)
    opp = rng.uniform(-0.2, 1.2, size=(game.n_steps, *game.shape, 2))
    for maker in (0, 1):
        br = best_response(game, opp, maker)
        tables = [br.table, opp] if maker == 0 else [opp, br.table]
        value = evaluate_profile(game, tables)
        assert np.max(np.abs(value.values[maker] - br.values)) < 1e-10


@pytest.mark.parametrize("game_name", ["tick_game", "smooth_game"])
def test_best_response_beats_random_and_perturbed_tables(
    game_name: str, request: pytest.FixtureRequest
) -> None:
    game = request.getfixturevalue(game_name)
    rng = np.random.default_rng(8)
    shape = (game.n_steps, *game.shape, 2)
    opp = rng.uniform(0.0, 1.0, size=shape)
    br = best_response(game, opp, 1)
    step = game.tick if game.tick > 0 else 0.02
    for trial in range(12):
        if trial < 4:
            mine = rng.uniform(-0.5, 1.5, size=shape)
        else:  # small perturbations of the best response (a few ticks, some states)
            mine = br.table + step * rng.integers(-2, 3, size=shape) * (rng.random(shape) < 0.3)
        value = evaluate_profile(game, [opp, mine]).values[1]
        assert np.all(value <= br.values + 1e-10)
        assert value[0, game.origin[0], game.origin[1]] < br.initial


def test_best_response_indexes_the_makers_consistently() -> None:
    # symmetric limits: maker 1's reply to a table equals maker 0's reply to its transpose
    game = CompetitionLattice(small_config(tick_size=0.1, sigma=0.0))
    opp = np.random.default_rng(4).uniform(0.0, 1.0, size=(game.n_steps, *game.shape, 2))
    br1 = best_response(game, opp, 1)
    br0 = best_response(game, opp.transpose(0, 2, 1, 3), 0)
    assert np.max(np.abs(br1.values - br0.values.transpose(0, 2, 1))) < 1e-12
    assert np.array_equal(br1.table, br0.table.transpose(0, 2, 1, 3))


def brute_force(cfg, limits, opp, levels):  # type: ignore[no-untyped-def]
    """Maker 0's optimal values by enumerating all own depth pairs in ``levels`` per state."""
    size, dt = cfg.order_size, cfg.dt
    half = [int(lim / size + 1e-9) for lim in limits]
    q0s = [size * a for a in range(-half[0], half[0] + 1)]
    q1s = [size * b for b in range(-half[1], half[1] + 1)]
    n = cfg.n_steps
    v = np.zeros((n + 1, len(q0s), len(q1s)))
    h = cfg.tick_size

    def snap(d: float) -> float:
        d = min(max(d, cfg.min_depth), cfg.max_depth)
        return h * np.ceil(d / h - 1e-9) if h > 0 else d

    def law(mine: float, theirs: float, q_me: bool, q_them: bool) -> tuple[float, float]:
        if q_me and q_them:
            p = float(fill_probability(cfg, np.array(min(mine, theirs))))
            share = 1.0 if mine < theirs else (0.5 if mine == theirs else 0.0)
            return p * share, p * (1 - share)
        if q_me:
            return float(fill_probability(cfg, np.array(mine))), 0.0
        if q_them:
            return 0.0, float(fill_probability(cfg, np.array(theirs)))
        return 0.0, 0.0

    for i in range(n - 1, -1, -1):
        for a, b in itertools.product(range(len(q0s)), range(len(q1s))):
            q0, q1 = q0s[a], q1s[b]
            ob, oa = snap(opp[i, a, b, 0]), snap(opp[i, a, b, 1])
            best = -np.inf
            for db, da in itertools.product(levels, levels):
                db, da = snap(db), snap(da)
                pb = law(db, ob, q0 + size <= limits[0], q1 + size <= limits[1])
                pa = law(da, oa, q0 - size >= -limits[0], q1 - size >= -limits[1])
                total = size * (db * pb[0] + da * pa[0])
                for (x, px), (y, py) in itertools.product(
                    [((1, 0), pb[0]), ((0, 1), pb[1]), ((0, 0), 1 - pb[0] - pb[1])],
                    [((-1, 0), pa[0]), ((0, -1), pa[1]), ((0, 0), 1 - pa[0] - pa[1])],
                ):
                    if px * py == 0:
                        continue
                    a2, b2 = a + x[0] + y[0], b + x[1] + y[1]
                    qn = q0s[a2]
                    u = -cfg.phi * dt * qn * qn - (cfg.alpha * qn * qn if i == n - 1 else 0.0)
                    total += px * py * (u + v[i + 1, a2, b2])
                best = max(best, total)
            v[i, a, b] = best
    return v


def test_best_response_equals_brute_force_on_a_tick_grid() -> None:
    cfg = small_config(
        n_steps=3, T=0.015, tick_size=0.25, min_depth=-0.5, max_depth=2.0, inventory_limit=2.0
    )
    limits = (2.0, 1.0)
    game = CompetitionLattice(cfg, inventory_limits=limits)
    rng = np.random.default_rng(1)
    grid = np.arange(-0.5, 2.0001, 0.25)
    opp = rng.choice(grid, size=(3, *game.shape, 2)) + rng.choice([0.0, 0.1], (3, *game.shape, 2))
    expected = brute_force(cfg, limits, opp, grid)
    br = best_response(game, opp, 0)
    assert np.max(np.abs(br.values - expected)) < 1e-12


def test_best_response_without_tick_bounds_a_fine_brute_force() -> None:
    cfg = small_config(n_steps=2, T=0.01, inventory_limit=1.0, min_depth=-0.5, max_depth=2.0)
    game = CompetitionLattice(cfg)
    rng = np.random.default_rng(6)
    opp = rng.choice([0.3, 0.6, 0.9], size=(2, *game.shape, 2))
    fine = np.concatenate(
        [np.round(np.arange(-0.5, 2.0001, 0.05), 12), [0.3 - 1e-9, 0.6 - 1e-9, 0.9 - 1e-9]]
    )
    expected = brute_force(cfg, (1.0, 1.0), opp, fine)
    br = best_response(game, opp, 0)
    assert np.all(br.values >= expected - 1e-12)
    assert np.max(br.values - expected) < 2e-3  # the grid is within 0.025 of the optimum


def test_best_response_arguments_are_checked(tick_game: CompetitionLattice) -> None:
    with pytest.raises(ValueError, match="maker must be 0 or 1, got 2"):
        best_response(tick_game, None, 2)
    with pytest.raises(ValueError, match="undercut must be a number in"):
        best_response(tick_game, None, 0, undercut=0.0)
    with pytest.raises(ValueError, match="opponent must have shape"):
        best_response(tick_game, np.zeros((1, 1, 1, 2)), 0)
