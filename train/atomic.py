"""Atomic file writes: every file the package writes goes through :func:`atomic_write`.

The content is written to a temporary file in the target's directory, flushed to disk and
renamed over the target with ``os.replace``, so a reader (or a process killed mid-write)
never sees half a file. The file gets the usual permissions (``0o666`` less the umask), not
``mkstemp``'s private ``0o600``.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
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
