"""The figures: every function returns a figure with the expected panels and non-empty
artists, PNG files are written atomically and valid, and ``mm-env plot`` writes every figure
(or exits 2 with a message on bad arguments)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from agents import AvellanedaStoikovAgent, FixedSpreadAgent, OptimalAgent
from mm_env import MarketConfig
from train import plots
from train.cli.app import main
from train.evaluation.compare import compare, sweep
from train.evaluation.harness import EvalSettings, evaluate

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
CFG = MarketConfig.preset("default", n_steps=20)
GAMMAS = (0.01, 0.1, 1.0)


@pytest.fixture(scope="module")
def mc_result():
    return evaluate(AvellanedaStoikovAgent, CFG, 60, 0, name="as")


@pytest.fixture(scope="module")
def sweep_result():
    return sweep(AvellanedaStoikovAgent, CFG, "gamma", GAMMAS, 30, 0)


@pytest.fixture(scope="module")
def compare_result():
    policies = {"as": AvellanedaStoikovAgent(CFG), "fixed": FixedSpreadAgent(CFG),
                "optimal": OptimalAgent(CFG)}
    return compare(policies, CFG, 40, 0)


def has_data(ax: Axes) -> bool:
    """Whether the panel shows something: a line with points, a patch or a collection."""
    lines = any(len(line.get_xdata()) > 0 for line in ax.get_lines())
    return lines or len(ax.patches) > 0 or len(ax.collections) > 0


def check_figure(fig: Figure, n_axes: int) -> None:
    assert isinstance(fig, Figure)
    assert len(fig.axes) == n_axes
    assert all(has_data(ax) for ax in fig.axes)


def check_png(path: Path) -> None:
    assert path.is_file() and path.stat().st_size > 1000
    assert path.read_bytes()[:8] == PNG_MAGIC


# ------------------------------------------------------------------ model figures
def test_mid_price_paths():
    fig = plots.mid_price_paths(CFG, 7, np.random.default_rng(0))
    check_figure(fig, 1)
    lines = fig.axes[0].get_lines()
    assert len(lines) == 7 + 3  # paths, expected mid, two band edges
    assert all(len(line.get_xdata()) == CFG.n_steps + 1 for line in lines)
    again = plots.mid_price_paths(CFG, 7, np.random.default_rng(0))
    assert np.array_equal(lines[0].get_ydata(), again.axes[0].get_lines()[0].get_ydata())
    abm = plots.mid_price_paths(MarketConfig.preset("as2008", n_steps=10), 3,
                                np.random.default_rng(1))
    check_figure(abm, 1)
    with pytest.raises(ValueError, match="n_paths"):
        plots.mid_price_paths(CFG, 0)


def test_as_quotes_vs_inventory():
    fig = plots.as_quotes_vs_inventory(CFG, gamma=0.1)
    check_figure(fig, 1)
    ask, r, bid = (line.get_ydata() for line in fig.axes[0].get_lines()[:3])
    assert len(ask) == 21 and (np.asarray(ask) > np.asarray(bid)).all()
    assert (np.diff(r) < 0).all()  # a long inventory lowers the reservation price
    limited = plots.as_quotes_vs_inventory(MarketConfig.preset("course"))
    assert len(limited.axes[0].get_lines()[0].get_xdata()) == 21  # limit 10: -10..10


def test_spread_vs_time_one_line_per_gamma():
    fig = plots.spread_vs_time(CFG, GAMMAS)
    check_figure(fig, 1)
    assert len(fig.axes[0].get_lines()) == len(GAMMAS) + 1  # and the 2/k line
    with pytest.raises(ValueError, match="gammas"):
        plots.spread_vs_time(CFG, [])


def test_arrival_rate_and_fill_probability():
    fig = plots.arrival_rate_and_fill_probability(CFG)
    check_figure(fig, 2)
    rate = fig.axes[0].get_lines()[0].get_ydata()
    assert np.all(np.diff(rate) < 0)
    poisson, bernoulli = (line.get_ydata() for line in fig.axes[1].get_lines()[:2])
    assert np.all(np.asarray(poisson) <= np.asarray(bernoulli) + 1e-15)
    assert np.all((np.asarray(poisson) >= 0) & (np.asarray(poisson) <= 1))


def test_optimal_quotes_picks_the_agent_of_the_reward():
    fig = plots.optimal_quotes(CFG)
    check_figure(fig, 2)
    assert "CARAOptimalAgent" in fig.get_suptitle()
    penalty = MarketConfig.preset("penalty", n_steps=20)
    fig = plots.optimal_quotes(penalty, times=[0.0, 0.5])
    check_figure(fig, 2)
    assert fig.get_suptitle().startswith("Optimal quotes: OptimalAgent(")
    assert len(fig.axes[0].get_lines()) == 2 + 1  # two times and the 1/k line


def test_session_records_a_consistent_episode():
    s = plots.simulate_session(CFG, AvellanedaStoikovAgent(CFG), seed=5)
    n = CFG.n_steps
    assert s.time.shape == s.mid.shape == s.pnl.shape == (n + 1,)
    assert s.bid.shape == s.ask.shape == s.bid_filled.shape == (n,)
    assert s.pnl[0] == 0.0 and s.inventory[0] == 0.0
    fills = s.bid_filled.astype(float) - s.ask_filled.astype(float)
    assert np.allclose(np.diff(s.inventory), fills)
    assert np.allclose(s.cumulative_reward, s.pnl)  # reward "pnl": rewards sum to the PnL
    assert np.all(s.ask > s.bid)
    fig = plots.session(CFG, AvellanedaStoikovAgent(CFG), seed=5)
    check_figure(fig, 4)
    assert "final PnL" in fig.get_suptitle()
    penalty = plots.session(MarketConfig.preset("penalty", n_steps=20), FixedSpreadAgent, 1)
    assert len(penalty.axes[2].get_lines()) == 3  # PnL, cumulative reward, zero line


# ------------------------------------------------------------------ Monte Carlo figures
def test_mc_distributions(mc_result):
    fig = plots.mc_distributions(mc_result, bins=10)
    check_figure(fig, 4)
    for ax in fig.axes[:3]:
        assert len(ax.patches) > 0  # histogram bars
    heights = sum(p.get_height() for p in fig.axes[0].patches)
    assert heights == mc_result.n_episodes
    assert fig.axes[3].collections[0].get_offsets().shape == (mc_result.n_episodes, 2)


def test_mc_distributions_without_defined_sharpe():
    flat = MarketConfig.preset("default", sigma=0.0, n_steps=5)
    result = evaluate(FixedSpreadAgent(flat, 9.0, 9.0), flat, 5, 0)  # never fills, dW = 0
    fig = plots.mc_distributions(result)
    assert len(fig.axes) == 4 and len(fig.axes[2].texts) == 1  # "no episode ..."


def test_gamma_sensitivity(sweep_result):
    fig = plots.gamma_sensitivity(sweep_result)
    check_figure(fig, 4)
    for ax in fig.axes:
        assert list(ax.get_lines()[0].get_xdata()) == list(GAMMAS)
        assert ax.get_xscale() == "log"
    assert "gamma" in fig.get_suptitle()


def test_gamma_sensitivity_needs_numeric_values():
    swept = sweep(FixedSpreadAgent, CFG, "mid_model", ["gbm", "abm"], 4)
    with pytest.raises(ValueError, match="numeric"):
        plots.gamma_sensitivity(swept)


def test_comparison_one_bar_per_policy(compare_result):
    fig = plots.comparison(compare_result)
    check_figure(fig, 4)
    for ax in fig.axes:
        assert len(ax.patches) == 3
        assert [t.get_text() for t in ax.get_xticklabels()] == ["as", "fixed", "optimal"]
    assert fig.axes[3].patches[0].get_height() == 0.0  # the reference minus itself


# ------------------------------------------------------------------ drawing and saving
def test_figures_draw_into_given_axes_and_subfigures():
    host = plots.new_figure(10, 8)
    top, bottom = host.subfigures(2, 1)
    ax = top.add_subplot()
    assert plots.spread_vs_time(CFG, GAMMAS, ax=ax) is host
    assert plots.arrival_rate_and_fill_probability(CFG, fig=bottom) is host
    assert len(host.axes) == 3


def test_save_figure_writes_a_png_atomically(tmp_path):
    fig = plots.spread_vs_time(CFG, GAMMAS)
    path = plots.save_figure(fig, tmp_path / "sub" / "spread.png")
    check_png(path)
    assert [p.name for p in path.parent.iterdir()] == ["spread.png"]  # no temp file left
    written = plots.mid_price_paths(CFG, 2, np.random.default_rng(0), path=tmp_path / "m.png")
    assert isinstance(written, Figure)
    check_png(tmp_path / "m.png")


def test_resolve_figures():
    assert plots.resolve_figures("all") == list(plots.FIGURES)
    assert plots.resolve_figures(["mc,session", "session"]) == ["session", "mc"]
    assert plots.resolve_figures("model") == ["mid", "quotes", "spread", "fills", "optimal"]
    with pytest.raises(ValueError, match="unknown figure 'nope'"):
        plots.resolve_figures("mc,nope")


def test_write_plots_with_python_objects(tmp_path):
    paths = plots.write_plots(
        CFG, tmp_path, "session,mc,comparison", policy=FixedSpreadAgent(CFG),
        policies={"as": AvellanedaStoikovAgent(CFG), "fixed": FixedSpreadAgent(CFG)},
        settings=EvalSettings(10, 1), tables=False,
    )
    assert [p.name for p in paths] == ["session.png", "mc_distributions.png", "comparison.png"]
    for p in paths:
        check_png(p)


# ------------------------------------------------------------------ the CLI
def test_cli_plot_writes_every_figure(capsys, tmp_path):
    code = main(["plot", "--out", str(tmp_path), "--episodes", "10", "--set", "n_steps=10",
                 "--gammas", "0.1,1", "--paths", "3", "--no-progress"])
    out, err = capsys.readouterr()
    assert code == 0, err
    listed = out.split()
    for name in plots.FIGURES.values():
        assert str(tmp_path / name) in listed
        check_png(tmp_path / name)
    for table in ("mc/summary.csv", "gamma/sweep.csv", "comparison/comparison.csv"):
        assert (tmp_path / "tables" / table).stat().st_size > 0
        assert str(tmp_path / "tables" / table) in listed


def test_cli_plot_selection_and_no_tables(capsys, tmp_path):
    code = main(["plot", "--out", str(tmp_path), "--which", "quotes", "--which", "mc",
                 "--episodes", "5", "--set", "n_steps=5", "--no-tables", "--preset", "as2008"])
    _, err = capsys.readouterr()
    assert code == 0, err
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "as_quotes_vs_inventory.png", "manifest.json", "mc_distributions.png"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--which", "bogus"], "unknown figure 'bogus'"),
        (["--which", ","], "no figure selected"),
        (["--set", "volatility=1"], "unknown market parameter 'volatility'"),
        (["--set", "sigma"], "KEY=VALUE"),
        (["--set", "sigma=-1"], "sigma must be >= 0"),
        (["--set", "n_steps=x"], "n_steps must be an integer"),
        (["--gammas", "0.1,x"], "--gammas must be a number, got 'x'"),
        (["--gammas", "0.1,-1"], "must be a finite number >= 0"),
        (["--gamma", "x"], "gamma must be a number"),
        (["--paths", "0"], "n_paths must be an integer >= 1"),
        (["--episodes", "1"], "n_episodes must be an integer >= 2"),
        (["--policy", "nope"], "unknown policy 'nope'"),
        (["--sweep-policy", "fixed"], "takes gamma"),
        (["--compare", "fixed", "--compare", "fixed"], "twice"),
        (["--preset", "nope"], "invalid choice"),
    ],
)
def test_cli_plot_errors_exit_2_with_a_message(capsys, tmp_path, argv, message):
    out_dir = tmp_path / "out"
    try:
        code = main(["plot", "--out", str(out_dir), *argv])
    except SystemExit as exc:  # argparse's own errors
        code = exc.code
    err = capsys.readouterr().err
    assert code == 2
    assert "mm-env" in err and "error:" in err and message in err
    assert "Traceback" not in err
    assert not out_dir.exists()  # nothing written on a bad argument


@pytest.mark.parametrize("preset", ["adverse", "alpha", "microstructure"])
def test_mid_paths_of_markets_with_components_come_from_the_env(preset):
    config = MarketConfig.preset(preset)
    fig = plots.mid_price_paths(config, n_paths=4, rng=np.random.default_rng(0))
    lines = fig.axes[0].get_lines()
    assert len(lines) == 4  # the paths, no base-model band
    ys = np.stack([line.get_ydata() for line in lines])
    assert ys.shape == (4, config.n_steps + 1)
    assert np.all(ys[:, 0] == config.S0) and np.isfinite(ys).all()
    assert np.ptp(ys[:, -1]) > 0  # the paths move and differ
