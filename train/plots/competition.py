"""Figures of the competition results: quoted spread and value per maker against N.

:func:`plot_spread_vs_makers` takes the rows that ``benchmarks/competition_results.py``
builds (one per number of makers and profile: ``{"N": int, "profile": str, "spread":
Estimate, "reward": Estimate, ...}``, any object with ``value`` and ``se`` as an estimate)
and draws two panels: the mean quoted spread (bid + ask depth when quoting) and the mean
reward per maker against ``N``, one line per profile with 2-SE error bars. Profiles present
at one ``N`` only (the N = 2 equilibrium of the lattice) are drawn as single markers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from train.plots.utils import finish, grid_axes

__all__ = ["plot_spread_vs_makers"]

_PANELS = (("spread", "mean quoted spread (bid + ask depth)"), ("reward", "reward per maker"))


def _value(x: Any) -> tuple[float, float]:
    if hasattr(x, "value"):
        return float(x.value), float(getattr(x, "se", 0.0))
    return float(x), 0.0


def plot_spread_vs_makers(
    rows: Sequence[Mapping[str, Any]],
    path: str | Path | None = None,
    *,
    title: str | None = "Competing market makers: self-play PPO against the baselines",
) -> Figure:
    """Spread and reward per maker against the number of makers (module doc); the figure,
    written as a PNG to ``path`` when given. ValueError on rows without ``N``, ``profile``,
    ``spread`` or ``reward``."""
    if not rows:
        raise ValueError("rows must hold at least one result row")
    for r in rows:
        missing = [k for k in ("N", "profile", "spread", "reward") if k not in r]
        if missing:
            raise ValueError(f"every row needs N, profile, spread and reward; {missing} missing")
    fig, axes = grid_axes(None, 1, 2, 11.0, 4.2)
    profiles = list(dict.fromkeys(str(r["profile"]) for r in rows))
    ns = sorted({int(r["N"]) for r in rows})
    for ax, (key, label) in zip(axes, _PANELS, strict=True):
        for name in profiles:
            mine = sorted((r for r in rows if r["profile"] == name), key=lambda r: int(r["N"]))
            x = np.array([int(r["N"]) for r in mine])
            y, se = (np.array(v) for v in zip(*(_value(r[key]) for r in mine), strict=True))
            style = "o-" if len(mine) > 1 else "D"
            ax.errorbar(x, y, yerr=2 * se, fmt=style, capsize=3, label=name)
        ax.set_xscale("log", base=2)
        ax.set_xticks(ns, [str(n) for n in ns])
        ax.set_xlabel("number of makers N")
        ax.set_ylabel(label)
        ax.grid(True, alpha=0.3)
    axes[0].legend(fontsize=8)
    return finish(fig, path, title)
