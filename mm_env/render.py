"""A small pure-numpy rasteriser for ``render_mode="rgb_array"`` (no plotting library).

:class:`EpisodeHistory` is what :class:`mm_env.MarketMakingEnv` records per step when, and
only when, it renders to ``rgb_array``; :func:`render_episode` draws it as an image
``(height, width, 3)`` of ``np.uint8`` on a white canvas:

- the top panel (about 70% of the height): the mid-price (black) at the steps taken so far,
  and the bid (blue) and ask (red) prices quoted at each step, a side not quoted leaving a
  gap; the time axis always spans the whole episode ``[0, n_steps]``, so the lines grow to
  the right as the episode progresses;
- the bottom strip: the inventory (purple) around a grey zero line, scaled to
  ``inventory_limit`` when it is finite, else to the largest ``|inventory|`` so far.

Both panels have a light grey frame. Lines are rasterised by sampling each segment at
(at least) one point per pixel of its longer side: cheap, vectorised, no antialiasing.

:func:`check_render_mode` is the ``render_mode`` check of every env's constructor.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

#: Default image size in pixels.
WIDTH = 480
HEIGHT = 320

WHITE = (255, 255, 255)
FRAME = (200, 200, 200)
ZERO_LINE = (170, 170, 170)
MID_COLOR = (20, 20, 20)
BID_COLOR = (31, 119, 180)
ASK_COLOR = (214, 39, 40)
INVENTORY_COLOR = (148, 103, 189)

_MARGIN = 6
_PRICE_SHARE = 0.70  # fraction of the height used by the price panel
_GAP = 8  # pixels between the two panels


def check_render_mode(render_mode: str | None, allowed: Sequence[str], env: str) -> str | None:
    """``render_mode`` if it is None or one of ``allowed`` (the env's
    ``metadata["render_modes"]``), else ValueError: ``"render_mode must be None or one of
    [...]"``, or ``"render_mode must be None for {env}"`` when the env renders nothing."""
    if render_mode is None or render_mode in allowed:
        return render_mode
    if not allowed:
        raise ValueError(f"render_mode must be None for {env}, got {render_mode!r}")
    raise ValueError(f"render_mode must be None or one of {allowed}, got {render_mode!r}")


class EpisodeHistory:
    """The per-step record of one episode: mids and inventories at steps ``0..m``, quotes at
    steps ``0..m-1`` (prices; NaN for a side not quoted)."""

    __slots__ = ("ask", "bid", "inventory", "mid")

    def __init__(self, mid: float, inventory: float) -> None:
        self.mid: list[float] = [float(mid)]
        self.inventory: list[float] = [float(inventory)]
        self.bid: list[float] = []
        self.ask: list[float] = []

    def record(self, bid: float, ask: float, mid: float, inventory: float) -> None:
        """Append one step: the quotes of the step and the mid and inventory after it."""
        self.bid.append(float(bid))
        self.ask.append(float(ask))
        self.mid.append(float(mid))
        self.inventory.append(float(inventory))

    @property
    def steps(self) -> int:
        """Steps recorded so far."""
        return len(self.bid)


def blank_canvas(width: int = WIDTH, height: int = HEIGHT) -> np.ndarray:
    """A white ``(height, width, 3)`` uint8 image."""
    return np.full((height, width, 3), 255, dtype=np.uint8)


def draw_polyline(
    img: np.ndarray,
    xs: np.ndarray,
    ys: np.ndarray,
    color: tuple[int, int, int],
    thickness: int = 1,
) -> None:
    """Draw the line through the points ``(xs[i], ys[i])`` (pixel coordinates, column and row)
    onto ``img`` in place; a non-finite coordinate breaks the line, a lone point is a dot."""
    xs = np.asarray(xs, dtype=np.float64)
    ys = np.asarray(ys, dtype=np.float64)
    ok = np.isfinite(xs) & np.isfinite(ys)
    if xs.size == 1 or not ok.any():
        px, py = xs[ok], ys[ok]
    else:
        seg = ok[:-1] & ok[1:]
        x0, y0 = xs[:-1][seg], ys[:-1][seg]
        dx, dy = (xs[1:] - xs[:-1])[seg], (ys[1:] - ys[:-1])[seg]
        n = np.ceil(np.maximum(np.abs(dx), np.abs(dy))).astype(np.int64) + 1
        starts = np.repeat(np.cumsum(n) - n, n)
        frac = (np.arange(int(n.sum())) - starts) / np.repeat(np.maximum(n - 1, 1), n)
        px = np.repeat(x0, n) + frac * np.repeat(dx, n)
        py = np.repeat(y0, n) + frac * np.repeat(dy, n)
        isolated = ok.copy()  # points with no valid segment on either side
        isolated[:-1] &= ~seg
        isolated[1:] &= ~seg
        px = np.concatenate([px, xs[isolated]])
        py = np.concatenate([py, ys[isolated]])
    h, w = img.shape[:2]
    cols = np.clip(np.rint(px).astype(np.int64), 0, w - 1)
    rows = np.clip(np.rint(py).astype(np.int64), 0, h - 1)
    for offset in range(thickness):
        img[np.clip(rows + offset, 0, h - 1), cols] = color


def draw_frame(
    img: np.ndarray, top: int, bottom: int, left: int, right: int, color: tuple[int, int, int]
) -> None:
    """A one-pixel rectangle with corners ``(top, left)`` and ``(bottom, right)`` inclusive."""
    img[top, left : right + 1] = color
    img[bottom, left : right + 1] = color
    img[top : bottom + 1, left] = color
    img[top : bottom + 1, right] = color


def _scale(values: np.ndarray, lo: float, hi: float, top: int, bottom: int) -> np.ndarray:
    """Map ``values`` in ``[lo, hi]`` to rows ``bottom..top`` (higher values higher up)."""
    return bottom - (values - lo) / (hi - lo) * (bottom - top)


def _range(*arrays: np.ndarray) -> tuple[float, float]:
    """Finite min and max over ``arrays`` with 5% padding, never an empty interval."""
    finite = [a[np.isfinite(a)] for a in arrays]
    data = np.concatenate(finite) if finite else np.empty(0)
    if data.size == 0:
        return -1.0, 1.0
    lo, hi = float(data.min()), float(data.max())
    if hi - lo <= 1e-12 * max(1.0, abs(hi)):
        half = max(1e-3 * abs(hi), 1e-6)
        return lo - half, hi + half
    pad = 0.05 * (hi - lo)
    return lo - pad, hi + pad


def render_episode(
    history: EpisodeHistory | None,
    n_steps: int,
    inventory_limit: float = math.inf,
    width: int = WIDTH,
    height: int = HEIGHT,
) -> np.ndarray:
    """The image of an episode so far (see the module doc); ``history=None`` gives the empty
    panels. Returns a new ``(height, width, 3)`` uint8 array."""
    if width < 4 * _MARGIN or height < 4 * _MARGIN + _GAP:
        raise ValueError(
            f"image too small: width >= {4 * _MARGIN} and height >= {4 * _MARGIN + _GAP} "
            f"pixels are needed, got {width}x{height}"
        )
    img = blank_canvas(width, height)
    left, right = _MARGIN, width - 1 - _MARGIN
    p_top, p_bottom = _MARGIN, round(height * _PRICE_SHARE)
    i_top, i_bottom = p_bottom + _GAP, height - 1 - _MARGIN
    draw_frame(img, p_top, p_bottom, left, right, FRAME)
    draw_frame(img, i_top, i_bottom, left, right, FRAME)
    i_zero = 0.5 * (i_top + i_bottom)
    img[round(i_zero), left + 1 : right] = ZERO_LINE
    if history is None:
        return img

    steps = np.arange(len(history.mid), dtype=np.float64)
    x_all = left + 1 + steps / max(n_steps, 1) * (right - left - 2)
    mid = np.asarray(history.mid)
    bid = np.asarray(history.bid)
    ask = np.asarray(history.ask)
    x_quotes = x_all[: bid.size]

    lo, hi = _range(mid, bid, ask)
    inner_top, inner_bottom = p_top + 2, p_bottom - 2
    draw_polyline(img, x_quotes, _scale(bid, lo, hi, inner_top, inner_bottom), BID_COLOR)
    draw_polyline(img, x_quotes, _scale(ask, lo, hi, inner_top, inner_bottom), ASK_COLOR)
    draw_polyline(img, x_all, _scale(mid, lo, hi, inner_top, inner_bottom), MID_COLOR, 2)

    inv = np.asarray(history.inventory)
    bound = inventory_limit if math.isfinite(inventory_limit) else float(np.max(np.abs(inv)))
    bound = max(bound, 1e-9) * 1.1
    draw_polyline(
        img, x_all, _scale(inv, -bound, bound, i_top + 2, i_bottom - 2), INVENTORY_COLOR, 2
    )
    return img
