"""Parameters declared once: doc, units, type and allowed range in one place.

A dataclass field is declared with :func:`param`, which stores a :class:`FieldSpec` in the
field's ``metadata["spec"]`` (and the one-line help, :meth:`FieldSpec.help_line`, in
``metadata["doc"]``, which generic dataclass tools read). Everything else reads that spec:

- :func:`check_fields`, the one generic checker, run on construction: it checks each field's
  type and range and normalises the accepted forms (ints and numpy scalars to ``float``,
  numpy integers to ``int``, ``np.str_`` to ``str``, a comma-separated string of names to a
  tuple), raising ``ValueError("<name> must be <what is allowed>, got <value!r>")``;
- :func:`field_docs`, the help texts (one line per field with its units and range);
- :func:`markdown_table`, the reference table of the docs.

Two kinds of bound are declared apart. A bound of the model itself (a probability in
``[0, 1]``, a rate ``> 0``) is a plain ``low``/``high``. A bound that only keeps the arithmetic
finite carries its reason (``low_why``/``high_why``), which the error message and the docs
quote. A range of two plain bounds is reported as an interval (``in [0, 1]``); otherwise a
message names the bound that was crossed (``>= 0``, or ``<= 1e12`` and why).

This module is generic: it imports nothing from the rest of the package. The checks of
combinations of fields live with the parameters they combine (for the market,
:mod:`mm_env.validation`).
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

Kind = Literal["real", "integer", "bool", "choice", "names", "text", "any"]
"""What a field holds: a real number (stored as ``float``), an integer (``int``), a bool, one
string of ``choices``, a tuple of distinct ``choices`` (``names``), a non-empty string
(``text``), or anything (``any``: checked elsewhere, e.g. a replayed price series)."""

Choices = tuple[str, ...] | Callable[[], Sequence[str]]


@dataclass(frozen=True)
class FieldSpec:
    """The declaration of one parameter (see :func:`param`)."""

    doc: str
    """What the parameter means (one line, no units: they are in ``units``)."""
    units: str = ""
    """Its units, e.g. ``"price units"`` or ``"1/session"``; empty if dimensionless."""
    kind: Kind = "real"
    low: float | None = None
    """Smallest allowed value (None: no lower bound)."""
    high: float | None = None
    """Largest allowed value (None: no upper bound)."""
    low_open: bool = False
    """Whether ``low`` itself is excluded (``> low``)."""
    high_open: bool = False
    """Whether ``high`` itself is excluded (``< high``)."""
    low_why: str = ""
    """Why ``low`` is there, when it only keeps the arithmetic finite."""
    high_why: str = ""
    """Why ``high`` is there, when it only keeps the arithmetic finite."""
    choices: Choices | None = None
    """The allowed strings (``choice``, ``names``): a tuple, or a function returning them (a
    registry that can grow)."""
    inf_means: str = ""
    """Non-empty: ``+inf`` is also allowed and means this (e.g. ``"no limit"``)."""
    none_means: str = ""
    """Non-empty: ``None`` is also allowed and means this (e.g. ``"S0"``)."""
    note: str = ""
    """What a range of the model means, quoted after it (e.g. "a stationary Hawkes process")."""
    allowed: str = ""
    """Description of the allowed values for the docs, where the kind says too little."""

    # ------------------------------------------------------------------ texts
    def allowed_choices(self) -> list[str]:
        """The allowed strings, in their order."""
        if self.choices is None:
            return []
        return list(self.choices() if callable(self.choices) else self.choices)

    def range_text(self) -> str:
        """The allowed values in one phrase, e.g. ``(0, 1e12]`` or ``one of 'gbm', 'abm'``."""
        if self.allowed:
            return self.allowed
        if self.kind == "bool":
            return "True or False"
        if self.kind == "text":
            return "a non-empty string"
        if self.kind == "choice":
            return "one of " + ", ".join(repr(c) for c in self.allowed_choices())
        if self.kind == "names":
            return (
                "distinct names from " + ", ".join(repr(c) for c in self.allowed_choices())
                + " (a tuple or a comma-separated string)"
            )
        if self.kind == "any":
            return "see the doc"
        text = self._interval() if self.low is not None and self.high is not None else (
            self._side("low") if self.low is not None else
            self._side("high") if self.high is not None else "any finite number"
        )
        if self.kind == "integer":
            text = "integer " + ("in " + text if text.startswith(("[", "(")) else text)
        if self.inf_means:
            text += f", or inf ({self.inf_means})"
        if self.none_means:
            text += f", or None ({self.none_means})"
        if self.note:
            text += f" ({self.note})"
        return text

    def reasons(self) -> str:
        """The reasons of the bounds that keep the arithmetic finite ("" if none)."""
        out = []
        if self.low_why:
            out.append(f"{format_number(self.low)}: {self.low_why}")
        if self.high_why and self.high_why != self.low_why:
            out.append(f"{format_number(self.high)}: {self.high_why}")
        elif self.high_why:
            out[-1] = f"{format_number(self.low)} and {format_number(self.high)}: {self.high_why}"
        return "; ".join(out)

    def help_line(self) -> str:
        """One line for help texts: the doc, the units and the allowed range."""
        units = f" [{self.units}]" if self.units else ""
        return f"{self.doc}{units}; allowed: {self.range_text()}"

    def _interval(self) -> str:
        left = "(" if self.low_open else "["
        right = ")" if self.high_open else "]"
        return f"{left}{format_number(self.low)}, {format_number(self.high)}{right}"

    def _side(self, side: Literal["low", "high"]) -> str:
        if side == "low":
            return (">" if self.low_open else ">=") + f" {format_number(self.low)}"
        return ("<" if self.high_open else "<=") + f" {format_number(self.high)}"

    # -------------------------------------------------------------- checking
    def check(self, name: str, value: Any) -> Any:
        """``value`` normalised to the declared type, or ValueError naming ``name``."""
        if value is None and self.none_means:
            return None
        if self.kind == "real":
            return self._check_real(name, value)
        if self.kind == "integer":
            return self._check_integer(name, value)
        if self.kind == "bool":
            if not isinstance(value, (bool, np.bool_)):
                raise ValueError(f"{name} must be True or False, got {value!r}")
            return bool(value)
        if self.kind == "choice":
            allowed = self.allowed_choices()
            if not isinstance(value, str) or value not in allowed:
                raise ValueError(f"{name} must be one of {allowed}, got {value!r}")
            return str(value)
        if self.kind == "names":
            return self._check_names(name, value)
        if self.kind == "text":
            if not isinstance(value, str) or not value:
                raise ValueError(f"{name} must be a non-empty string, got {value!r}")
            return str(value)
        return value

    def _check_real(self, name: str, value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise ValueError(f"{name} must be a real number, got {value!r}")
        x = float(value)
        if math.isnan(x) and self.inf_means:
            raise ValueError(f"{name} must be a number or inf ({self.inf_means}), got {x!r}")
        if math.isinf(x) and self.inf_means:
            return x  # +inf is allowed; -inf is left to the checks that compare it
        if not math.isfinite(x):
            raise ValueError(f"{name} must be finite, got {x!r}")
        self._check_range(name, x, "")
        return x

    def _check_integer(self, name: str, value: Any) -> int:
        prefix = "an integer "
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
            side = self._side("low") if self.low is not None else ""
            raise ValueError(f"{name} must be {prefix}{side}".rstrip() + f", got {value!r}")
        n = int(value)
        self._check_range(name, n, prefix)
        return n

    def _check_range(self, name: str, x: float, prefix: str) -> None:
        too_low = self.low is not None and (x <= self.low if self.low_open else x < self.low)
        too_high = self.high is not None and (
            x >= self.high if self.high_open else x > self.high
        )
        if not (too_low or too_high):
            return
        inf = f" or inf ({self.inf_means})" if self.inf_means else ""
        if self.low is not None and self.high is not None and not (
            self.low_why or self.high_why
        ):
            allowed = f"in {self._interval()}" + (f" ({self.note})" if self.note else "")
        elif too_low:
            allowed = self._side("low") + (f" ({self.low_why})" if self.low_why else "")
        else:
            allowed = self._side("high") + (f" ({self.high_why})" if self.high_why else "")
        raise ValueError(f"{name} must be {prefix}{allowed}{inf}, got {_shown(x)}")

    def _check_names(self, name: str, value: Any) -> tuple[str, ...]:
        allowed = self.allowed_choices()
        names = value
        if isinstance(names, str):  # "signal,realized_vol" (command lines, TOML)
            names = tuple(e.strip() for e in names.split(",") if e.strip())
        if not isinstance(names, (tuple, list)):
            raise ValueError(
                f"{name} must be a tuple of names from {allowed} (or a comma-separated "
                f"string), got {value!r}"
            )
        names = tuple(names)
        if (
            not all(isinstance(e, str) for e in names)
            or any(e not in allowed for e in names)
            or len(set(names)) != len(names)
        ):
            raise ValueError(f"{name} must be distinct names from {allowed}, got {list(names)!r}")
        return tuple(str(e) for e in names)


def param(
    default: Any,
    *,
    doc: str,
    units: str = "",
    kind: Kind | None = None,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
    low_why: str = "",
    high_why: str = "",
    choices: Choices | None = None,
    inf_means: str = "",
    none_means: str = "",
    note: str = "",
    allowed: str = "",
) -> Any:
    """A dataclass field with its :class:`FieldSpec` (the arguments are its attributes).

    ``kind`` defaults from ``default``: bool, integer, real, ``choice`` for a string with
    ``choices``, ``text`` for another string, ``names`` for a tuple with ``choices``.
    """
    if kind is None:
        kind = _kind_of(default, choices)
    spec = FieldSpec(
        doc=doc, units=units, kind=kind, low=low, high=high, low_open=low_open,
        high_open=high_open, low_why=low_why, high_why=high_why, choices=choices,
        inf_means=inf_means, none_means=none_means, note=note, allowed=allowed,
    )
    return dataclasses.field(default=default, metadata=_Metadata(spec))


class _Metadata(Mapping[str, Any]):
    """A field's metadata: ``"spec"``, its :class:`FieldSpec`, and ``"doc"``, its help line,
    computed when read (the choices of a registry can grow after the declaration)."""

    def __init__(self, spec: FieldSpec) -> None:
        self._spec = spec

    def __getitem__(self, key: str) -> Any:
        if key == "spec":
            return self._spec
        if key == "doc":
            return self._spec.help_line()
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return iter(("spec", "doc"))

    def __len__(self) -> int:
        return 2


def _kind_of(default: Any, choices: Choices | None) -> Kind:
    if isinstance(default, bool):
        return "bool"
    if isinstance(default, int):
        return "integer"
    if isinstance(default, float):
        return "real"
    if isinstance(default, str):
        return "choice" if choices is not None else "text"
    if isinstance(default, tuple) and choices is not None:
        return "names"
    raise TypeError(f"give the kind of a parameter with default {default!r}")


# ---------------------------------------------------------------------- readers
def specs(cls: Any) -> dict[str, FieldSpec]:
    """The :class:`FieldSpec` of every field of the dataclass ``cls`` (or of an instance)."""
    return {f.name: f.metadata["spec"] for f in dataclasses.fields(cls)}


def check_fields(obj: Any) -> None:
    """Check and normalise every field of the frozen dataclass instance ``obj`` in place
    (normalised values are set with ``object.__setattr__``); ValueError on a bad value."""
    for name, spec in specs(obj).items():
        value = getattr(obj, name)
        checked = spec.check(name, value)
        if checked is not value:
            object.__setattr__(obj, name, checked)


def field_docs(cls: Any) -> dict[str, str]:
    """One help line per field: doc, units and allowed range (:meth:`FieldSpec.help_line`)."""
    return {name: spec.help_line() for name, spec in specs(cls).items()}


def markdown_table(
    cls: Any, *, title: str, intro: str = "", rules: Iterable[str] = (), regenerate: str = ""
) -> str:
    """A Markdown page with a table of every field of ``cls``: name, default, units,
    allowed range (with the reasons of the bounds that keep the arithmetic finite) and doc,
    then the ``rules`` (checks of combinations) as a list."""
    lines = [f"# {title}", ""]
    if regenerate:
        lines += [f"<!-- generated from the declaration; regenerate with: {regenerate} -->", ""]
    if intro:
        lines += [intro, ""]
    lines += [
        "| name | default | units | allowed | description |",
        "| --- | --- | --- | --- | --- |",
    ]
    for f in dataclasses.fields(cls):
        spec: FieldSpec = f.metadata["spec"]
        allowed = spec.range_text()
        if spec.reasons():
            allowed += f" ({spec.reasons()})"
        cells = [f"`{f.name}`", f"`{f.default!r}`", spec.units or "-", allowed, spec.doc]
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    rules = list(rules)
    if rules:
        lines += ["", "## Combinations", "", "Checked after every field is in its range:", ""]
        lines += [f"- {rule}" for rule in rules]
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _shown(x: float) -> str:
    """``repr(x)``, shortened for integers of more than 30 digits."""
    text = repr(x)
    if len(text) > 30:
        return f"{text[:6]}... (an integer of {len(text.lstrip('-'))} digits)"
    return text


def format_number(x: float | None) -> str:
    """A bound as written in messages: ``0``, ``1``, ``0.5``, ``700``, ``1e12``."""
    if x is None:
        return "none"
    if float(x).is_integer() and abs(x) < 1e6:
        return str(int(x))
    text = f"{x:.6g}"
    return text.replace("e+", "e").replace("e0", "e").replace("e-0", "e-")


class ParamValues(Mapping[str, float]):
    """A read-only, hashable mapping of parameter names to floats (e.g. a component's own
    parameters in a frozen config); equal to any mapping with the same items."""

    __slots__ = ("_items",)
    _items: dict[str, float]

    def __init__(self, values: Mapping[str, float] | Iterable[tuple[str, float]] = ()) -> None:
        items = dict(values)
        object.__setattr__(self, "_items", dict(sorted(items.items())))

    def __getitem__(self, key: str) -> float:
        return self._items[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __hash__(self) -> int:
        return hash(tuple(self._items.items()))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Mapping) and dict(other) == self._items

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("ParamValues is read-only")

    def __reduce__(self) -> tuple[Any, ...]:
        return (ParamValues, (self._items,))

    def __repr__(self) -> str:
        return repr(self._items)
