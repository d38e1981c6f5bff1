"""The ``mm-env train`` subcommand: options generated from :class:`train.sb3.config.TrainConfig`
by :mod:`train.cli.options`.

::

    mm-env train --out runs/ppo                       # the default task (preset "penalty")
    mm-env train --out runs/ppo --config my.toml --total-timesteps 2000000 --set phi=0.05
    mm-env train --resume runs/ppo                     # continue from the last checkpoint

Precedence: field defaults < ``--config FILE`` < options given on the command line.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from train.cli.options import CLIError, add_dataclass_options, given_options, user_input
from train.sb3.config import TrainConfig

SKIP = ("preset", "overrides")  # given by the shared --preset / --set options


def add_train_options(parser: argparse.ArgumentParser) -> None:
    """One option per TrainConfig field (help from its doc), plus --config/--resume/--out."""
    group = parser.add_argument_group("training options (TrainConfig fields)")
    add_dataclass_options(group, TrainConfig, skip=SKIP, unset_is_none=True)
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


def config_from_args(
    args: argparse.Namespace, overrides: dict[str, Any], cls: type[Any] = TrainConfig
) -> Any:
    """Defaults, then ``--config``, then the explicit options and ``--preset``/``--set``
    (``cls``: TrainConfig or another config dataclass with the same TOML methods)."""
    what = f"--config {args.config}" if args.config else cls.__name__
    cfg = user_input(what, lambda: cls.from_toml(args.config) if args.config else cls())
    changes = given_options(args, cls, SKIP)
    if args.preset_given:
        changes["preset"] = args.preset
    if overrides:
        changes["overrides"] = {**cfg.overrides, **overrides}
    return user_input(cls.__name__, lambda: cfg.replace(**changes))


def check_resume_alone(
    args: argparse.Namespace, overrides: dict[str, Any], cls: type, what: str
) -> None:
    """ValueError if ``--resume`` comes with options that would define another run."""
    options = ["--" + name.replace("_", "-") for name in given_options(args, cls, SKIP)]
    if getattr(args, "preset_given", False):
        options.append("--preset")
    if args.out or args.config or overrides or options:
        given = ", ".join(options)
        raise CLIError(
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

    from train.sb3.trainer import resume, train

    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    if args.resume:
        check_resume_alone(args, overrides, TrainConfig, "training")
        result = resume(args.resume)
    else:
        if not args.out:
            raise CLIError("mm-env train needs --out RUN_DIR (a new directory for the run)")
        result = train(config_from_args(args, overrides, TrainConfig), args.out)
    report_run(result)
