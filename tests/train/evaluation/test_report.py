"""Result files: CSV and JSON round trips, printed tables."""

from __future__ import annotations

import json
import math

import numpy as np

from agents import FixedSpreadAgent
from mm_env import MarketConfig
from train.evaluation.compare import compare, sweep
from train.evaluation.files import read_csv, read_json, write_json
from train.evaluation.harness import evaluate
from train.evaluation.report import (
    format_evaluation,
    load_comparison,
    load_evaluation,
    load_sweep,
    save_comparison,
    save_evaluation,
    save_sweep,
)
from train.evaluation.stats import METRICS


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
