"""Atomic writes: every file and directory the package writes goes through this module.

A file (:func:`atomic_write`) is written to a temporary file in the target's directory,
flushed to disk and renamed over the target with ``os.replace``, so a reader (or a process
killed mid-write) never sees half a file. A directory (:func:`atomic_dir`: model
directories, checkpoints) is filled in a temporary sibling ``.NAME.tmp-XXXX``, flushed, then
moved into place by :func:`replace_dir`. Files and directories get the usual permissions
(``0o666`` / ``0o777`` less the umask), not ``mkstemp``'s private ones.
"""

from __future__ import annotations

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
    try:
        os.chmod(tmp, 0o777 & ~umask())  # mkdtemp makes it private; use the usual mode
        yield tmp
        fsync_tree(tmp)
        replace_dir(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def fsync_tree(root: Path) -> None:
    """Flush every file under ``root`` to disk (before the directory is renamed into place)."""
    for file in root.rglob("*"):
        if file.is_file():
            with open(file, "rb") as fh:
                os.fsync(fh.fileno())


def replace_dir(src: Path, dst: Path) -> None:
    """Move the complete directory ``src`` to ``dst``, replacing it.

    ``os.replace`` cannot replace a non-empty directory, so an existing ``dst`` is first
    renamed aside and removed after the swap. A process killed between the two renames
    leaves the previous copy complete under ``.NAME.old-PID`` (never a partial ``dst``).
    """
    old = None
    if dst.exists():
        old = dst.with_name(f".{dst.name}.old-{os.getpid()}")
        shutil.rmtree(old, ignore_errors=True)
        os.replace(dst, old)
    os.replace(src, dst)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
