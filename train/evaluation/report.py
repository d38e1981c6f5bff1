"""Reports: printed tables, and CSV/JSON files with stable column names, written atomically.

Files of an output directory: each set is staged in a temporary directory inside it and
swapped in as a whole under a ``manifest.json`` of digests (:func:`train.atomic.atomic_set`);
the loaders check it, so they never read half a file or a mix of two runs' files:

=================  ==========================================================================
``evaluate``       ``summary.csv`` (one row: ``policy``, ``ce_gamma``, ``n_episodes``,
                   ``mean_pnl``, ``se_pnl``, the other metrics), ``summary.json`` (policy,
                   settings, config, summary, and ``estimates``: each metric's value and SE),
                   ``episodes.csv`` (``episode`` and
                   :data:`train.evaluation.harness.EPISODE_COLUMNS`)
``compare``        ``comparison.csv`` (long: ``policy, metric, value, se, diff, diff_se``),
                   ``summary.csv`` (one row per policy), ``comparison.json``,
                   ``episodes.csv`` (with a ``policy`` column)
``sweep``          ``sweep.csv`` (``param, value, policy`` + summary), ``sweep.json``,
                   ``episodes.csv`` (with ``value`` and ``policy`` columns)
=================  ==========================================================================

The files are written and read by :mod:`train.evaluation.files` (strict JSON, CSV floats in
Python's shortest round-trip form).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from mm_env import MarketConfig
from train.atomic import atomic_set, check_set, set_paths
from train.evaluation.compare import (
    COMPARISON_COLUMNS,
    SWEEP_PRINT_COLUMNS,
    ComparisonResult,
    SweepResult,
)
from train.evaluation.files import read_csv, read_json, write_csv, write_json
from train.evaluation.harness import EPISODE_COLUMNS, EvalSettings, EvaluationResult
from train.evaluation.stats import METRICS, EpisodeArrays

SUMMARY_COLUMNS: tuple[str, ...] = ("policy", "ce_gamma", "n_episodes", "mean_pnl", "se_pnl",
                                    *METRICS[1:])


# ------------------------------------------------------------------ printed tables
def format_number(value: Any) -> str:
    """Numbers for tables: integers plainly, floats with 4 decimals (scientific if tiny/huge)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.number)):
        return str(value)
    x = float(value)
    if not math.isfinite(x):
        return str(x)
    if x == int(x) and abs(x) < 1e12 and isinstance(value, (int, np.integer)):
        return str(int(x))
    if x != 0 and (abs(x) >= 1e7 or abs(x) < 1e-3):
        return f"{x:.4e}"
    return f"{x:.4f}"


def format_table(rows: Sequence[Sequence[Any]], header: Sequence[str], title: str = "") -> str:
    """A plain-text table: strings left-aligned, numbers right-aligned."""
    cells = [[format_number(v) for v in row] for row in rows]
    left = [not isinstance(rows[0][j], (int, float, np.number)) if rows else True
            for j in range(len(header))]
    widths = [max([len(h)] + [len(r[j]) for r in cells]) for j, h in enumerate(header)]

    def line(values: Sequence[str]) -> str:
        padded = (v.ljust(w) if lj else v.rjust(w)
                  for v, w, lj in zip(values, widths, left, strict=True))
        return "  ".join(padded).rstrip()

    out = [title] if title else []
    out += [line(list(header)), "  ".join("-" * w for w in widths)]
    out += [line(r) for r in cells]
    return "\n".join(out) + "\n"


def format_evaluation(result: EvaluationResult) -> str:
    """Metric, value and standard error of one evaluation."""
    s = result.settings
    title = (f"{result.policy}: {s.n_episodes} episodes, seed {s.seed}, "
             f"certainty equivalent at gamma={s.ce_gamma:g}")
    rows = [[name, e.value, e.se] for name, e in result.estimates().items()]
    return format_table(rows, ["metric", "value", "se"], title)


def format_comparison(result: ComparisonResult) -> str:
    """Metrics by policy, then each policy's paired difference to the reference ``± se``."""
    est = result.estimates()
    ref = result.reference
    others = [p for p in result.policies if p != ref]
    header = ["metric", *result.policies, *[f"{p} - {ref}" for p in others]]
    rows = []
    for metric in METRICS:
        row: list[Any] = [metric, *[est[p][metric].value for p in result.policies]]
        for p in others:
            e = est[p][metric]
            row.append(f"{format_number(e.diff)} ± {format_number(e.diff_se)}")
        rows.append(row)
    r0 = next(iter(result.results.values()))
    s = r0.settings
    title = (f"{len(result.policies)} policies on the same {s.n_episodes} episodes (seed "
             f"{s.seed}); differences to {ref!r} ± paired standard error")
    return format_table(rows, header, title)


def format_sweep(result: SweepResult, columns: Sequence[str] = SWEEP_PRINT_COLUMNS) -> str:
    """One row per value with the notebook's sensitivity columns."""
    rows = [[row["value"], *[row[c] for c in columns]] for row in result.rows()]
    title = f"sweep of {result.param} ({result.target}): {result.results[0].settings.n_episodes} "
    title += f"episodes per value, seed {result.results[0].settings.seed}"
    return format_table(rows, [result.param, *columns], title)


# ------------------------------------------------------------------ result files
def _summary_row(result: EvaluationResult) -> dict[str, Any]:
    return {"policy": result.policy, "ce_gamma": result.settings.ce_gamma, **result.summary()}


def _estimates_dict(result: EvaluationResult) -> dict[str, dict[str, float]]:
    return {k: {"value": e.value, "se": e.se} for k, e in result.estimates().items()}


def save_evaluation(result: EvaluationResult, out_dir: str | Path) -> list[Path]:
    """Write ``summary.csv``, ``summary.json`` and ``episodes.csv`` into ``out_dir``."""
    out = Path(out_dir)
    doc = {**result.metadata(), "summary": result.summary(),
           "estimates": _estimates_dict(result)}
    with atomic_set(out) as tmp:
        paths = [
            write_csv(tmp / "summary.csv", [_summary_row(result)], SUMMARY_COLUMNS),
            write_json(tmp / "summary.json", doc),
            write_csv(tmp / "episodes.csv", result.episode_rows(), ("episode", *EPISODE_COLUMNS)),
        ]
    return set_paths(paths, tmp, out)


def _result_from(meta: dict[str, Any], rows: list[dict[str, Any]]) -> EvaluationResult:
    rows = sorted(rows, key=lambda r: int(r["episode"]))
    arrays = EpisodeArrays(
        *(np.array([float(r[c]) for r in rows], dtype=np.float64) for c in EPISODE_COLUMNS)
    )
    return EvaluationResult(
        policy=str(meta["policy"]),
        config=MarketConfig.from_dict(meta["config"]),
        settings=EvalSettings(**meta["settings"]),
        episodes=arrays,
    )


def load_evaluation(out_dir: str | Path) -> EvaluationResult:
    """Read back what :func:`save_evaluation` wrote (equal to the saved result)."""
    out = Path(out_dir)
    check_set(out, ["summary.json", "episodes.csv"])
    return _result_from(read_json(out / "summary.json"), read_csv(out / "episodes.csv"))


def save_comparison(result: ComparisonResult, out_dir: str | Path) -> list[Path]:
    """Write ``comparison.csv``, ``summary.csv``, ``comparison.json``, ``episodes.csv``."""
    out = Path(out_dir)
    rows = result.rows()
    doc = {
        "reference": result.reference,
        "policies": [r.metadata() for r in result.results.values()],
        "comparison": rows,
    }
    episodes = [{"policy": name, **row} for name, r in result.results.items()
                for row in r.episode_rows()]
    with atomic_set(out) as tmp:
        paths = [
            write_csv(tmp / "comparison.csv", rows, COMPARISON_COLUMNS),
            write_csv(tmp / "summary.csv", [_summary_row(r) for r in result.results.values()],
                      SUMMARY_COLUMNS),
            write_json(tmp / "comparison.json", doc),
            write_csv(tmp / "episodes.csv", episodes, ("policy", "episode", *EPISODE_COLUMNS)),
        ]
    return set_paths(paths, tmp, out)


def load_comparison(out_dir: str | Path) -> ComparisonResult:
    """Read back what :func:`save_comparison` wrote."""
    out = Path(out_dir)
    check_set(out, ["comparison.json", "episodes.csv"])
    doc = read_json(out / "comparison.json")
    rows = read_csv(out / "episodes.csv")
    results = {}
    for meta in doc["policies"]:
        name = meta["policy"]
        results[name] = _result_from(meta, [r for r in rows if str(r["policy"]) == name])
    return ComparisonResult(results, doc["reference"])


def save_sweep(result: SweepResult, out_dir: str | Path) -> list[Path]:
    """Write ``sweep.csv``, ``sweep.json`` and ``episodes.csv`` into ``out_dir``."""
    out = Path(out_dir)
    rows = result.rows()
    columns = ("param", "value", "policy", "ce_gamma", *SUMMARY_COLUMNS[2:])
    for row in rows:
        row["ce_gamma"] = result.results[0].settings.ce_gamma
    doc = {
        "param": result.param,
        "target": result.target,
        "values": list(result.values),
        "runs": [r.metadata() for r in result.results],
        "sweep": rows,
    }
    episodes = [{"value": v, "policy": r.policy, **row}
                for v, r in zip(result.values, result.results, strict=True)
                for row in r.episode_rows()]
    with atomic_set(out) as tmp:
        paths = [
            write_csv(tmp / "sweep.csv", rows, columns),
            write_json(tmp / "sweep.json", doc),
            write_csv(tmp / "episodes.csv", episodes,
                      ("value", "policy", "episode", *EPISODE_COLUMNS)),
        ]
    return set_paths(paths, tmp, out)


def load_sweep(out_dir: str | Path) -> SweepResult:
    """Read back what :func:`save_sweep` wrote."""
    out = Path(out_dir)
    check_set(out, ["sweep.json", "episodes.csv"])
    doc = read_json(out / "sweep.json")
    rows = read_csv(out / "episodes.csv")
    results = []
    for meta in doc["runs"]:
        name = meta["policy"]
        results.append(_result_from(meta, [r for r in rows if str(r["policy"]) == name]))
    return SweepResult(doc["param"], doc["target"], tuple(doc["values"]), tuple(results))
