"""Policies on common random numbers: paired differences, sweeps."""

from __future__ import annotations

import math

import numpy as np
import pytest

from agents import FixedSpreadAgent
from mm_env import MarketConfig
from train.evaluation import stats
from train.evaluation.compare import DEFAULT_GAMMAS, compare, sweep
from train.evaluation.harness import evaluate
from train.evaluation.report import (
    format_comparison,
    format_sweep,
)


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
