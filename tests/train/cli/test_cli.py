"""The ``mm-env`` command: subcommands, help generated from the dataclasses, files written,
and error paths (clear message, exit status 2, never a traceback)."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from importlib import metadata

import pytest

from mm_env import MarketConfig
from train.cli.app import main, parse_overrides
from train.evaluation.files import read_csv, read_json
from train.evaluation.harness import EvalSettings
from train.evaluation.report import load_comparison, load_evaluation

FAST = ["--episodes", "50", "--set", "n_steps=20", "--no-progress"]


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_evaluate_prints_and_writes(capsys, tmp_path):
    code, out, err = run(capsys, "evaluate", "--policy", "fixed:bid_depth=0.5,ask_depth=0.6",
                         "--preset", "as2008", "--seed", "3", "--ce-gamma", "0.2",
                         "--out", str(tmp_path), *FAST)
    assert code == 0, err
    assert "mean_pnl" in out and "certainty_equivalent" in out and "gamma=0.2" in out
    result = load_evaluation(tmp_path)
    assert result.policy == "fixed:bid_depth=0.5,ask_depth=0.6"
    assert result.config == MarketConfig.preset("as2008", n_steps=20)
    assert result.settings == EvalSettings(50, 3, 0.2)
    assert len(read_csv(tmp_path / "episodes.csv")) == 50
    assert "wrote" in err


def test_compare_reports_paired_differences(capsys, tmp_path):
    code, out, err = run(capsys, "compare", "--policy", "fixed", "--policy",
                         "fixed:bid_depth=1,ask_depth=1", "--reference",
                         "fixed:bid_depth=1,ask_depth=1", "--out", str(tmp_path), *FAST)
    assert code == 0, err
    assert "fixed - fixed:bid_depth=1,ask_depth=1" in out
    back = load_comparison(tmp_path)
    assert back.reference == "fixed:bid_depth=1,ask_depth=1"
    assert read_json(tmp_path / "comparison.json")["reference"] == back.reference
    assert {r["policy"] for r in read_csv(tmp_path / "summary.csv")} == set(back.policies)


def test_sweep_over_market_and_policy_parameters(capsys, tmp_path):
    code, out, err = run(capsys, "sweep", "--policy", "fixed", "--param", "sigma",
                         "--values", "0.01,0.03", "--out", str(tmp_path), *FAST)
    assert code == 0, err
    rows = read_csv(tmp_path / "sweep.csv")
    assert [r["value"] for r in rows] == [0.01, 0.03] and rows[0]["param"] == "sigma"
    code, out, err = run(capsys, "sweep", "--policy", "fixed", "--param", "bid_depth",
                         "--values", "0.2,0.9", *FAST)
    assert code == 0, err
    assert "bid_depth" in out and "mean_fills" in out


def test_default_gamma_sweep_of_avellaneda_stoikov(capsys):
    pytest.importorskip("agents.avellaneda_stoikov")
    code, out, err = run(capsys, "sweep", *FAST)
    assert code == 0, err
    for gamma in ("0.0100", "0.0500", "0.1000", "0.2000", "0.5000", "1.0000"):
        assert gamma in out


def test_help_comes_from_the_dataclasses(capsys):
    for command in ("evaluate", "compare", "sweep"):
        with pytest.raises(SystemExit) as exc:
            main([command, "--help"])
        assert exc.value.code == 0
        out = capsys.readouterr().out
        flat = " ".join(out.split())
        for f in dataclasses.fields(EvalSettings):
            assert " ".join(f.metadata["doc"].split()) in flat
            assert "--" + str(f.metadata.get("flag", f.name)).replace("_", "-") in out
        for name, doc in MarketConfig.field_docs().items():
            assert f"  {name} = " in out and doc in out
        assert "as2008" in out and "fixed" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["evaluate", "--episodes", "x"], "n_episodes must be an integer"),
        (["evaluate", "--episodes", "1"], "n_episodes must be an integer >= 2"),
        (["evaluate", "--set", "sigma=-1"], "sigma must be >= 0"),
        (["evaluate", "--set", "sigma"], "KEY=VALUE"),
        (["evaluate", "--set", "volatility=1"], "unknown market parameter 'volatility'"),
        (["evaluate", "--set", "n_steps=1.5"], "n_steps must be an integer"),
        (["evaluate", "--preset", "nope"], "invalid choice"),
        (["evaluate", "--policy", "nope"], "unknown policy 'nope'"),
        (["evaluate", "--policy", "fixed:bid_depth"], "key=value"),
        (["evaluate", "--policy", "fixed:width=1"], "cannot build policy"),
        (["evaluate", "--policy", "no_such_module.Agent"], "cannot import"),
        (["evaluate", "--policy", "sb3"], "sb3 needs path"),
        (["compare", "--policy", "fixed", "--reference", "as"], "--reference 'as'"),
        (["compare", "--policy", "fixed", "--policy", "fixed"], "twice"),
        (["compare"], "required"),
        (["sweep", "--policy", "fixed", "--param", "sigma"], "--values is required"),
        (["sweep", "--policy", "fixed", "--param", "width", "--values", "1"], "cannot build"),
        ([], "required"),
        (["bogus"], "invalid choice"),
    ],
)
def test_errors_exit_2_with_a_message(capsys, argv, message):
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's own errors
        code = exc.code
    err = capsys.readouterr().err
    assert code == 2
    assert "mm-env" in err and "error:" in err and message in err
    assert "Traceback" not in err


def test_parse_overrides_types_values_by_field():
    assert parse_overrides(["sigma=0.03", "n_steps=50", "mid_model=abm",
                            "inventory_limit=inf"]) == {
        "sigma": 0.03, "n_steps": 50, "mid_model": "abm", "inventory_limit": float("inf")}


def test_console_script_is_registered_and_runs_without_traceback():
    scripts = {ep.name: ep.value for ep in metadata.entry_points(group="console_scripts")}
    assert scripts.get("mm-env") == "train.cli:main"
    proc = subprocess.run([sys.executable, "-m", "train.cli", "evaluate", "--episodes", "0"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.strip().endswith("n_episodes must be an integer >= 2, got 0")
    assert "Traceback" not in proc.stderr
