"""Replay of a user-supplied mid-price series (``mid_model="replay"``).

A :class:`PriceSeries` is an immutable, validated one-dimensional series of mid-prices
``P_0, P_1, ..., P_{L-1}`` [price units], one value per decision step (the series is sampled at
the env's ``dt``: resample it to that grid before). In an episode that starts at offset ``o``
the mid at step ``i`` is exactly ``S_i = P_{o+i}``; ``o`` is drawn uniformly from
``{0, ..., L - n_steps - 1}`` at every reset (``replay_random_start=True``, the default) or is
0, so the series must hold at least ``n_steps + 1`` prices.

Build one from a numpy array or any sequence of numbers, from a ``.npy`` file (a 1-D array),
or from a CSV file with a header row (the column ``replay_column``, default ``"price"``).
Every error names the file, the column and the offending row or index: a missing file or
column, a value that is not a number, a price that is not finite or not > 0, a series too
short for the episode.
"""

from __future__ import annotations

import csv
import hashlib
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np


class PriceSeries:
    """An immutable series of mid-prices (float64, finite, > 0, at least 2 values).

    Compared and hashed by content (two series with the same values are equal, whatever
    their source), so a :class:`~mm_env.MarketConfig` that holds one stays hashable.

    Attributes:
        values: the prices, a read-only float64 array of shape ``(L,)``.
        source: the file it was read from, or None.
        column: the CSV column it was read from, or None.
    """

    __slots__ = ("_digest", "column", "source", "values")

    values: np.ndarray
    source: str | None
    column: str | None
    _digest: str

    def __init__(
        self, values: Any, *, source: str | None = None, column: str | None = None
    ) -> None:
        where = f" (from {source!r})" if source is not None else ""
        try:
            arr = np.array(values, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"replay prices must be numbers{where}: {exc}") from None
        if arr.ndim != 1:
            raise ValueError(
                f"replay prices must be a 1-D series{where}, got an array of shape {arr.shape}"
            )
        if arr.size < 2:
            raise ValueError(f"replay prices must hold at least 2 values{where}, got {arr.size}")
        bad = ~np.isfinite(arr)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(
                f"replay prices must be finite{where}: value {float(arr[i])!r} at index {i}"
            )
        bad = arr <= 0
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(
                f"replay prices must be > 0{where}: value {float(arr[i])!r} at index {i}"
            )
        arr.flags.writeable = False
        object.__setattr__(self, "values", arr)
        object.__setattr__(self, "source", source)
        object.__setattr__(self, "column", column)
        object.__setattr__(self, "_digest", hashlib.sha1(arr.tobytes()).hexdigest())

    @classmethod
    def load(cls, path: str | os.PathLike[str], column: str = "price") -> PriceSeries:
        """Read a ``.npy`` file (1-D array) or a CSV file with a header row (``column``)."""
        p = Path(path)
        if not p.is_file():
            raise ValueError(f"replay file not found: {str(path)!r}")
        if p.suffix.lower() == ".npy":
            try:
                arr = np.load(p, allow_pickle=False)
            except (OSError, ValueError) as exc:
                raise ValueError(
                    f"replay file {str(path)!r} is not a readable .npy: {exc}"
                ) from None
            return cls(arr, source=str(path))
        return cls(_read_csv_column(p, column), source=str(path), column=column)

    def __len__(self) -> int:
        return int(self.values.size)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("PriceSeries is immutable")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PriceSeries):
            return NotImplemented
        return self._digest == other._digest and np.array_equal(self.values, other.values)

    def __hash__(self) -> int:
        return hash(self._digest)

    def __deepcopy__(self, memo: dict[int, Any]) -> PriceSeries:
        return self  # immutable

    def __copy__(self) -> PriceSeries:
        return self

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (self.values.copy(), self.source, self.column))

    def __repr__(self) -> str:
        src = "" if self.source is None else f"source={self.source!r}, "
        col = "" if self.column is None else f"column={self.column!r}, "
        ends = f"first={self.values[0]:g}, last={self.values[-1]:g}"
        return f"PriceSeries({src}{col}n={len(self)}, {ends})"


def _rebuild(values: np.ndarray, source: str | None, column: str | None) -> PriceSeries:
    return PriceSeries(values, source=source, column=column)


def _read_csv_column(path: Path, column: str) -> list[float]:
    with open(path, newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        if header is None:
            raise ValueError(f"replay file {str(path)!r} is empty (a header row is needed)")
        names = [h.strip() for h in header]
        if column not in names:
            raise ValueError(
                f"replay_column {column!r} not found in {str(path)!r}; its columns are {names}"
            )
        j = names.index(column)
        values: list[float] = []
        for line, row in enumerate(reader, start=2):
            if not row or all(not c.strip() for c in row):
                continue  # blank line
            text = row[j].strip() if j < len(row) else ""
            try:
                values.append(float(text))
            except ValueError:
                raise ValueError(
                    f"replay file {str(path)!r}, line {line}, column {column!r}: "
                    f"{text!r} is not a number"
                ) from None
    return values


def as_price_series(value: object, column: str) -> PriceSeries:
    """Normalise the ``replay`` field: a PriceSeries, a path (str or PathLike) or numbers."""
    if isinstance(value, PriceSeries):
        if value.source is not None and value.column is not None and value.column != column:
            return PriceSeries.load(value.source, column)  # the column was changed
        return value
    if isinstance(value, (str, os.PathLike)):
        return PriceSeries.load(value, column)
    if isinstance(value, (np.ndarray, Sequence)) and not isinstance(value, (bytes, bytearray)):
        return PriceSeries(value)
    raise ValueError(
        "replay must be a PriceSeries, a path to a .csv or .npy file, or a 1-D sequence of "
        f"prices, got {type(value).__name__}"
    )
