"""The one parser of option values written as text: command-line options, ``--set``,
``--grid``, sweep values and policy-spec arguments all go through :func:`parse_value`.

With a type (a dataclass field's annotation, or the type of its default) the text must be of
that type: ``int``, ``float``, ``bool`` (``true``/``false``, also ``yes``/``no``, ``1``/``0``),
``str``, ``Path``, ``tuple[X, ...]`` (comma-separated items), ``X | None`` (``none`` is
None). Without one the type is inferred: int, float, ``true``/``false``, ``none``, else the
text. A bad value is a ValueError naming the option and what it expected.
"""

from __future__ import annotations

import types
import typing
from pathlib import Path
from typing import Any

_TRUE, _FALSE = ("true", "yes", "1", "on"), ("false", "no", "0", "off")


class UserError(ValueError):
    """A problem with what the user gave (an option, a config file, a model or run directory),
    not a bug: the ``mm-env`` command prints it as one line and exits with status 2. Raised
    where user input is parsed or loaded; a ValueError from deeper inside stays a bug."""


def parse_value(text: str, kind: Any = None, name: str = "value") -> Any:
    """``text`` as a value of type ``kind`` (None: inferred); see the module docstring."""
    text = text.strip()
    if kind is None:
        return _infer(text)
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin in (typing.Union, types.UnionType):
        if text.lower() == "none" and type(None) in args:
            return None
        (kind,) = [a for a in args if a is not type(None)] or [str]
        return parse_value(text, kind, name)
    if origin is tuple:
        item = args[0] if args else str
        return tuple(parse_value(t, item, name) for t in text.split(",") if t.strip())
    if kind is bool:
        low = text.lower()
        if low in _TRUE or low in _FALSE:
            return low in _TRUE
        raise ValueError(f"{name} must be true or false, got {text!r}")
    if kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            what = "an integer" if kind is int else "a number"
            raise ValueError(f"{name} must be {what}, got {text!r}") from None
    if kind is Path:
        return Path(text)
    return text


def _infer(text: str) -> Any:
    low = text.lower()
    if low in ("true", "false"):
        return low == "true"
    if low == "none":
        return None
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text
