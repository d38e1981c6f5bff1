"""The one CSV and JSON writer/reader pair of the package: atomic writes, exact read-backs.

CSV: a header of the given columns, then one line per row (missing values empty, floats in
Python's shortest round-trip form), so :func:`read_csv` gives back the same numbers (int
where the text is an integer, else float, else the text; empty cells as None). JSON is strict
(no ``NaN`` tokens): non-finite floats are written as the strings ``"nan"``, ``"inf"`` and
``"-inf"`` and read back as floats by :func:`read_json`. Every write goes to a temporary file
in the same directory, then ``os.replace`` (:mod:`train.atomic`).
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from train.atomic import atomic_write_text
from train.values import UserError

_NONFINITE = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}


def _cell(value: Any) -> Any:
    if isinstance(value, (float, np.floating)):
        return repr(float(value))
    if isinstance(value, np.integer):
        return int(value)
    return "" if value is None else value


def write_csv(path: str | Path, rows: Iterable[dict[str, Any]], columns: Sequence[str]) -> Path:
    """Write ``rows`` (dicts) with a header of ``columns``, atomically (keys of a row that
    are not columns are left out)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(c)) for c in columns])
    return atomic_write_text(Path(path), buf.getvalue())


def _parse(text: str) -> Any:
    if text == "":
        return None
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


def read_csv(path: str | Path) -> list[dict[str, Any]]:
    """Rows of a CSV written by :func:`write_csv`, numbers parsed (int, else float)."""
    with open(path, encoding="utf-8", newline="") as fh:
        return [{k: _parse(v) for k, v in row.items()} for row in csv.DictReader(fh)]


def _encode(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _encode(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_encode(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _encode(obj.tolist())
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        x = float(obj)
        return x if math.isfinite(x) else ("nan" if math.isnan(x) else ("inf" if x > 0 else "-inf"))
    return obj


def _decode(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _decode(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_decode(v) for v in obj]
    if isinstance(obj, str) and obj in _NONFINITE:
        return _NONFINITE[obj]
    return obj


def write_json(path: str | Path, obj: Any) -> Path:
    """Write ``obj`` as strict, indented JSON (non-finite floats as strings), atomically."""
    return atomic_write_text(Path(path), json.dumps(_encode(obj), indent=2, allow_nan=False) + "\n")


def read_json(path: str | Path) -> Any:
    """Read JSON written by :func:`write_json` (``"nan"``, ``"inf"``, ``"-inf"`` become floats);
    a file that is not JSON is a UserError naming it."""
    with open(path, encoding="utf-8") as fh:
        try:
            return _decode(json.load(fh))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise UserError(f"{str(path)!r} is not valid JSON: {exc}") from None
