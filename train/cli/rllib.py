"""The ``mm-env rllib-train`` and ``mm-env rllib-tune`` subcommands (the ``ray`` extra).

::

    mm-env rllib-train --out runs/rllib                        # local Ray, preset "penalty"
    mm-env rllib-train --out runs/rllib --address auto --num-env-runners 8   # on a cluster
    mm-env rllib-train --resume runs/rllib                     # continue an interrupted run
    mm-env rllib-tune --out runs/sweep --total-timesteps 2000000 \\
        --grid overrides.phi=0.05,0.1 --grid net_arch=32x32,64x64

Options come from :class:`train.rllib.config.RLlibConfig` (its field docs are the help);
precedence: field defaults < ``--config FILE`` < options given here. ``--grid KEY=V1,V2,...``
adds a grid-search axis over an RLlibConfig field or ``overrides.NAME`` (a market field);
for ``net_arch`` write each value as ``64x64``, for ``obs_features`` as
``time_remaining+inventory``.
"""

from __future__ import annotations

import argparse
import sys
from functools import partial
from typing import Any

from train.cli.options import CLIError, add_dataclass_options, add_market_options, user_input
from train.cli.sb3 import SKIP, check_resume_alone, config_from_args, report_run
from train.rllib.config import RLlibConfig
from train.rllib.env import require_ray
from train.values import parse_value


def _add_market(p: argparse.ArgumentParser) -> None:
    add_market_options(p, None, "named parameter set (default: the RLlibConfig's, 'penalty')")
    p.add_argument("--config", default=None, metavar="FILE",
                   help="read the RLlibConfig from a TOML file (as written to "
                        "RUN_DIR/config.toml); options given here override it")
    group = p.add_argument_group("RLlib options (RLlibConfig fields)")
    add_dataclass_options(group, RLlibConfig, skip=SKIP, unset_is_none=True)


def add_rllib_parsers(sub: Any, epilog: str, handler: Any) -> None:
    """Add ``rllib-train`` and ``rllib-tune`` to the ``mm-env`` subparsers."""
    fmt = argparse.RawDescriptionHelpFormatter
    p = sub.add_parser(
        "rllib-train", help="train PPO with Ray RLlib (needs mm-env[ray])",
        description="Train PPO with Ray RLlib into a new run directory (config.toml, "
                    "progress.csv, eval.csv, checkpoint/, policy/), on a local Ray instance "
                    "or the cluster at --address. Evaluate the result with "
                    "`mm-env compare --policy rllib:path=RUN_DIR ...`.",
        formatter_class=fmt, epilog=epilog)
    p.add_argument("--out", default=None, metavar="RUN_DIR", help="a new directory for the run")
    p.add_argument("--resume", default=None, metavar="RUN_DIR",
                   help="continue an interrupted run from its last checkpoint")
    _add_market(p)
    p.set_defaults(handler=handler, rllib_command="train")

    p = sub.add_parser(
        "rllib-tune", help="Ray Tune sweep of RLlib PPO runs, scored by the harness",
        description="Grid-search RLlib PPO runs with Ray Tune; each trial is scored on "
                    "held-out episodes by the evaluation harness (optimality score). Writes "
                    "OUT/tune_results.csv (best first), OUT/best_config.toml and Tune's "
                    "records under OUT/tune.",
        formatter_class=fmt, epilog=epilog)
    p.add_argument("--out", required=True, metavar="DIR", help="directory for the sweep")
    p.add_argument("--grid", action="append", required=True, metavar="KEY=V1,V2,...",
                   help="a grid axis: an RLlibConfig field or overrides.NAME (repeatable); "
                        "net_arch values as 64x64, obs_features as time_remaining+inventory")
    p.add_argument("--seeds", type=int, default=1, metavar="N",
                   help="run every grid point with seeds SEED, SEED+1, ..., SEED+N-1 "
                        "(a grid axis over seed; default: %(default)s)")
    p.add_argument("--cpus-per-trial", type=float, default=1.0, metavar="C",
                   help="CPUs Tune reserves for each trial (default: %(default)s)")
    _add_market(p)
    p.set_defaults(handler=handler, rllib_command="tune")


def _layer_sizes(text: str) -> tuple[int, ...]:
    """``"64x64"`` -> ``(64, 64)``; ValueError naming the value otherwise."""
    try:
        return tuple(parse_value(n, int) for n in text.split("x"))
    except ValueError:
        raise CLIError(
            f"--grid net_arch values are layer sizes joined by 'x' (e.g. 64x64), got {text!r}"
        ) from None


def parse_grid(items: list[str], base: RLlibConfig) -> dict[str, list[Any]]:
    """``["overrides.phi=0.05,0.1", "net_arch=32x32,64x64"]`` -> typed value lists."""
    grid: dict[str, list[Any]] = {}
    for item in items:
        key, sep, text = item.partition("=")
        key = key.strip()
        values = [t.strip() for t in text.split(",") if t.strip()]
        if not sep or not key or not values:
            raise CLIError(f"--grid takes KEY=V1,V2,..., got {item!r}")
        if key in grid:
            raise CLIError(f"--grid {key!r} given twice")
        if key == "net_arch":
            parsed: list[Any] = [_layer_sizes(v) for v in values]
        elif key == "obs_features":
            parsed = [tuple(v.split("+")) for v in values]
        else:
            parsed = [parse_value(v) for v in values]
        from train.rllib.tune import apply_params

        for value in parsed:  # each value must make a valid config
            user_input(f"--grid {key}", partial(apply_params, base, {key: value}))
        grid[key] = parsed
    return grid


def run_rllib(args: argparse.Namespace, overrides: dict[str, Any]) -> None:
    """Handler of ``mm-env rllib-train`` and ``mm-env rllib-tune``."""
    import logging

    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    require_ray()
    cfg: RLlibConfig = config_from_args(args, overrides, RLlibConfig)
    if args.rllib_command == "tune":
        grid = parse_grid(args.grid, cfg)
        if args.seeds < 1:
            raise CLIError(f"--seeds must be >= 1, got {args.seeds}")
        if args.seeds > 1:
            if "seed" in grid:
                raise CLIError("give either --seeds or --grid seed=..., not both")
            grid["seed"] = [cfg.seed + i for i in range(args.seeds)]
        from ray import tune

        from train.rllib.tune import tune_rllib

        summary = tune_rllib(
            cfg, {k: tune.grid_search(v) for k, v in grid.items()}, args.out,
            cpus_per_trial=args.cpus_per_trial,
        )
        sys.stdout.write(f"{len(summary.rows)} trials, best first by {summary.metric}:\n")
        for row in summary.rows:
            params = ", ".join(f"{k[6:]}={v}" for k, v in row.items() if k.startswith("param:"))
            sys.stdout.write(
                f"  {params}: score {row['score']:.4f} ± {row['se_score']:.4f}, "
                f"mean reward {row['mean_reward']:.3f} ± {row['se_reward']:.3f}\n"
            )
        sys.stdout.write(f"wrote {summary.out_dir}\n")
        return
    from train.rllib.trainer import resume_rllib, train_rllib

    if args.resume:
        check_resume_alone(args, overrides, RLlibConfig, "RLlib")
        result = resume_rllib(args.resume)
    elif not args.out:
        raise CLIError("mm-env rllib-train needs --out RUN_DIR (a new directory for the run)")
    else:
        result = train_rllib(cfg, args.out)
    report_run(result)
