"""Shared plumbing of the figures: headless Agg figures, atomic PNG writes, small helpers.

Every figure is a :class:`matplotlib.figure.Figure` built with the object-oriented API and
attached to an Agg canvas: no ``pyplot``, no global state, no display needed, safe in
threads and in tests. :func:`save_figure` writes a PNG atomically (a temporary file in the
target directory, then ``os.replace``), so a reader never sees half an image.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure, FigureBase

from train.atomic import atomic_write

#: Resolution of the PNG files [dots per inch].
DPI = 110

#: Colours shared by the figures (matplotlib's tab10 palette).
MID = "black"
BID = "tab:blue"
ASK = "tab:red"
RESERVATION = "tab:green"
INVENTORY = "tab:purple"
PNL = "tab:orange"
SPREAD = "tab:brown"


def new_figure(width: float = 8.0, height: float = 5.0) -> Figure:
    """A new figure of ``width x height`` inches with constrained layout on an Agg canvas."""
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def root_figure(fig: FigureBase) -> Figure:
    """The top-level :class:`Figure` of a figure or sub-figure."""
    root = fig.figure
    while not isinstance(root, Figure):  # pragma: no cover - SubFigure chains
        root = root.figure
    return root


def single_axes(ax: Axes | None, width: float = 7.0, height: float = 4.5) -> tuple[Figure, Axes]:
    """``(figure, ax)``: the given axes and its figure, or a new one-panel figure."""
    if ax is not None:
        parent = ax.get_figure()
        if parent is None:
            raise ValueError("ax must belong to a figure")
        return root_figure(parent), ax
    fig = new_figure(width, height)
    return fig, fig.add_subplot()


def grid_axes(
    fig: FigureBase | None, nrows: int, ncols: int, width: float, height: float,
    **kwargs: Any,
) -> tuple[Figure, np.ndarray]:
    """``(figure, axes)``: an ``nrows x ncols`` grid of axes (flattened) on ``fig`` or a new
    figure of ``width x height`` inches; ``kwargs`` go to ``subplots`` (e.g. ``sharex``)."""
    target: FigureBase = new_figure(width, height) if fig is None else fig
    axes = target.subplots(nrows, ncols, squeeze=False, **kwargs)
    return root_figure(target), np.asarray(axes).ravel()


def save_figure(fig: Figure, path: str | Path, dpi: int = DPI) -> Path:
    """Write ``fig`` as a PNG at ``path`` atomically (parent directories created); the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if fig.canvas is None or not hasattr(fig.canvas, "print_png"):
        FigureCanvasAgg(fig)
    return atomic_write(path, lambda fh: fig.savefig(fh, format="png", dpi=dpi))


def finish(fig: Figure, path: str | Path | None, title: str | None = None) -> Figure:
    """Set the figure's title (if any), save it to ``path`` (if given) and return it."""
    if title:
        fig.suptitle(title)
    if path is not None:
        save_figure(fig, path)
    return fig


def empty_panel(ax: Axes, message: str) -> None:
    """Mark a panel that has nothing to show (e.g. no finite values) with a message."""
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes,
            color="0.4")


def finite(values: np.ndarray) -> np.ndarray:
    """The finite entries of ``values`` as a flat float array."""
    arr = np.asarray(values, dtype=np.float64).ravel()
    return arr[np.isfinite(arr)]


def is_log_spaced(values: Sequence[float]) -> bool:
    """Whether positive ``values`` span a factor of 20 or more (then a log axis reads better)."""
    arr = finite(np.asarray(values, dtype=np.float64))
    return bool(arr.size > 1 and (arr > 0).all() and arr.max() / arr.min() >= 20.0)


def label_value(value: Any) -> str:
    """A short label for a number (``0.1``, ``1e-05``) or anything else (``str``)."""
    if isinstance(value, float) and math.isfinite(value):
        return f"{value:g}"
    return str(value)
