"""The joint inventory grid of the multi-asset exact solvers.

Asset ``i`` holds ``q_i = j_i Delta_i`` shares with ``j_i in {-L_i, ..., L_i}`` (``Delta_i`` its
order size, ``L_i Delta_i`` its inventory limit), so the grid is the box of integer vectors
``j`` with ``|j_i| <= L_i``: ``prod_i (2 L_i + 1)`` states, stored as an ``n``-dimensional
array whose axis ``i`` is asset ``i``'s index ``j_i + L_i``. A bid fill of asset ``i`` moves
one step up axis ``i``, an ask fill one step down; at ``j_i = L_i`` the bid is not quoted
(the env does not quote a side whose fill would cross the limit), at ``-L_i`` the ask.

:func:`grid_levels` reads ``L`` from a :class:`~mm_env.multi_asset.MultiAssetConfig`: the
exact solvers need every inventory limit finite and a whole number of order sizes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

#: A per-asset sequence of numbers: a tuple, a list or a 1-d array.
FloatSeq = Sequence[float] | np.ndarray

#: Largest number of states of a joint grid (the tables of an agent stay below ~1 GB).
MAX_STATES = 2_000_000


class InventoryGrid:
    """The box ``|j_i| <= L_i`` of inventory indices, with its shifts along each axis.

    Args:
        levels: ``L_i`` per asset (integers ``>= 1``).
        order_size: ``Delta_i`` per asset [shares] (default 1): the grid's inventories are
            ``q_i = j_i Delta_i``.
    """

    def __init__(self, levels: Sequence[int], order_size: FloatSeq | None = None) -> None:
        lv = tuple(int(x) for x in levels)
        if not lv or any(x < 1 for x in lv) or any(int(x) != x for x in levels):
            raise ValueError(
                f"levels must be a non-empty sequence of integers >= 1, got {levels!r}"
            )
        self.levels = lv
        self.n_assets = len(lv)
        self.shape = tuple(2 * x + 1 for x in lv)
        self.size = math.prod(self.shape)
        if self.size > MAX_STATES:
            raise ValueError(
                f"the joint inventory grid {self.shape} has {self.size} states, more than "
                f"{MAX_STATES}: use smaller inventory limits or fewer assets"
            )
        sizes = np.ones(self.n_assets) if order_size is None else np.asarray(order_size, float)
        if sizes.shape != (self.n_assets,) or not (np.isfinite(sizes) & (sizes > 0)).all():
            raise ValueError(
                f"order_size must be {self.n_assets} finite numbers > 0, got {order_size!r}"
            )
        self.order_size = sizes
        axes = [s * np.arange(-x, x + 1, dtype=np.float64) for s, x in zip(sizes, lv, strict=True)]
        self.inventories = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1)
        """``(*shape, n)``: the inventory vector [shares] of every grid state."""

    # ------------------------------------------------------------------ shifts
    def up(self, axis: int) -> tuple[slice, ...]:
        """Index of the states ``j`` that have a neighbour ``j + e_axis`` (all but the top)."""
        return tuple(slice(0, -1) if a == axis else slice(None) for a in range(self.n_assets))

    def down(self, axis: int) -> tuple[slice, ...]:
        """Index of the states ``j`` that have a neighbour ``j - e_axis`` (all but the bottom)."""
        return tuple(slice(1, None) if a == axis else slice(None) for a in range(self.n_assets))

    def quadratic_form(self, matrix: np.ndarray) -> np.ndarray:
        """``q' M q`` at every state, shape :attr:`shape`."""
        m = np.asarray(matrix, dtype=np.float64)
        return np.asarray(np.einsum("...i,ij,...j->...", self.inventories, m, self.inventories))

    def linear_form(self, vector: np.ndarray) -> np.ndarray:
        """``v' q`` at every state, shape :attr:`shape`."""
        return np.asarray(self.inventories @ np.asarray(vector, dtype=np.float64))

    @property
    def centre(self) -> tuple[int, ...]:
        """Array index of the zero inventory."""
        return self.levels

    def index(self, q: Any, *, clip: bool = True) -> tuple[np.ndarray, ...]:
        """Array indices of inventories ``q`` (``(..., n)``, shares): the nearest grid point.

        With ``clip`` (the policies) inventories off the grid are clipped into it; without,
        an inventory that is not a multiple of the order size inside the limits is a
        ValueError naming it (the value functions).
        """
        q_arr = np.asarray(q, dtype=np.float64)
        if q_arr.shape[-1:] != (self.n_assets,):
            raise ValueError(
                f"q must have a last axis of n_assets = {self.n_assets} inventories, got shape "
                f"{q_arr.shape}"
            )
        units = q_arr / self.order_size
        j = np.rint(units)
        lv = np.asarray(self.levels, dtype=np.float64)
        if not clip:
            ok = np.isfinite(q_arr) & (np.abs(j) <= lv) & (np.abs(units - j) <= 1e-9 * (1 + lv))
            if not ok.all():
                bad = q_arr[~ok.all(axis=-1)][0]
                raise ValueError(
                    f"q must be an inventory vector on the grid: q_i a multiple of order_size_i "
                    f"{self.order_size.tolist()} with |q_i| <= {(lv * self.order_size).tolist()}, "
                    f"got {bad.tolist()}"
                )
        j = np.clip(np.nan_to_num(j), -lv, lv).astype(np.intp) + np.asarray(self.levels)
        return tuple(j[..., i] for i in range(self.n_assets))


def grid_levels(limits: FloatSeq, order_size: FloatSeq, what: str) -> tuple[int, ...]:
    """``L_i = inventory_limit_i / order_size_i``, or ValueError naming ``what`` needs them.

    Every limit must be finite and (to 1e-9) a whole number ``>= 1`` of order sizes.
    """
    out = []
    for i, (lim, size) in enumerate(zip(limits, order_size, strict=True)):
        ratio = lim / size
        if not math.isfinite(ratio) or abs(ratio - round(ratio)) > 1e-9 * max(1.0, ratio):
            raise ValueError(
                f"{what} needs a finite inventory limit that is a whole number of order sizes "
                f"for every asset; asset {i} has inventory_limit={lim!r}, order_size={size!r}"
            )
        out.append(round(ratio))
    return tuple(out)
