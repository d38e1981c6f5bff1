"""Figures of Monte Carlo results: outcome distributions, sensitivity sweeps, comparisons.

They draw the objects the harness returns (:class:`train.evaluation.harness.EvaluationResult`,
:class:`train.evaluation.compare.SweepResult`, :class:`train.evaluation.compare.ComparisonResult`),
so a figure shows exactly the numbers of the printed tables: error bars are the standard errors of
:mod:`train.evaluation.stats` (paired standard errors for differences between policies). Like
:mod:`train.plots.model`, every function returns the figure and writes a PNG given ``path``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure, FigureBase

from train.evaluation.compare import ComparisonResult, SweepResult
from train.evaluation.harness import EvaluationResult
from train.evaluation.stats import Estimate
from train.plots.utils import (
    INVENTORY,
    PNL,
    empty_panel,
    finish,
    finite,
    grid_axes,
    is_log_spaced,
    label_value,
)

PathLike = str | Path

_MAX_SCATTER = 5000  # points drawn in a scatter plot (an evenly spaced subsample beyond)


# ------------------------------------------------------------------ distributions
def mc_distributions(
    result: EvaluationResult,
    bins: int = 50,
    *,
    fig: FigureBase | None = None,
    path: PathLike | None = None,
) -> Figure:
    """Four panels of one policy's Monte Carlo outcomes: histograms of the terminal PnL, the
    final inventory and the annualised per-step Sharpe ratio, and PnL against final
    inventory (a scatter of at most 5000 episodes)."""
    e = result.episodes
    root, axes = grid_axes(fig, 2, 2, 11.0, 8.0)

    ax = axes[0]
    pnl = finite(e.pnl)
    _histogram(ax, pnl, bins, PNL)
    se = float(np.std(pnl, ddof=1) / np.sqrt(pnl.size)) if pnl.size > 1 else 0.0
    ax.set_title(f"terminal PnL: mean {np.mean(pnl):.4g} +- {se:.2g} (SE), "
                 f"std {np.std(pnl, ddof=1) if pnl.size > 1 else 0.0:.3g}")
    ax.set_xlabel("PnL [price units]")

    ax = axes[1]
    inv = finite(e.final_inventory)
    _histogram(ax, inv, _inventory_bins(inv, result.config.order_size, bins), INVENTORY)
    ax.set_title(f"final inventory: mean |q| {np.mean(np.abs(inv)):.3g}")
    ax.set_xlabel("final inventory q_T [shares]")

    ax = axes[2]
    sharpe = finite(e.sharpe_annualised)
    if sharpe.size:
        _histogram(ax, sharpe, bins, "tab:green")
        ax.set_title(f"annualised Sharpe ratio: mean {np.mean(sharpe):.3g} "
                     f"({sharpe.size} of {e.n} episodes defined)")
    else:
        empty_panel(ax, "no episode with a defined Sharpe ratio")
        ax.set_title("annualised Sharpe ratio")
    ax.set_xlabel("per-step Sharpe ratio, annualised")

    ax = axes[3]
    step = max(1, e.n // _MAX_SCATTER)
    ax.scatter(e.final_inventory[::step], e.pnl[::step], s=6, alpha=0.3, color="tab:blue",
               edgecolors="none")
    ax.axhline(0.0, color="0.6", lw=0.8)
    ax.axvline(0.0, color="0.6", lw=0.8)
    ax.set_xlabel("final inventory q_T [shares]")
    ax.set_ylabel("PnL [price units]")
    shown = "" if step == 1 else f" (every {step}th episode)"
    ax.set_title(f"PnL vs final inventory{shown}")
    for ax in axes[:3]:
        ax.set_ylabel("episodes")
    for ax in axes:
        ax.grid(alpha=0.3)
    seed = result.settings.seed
    return finish(root, path, f"Monte Carlo: {result.policy}, {e.n} episodes, seed {seed}")


def _histogram(ax: Axes, values: np.ndarray, bins: int | list[float], color: str) -> None:
    if values.size == 0:
        empty_panel(ax, "no finite values")
        return
    ax.hist(values, bins=bins, color=color, alpha=0.75, edgecolor="white", linewidth=0.3)
    ax.axvline(float(np.mean(values)), color="black", ls="--", lw=1.0, label="mean")
    ax.legend(fontsize="small")


def _inventory_bins(values: np.ndarray, size: float, max_bins: int) -> int | list[float]:
    """One bin per multiple of the order size when that gives few enough bins."""
    if values.size == 0:
        return max_bins
    lo, hi = float(values.min()), float(values.max())
    n = round((hi - lo) / size) + 1
    if n > 4 * max_bins:
        return max_bins
    return (lo - 0.5 * size + size * np.arange(n + 1)).tolist()


# ------------------------------------------------------------------ sweeps
def gamma_sensitivity(
    sweep_result: SweepResult,
    *,
    fig: FigureBase | None = None,
    path: PathLike | None = None,
) -> Figure:
    """Four panels against the swept parameter (the notebook's risk-aversion analysis when
    it is AS ``gamma``): mean PnL, std of PnL, trades per episode and mean ``|final
    inventory|``, each with its standard error; a log axis when the values span a factor 20.
    """
    try:
        x = np.array([float(v) for v in sweep_result.values])
    except (TypeError, ValueError):
        raise ValueError(
            f"gamma_sensitivity needs numeric sweep values, got {sweep_result.values!r}"
        ) from None
    ests = [r.estimates() for r in sweep_result.results]
    panels = (
        ("mean_pnl", "mean PnL", PNL),
        ("std_pnl", "std of PnL", "tab:red"),
        ("mean_fills", "trades per episode", "tab:blue"),
        ("mean_abs_inventory", "mean |final inventory|", INVENTORY),
    )
    root, axes = grid_axes(fig, 2, 2, 10.0, 7.5, sharex=True)
    log = is_log_spaced(list(x))
    for ax, (metric, label, color) in zip(axes, panels, strict=True):
        y = np.array([e[metric].value for e in ests])
        err = np.array([e[metric].se for e in ests])
        ax.errorbar(x, y, yerr=err, fmt="o-", color=color, capsize=3, ms=4)
        ax.set_ylabel(label)
        ax.set_title(f"{label} (+- 1 SE)")
        if log:
            ax.set_xscale("log")
        ax.grid(alpha=0.3, which="both")
    for ax in axes[2:]:
        ax.set_xlabel(sweep_result.param)
    first = sweep_result.results[0]
    name = first.policy.split("[", 1)[0]
    title = (f"Sensitivity to {sweep_result.param}: {name}, {first.n_episodes} episodes per "
             f"value, seed {first.settings.seed}")
    return finish(root, path, title)


# ------------------------------------------------------------------ comparisons
def comparison(
    compare_result: ComparisonResult,
    *,
    fig: FigureBase | None = None,
    path: PathLike | None = None,
) -> Figure:
    """Four bar charts, one bar per policy: mean PnL, mean episode reward and Sharpe ratio
    (per episode, ``mean / std`` of the PnL), each with a 1-SE error bar, and the paired
    difference of the mean PnL to the reference policy with its paired SE (common random
    numbers make it far smaller than the SEs of the means)."""
    ests = compare_result.estimates()
    names = compare_result.policies
    reference = compare_result.reference
    root, axes = grid_axes(fig, 2, 2, 11.0, 8.0)
    colors = [f"C{i % 10}" for i in range(len(names))]
    reward = compare_result.results[names[0]].config.reward
    panels: tuple[tuple[str, str, bool], ...] = (
        ("mean_pnl", "mean PnL", False),
        ("mean_reward", f"mean episode reward ({reward})", False),
        ("sharpe", "Sharpe ratio (mean / std of PnL)", False),
        ("mean_pnl", f"mean PnL - {reference} (paired)", True),
    )
    for ax, (metric, label, paired) in zip(axes, panels, strict=True):
        values = [_bar_value(ests[n][metric], paired) for n in names]
        _bars(ax, names, values, colors)
        ax.set_title(f"{label} +- 1 SE")
    first = compare_result.results[names[0]]
    title = (f"Comparison on common random numbers: {first.n_episodes} episodes, "
             f"seed {first.settings.seed}")
    return finish(root, path, title)


def _bar_value(e: Estimate, paired: bool) -> tuple[float, float]:
    return (e.diff, e.diff_se) if paired else (e.value, e.se)


def _bars(ax: Axes, names: Sequence[str], values: Sequence[tuple[float, float]],
          colors: Sequence[str]) -> None:
    pos = np.arange(len(names))
    heights = np.array([v for v, _ in values])
    errors = np.array([s for _, s in values])
    errors = np.where(np.isfinite(errors), errors, 0.0)
    ax.bar(pos, np.where(np.isfinite(heights), heights, 0.0), yerr=errors, capsize=4,
           color=colors, alpha=0.8, edgecolor="black", linewidth=0.5)
    ax.axhline(0.0, color="black", lw=0.8)
    ax.set_xticks(pos, [label_value(n) for n in names], rotation=20, ha="right",
                  fontsize="small")
    ax.grid(alpha=0.3, axis="y")
