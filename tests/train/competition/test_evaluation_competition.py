"""The competition Monte Carlo harness: closed forms of a lone fixed-spread maker, exact
allocations when one maker is best, common random numbers between profiles, reproducibility
and chunking, shared versus per-maker policies, the delta-method standard errors and the
errors on bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest

from agents.competition import CompetitionLattice, TablePolicy, yardstick_config
from agents.competition import evaluate_profile as exact_profile
from agents.simple import FixedSpreadAgent
from mm_env import MarketConfig
from train.evaluation.competition import evaluate_competition, ratio_estimate
from train.values import UserError

# a still mid, no inventory limit, PnL reward: a fixed-depth maker's reward is its fills' depths
OPEN = {"sigma": 0.0, "inventory_limit": math.inf, "reward": "pnl", "n_steps": 40, "T": 0.2}


def fixed(bid: float, ask: float | None = None):
    ask = bid if ask is None else ask

    def act(obs: np.ndarray) -> np.ndarray:
        return np.tile([bid, ask], (np.atleast_2d(obs).shape[0], 1))

    return act


def test_lone_fixed_spread_maker_matches_the_closed_form():
    cfg = MarketConfig.preset("penalty", **OPEN)
    depth = 0.6
    ev = evaluate_competition([fixed(depth)], cfg, n_episodes=3000, seed=5)
    p = min(1.0, cfg.A * math.exp(-cfg.k * depth) * cfg.dt)  # bernoulli fills
    fills, reward = ev.maker("fills", 0), ev.maker("reward", 0)
    assert abs(fills.value - 2 * cfg.n_steps * p) < 5 * fills.se
    assert abs(reward.value - 2 * cfg.n_steps * p * depth) < 5 * reward.se
    assert ev.maker("spread", 0).value == pytest.approx(2 * depth, abs=1e-9)
    assert ev.maker("fill_share", 0).value == 1.0
    np.testing.assert_allclose(ev.episodes.pnl, ev.episodes.reward, atol=1e-9)


def test_the_best_quote_takes_every_fill_and_the_tick_sets_the_spread():
    cfg = MarketConfig.preset("penalty", **{**OPEN, "tick_size": 0.05})
    ev = evaluate_competition([fixed(2.0), fixed(0.52), fixed(3.0)], cfg, n_episodes=200, seed=1)
    shares = [ev.maker("fill_share", j).value for j in range(3)]
    assert shares == [0.0, 1.0, 0.0]
    assert np.all(ev.episodes.reward[:, [0, 2]] == 0.0)
    # 0.52 is snapped away from the mid to 0.55 on each side (the mid sits on the grid)
    assert ev.maker("spread", 1).value == pytest.approx(1.10, abs=1e-9)
    assert ev.pooled("fill_share").value == pytest.approx(1 / 3)


def test_equal_quotes_split_the_flow_evenly():
    cfg = MarketConfig.preset("penalty", **OPEN)
    ev = evaluate_competition(fixed(0.5), cfg, n_makers=2, n_episodes=1000, seed=2)
    share = ev.maker("fill_share", 0)
    assert abs(share.value - 0.5) < 5 * share.se and share.se > 0
    assert ev.maker("fill_share", 1).value == pytest.approx(1 - share.value)


def test_common_random_numbers_and_reproducibility():
    cfg = MarketConfig.preset("penalty", sigma=2.0, n_steps=40, T=0.2)
    # maker 0 is best in both profiles: the same uniforms give it the same fills
    a = evaluate_competition([fixed(0.5), fixed(4.0)], cfg, n_episodes=300, seed=9, chunk_size=128)
    b = evaluate_competition([fixed(0.5), fixed(8.0)], cfg, n_episodes=300, seed=9, chunk_size=128)
    np.testing.assert_array_equal(a.episodes.bid_fills[:, 0], b.episodes.bid_fills[:, 0])
    np.testing.assert_array_equal(a.episodes.pnl[:, 0], b.episodes.pnl[:, 0])
    again = evaluate_competition(
        [fixed(0.5), fixed(4.0)], cfg, n_episodes=300, seed=9, chunk_size=128
    )
    np.testing.assert_array_equal(again.episodes.reward, a.episodes.reward)
    other = evaluate_competition(
        [fixed(0.5), fixed(4.0)], cfg, n_episodes=300, seed=10, chunk_size=128
    )
    assert not np.array_equal(other.episodes.reward, a.episodes.reward)
    # chunks: the first 256 episodes of any run of this seed and chunk size
    short = evaluate_competition(
        [fixed(0.5), fixed(4.0)], cfg, n_episodes=256, seed=9, chunk_size=128
    )
    np.testing.assert_array_equal(short.episodes.reward, a.episodes.reward[:256])


def test_a_shared_policy_equals_the_same_policy_per_maker():
    cfg = MarketConfig.preset("penalty", n_steps=25, T=0.125)
    agent = FixedSpreadAgent(cfg, 0.4, 0.9)
    shared = evaluate_competition(agent, cfg, n_makers=3, n_episodes=100, seed=4)
    each = evaluate_competition([agent] * 3, cfg, n_episodes=100, seed=4)
    for field in ("reward", "pnl", "bid_fills", "spread_sum", "quoting_steps"):
        np.testing.assert_array_equal(
            getattr(shared.episodes, field), getattr(each.episodes, field)
        )
    assert shared.names == ("FixedSpreadAgent",) * 3


def test_the_monte_carlo_of_a_lattice_profile_matches_its_exact_value():
    config = yardstick_config(n_steps=40, T=0.2)
    game = CompetitionLattice(config)
    tables = [np.full((40, *game.shape, 2), 0.35), np.full((40, *game.shape, 2), 0.45)]
    exact = exact_profile(game, tables).initial
    ev = evaluate_competition(
        [TablePolicy(game, tables[j], j) for j in (0, 1)], config, n_episodes=4000, seed=3
    )
    for j in (0, 1):
        est = ev.maker("reward", j)
        assert abs(est.value - exact[j]) < 5 * est.se, (j, est, exact[j])


def test_ratio_estimate_is_the_delta_method():
    rng = np.random.default_rng(0)
    den = rng.poisson(5.0, size=400).astype(float)
    num = 0.3 * den + rng.normal(0, 1, size=400)
    est = ratio_estimate(num, den)
    r = num.sum() / den.sum()
    assert est.value == pytest.approx(r)
    expected = np.std(num - r * den, ddof=1) / math.sqrt(400) / den.mean()
    assert est.se == pytest.approx(expected)
    assert math.isnan(ratio_estimate(np.zeros(3), np.zeros(3)).value)


def test_bad_input_is_refused_with_the_reason():
    cfg = MarketConfig.preset("penalty", n_steps=5)
    with pytest.raises(ValueError, match="n_makers=3"):
        evaluate_competition([fixed(1.0)] * 2, cfg, n_makers=3)
    with pytest.raises(ValueError, match="n_episodes"):
        evaluate_competition(fixed(1.0), cfg, n_episodes=1)
    with pytest.raises(ValueError, match="non-empty"):
        evaluate_competition([], cfg)

    class Trained:
        trained_market = MarketConfig.preset("as2008")

        def act(self, obs):
            return np.ones((obs.shape[0], 2))

    with pytest.raises(UserError, match="trained on another market"):
        evaluate_competition(Trained(), cfg, n_makers=2, n_episodes=2)
    ok = evaluate_competition(Trained(), cfg, n_makers=2, n_episodes=2, allow_market_mismatch=True)
    assert ok.episodes.reward.shape == (2, 2)
