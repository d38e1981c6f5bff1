"""The one generator from dataclasses to ``argparse`` options, used by every subcommand.

:func:`add_dataclass_options` adds one ``--field-name`` option per field of a dataclass: the
help is the field's ``metadata["doc"]`` (and its default), the value is parsed by
:func:`train.values.parse_value` as the field's annotation says (``bool`` fields become
``--flag/--no-flag``, ``tuple`` fields take comma-separated items), and ``metadata["flag"]``
renames the option. :func:`from_options` builds the dataclass back from the parsed options,
:func:`given_options` lists the ones given on the command line (for configs read from TOML
first). Market parameters (``--set KEY=VALUE``) go through the same parser, typed by
:class:`mm_env.MarketConfig`'s fields, with :meth:`mm_env.MarketConfig.field_docs` as help.
"""

from __future__ import annotations

import argparse
import dataclasses
import typing
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from mm_env import PRESETS, MarketConfig, available_presets
from mm_env.multi_asset import available_presets as multi_asset_presets
from train.values import UserError, parse_value


class CLIError(UserError):
    """A user error found by the CLI itself: printed as ``mm-env: error: ...``, exit 2."""


def user_input(what: str, build: Callable[[], Any]) -> Any:
    """``build()``, with a ValueError/TypeError of the object it builds from user input (a
    config's validation) turned into a :class:`CLIError` prefixed by ``what``."""
    try:
        return build()
    except UserError:
        raise
    except (ValueError, TypeError) as exc:
        raise CLIError(f"{what}: {exc}") from None


def flag(f: dataclasses.Field[Any]) -> str:
    """The option of field ``f``: ``--`` and its name (or ``metadata["flag"]``), kebab-case."""
    return "--" + str(f.metadata.get("flag", f.name)).replace("_", "-")


def _default(f: dataclasses.Field[Any]) -> Any:
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return None


def _show(value: Any) -> str:
    return ",".join(map(str, value)) if isinstance(value, tuple) else str(value)


def value_type(kind: Any, name: str) -> Callable[[str], Any]:
    """An argparse ``type=`` parsing the option ``name`` as ``kind`` (:func:`parse_value`)."""

    def parse(text: str) -> Any:
        try:
            return parse_value(text, kind, name)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return parse


def add_dataclass_options(
    parser: argparse._ActionsContainer,
    cls: type,
    *,
    skip: Iterable[str] = (),
    unset_is_none: bool = False,
) -> None:
    """One option per field of dataclass ``cls`` but ``skip``; see the module docstring.

    ``unset_is_none``: an option not given parses as None (not the field's default), so
    :func:`given_options` can tell which were given.
    """
    hints = typing.get_type_hints(cls)
    skipped = set(skip)
    for f in dataclasses.fields(cls):
        if f.name in skipped:
            continue
        default, hint = _default(f), hints[f.name]
        doc = f"{f.metadata.get('doc', '')} (default: {_show(default)})"
        kw: dict[str, Any] = {"dest": f.name, "help": doc,
                              "default": None if unset_is_none else default}
        if hint is bool:
            kw["action"] = argparse.BooleanOptionalAction
        else:
            tuple_field = typing.get_origin(hint) is tuple
            kw["metavar"] = "A,B,..." if tuple_field else f.name.upper()
            kw["type"] = value_type(hint, f.name)
        parser.add_argument(flag(f), **kw)


def from_options(args: argparse.Namespace, cls: type, **more: Any) -> Any:
    """Dataclass ``cls`` from the options :func:`add_dataclass_options` added (plus ``more``)."""
    values = {
        f.name: getattr(args, f.name) for f in dataclasses.fields(cls) if hasattr(args, f.name)
    }
    return user_input(cls.__name__, lambda: cls(**{**values, **more}))


def given_options(args: argparse.Namespace, cls: type, skip: Iterable[str] = ()) -> dict[str, Any]:
    """The fields of ``cls`` whose options were given (added with ``unset_is_none``)."""
    skipped = set(skip)
    return {
        f.name: getattr(args, f.name)
        for f in dataclasses.fields(cls)
        if f.name not in skipped and getattr(args, f.name, None) is not None
    }


# ------------------------------------------------------------------ market options
def add_market_options(
    parser: argparse.ArgumentParser, preset_default: str | None = "default", preset_help: str = ""
) -> None:
    """``--preset NAME`` and the repeatable ``--set KEY=VALUE`` (read by :func:`market_from`)."""
    market = parser.add_argument_group("market")
    market.add_argument("--preset", default=preset_default,
                        choices=[*available_presets(), *multi_asset_presets()],
                        help=preset_help or "named parameter set (default: %(default)s; "
                        f"{', '.join(multi_asset_presets())}: multi-asset, for evaluate and "
                        "compare)")
    market.add_argument("--set", dest="overrides", action="append", default=[],
                        metavar="KEY=VALUE",
                        help="override one market parameter (repeatable); see the list below")


def parse_overrides(items: Sequence[str]) -> dict[str, Any]:
    """``["sigma=0.03", "n_steps=100"]`` -> ``{"sigma": 0.03, "n_steps": 100}``, typed by field."""
    fields = {f.name for f in dataclasses.fields(MarketConfig)}
    out: dict[str, Any] = {}
    for item in items:
        key, eq, text = item.partition("=")
        key = key.strip()
        if not eq:
            raise CLIError(f"--set takes KEY=VALUE, got {item!r}")
        if key not in fields:
            raise CLIError(f"--set: unknown market parameter {key!r}; valid: {sorted(fields)}")
        out[key] = market_value(key, text)
    return out


_PLAIN = (bool, int, float, str)


def _market_kind(key: str) -> Any:
    """The type ``--set KEY=...`` is parsed as: the field's declared type when it is a plain
    scalar, ``X | None`` or a tuple of those (``ou_mean=none``, ``obs_extras=a,b``), else
    text (a path, a name) that MarketConfig itself converts and checks."""
    hint = typing.get_type_hints(MarketConfig)[key]
    args = tuple(a for a in typing.get_args(hint) if a is not type(None))
    if hint in _PLAIN or (typing.get_origin(hint) is tuple and args and args[0] in _PLAIN):
        return hint
    if type(None) in typing.get_args(hint):
        return (args[0] if len(args) == 1 and args[0] in _PLAIN else str) | None
    return str


def market_value(key: str, text: str) -> Any:
    """The value of market parameter ``key`` written as ``text``, typed by its declaration."""
    kind = _market_kind(key)
    try:
        return parse_value(text, kind, key)
    except ValueError as exc:
        raise CLIError(str(exc)) from None


def market_from(args: argparse.Namespace) -> MarketConfig:
    """The market of ``--preset`` and ``--set``."""
    if args.preset in multi_asset_presets():
        raise CLIError(
            f"--preset {args.preset} is a multi-asset preset: only mm-env evaluate and mm-env "
            "compare take it"
        )
    overrides = parse_overrides(args.overrides)
    return user_input("market", lambda: MarketConfig.preset(args.preset, **overrides))


def market_epilog(policies: str) -> str:
    """The help epilog: every market parameter with its doc, the presets, the policies."""
    defaults = MarketConfig()
    lines = ["market parameters (--set KEY=VALUE; values of the 'default' preset):"]
    for name, doc in MarketConfig.field_docs().items():
        lines.append(f"  {name + ' = ' + str(getattr(defaults, name)):<24} {doc}")
    lines.append("")
    lines.append("presets (--preset NAME; --set overrides them):")
    for name in available_presets():
        changes = ", ".join(f"{k}={_short(v)}" for k, v in PRESETS[name].items()) or "the above"
        lines.append(f"  {name:<10} {changes}")
    lines.append("")
    lines.append("policies (--policy NAME[:key=value,...], or a dotted import path of a class):")
    lines.append(policies)
    return "\n".join(lines)


def _short(v: Any) -> str:
    return f"{v:.6g}" if isinstance(v, float) else str(v)
