"""``mm-env evaluate`` / ``compare`` on a multi-asset preset: the policies, common random
numbers across a comparison, the shipped agent, and one-line errors for what they refuse."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from agents.multi_asset import IndependentAgent
from mm_env.multi_asset import MultiAssetConfig
from train.cli import main
from train.evaluation.multi_asset import evaluate_multi_asset

REPO = Path(__file__).resolve().parents[3]
EVAL = ["--episodes", "40", "--seed", "3"]
SMALL = ["--set", "inventory_limit=3"]


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        code = main(argv)
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def _rows(out: str) -> dict[str, list[float]]:
    rows = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 4 and re.fullmatch(r"-?\d+\.\d+", parts[1]):
            rows[parts[0]] = [float(p) for p in parts[1:]]
    return rows


def test_compare_prints_every_policy_with_paired_differences(capsys):
    specs = ["independent", "as:gamma=0.2", "fixed", "quadratic", "discrete_optimal"]
    argv = ["compare", "--preset", "pair", *SMALL, *EVAL]
    for spec in specs:
        argv += ["--policy", spec]
    code, out, err = _run(argv, capsys)
    assert code == 0, err
    rows = _rows(out)
    assert list(rows) == specs
    assert rows["independent"][2:4] == [0.0, 0.0]  # the reference against itself
    # the table is the harness's: same market, same episodes (common random numbers)
    config = MultiAssetConfig.preset("pair", inventory_limit=3)
    want = evaluate_multi_asset(IndependentAgent(config), config, 40, 3).mean_reward
    assert rows["independent"][0] == pytest.approx(want.value, abs=5e-4)
    assert rows["discrete_optimal"][0] > rows["fixed"][0]
    assert "ref = independent" in out


def test_evaluate_the_shipped_pair_agent(capsys):
    code, out, err = _run(["evaluate", "--preset", "pair", "--policy",
                           f"sb3:path={REPO / 'models' / 'ppo_pair'}", *EVAL], capsys)
    assert code == 0, err
    (row,) = _rows(out).values()
    assert np.isfinite(row).all()
    code, _, err = _run(["evaluate", "--preset", "pair", "--set", "sigma=3", "--policy",
                         f"sb3:path={REPO / 'models' / 'ppo_pair'}", *EVAL], capsys)
    assert code == 2 and "sigma" in err and "Traceback" not in err


@pytest.mark.parametrize(("argv", "words"), [
    (["evaluate", "--preset", "pair", "--policy", "nope"], "unknown multi-asset policy"),
    (["evaluate", "--preset", "pair", "--policy", "as:gamma=-1"], "gamma"),
    (["evaluate", "--preset", "pair", "--set", "sigma=-2", "--policy", "fixed"], "sigma"),
    (["evaluate", "--preset", "pair", "--policy", "fixed", "--out", "x"], "--out"),
    (["train", "--preset", "pair", "--out", "x"], "preset"),
    (["plot", "--preset", "pair", "--which", "mid", "--out", "x"], "--which"),
    (["sweep", "--preset", "pair", "--param", "sigma", "--policy", "as"], "--values"),
    (["sweep", "--preset", "pair", "--policy", "nope", "--values", "1"], "unknown"),
    (["evaluate", "--preset", "pair", "--policy", "sb3"], "path"),
])
def test_refusals_are_one_line(argv, words, capsys):
    code, out, err = _run(argv, capsys)
    assert code == 2 and "Traceback" not in out + err
    lines = [line for line in err.splitlines() if "error:" in line]
    assert len(lines) == 1 and words in lines[0], err


def test_sweep_over_a_policy_argument_and_a_market_field(capsys):
    argv = ["sweep", "--preset", "pair", *SMALL, *EVAL, "--policy", "as", "--values", "0.05,0.2"]
    code, out, err = _run(argv, capsys)
    assert code == 0, err
    rows = _rows(out)
    assert list(rows) == ["0.05", "0.2"] and rows["0.2"][1] > 0  # a real SE: fills vary
    config = MultiAssetConfig.preset("pair", inventory_limit=3)
    from agents.multi_asset import MultiAssetASAgent

    want = evaluate_multi_asset(MultiAssetASAgent(config, gamma=0.2), config, 40, 3)
    assert rows["0.2"][0] == pytest.approx(want.mean_reward.value, abs=5e-4)
    argv = ["sweep", "--preset", "pair", *SMALL, *EVAL, "--policy", "independent",
            "--param", "sigma", "--values", "1,3"]
    code, out, err = _run(argv, capsys)
    assert code == 0, err
    rows = _rows(out)
    assert rows["1"][0] > rows["3"][0]  # more volatility, more inventory risk to pay for


def test_plot_writes_the_heatmaps_and_the_terminal_inventories(tmp_path, capsys):
    argv = ["plot", "--preset", "pair", *SMALL, *EVAL, "--policy", "as:gamma=0.2",
            "--out", str(tmp_path)]
    code, out, err = _run(argv, capsys)
    assert code == 0, err
    written = [Path(line) for line in out.split()]
    assert {p.name for p in written} == {"quote_heatmaps.png", "terminal_inventory.png"}
    assert all(p.stat().st_size > 10_000 for p in written)
