"""Atomic writes: every file and directory the package writes goes through this module.

A file (:func:`atomic_write`) is written to a temporary file in the target's directory,
flushed to disk and renamed over the target with ``os.replace``, so a reader (or a process
killed mid-write) never sees half a file. A directory (:func:`atomic_dir`: model
directories, checkpoints) is filled in a temporary sibling ``.NAME.tmp-XXXX``, flushed, then
moved into place by :func:`replace_dir` (a swap cut short by a kill is completed by
:func:`recover_dir`). A set of files (:func:`atomic_set`: an evaluation's tables, a plot
run) is staged in a temporary directory inside the target and swapped in file by file under
a ``manifest.json`` of their digests that :func:`check_set` verifies, so readers never load a
mix of two sets. Files and directories get the usual permissions
(``0o666`` / ``0o777`` less the umask), not ``mkstemp``'s private ones.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO


def umask() -> int:
    """The process's current file-mode creation mask."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write(path: str | os.PathLike[str], write: Callable[[IO[bytes]], object]) -> Path:
    """Create or replace ``path`` with what ``write(binary_file)`` writes; returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.chmod(tmp, 0o666 & ~umask())
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def atomic_write_text(path: str | os.PathLike[str], text: str) -> Path:
    """:func:`atomic_write` of ``text`` encoded as UTF-8 (no newline translation)."""
    data = text.encode("utf-8")
    return atomic_write(path, lambda fh: fh.write(data))


@contextmanager
def atomic_dir(path: str | os.PathLike[str]) -> Iterator[Path]:
    """``with atomic_dir(path) as tmp:`` fill ``tmp``; on success every file under it is
    flushed and ``tmp`` replaces ``path`` (:func:`replace_dir`); on an error it is removed and
    any previous ``path`` is left intact."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.tmp-"))
    _OWN.add(str(tmp))
    try:
        os.chmod(tmp, 0o777 & ~umask())  # mkdtemp makes it private; use the usual mode
        yield tmp
        fsync_tree(tmp)
        replace_dir(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        _OWN.discard(str(tmp))


def fsync_tree(root: Path) -> None:
    """Flush every file under ``root`` to disk (before the directory is renamed into place)."""
    for file in root.rglob("*"):
        if file.is_file():
            with open(file, "rb") as fh:
                os.fsync(fh.fileno())


def replace_dir(src: Path, dst: Path) -> None:
    """Move the complete directory ``src`` to ``dst``, replacing it.

    ``os.replace`` cannot replace a non-empty directory, so an existing ``dst`` is first
    renamed aside to ``.NAME.old-PID`` and removed after the swap. A process killed between
    the two renames leaves ``dst`` missing but the previous copy complete under
    ``.NAME.old-PID``: :func:`recover_dir` (called before every write of ``dst`` and by the
    readers of model and run directories) moves it back, so a complete ``dst`` is never lost.
    """
    recover_dir(dst, keep=src)
    old = None
    if dst.exists():
        old = dst.with_name(f"{_old_prefix(dst)}{os.getpid()}")
        shutil.rmtree(old, ignore_errors=True)
        os.replace(dst, old)
    os.replace(src, dst)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _old_prefix(path: Path) -> str:
    return f".{path.name}.old-"


def recover_dir(path: str | os.PathLike[str], keep: Path | None = None) -> bool:
    """Finish a :func:`replace_dir` cut short by a kill; True if ``path`` was restored.

    If ``path`` is missing and a set-aside ``.NAME.old-PID`` exists, the newest one is
    renamed back (the swap is rolled back to the previous complete copy). The leftovers of
    killed writes (``.NAME.old-*`` beside an existing ``path``, ``.NAME.tmp-*`` staging
    directories of other processes, but ``keep``) are removed.
    """
    path = Path(path)
    parent = path.parent
    if not parent.is_dir():
        return False
    olds = sorted(parent.glob(_old_prefix(path) + "*"), key=lambda p: p.stat().st_mtime)
    restored = False
    if olds and not path.exists():
        os.replace(olds.pop(), path)
        restored = True
    for stale in olds:
        shutil.rmtree(stale, ignore_errors=True)
    for tmp in parent.glob(f".{path.name}.tmp-*"):
        if tmp.is_dir() and not _own(tmp) and tmp != keep:
            shutil.rmtree(tmp, ignore_errors=True)
    return restored


_OWN: set[str] = set()  # staging directories this process is filling now


def _own(tmp: Path) -> bool:
    return str(tmp) in _OWN


# ------------------------------------------------------------------ sets of files
MANIFEST = "manifest.json"
_SET_PREFIX = ".set.tmp-"


def _digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


@contextmanager
def atomic_set(out: str | os.PathLike[str]) -> Iterator[Path]:
    """``with atomic_set(out) as tmp:`` write a set of files under ``tmp``; on success they
    replace their namesakes in ``out`` and ``out/manifest.json`` lists them with their
    SHA-256 digests (written last). On an error nothing in ``out`` changes. While the files
    are being moved in, the previous manifest no longer matches, so :func:`check_set`
    refuses the directory instead of reading a mix of two sets."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for stale in out.glob(_SET_PREFIX + "*"):  # a killed write's staging directory
        if not _own(stale):
            shutil.rmtree(stale, ignore_errors=True)
    tmp = Path(tempfile.mkdtemp(dir=out, prefix=_SET_PREFIX))
    _OWN.add(str(tmp))
    try:
        os.chmod(tmp, 0o777 & ~umask())
        yield tmp
        files = sorted(p for p in tmp.rglob("*") if p.is_file())
        digests = {}
        for file in files:
            with open(file, "rb") as fh:
                os.fsync(fh.fileno())
            digests[file.relative_to(tmp).as_posix()] = _digest(file)
        for file in files:
            target = out / file.relative_to(tmp)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(file, target)
        manifest = {"format": 1, "files": digests}
        atomic_write_text(out / MANIFEST, json.dumps(manifest, indent=2) + "\n")
    finally:
        _OWN.discard(str(tmp))
        shutil.rmtree(tmp, ignore_errors=True)


def set_paths(paths: list[Path], tmp: Path, out: str | os.PathLike[str]) -> list[Path]:
    """The paths under ``out`` that files written under ``tmp`` (:func:`atomic_set`) get."""
    return [Path(out) / Path(p).relative_to(tmp) for p in paths]


def check_set(out: str | os.PathLike[str], names: list[str]) -> None:
    """ValueError unless the files ``names`` of ``out`` are one complete set: each listed in
    ``out/manifest.json`` with its digest. A directory without a manifest (written before
    manifests existed) passes."""
    out = Path(out)
    manifest_path = out / MANIFEST
    if not manifest_path.is_file():
        return
    try:
        listed = json.loads(manifest_path.read_text(encoding="utf-8"))["files"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"{str(manifest_path)!r} is not a valid manifest: {exc}") from None
    for name in names:
        if not (out / name).is_file():
            raise ValueError(f"{str(out)!r} has no {name} (an incomplete output set)")
        if not isinstance(listed, dict) or listed.get(name) != _digest(out / name):
            raise ValueError(
                f"{str(out / name)!r} does not belong to the set listed in {MANIFEST} (a "
                "write cut short, or files of two runs mixed); rerun the command that wrote it"
            )
