"""The spread-versus-N figure: one line per profile over N, single markers for profiles at one
N only, a valid PNG, and a clear error on rows without the needed keys."""

from __future__ import annotations

import pytest

from train.evaluation.stats import Estimate
from train.plots.competition import plot_spread_vs_makers

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def rows():
    out = []
    for n in (1, 2, 4):
        for name, spread in (("PPO", 1.4 / n), ("AS", 1.54)):
            out.append(
                {
                    "N": n,
                    "profile": name,
                    "spread": Estimate(spread, 0.01),
                    "reward": Estimate(60.0 / n, 0.5),
                }
            )
    out.append(
        {
            "N": 2,
            "profile": "equilibrium",
            "spread": Estimate(0.1, 0.0),
            "reward": Estimate(9.8, 0.05),
        }
    )
    return out


def test_figure_has_a_line_per_profile_and_writes_a_png(tmp_path):
    fig = plot_spread_vs_makers(rows(), tmp_path / "fig.png")
    spread_ax, reward_ax = fig.axes
    assert [t.get_text() for t in spread_ax.get_legend().get_texts()] == [
        "PPO",
        "AS",
        "equilibrium",
    ]
    xs = [list(line.get_xdata()) for line in spread_ax.get_lines() if len(line.get_xdata())]
    assert [1, 2, 4] in xs and [2] in xs
    assert reward_ax.get_ylabel() == "reward per maker"
    assert (tmp_path / "fig.png").read_bytes()[:8] == PNG_MAGIC


def test_rows_without_the_needed_keys_are_refused():
    with pytest.raises(ValueError, match="spread"):
        plot_spread_vs_makers([{"N": 1, "profile": "x", "reward": 1.0}])
    with pytest.raises(ValueError, match="at least one"):
        plot_spread_vs_makers([])
