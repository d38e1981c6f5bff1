"""The ``mm-env train`` subcommand: options generated from :class:`train.config.TrainConfig`.

::

    mm-env train --out runs/ppo                       # the default task (preset "penalty")
    mm-env train --out runs/ppo --config my.toml --total-timesteps 2000000 --set phi=0.05
    mm-env train --resume runs/ppo                     # continue from the last checkpoint

Precedence: field defaults < ``--config FILE`` < options given on the command line.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import typing
from typing import Any

from train.config import TrainConfig

_SKIP = ("preset", "overrides")  # given by the shared --preset / --set options


def _parse_tuple(kind: type, name: str) -> Any:
    def parse(text: str) -> tuple[Any, ...]:
        try:
            return tuple(kind(x.strip()) for x in text.split(",") if x.strip())
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{name} takes comma-separated {kind.__name__} values, got {text!r}"
            ) from None

    return parse


def _parse_scalar(kind: type, name: str) -> Any:
    def parse(text: str) -> Any:
        try:
            return kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{name} must be {kind.__name__}, got {text!r}"
            ) from None

    return parse


def add_train_options(parser: argparse.ArgumentParser) -> None:
    """One option per TrainConfig field (help from its doc), plus --config/--resume/--out."""
    add_dataclass_options(parser, TrainConfig, "training options (TrainConfig fields)")
    parser.add_argument(
        "--config",
        default=None,
        metavar="FILE",
        help="read the TrainConfig from a TOML file (as written to "
        "RUN_DIR/config.toml); options given here override it",
    )
    parser.add_argument(
        "--resume",
        default=None,
        metavar="RUN_DIR",
        help="continue an interrupted run from its last checkpoint",
    )


def add_dataclass_options(parser: argparse.ArgumentParser, cls: type, title: str) -> None:
    """One ``--field-name`` option per field of the config dataclass ``cls`` (but the market's
    ``preset``/``overrides``), typed by its annotation, its doc and default as help."""
    hints = typing.get_type_hints(cls)
    defaults = cls()
    group = parser.add_argument_group(title)
    for f in dataclasses.fields(cls):
        if f.name in _SKIP:
            continue
        flag = "--" + f.name.replace("_", "-")
        default = getattr(defaults, f.name)
        doc = f"{f.metadata.get('doc', '')} (default: {_show(default)})"
        hint = hints[f.name]
        if hint is bool:
            group.add_argument(
                flag, dest=f.name, default=None, action=argparse.BooleanOptionalAction, help=doc
            )
        elif typing.get_origin(hint) is tuple:
            kind = typing.get_args(hint)[0]
            group.add_argument(
                flag,
                dest=f.name,
                default=None,
                metavar="A,B,...",
                type=_parse_tuple(kind, f.name),
                help=doc,
            )
        else:
            group.add_argument(
                flag,
                dest=f.name,
                default=None,
                metavar=f.name.upper(),
                type=_parse_scalar(hint, f.name),
                help=doc,
            )


def _show(value: Any) -> str:
    if isinstance(value, tuple):
        return ",".join(map(str, value))
    return str(value)


def config_from_args(
    args: argparse.Namespace, overrides: dict[str, Any], cls: type[Any] = TrainConfig
) -> Any:
    """Defaults, then ``--config``, then the explicit options and ``--preset``/``--set``
    (``cls``: TrainConfig or another config dataclass with the same TOML methods)."""
    cfg = cls.from_toml(args.config) if args.config else cls()
    changes = {
        f.name: getattr(args, f.name)
        for f in dataclasses.fields(cls)
        if f.name not in _SKIP and getattr(args, f.name, None) is not None
    }
    if args.preset_given:
        changes["preset"] = args.preset
    if overrides:
        changes["overrides"] = {**cfg.overrides, **overrides}
    return cfg.replace(**changes)


def check_resume_alone(
    args: argparse.Namespace, overrides: dict[str, Any], cls: type, what: str
) -> None:
    """ValueError if ``--resume`` comes with options that would define another run."""
    options = [
        "--" + f.name.replace("_", "-")
        for f in dataclasses.fields(cls)
        if f.name not in _SKIP and getattr(args, f.name, None) is not None
    ]
    if getattr(args, "preset_given", False):
        options.append("--preset")
    if args.out or args.config or overrides or options:
        given = ", ".join(options)
        raise ValueError(
            "--resume continues a run with its own config.toml; do not "
            f"combine it with --out, --config, --set, --preset or {what} options"
            + (f" (got {given})" if given else "")
        )


def report_run(result: Any) -> None:
    """Print a finished run (SB3 or RLlib): steps, time, directory, its last evaluations."""
    sys.stdout.write(
        f"trained {result.num_timesteps} steps in {result.wall_time:.0f} s -> {result.run_dir}\n"
    )
    for row in result.evaluations[-3:]:
        score = row.get("score")
        extra = "" if score is None else f", score {score:.3f} ± {row['se_score']:.3f}"
        sys.stdout.write(
            f"  {int(row['timesteps']):>10} steps: mean reward {row['mean_reward']:.3f} "
            f"± {row['se_reward']:.3f}{extra}\n"
        )


def run_train(args: argparse.Namespace, overrides: dict[str, Any]) -> None:
    """Handler of ``mm-env train``."""
    import logging

    from train.trainer import resume, train

    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    if args.resume:
        check_resume_alone(args, overrides, TrainConfig, "training")
        result = resume(args.resume)
    else:
        if not args.out:
            raise ValueError("mm-env train needs --out RUN_DIR (a new directory for the run)")
        result = train(config_from_args(args, overrides, TrainConfig), args.out)
    report_run(result)
