"""The Monte Carlo harness: statistics against known cases, common random numbers, chunking,
policy adaptation, paired differences, sweeps, and CSV/JSON round trips."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from agents import FixedSpreadAgent
from mm_env import MarketConfig, MarketMakingVectorEnv
from train.evaluation import stats
from train.evaluation.compare import DEFAULT_GAMMAS, compare, sweep
from train.evaluation.harness import EvalSettings, chunk_seeds, evaluate
from train.evaluation.policy_adapter import as_policy
from train.evaluation.report import (
    format_comparison,
    format_evaluation,
    format_sweep,
    load_comparison,
    load_evaluation,
    load_sweep,
    read_csv,
    read_json,
    save_comparison,
    save_evaluation,
    save_sweep,
    write_json,
)
from train.evaluation.stats import METRICS

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


def test_max_drawdown_reference():
    w = np.array([[1.0, 3.0, 2.0, 5.0, 1.0], [-1.0, -2.0, 0.0, 0.5, 0.2]])
    np.testing.assert_allclose(stats.max_drawdown(w), [4.0, 2.0])


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


def test_common_random_numbers_across_policies():
    config = MarketConfig.preset("default", n_steps=30)
    mids: dict[float, list[np.ndarray]] = {0.2: [], 2.0: []}

    def recorder(depth: float):
        def policy(obs: np.ndarray) -> np.ndarray:
            mids[depth].append(obs[:, 2].copy())
            return np.full((obs.shape[0], 2), depth)

        return policy

    evaluate(recorder(0.2), config, 50, seed=5)
    evaluate(recorder(2.0), config, 50, seed=5)
    np.testing.assert_array_equal(np.array(mids[0.2]), np.array(mids[2.0]))


def test_paired_difference_of_a_policy_with_itself_is_exactly_zero():
    config = MarketConfig.preset("default", n_steps=40)
    agent = FixedSpreadAgent(config)
    result = compare({"a": agent, "b": agent}, config, 500, seed=2)
    for ests in result.estimates().values():
        for metric, e in ests.items():
            assert e.diff == 0.0 and e.diff_se == 0.0, metric
    x = result.results["a"].pnl
    assert stats.paired_difference(x, x, "sharpe") == (0.0, 0.0)


def test_paired_differences_are_sharper_than_unpaired():
    config = MarketConfig.preset("default", n_steps=50)
    result = compare([FixedSpreadAgent(config, 0.6, 0.6), FixedSpreadAgent(config, 0.7, 0.7)],
                     config, 2000, seed=0, reference=1)
    assert result.policies == ["FixedSpreadAgent", "FixedSpreadAgent#2"]
    assert result.reference == "FixedSpreadAgent#2"
    e = result.estimates()["FixedSpreadAgent"]["mean_pnl"]
    ref = result.estimates()["FixedSpreadAgent#2"]["mean_pnl"]
    assert e.diff == pytest.approx(e.value - ref.value)
    assert 0 < e.diff_se < 0.5 * math.hypot(e.se, ref.se)
    a, b = result.results["FixedSpreadAgent"].pnl, result.results["FixedSpreadAgent#2"].pnl
    assert stats.paired_difference(a, b) == pytest.approx(
        (np.mean(a - b), np.std(a - b, ddof=1) / math.sqrt(a.size)))
    table = format_comparison(result)
    assert "FixedSpreadAgent - FixedSpreadAgent#2" in table and "mean_pnl" in table


def test_certainty_equivalent_is_stable_and_has_the_right_limits():
    x = np.array([1e5, 2e5, 3e5])
    assert math.isfinite(stats.certainty_equivalent(x, 1.0))
    assert stats.certainty_equivalent(x, 1.0) == pytest.approx(1e5 + math.log(3), rel=1e-12)
    assert stats.certainty_equivalent(np.full(5, 7.0), 3.0) == pytest.approx(7.0)
    y = np.random.default_rng(0).normal(2.0, 1.0, 1000)
    assert stats.certainty_equivalent(y, 0.0) == pytest.approx(y.mean())
    assert stats.certainty_equivalent(y, 1e-8) == pytest.approx(y.mean(), rel=1e-6)
    assert stats.certainty_equivalent(y, 1.0) < y.mean()
    with pytest.raises(ValueError, match="gamma"):
        stats.certainty_equivalent(y, -1.0)


def test_policy_adapter_accepts_agents_models_classes_and_callables():
    config = MarketConfig.preset("default", n_steps=10)
    obs = np.tile(np.array([1.0, 0.0, 100.0], dtype=np.float32), (4, 1))

    class Model:  # stable-baselines3's predict signature
        def predict(self, observation, state=None, episode_start=None, deterministic=False):
            assert deterministic
            return np.full((observation.shape[0], 2), 0.3, dtype=np.float32), None

    assert as_policy(Model())(obs).shape == (4, 2)
    assert as_policy(FixedSpreadAgent, config)(obs)[0, 0] == pytest.approx(1 / config.k)
    assert as_policy(lambda o: np.ones((o.shape[0], 2))).name == "lambda"
    single = as_policy(lambda o: [float(o[1]) + 0.5, 0.5], batched=False)
    np.testing.assert_array_equal(single(obs), np.full((4, 2), 0.5))
    r1 = evaluate(Model(), config, 20, seed=0)
    r2 = evaluate(FixedSpreadAgent(config, 0.3, 0.3), config, 20, seed=0)
    np.testing.assert_allclose(r1.pnl, r2.pnl, atol=1e-4)  # float32 depths
    with pytest.raises(ValueError, match="pass config"):
        as_policy(FixedSpreadAgent)
    with pytest.raises(ValueError, match="act"):
        as_policy(42)
    with pytest.raises(ValueError, match=r"shape \(3,\)"):
        evaluate(lambda o: np.ones(3), config, 5)
    with pytest.raises(ValueError, match="batched=False"):
        evaluate(lambda o: [float(o[1]), 1.0], config, 5)
    with pytest.raises(ValueError, match="finite"):
        evaluate(lambda o: np.full((o.shape[0], 2), np.nan), config, 5)


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


def test_sweep_over_a_config_field_and_a_policy_keyword():
    config = MarketConfig.preset("default", n_steps=30)
    res = sweep(FixedSpreadAgent, config, "sigma", [0.01, 0.02, 0.04], 300, seed=0)
    assert res.target == "config"
    rows = res.rows()
    assert [r["value"] for r in rows] == [0.01, 0.02, 0.04]
    # same seed: the fills do not depend on sigma, the PnL spread grows with it
    assert len({r["mean_fills"] for r in rows}) == 1
    assert rows[0]["std_pnl"] < rows[1]["std_pnl"] < rows[2]["std_pnl"]
    res = sweep(FixedSpreadAgent, config, "bid_depth", [0.2, 0.8], 300, seed=0)
    assert res.target == "policy"
    assert res.rows()[0]["mean_bid_fills"] > res.rows()[1]["mean_bid_fills"]
    assert "bid_depth" in format_sweep(res)
    with pytest.raises(ValueError, match="values are required"):
        sweep(FixedSpreadAgent, config, "sigma")
    with pytest.raises(ValueError, match="neither a MarketConfig field"):
        sweep(FixedSpreadAgent, config, "nope", [1.0], 10)


def test_gamma_sensitivity_of_avellaneda_stoikov():
    avs = pytest.importorskip("agents.avellaneda_stoikov")
    config = MarketConfig.preset("default")
    res = sweep(avs.AvellanedaStoikovAgent, config, "gamma", None, 500, seed=0)
    assert res.values == DEFAULT_GAMMAS
    inv = [r["mean_abs_inventory"] for r in res.rows()]
    assert inv[0] > inv[-1]  # more risk aversion, tighter inventory


def test_evaluation_round_trips_through_csv_and_json(tmp_path):
    # unreachable quotes: no fills, constant wealth, undefined per-step Sharpe (NaN)
    config = MarketConfig.preset("default", n_steps=20, k=5.0)
    result = evaluate(FixedSpreadAgent(config, 10.0, 10.0), config, 30, seed=0)
    assert np.isnan(result.episodes.sharpe_annualised).all()
    paths = save_evaluation(result, tmp_path / "eval")
    assert {p.name for p in paths} == {"summary.csv", "summary.json", "episodes.csv"}
    assert load_evaluation(tmp_path / "eval") == result
    text = (tmp_path / "eval" / "summary.json").read_text()
    json.loads(text)  # strict JSON (no NaN/Infinity tokens)
    assert '"inventory_limit": "inf"' in text
    row = read_csv(tmp_path / "eval" / "summary.csv")[0]
    assert list(row)[:5] == ["policy", "ce_gamma", "n_episodes", "mean_pnl", "se_pnl"]
    assert set(METRICS) <= set(row)
    assert math.isnan(row["sharpe_annualised"])
    assert "mean_pnl" in format_evaluation(result)
    assert not list((tmp_path / "eval").glob(".*tmp"))


def test_comparison_and_sweep_round_trip(tmp_path):
    config = MarketConfig.preset("as2008", n_steps=20)
    cmp = compare({"near": FixedSpreadAgent(config, 0.3, 0.3),
                   "far": FixedSpreadAgent(config, 1.0, 1.0)}, config, 40, seed=1)
    save_comparison(cmp, tmp_path / "cmp")
    back = load_comparison(tmp_path / "cmp")
    assert back.reference == "near" and back.policies == ["near", "far"]
    assert all(back.results[k] == cmp.results[k] for k in cmp.results)
    rows = read_csv(tmp_path / "cmp" / "comparison.csv")
    assert list(rows[0]) == ["policy", "metric", "value", "se", "diff", "diff_se"]
    assert len(rows) == 2 * len(METRICS)
    sw = sweep(FixedSpreadAgent, config, "A", [100.0, 140.0], 40, seed=1)
    save_sweep(sw, tmp_path / "sw")
    back_sw = load_sweep(tmp_path / "sw")
    assert back_sw.values == (100.0, 140.0) and back_sw.param == "A"
    assert all(a == b for a, b in zip(back_sw.results, sw.results, strict=True))
    assert [r["value"] for r in read_csv(tmp_path / "sw" / "sweep.csv")] == [100.0, 140.0]


def test_json_non_finite_encoding(tmp_path):
    write_json(tmp_path / "x.json", {"a": math.nan, "b": [math.inf, -math.inf, 1.5], "c": "s"})
    back = read_json(tmp_path / "x.json")
    assert math.isnan(back["a"]) and back["b"] == [math.inf, -math.inf, 1.5] and back["c"] == "s"
