"""Directory swaps recover from a kill at any point; output sets are swapped in as a whole."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import train.atomic as atomic
import train.evaluation.files as files
from agents.simple import FixedSpreadAgent
from tests.train.conftest import small_market
from train.atomic import MANIFEST, atomic_dir, recover_dir, replace_dir
from train.evaluation.harness import evaluate
from train.evaluation.report import load_evaluation, save_evaluation


class Killed(BaseException):
    """What a SIGKILL between two renames looks like to the code after it: nothing runs."""


def _fill(path: Path, text: str) -> None:
    path.mkdir(parents=True, exist_ok=True)
    (path / "model.zip").write_text(text)


def _kill_at_rename(monkeypatch: pytest.MonkeyPatch, n: int) -> None:
    real, calls = os.replace, []

    def replace(src, dst):
        calls.append(dst)
        if len(calls) == n:
            raise Killed
        real(src, dst)

    monkeypatch.setattr(atomic.os, "replace", replace)


@pytest.mark.parametrize("kill_at", [1, 2, None], ids=["before-aside", "between", "after"])
def test_best_is_never_missing_after_a_kill_during_the_swap(tmp_path, monkeypatch, kill_at):
    best = tmp_path / "best"
    _fill(best, "old")
    new = tmp_path / ".best.tmp-x"
    _fill(new, "new")
    if kill_at is not None:
        _kill_at_rename(monkeypatch, kill_at)
        with pytest.raises(Killed):
            replace_dir(new, best)
        monkeypatch.undo()
    else:
        replace_dir(new, best)
    assert recover_dir(best) == (kill_at == 2)  # the half-done swap is rolled back
    assert (best / "model.zip").read_text() == ("new" if kill_at is None else "old")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["best"]  # leftovers removed


def test_stale_set_aside_and_staging_directories_are_removed(tmp_path):
    best = tmp_path / "best"
    _fill(best, "old")
    _fill(tmp_path / ".best.old-12345", "older")
    _fill(tmp_path / ".best.tmp-abcd", "partial")
    with atomic_dir(best) as tmp:
        (tmp / "model.zip").write_text("new")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["best"]
    assert (best / "model.zip").read_text() == "new"


def test_a_model_directory_reader_completes_a_half_done_swap(tmp_path):
    from train.sb3.model_dir import read_meta

    best = tmp_path / "best"
    aside = tmp_path / f".best.old-{os.getpid()}"
    aside.mkdir()
    (aside / "meta.json").write_text("[]")
    with pytest.raises(ValueError, match="JSON object"):  # found, read and checked
        read_meta(best)
    assert best.is_dir() and not aside.exists()


def _result(seed: int):
    config = small_market("default", n_steps=5)
    return evaluate(FixedSpreadAgent(config), config, 6, seed, name="fixed")


def test_a_failed_write_leaves_the_previous_set_intact_and_loadable(tmp_path, monkeypatch):
    out = tmp_path / "out"
    first = _result(1)
    save_evaluation(first, out)
    real = files.atomic_write_text
    writes = []

    def failing(path, text):  # the file size limit hit while writing episodes.csv
        writes.append(Path(path).name)
        if Path(path).name == "episodes.csv":
            raise OSError("File too large")
        return real(path, text)

    monkeypatch.setattr(files, "atomic_write_text", failing)
    with pytest.raises(OSError, match="File too large"):
        save_evaluation(_result(2), out)
    monkeypatch.undo()
    assert writes == ["summary.csv", "summary.json", "episodes.csv"]  # failed midway
    loaded = load_evaluation(out)
    assert loaded.summary() == first.summary()
    assert sorted(p.name for p in out.iterdir()) == [
        "episodes.csv", MANIFEST, "summary.csv", "summary.json"]  # no staging left


def test_load_evaluation_never_loads_a_mix(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    save_evaluation(_result(1), a)
    save_evaluation(_result(2), b)
    (a / "episodes.csv").write_bytes((b / "episodes.csv").read_bytes())  # a swap cut short
    with pytest.raises(ValueError, match="does not belong to the set"):
        load_evaluation(a)


def test_a_set_without_a_manifest_still_loads(tmp_path):
    out = tmp_path / "out"
    save_evaluation(_result(1), out)
    (out / MANIFEST).unlink()  # written before manifests existed
    assert load_evaluation(out).summary() == _result(1).summary()


def test_a_json_error_names_the_file(tmp_path):
    out = tmp_path / "out"
    save_evaluation(_result(1), out)
    (out / MANIFEST).unlink()
    (out / "summary.json").write_text("{oops")
    with pytest.raises(ValueError, match=r"summary.json' is not valid JSON"):
        load_evaluation(out)


def test_config_changes_lists_what_a_resume_refuses():
    from train.rllib.config import RLlibConfig
    from train.run_config import config_changes

    base = RLlibConfig(total_timesteps=1000)
    assert config_changes(base, base.replace(total_timesteps=5000, torch_threads=2)) == ""
    diff = config_changes(base, base.replace(preset="as2008", net_arch=(8,)))
    assert diff == "preset: 'penalty' -> 'as2008', net_arch: [64, 64] -> [8]"
