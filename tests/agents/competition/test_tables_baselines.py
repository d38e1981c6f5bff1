"""Policy tables from single-asset agents, the table policy, baselines for N makers, the game."""

from __future__ import annotations

import math

import numpy as np
import pytest

from agents import AvellanedaStoikovAgent, DiscreteOptimalAgent, FixedSpreadAgent
from agents.competition import (
    CompetitionLattice,
    TablePolicy,
    avellaneda_stoikov_profile,
    fixed_spread_profile,
    maker_configs,
    monopolist_profile,
    table_from_agent,
    table_from_discrete_optimum,
    yardstick_config,
)
from mm_env.config import MarketConfig
from tests.agents.competition.conftest import small_config


def test_table_from_agent_is_constant_in_the_other_inventory(
    tick_game: CompetitionLattice,
) -> None:
    agent = AvellanedaStoikovAgent(tick_game.config)
    for maker in (0, 1):
        table = table_from_agent(tick_game, agent, maker)
        other_axis = 2 - maker
        assert np.array_equal(
            table,
            np.repeat(
                table.take([0], axis=other_axis), tick_game.shape[1 - maker], axis=other_axis
            ),
        )
        i, own = 4, tick_game.inventories[maker]
        obs = np.column_stack(
            [
                np.full(own.size, tick_game.config.T - i * tick_game.config.dt),
                own,
                np.full(own.size, tick_game.config.S0),
            ]
        ).astype(np.float32)
        row = table[i, :, 0] if maker == 0 else table[i, 0, :]
        assert np.allclose(row, agent.act(obs))


def test_discrete_optimum_table_uses_the_makers_own_limit(tick_game: CompetitionLattice) -> None:
    t1 = table_from_discrete_optimum(tick_game, 1)
    agent = DiscreteOptimalAgent(tick_game.config.replace(inventory_limit=2.0))
    assert np.array_equal(t1, table_from_agent(tick_game, agent, 1))
    sol = agent.solution  # the optimum's depths on the sides it quotes
    quoted = ~np.isnan(sol.bid_depths)
    assert np.array_equal(t1[:, 0, :, 0][quoted], sol.bid_depths[quoted])


def test_table_policy_reads_the_table(tick_game: CompetitionLattice) -> None:
    rng = np.random.default_rng(0)
    table = rng.uniform(0, 1, size=(tick_game.n_steps, *tick_game.shape, 2))
    c = tick_game.config
    for maker in (0, 1):
        policy = TablePolicy(tick_game, table, maker)
        assert policy.needs_other
        i, a, b = 3, 1, 4
        q = [tick_game.inventories[0][a], tick_game.inventories[1][b]]
        obs = np.array([c.T - i * c.dt, q[maker], c.S0, q[1 - maker], 0.5, 0.5], np.float32)
        assert np.array_equal(policy.act(obs), table[i, a, b])
        with pytest.raises(ValueError, match="needs column 3"):
            policy.act(obs[:3])
    flat = table_from_agent(tick_game, FixedSpreadAgent(c, 0.3, 0.4), 0)
    policy = TablePolicy(tick_game, flat, 0)
    assert not policy.needs_other
    assert np.allclose(policy.act(np.array([c.T, 0.0, c.S0])), [0.3, 0.4])


def test_baseline_profiles_for_n_makers() -> None:
    cfg = small_config()
    for n in (1, 3):
        prof = avellaneda_stoikov_profile(cfg, n, gamma=0.2)
        assert len(prof) == n and all(isinstance(a, AvellanedaStoikovAgent) for a in prof)
        assert prof[0].gamma == 0.2
    mono = monopolist_profile(cfg, 4, inventory_limits=(3.0, 2.0, 3.0, 2.0))
    assert mono[0] is mono[2] and mono[1] is not mono[0]  # one solve per distinct limit
    assert mono[1].config.inventory_limit == 2.0
    fixed = fixed_spread_profile(cfg, 2, bid_depth=0.5)
    obs = np.array([0.01, 0.0, 100.0, 1.0, 0.2, 0.2])  # full-information columns ignored
    assert np.allclose(fixed[1].act(obs), [0.5, 1 / cfg.k])
    with pytest.raises(ValueError, match="inventory_limits must have n_makers = 3 entries"):
        maker_configs(cfg, 3, (1.0, 2.0))
    with pytest.raises(ValueError, match="n_makers must be an int in"):
        maker_configs(cfg, 0)


def test_game_checks_its_market() -> None:
    with pytest.raises(ValueError, match="inventory_limits must have one entry per maker"):
        CompetitionLattice(small_config(), inventory_limits=(1.0, 2.0, 3.0))
    with pytest.raises(ValueError, match=r"inventory_limits\[1\] must be a finite number"):
        CompetitionLattice(small_config(), inventory_limits=(1.0, math.inf))
    with pytest.raises(ValueError, match=r"inventory_limits\[0\] must be a finite number"):
        CompetitionLattice(MarketConfig.preset("as2008"))
    with pytest.raises(ValueError, match=r"components \['fees'\]"):
        CompetitionLattice(small_config(maker_fee=0.01))
    with pytest.raises(ValueError, match="driftless GBM"):
        CompetitionLattice(MarketConfig.preset("default", mu=0.1, inventory_limit=5.0))
    with pytest.raises(ValueError, match=r"must be a mm_env\.MarketConfig"):
        CompetitionLattice("penalty")  # type: ignore[arg-type]


def test_tick_processing_is_the_envs_with_the_mid_on_the_grid() -> None:
    game = CompetitionLattice(small_config(tick_size=0.05, min_depth=-0.5, max_depth=2.0))
    requested = np.array([-1.0, -0.26, -0.25, 0.0, 0.01, 0.049, 0.05, 0.0500000000001, 0.7, 3.0])
    s0, h = 100.0, 0.05
    bid = h * np.floor((s0 - np.clip(requested, -0.5, 2.0)) / h + 1e-9)
    ask = h * np.ceil((s0 + np.clip(requested, -0.5, 2.0)) / h - 1e-9)
    assert np.allclose(game.process(requested), s0 - bid, atol=1e-12)
    assert np.allclose(game.process(requested), ask - s0, atol=1e-12)
    assert np.array_equal(game.process(game.process(requested)), game.process(requested))


def test_yardstick_config() -> None:
    cfg = yardstick_config()
    assert (cfg.tick_size, cfg.inventory_limit, cfg.n_steps, cfg.reward, cfg.sigma) == (
        0.05,
        10.0,
        200,
        "inventory_penalty",
        0.0,
    )
    assert yardstick_config(tick_size=0.01).tick_size == 0.01
    assert CompetitionLattice(cfg).shape == (21, 21)
