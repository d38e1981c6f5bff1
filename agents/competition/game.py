"""The two-maker competition game on the ``(step, q_0, q_1)`` lattice.

Two market makers (maker 0 and maker 1) quote one asset under the competition law of
:mod:`mm_env.competition`: on each side the maker with the best (smallest) processed depth
among those quoting wins the side, an exact tie is split 1/2-1/2, and the side trades one
order of size ``Delta`` with the winner with probability ``p(delta*)`` (the single-asset
per-step fill probability of the best depth). Makers behind the best quote do not trade.
With one maker this is the single-asset model.

Under the lattice conditions of :mod:`agents.lattice` (arithmetic mid, or GBM with
``mu = 0``; reward ``pnl`` or ``inventory_penalty``) each maker's expected remaining reward
depends on the state only through ``(step, q_0, q_1)``: its fills earn their depths
(``Delta delta``), holding ``q_j'`` over a step earns ``U_j(q_j') = mu_abs dt q_j' -
phi dt q_j'^2`` (``- alpha q_j'^2`` at the last step), and the mid's own move has mean zero
given the fills. :class:`CompetitionLattice` holds what every solver of
:mod:`agents.competition` needs for that recursion: the joint inventory grid, the per-maker
quoting masks (inventory limits), the depth processing and the fill probability.

Depth processing (the env's, with the mid on the price grid):

1. clip into ``[min_depth, max_depth]``;
2. with ``tick_size = h > 0``: the env snaps the bid *price* down and the ask *price* up onto
   the grid ``h Z``. With the mid on the grid this sends a depth ``delta`` to the level
   ``n = ceil(delta / h - 1e-9)``, the effective depth ``n h`` (away from the mid). The lattice
   uses this rule. In the env the mid diffuses off the grid; there the effective depths are
   ``(n_b + u) h`` and ``(n_a + 1 - u) h`` with ``u = frac(S / h)``: the same winners and ties
   (both makers snap onto the same price grid), but fill probabilities and earnings of up to
   one tick more spread. The lattice values are exact for the env when the mid stays on the
   grid (``sigma = 0``, or any mid whose moves are multiples of the tick).

Only the base market plus a tick is supported (no fees, liquidation, shocks, Hawkes or skewed
flow, power fill shapes, size action): the solvers refuse other configs with a ValueError.
Inventory limits must be finite (they bound the lattice exactly).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from agents.lattice import LatticeModel
from mm_env.config import MarketConfig

#: Market components the exact solvers support besides the base model.
SUPPORTED_FEATURES = ("tick",)
#: Tolerance of the tick snapping, in ticks (the env's).
TICK_TOLERANCE = 1e-9
#: ``(own move, other's move)`` of the nine joint outcomes of a step, in inventory steps.
MOVES = tuple((a, b) for a in (-1, 0, 1) for b in (-1, 0, 1))


def _check_limits(config: MarketConfig, inventory_limits: Any) -> tuple[float, float]:
    if inventory_limits is None:
        inventory_limits = config.inventory_limit
    if isinstance(inventory_limits, (int, float, np.integer, np.floating)) and not isinstance(
        inventory_limits, bool
    ):
        limits: Sequence[Any] = (inventory_limits, inventory_limits)
    elif isinstance(inventory_limits, (tuple, list)):
        limits = inventory_limits
    else:
        raise ValueError(
            f"inventory_limits must be a number or a tuple of 2 numbers (one per maker), got "
            f"{inventory_limits!r}"
        )
    if len(limits) != 2:
        raise ValueError(
            f"inventory_limits must have one entry per maker (2), got {len(limits)}: "
            f"{tuple(limits)!r}"
        )
    out = []
    for j, lim in enumerate(limits):
        ok = isinstance(lim, (int, float, np.integer, np.floating)) and not isinstance(lim, bool)
        x = float(lim) if ok else math.nan
        if not (math.isfinite(x) and x >= config.order_size):
            raise ValueError(
                f"inventory_limits[{j}] must be a finite number >= order_size "
                f"({config.order_size:g}) for an exact lattice solution, got {lim!r}"
            )
        out.append(x)
    return out[0], out[1]


def check_supported(config: MarketConfig) -> None:
    """ValueError unless ``config`` is a market the exact competition solvers handle."""
    if not isinstance(config, MarketConfig):
        raise ValueError(f"config must be a mm_env.MarketConfig, got {type(config).__name__}")
    other = [f for f in config.features if f not in SUPPORTED_FEATURES]
    if other:
        raise ValueError(
            f"the exact competition solvers support the base market with a tick only; this "
            f"config has the components {other} (allowed: {list(SUPPORTED_FEATURES)})"
        )


class CompetitionLattice:
    """The N = 2 competition game of ``config`` on the lattice ``(step, q_0, q_1)``.

    Args:
        config: the single-asset market every maker faces; lattice conditions of
            :mod:`agents.lattice`, base market plus an optional tick (ValueError otherwise).
        inventory_limits: a number (both makers) or a tuple of two, each finite and
            ``>= order_size``; default the config's ``inventory_limit`` (which must then be
            finite).

    Arrays over the joint grid have shape ``(n_0, n_1)``, axis ``j`` the inventory of maker
    ``j`` (``inventories[j]``, multiples of ``order_size``). Policy tables have shape
    ``(n_steps, n_0, n_1, 2)``, the last axis ``[bid_depth, ask_depth]``.
    """

    n_makers = 2

    def __init__(self, config: MarketConfig, inventory_limits: Any = None) -> None:
        check_supported(config)
        limits = _check_limits(config, inventory_limits)
        self.config = config
        self.inventory_limits = limits
        self.models = tuple(LatticeModel(config.replace(inventory_limit=lim)) for lim in limits)
        """The single-asset lattice of each maker (its quoting masks, rewards, fills)."""
        self.inventories = tuple(m.inventories for m in self.models)
        self.shape = (self.inventories[0].size, self.inventories[1].size)
        self.n_steps = config.n_steps
        self.order_size = config.order_size
        self.tick = config.tick_size
        self.origin = tuple((n - 1) // 2 for n in self.shape)
        """Grid indices of ``q = (0, 0)``."""
        self.bid_quoted = (
            self._own(0, self.models[0].bid_quoted),
            self._own(1, self.models[1].bid_quoted),
        )
        self.ask_quoted = (
            self._own(0, self.models[0].ask_quoted),
            self._own(1, self.models[1].ask_quoted),
        )
        self.running = (self._own(0, self.models[0].running), self._own(1, self.models[1].running))
        self.terminal = (
            self._own(0, self.models[0].terminal),
            self._own(1, self.models[1].terminal),
        )
        self.min_effective = float(self.process(np.array(config.min_depth)))
        self.max_effective = float(self.process(np.array(config.max_depth)))

    def _own(self, maker: int, values: np.ndarray) -> np.ndarray:
        """A per-maker array over its own inventory broadcast to the joint grid."""
        if maker == 0:
            return np.broadcast_to(values[:, None], self.shape).copy()
        return np.broadcast_to(values[None, :], self.shape).copy()

    # ------------------------------------------------------------------ depths
    def process(self, depth: np.ndarray) -> np.ndarray:
        """Effective depths of requested ones: clipped, then snapped onto the tick grid."""
        c = self.config
        d = np.minimum(np.maximum(np.asarray(depth, dtype=np.float64), c.min_depth), c.max_depth)
        if self.tick > 0:
            d = self.tick * np.ceil(d / self.tick - TICK_TOLERANCE)
        return d

    def level(self, depth: Any) -> np.ndarray:
        """Tick level ``n`` of effective depths ``n h`` (tick configs only)."""
        return np.rint(np.asarray(depth) / self.tick).astype(np.int64)

    def fill_probability(self, depth: np.ndarray) -> np.ndarray:
        """Per-step probability that the best quote at effective ``depth`` trades."""
        return np.asarray(self.models[0].dynamics.fill_probability(np.asarray(depth, float)))

    # ------------------------------------------------------------------ values
    def continuation(self, maker: int, step: int, next_values: np.ndarray) -> np.ndarray:
        """``U_j(q_j') + V_j,(step+1)(q_0', q_1')`` over the joint grid."""
        w = self.running[maker] + next_values
        if step == self.n_steps - 1:
            w = w + self.terminal[maker]
        return w

    def shifted(self, maker: int, w: np.ndarray) -> dict[tuple[int, int], np.ndarray]:
        """``w`` at the landing points of the nine moves ``(own, other)`` of maker ``maker``.

        Out-of-grid landings take the edge value; they have probability zero (a side whose
        fill would cross a limit is not quoted).
        """
        padded = np.pad(w, 1, mode="edge")
        n0, n1 = self.shape
        out = {}
        for own, other in MOVES:
            d0, d1 = (own, other) if maker == 0 else (other, own)
            out[(own, other)] = padded[1 + d0 : 1 + d0 + n0, 1 + d1 : 1 + d1 + n1]
        return out

    def check_table(self, name: str, table: Any) -> np.ndarray:
        """A policy table as a float64 array of shape ``(n_steps, n_0, n_1, 2)``, finite."""
        arr = np.asarray(table, dtype=np.float64)
        want = (self.n_steps, *self.shape, 2)
        if arr.shape != want:
            raise ValueError(
                f"{name} must have shape {want} (steps, q_0, q_1, [bid, ask]), got {arr.shape}"
            )
        if not np.isfinite(arr).all():
            raise ValueError(f"{name} must hold finite depths (the env refuses non-finite ones)")
        return arr

    def __repr__(self) -> str:
        return (
            f"CompetitionLattice(limits={self.inventory_limits}, shape={self.shape}, "
            f"n_steps={self.n_steps}, tick={self.tick:g})"
        )
