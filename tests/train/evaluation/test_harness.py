"""The Monte Carlo harness: statistics against known cases, a manual vector-env loop,
chunking and seeds, settings."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from agents import AvellanedaStoikovAgent, FixedSpreadAgent
from mm_env import MarketConfig, MarketMakingVectorEnv
from train.evaluation import stats
from train.evaluation.compare import compare
from train.evaluation.harness import EvalSettings, chunk_seeds, evaluate

# sigma = 0 and bernoulli fills: the mid never moves and each side of a fixed quote at
# depth d fills independently with p = min(1, A e^(-k d) dt) per step, so
# PnL = d * N with N ~ Binomial(2 n_steps, p): everything is known in closed form.
KNOWN = MarketConfig.preset("default", sigma=0.0, fill_model="bernoulli", n_steps=100)
DEPTH = 0.5


def _known_p() -> float:
    return min(1.0, KNOWN.A * math.exp(-KNOWN.k * DEPTH) * KNOWN.dt)


def _binom_quantile(n: int, p: float, q: float) -> int:
    cdf = 0.0
    for j in range(n + 1):
        cdf += math.comb(n, j) * p**j * (1 - p) ** (n - j)
        if cdf >= q:
            return j
    return n


@pytest.fixture(scope="module")
def known_result():
    agent = FixedSpreadAgent(KNOWN, DEPTH, DEPTH)
    return evaluate(agent, KNOWN, n_episodes=20_000, seed=1, ce_gamma=0.5)


def test_known_case_pnl_distribution(known_result):
    p, n, d = _known_p(), 2 * KNOWN.n_steps, DEPTH
    s = known_result.summary()
    est = known_result.estimates()
    mean, var = n * p * d, n * p * (1 - p) * d * d
    assert abs(s["mean_pnl"] - mean) < 4 * s["se_pnl"]
    assert abs(s["std_pnl"] - math.sqrt(var)) < 4 * est["std_pnl"].se
    assert abs(s["sharpe"] - mean / math.sqrt(var)) < 4 * est["sharpe"].se
    ce = -n / 0.5 * math.log(1 - p + p * math.exp(-0.5 * d))
    assert abs(s["certainty_equivalent"] - ce) < 4 * est["certainty_equivalent"].se
    assert abs(s["mean_fills"] - n * p) < 4 * est["mean_fills"].se
    assert abs(s["mean_bid_fills"] - n / 2 * p) < 4 * est["mean_bid_fills"].se
    for name, q in (("pnl_q05", 0.05), ("pnl_q95", 0.95)):
        assert abs(s[name] - d * _binom_quantile(n, p, q)) <= d + 1e-9
    assert s["win_rate"] == pytest.approx(1 - (1 - p) ** n, abs=1e-3)
    # the mid never moves and every fill earns d: wealth only rises, no drawdown
    assert np.all(known_result.episodes.max_drawdown <= 1e-9)
    np.testing.assert_allclose(known_result.pnl, d * (known_result.episodes.bid_fills
                                                      + known_result.episodes.ask_fills))
    assert s["mean_reward"] == pytest.approx(s["mean_pnl"])
    inv = known_result.episodes.bid_fills - known_result.episodes.ask_fills
    np.testing.assert_array_equal(known_result.episodes.final_inventory, inv)

def test_standard_errors_match_the_spread_of_independent_runs():
    config = MarketConfig.preset("default", n_steps=20)
    agent = FixedSpreadAgent(config)
    runs = [evaluate(agent, config, 400, seed) for seed in range(30)]
    estimates = [r.estimates() for r in runs]
    for metric in ("mean_pnl", "std_pnl", "sharpe", "pnl_q05", "sharpe_annualised"):
        values = np.array([e[metric].value for e in estimates])
        ses = np.array([e[metric].se for e in estimates])
        assert np.std(values, ddof=1) == pytest.approx(np.mean(ses), rel=0.4), metric
    assert estimates[0]["mean_pnl"].se == pytest.approx(runs[0].summary()["se_pnl"])

def test_matches_a_manual_vector_env_loop():
    config = MarketConfig.preset("as2008", n_steps=50)
    agent = FixedSpreadAgent(config, 0.4, 0.9)
    result = evaluate(agent, config, 64, seed=7)
    env = MarketMakingVectorEnv(64, config)
    obs, info = env.reset(seed=chunk_seeds(7, 1)[0])
    wealth, fills, rewards = [], np.zeros((2, 64)), np.zeros(64)
    for _ in range(config.n_steps):
        obs, r, _, _, info = env.step(agent.act(obs))
        wealth.append(info["wealth"].copy())
        fills += [info["bid_filled"], info["ask_filled"]]
        rewards += r
    w = np.array(wealth).T
    e = result.episodes
    np.testing.assert_array_equal(e.pnl, w[:, -1])
    np.testing.assert_array_equal(e.bid_fills, fills[0])
    np.testing.assert_array_equal(e.ask_fills, fills[1])
    np.testing.assert_array_equal(e.final_inventory, info["inventory"])
    np.testing.assert_allclose(e.total_reward, rewards)
    np.testing.assert_allclose(e.max_drawdown, stats.max_drawdown(w), atol=1e-12)
    dw = np.diff(np.concatenate([np.zeros((64, 1)), w], axis=1), axis=1)
    factor = math.sqrt(252 * config.n_steps / config.T)
    np.testing.assert_allclose(e.sharpe_annualised, dw.mean(1) / dw.std(1) * factor, rtol=1e-9)

def test_chunks_seeds_and_reproducibility():
    config = MarketConfig.preset("default", n_steps=10)
    agent = FixedSpreadAgent(config)
    a = evaluate(agent, config, 25, seed=3, chunk_size=10)
    assert a == evaluate(agent, config, 25, seed=3, chunk_size=10)
    head = evaluate(agent, config, 10, seed=3, chunk_size=10)
    np.testing.assert_array_equal(a.pnl[:10], head.pnl)
    assert not np.array_equal(evaluate(agent, config, 25, seed=4, chunk_size=10).pnl, a.pnl)
    assert chunk_seeds(3, 2) == chunk_seeds(3, 5)[:2]
    fresh = evaluate(agent, config, 12, seed=None)
    assert fresh.settings.seed is not None
    assert fresh == evaluate(agent, config, 12, seed=fresh.settings.seed)

def test_settings_are_validated():
    with pytest.raises(ValueError, match="n_episodes"):
        EvalSettings(n_episodes=1)
    with pytest.raises(ValueError, match="chunk_size"):
        EvalSettings(chunk_size=0)
    with pytest.raises(ValueError, match="ce_gamma"):
        EvalSettings(ce_gamma=-0.1)
    with pytest.raises(ValueError, match="seed"):
        EvalSettings(seed=-1)
    with pytest.raises(ValueError, match="preset"):
        evaluate(FixedSpreadAgent(KNOWN), "nope", 10)
    with pytest.raises(ValueError, match="reference"):
        compare({"a": FixedSpreadAgent(KNOWN)}, KNOWN, 10, reference="b")


def test_a_trained_policy_is_refused_on_another_market():
    from train.sb3.model_dir import load_policy
    from train.values import UserError

    model_dir = Path(__file__).resolve().parents[3] / "models" / "ppo_penalty"
    policy = load_policy(model_dir)
    with pytest.raises(UserError, match=r"trained on another market \(.*sigma: trained 2.0 vs "
                       r"given 3.0.*allow_market_mismatch=True"):
        evaluate(policy, MarketConfig.preset("penalty", sigma=3.0), 4, seed=0)
    result = evaluate(policy, MarketConfig.preset("penalty", sigma=3.0), 4, seed=0,
                      allow_market_mismatch=True)
    assert result.episodes.total_reward.shape == (4,)
    # an agent built for one market may be run on another (a deliberate experiment)
    agent = AvellanedaStoikovAgent(MarketConfig.preset("penalty"))
    evaluate(agent, MarketConfig.preset("penalty", sigma=3.0), 4, seed=0)
