"""The ``mm-env`` command: Monte Carlo evaluation, comparison and sweeps from the shell.

::

    mm-env evaluate --policy as:gamma=0.1 --preset default --episodes 10000 --out runs/as
    mm-env compare --policy as --policy symmetric --policy fixed --set sigma=0.03
    mm-env sweep --policy as --param gamma --values 0.01,0.05,0.1,0.2,0.5,1.0
    mm-env plot --preset as2008 --which session,mc --episodes 2000 --out figures
    mm-env train --out runs/ppo                    # SB3 PPO (train.cli.sb3)
    mm-env rllib-train --out runs/rllib            # Ray RLlib PPO (train.cli.rllib, ray extra)

The options come from the dataclasses of the Python API: the evaluation options from the
fields of :class:`train.evaluation.harness.EvalSettings`, the ``--set KEY=VALUE`` market parameters
from :class:`mm_env.MarketConfig` (its field docs are the help text). Each subcommand prints
a table, and with ``--out DIR`` writes CSV and JSON files there (see
:mod:`train.evaluation.report`);
``plot`` writes the figures of :mod:`train.plots` as PNG files (and the tables of its Monte
Carlo runs) into ``--out`` and prints the paths written.
Bad arguments print ``mm-env: error: ...`` and exit with status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Any

from tqdm import tqdm

from mm_env import MarketConfig
from train.cli import multi_asset
from train.cli.options import (
    CLIError,
    add_dataclass_options,
    add_market_options,
    from_options,
    market_epilog,
    market_from,
    market_value,
    parse_overrides,
    user_input,
    value_type,
)
from train.cli.rllib import add_rllib_parsers, run_rllib
from train.cli.sb3 import add_train_options, run_train
from train.evaluation.compare import (
    DEFAULT_GAMMAS,
    compare,
    sweep,
    sweep_configs,
    sweep_steps,
    sweep_target,
)
from train.evaluation.harness import EvalSettings, evaluate, evaluation_steps
from train.evaluation.policy_specs import describe_policies, make_policy, policy_factory
from train.evaluation.report import (
    format_comparison,
    format_evaluation,
    format_sweep,
    save_comparison,
    save_evaluation,
    save_sweep,
)
from train.evaluation.trained import mismatch_notes
from train.plots.suite import (
    DEFAULT_COMPARISON,
    FIGURES,
    GROUPS,
    planned_steps,
    resolve_figures,
    write_plots,
)
from train.values import UserError, parse_value

PROG = "mm-env"


class _Parser(argparse.ArgumentParser):
    """argparse with the same error format as the rest of the CLI."""

    def error(self, message: str) -> Any:  # argparse's signature returns NoReturn
        self.print_usage(sys.stderr)
        self.exit(2, f"{PROG}: error: {message}\n")


def _config_epilog() -> str:
    return market_epilog(describe_policies())


def _add_common(
    p: argparse.ArgumentParser,
    out_default: Path | None = None,
    out_help: str = "directory for the CSV and JSON tables (created if needed)",
) -> None:
    add_market_options(p)
    run = p.add_argument_group("evaluation (train.evaluation.harness.EvalSettings)")
    add_dataclass_options(run, EvalSettings)
    out = p.add_argument_group("output")
    out.add_argument("--out", type=Path, default=out_default, metavar="DIR", help=out_help)
    out.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                     help="progress bar on stderr (default: only on a terminal)")
    p.add_argument("--allow-market-mismatch", action="store_true",
                   help="evaluate a trained policy (sb3:, rllib:) on a market other than "
                        "the one it was trained on (refused otherwise); the differing "
                        "fields are printed with the results")


def build_parser() -> argparse.ArgumentParser:
    """The ``mm-env`` parser with its subcommands."""
    parser = _Parser(prog=PROG, description="Monte Carlo evaluation of market-making policies "
                     "(mm_env): evaluate, compare on common random numbers, sweep.",
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    epilog = _config_epilog()
    kw: dict[str, Any] = {"formatter_class": argparse.RawDescriptionHelpFormatter,
                          "epilog": epilog}

    p = sub.add_parser("evaluate", help="Monte Carlo statistics of one policy",
                       description="Run one policy on n episodes and print its statistics "
                                   "with standard errors.", **kw)
    p.add_argument("--policy", default="as", metavar="SPEC",
                   help="policy NAME[:key=value,...] (default: %(default)s)")
    _add_common(p)
    p.set_defaults(handler=_cmd_evaluate)

    p = sub.add_parser("compare", help="several policies on the same random numbers",
                       description="Evaluate policies on common random numbers and report "
                                   "paired differences to a reference policy.", **kw)
    p.add_argument("--policy", dest="policies", action="append", required=True,
                   metavar="SPEC", help="policy NAME[:key=value,...] (repeat for each)")
    p.add_argument("--reference", default=None, metavar="SPEC",
                   help="the policy differences are taken to (default: the first --policy)")
    _add_common(p)
    p.set_defaults(handler=_cmd_compare)

    p = sub.add_parser("sweep", help="one policy over the values of one parameter",
                       description="Evaluate a policy for each value of a market parameter "
                                   "(a --set KEY) or of a policy argument (e.g. AS gamma), "
                                   "all on the same seed.", **kw)
    p.add_argument("--policy", default="as", metavar="SPEC",
                   help="policy NAME[:key=value,...] (default: %(default)s)")
    p.add_argument("--param", default="gamma",
                   help="market parameter or policy argument to vary (default: %(default)s)")
    p.add_argument("--values", default=None, metavar="V1,V2,...",
                   help="comma-separated values (default for gamma: "
                        + ",".join(f"{g:g}" for g in DEFAULT_GAMMAS) + ")")
    _add_common(p)
    p.set_defaults(handler=_cmd_sweep)
    _add_plot_parser(sub, kw)
    return parser


def _add_plot_parser(sub: Any, kw: dict[str, Any]) -> None:
    figures = "\n".join(f"  {name:<11} {file}" for name, file in FIGURES.items())
    groups = "; ".join(f"{g} = {', '.join(names)}" for g, names in GROUPS.items() if g != "all")
    p = sub.add_parser(
        "plot", help="the course notebook's figures as PNG files",
        description="Draw the figures of train.plots for one market into --out (PNG, plus the "
                    "CSV/JSON tables of the Monte Carlo runs under tables/) and print the "
                    f"paths written.\n\nfigures (--which NAME):\n{figures}\n"
                    f"groups: all (default); {groups}", **kw)
    p.add_argument("--which", action="append", default=None, metavar="NAMES",
                   help="figures or groups to draw, comma-separated or repeated (default: all)")
    p.add_argument("--policy", default="as", metavar="SPEC",
                   help="policy of the session and mc figures (default: %(default)s)")
    p.add_argument("--compare", dest="compare_policies", action="append", default=None,
                   metavar="SPEC", help="a policy of the comparison figure (repeat for each; "
                   f"the first is the reference; default: {', '.join(DEFAULT_COMPARISON)})")
    p.add_argument("--sweep-policy", default="as", metavar="SPEC",
                   help="policy family of the gamma figure; must take gamma "
                        "(default: %(default)s)")
    p.add_argument("--gamma", type=value_type(float, "gamma"), default=0.1,
                   help="AS risk aversion of the quotes figure (default: %(default)s)")
    p.add_argument("--gammas", default=None, metavar="G1,G2,...",
                   help="risk aversions of the spread and gamma figures (default: "
                        + ",".join(f"{g:g}" for g in DEFAULT_GAMMAS) + ")")
    p.add_argument("--paths", type=value_type(int, "paths"), default=20, metavar="N",
                   help="number of paths of the mid figure (default: %(default)s)")
    p.add_argument("--tables", action=argparse.BooleanOptionalAction, default=True,
                   help="also write the Monte Carlo tables under DIR/tables (default: yes)")
    _add_common(p, Path("mm_env_plots"),
                "directory for the PNG files and tables (created if needed; default: "
                "%(default)s)")
    p.set_defaults(handler=_cmd_plot)

    p = sub.add_parser(
        "train", help="train an SB3 agent (PPO by default) on the env",
        description="Train an agent into a new run directory (config.toml, checkpoints/, "
                    "best/, final/, eval.csv, tb/), or continue one with --resume. "
                    "Precedence: defaults < --config FILE < options given here.",
        formatter_class=argparse.RawDescriptionHelpFormatter, epilog=_config_epilog(),
    )
    add_market_options(p, None, "named parameter set (default: the TrainConfig's, 'penalty')")
    p.add_argument("--out", default=None, metavar="RUN_DIR",
                   help="a new directory for the run")
    add_train_options(p)
    p.set_defaults(handler=_cmd_train)
    add_rllib_parsers(sub, _config_epilog(), _cmd_rllib)


# ------------------------------------------------------------------ commands
def _bar(args: argparse.Namespace, total: int, label: str) -> tqdm[Any]:
    """A tqdm bar on stderr (``--progress``; default: only on a terminal)."""
    enabled = sys.stderr.isatty() if args.progress is None else args.progress
    return tqdm(total=total, desc=label, file=sys.stderr, disable=not enabled,
                mininterval=0.1, unit="step", leave=True)


def _wrote(paths: Sequence[Path]) -> None:
    for path in paths:
        sys.stderr.write(f"{PROG}: wrote {path}\n")


def _notes(policies: dict[str, object], config: MarketConfig) -> None:
    """The trained policies used on another market by --allow-market-mismatch, in the report."""
    for note in mismatch_notes(policies, config):
        sys.stdout.write(f"note (--allow-market-mismatch): {note}\n")


def _multi_asset(args: argparse.Namespace, specs: list[str], reference: str | None) -> None:
    if args.out is not None:
        raise CLIError("--out is not available for multi-asset presets (the table is printed)")
    settings = from_options(args, EvalSettings)
    multi_asset.run(args, parse_overrides(args.overrides), specs, reference,
                    settings.n_episodes, settings.seed, settings.chunk_size)


def _cmd_evaluate(args: argparse.Namespace) -> None:
    if multi_asset.is_multi_asset(args.preset):
        return _multi_asset(args, [args.policy], None)
    config = market_from(args)
    settings = from_options(args, EvalSettings)
    policy = make_policy(args.policy, config, args.allow_market_mismatch)
    _notes({args.policy: policy}, config)
    with _bar(args, evaluation_steps(config, settings), args.policy) as bar:
        result = evaluate(policy, config, settings.n_episodes, settings.seed,
                          ce_gamma=settings.ce_gamma, chunk_size=settings.chunk_size,
                          name=args.policy, progress=bar.update,
                          allow_market_mismatch=args.allow_market_mismatch)
    sys.stdout.write(format_evaluation(result))
    if args.out is not None:
        _wrote(save_evaluation(result, args.out))


def _cmd_compare(args: argparse.Namespace) -> None:
    specs: list[str] = args.policies
    if len(set(specs)) != len(specs):
        raise CLIError(f"--policy given twice with the same spec: {specs}")
    reference = specs[0] if args.reference is None else args.reference
    if reference not in specs:
        raise CLIError(f"--reference {reference!r} must be one of the --policy specs {specs}")
    if multi_asset.is_multi_asset(args.preset):
        return _multi_asset(args, specs, reference)
    config = market_from(args)
    settings = from_options(args, EvalSettings)
    policies = {spec: make_policy(spec, config, args.allow_market_mismatch) for spec in specs}
    _notes(policies, config)
    total = len(specs) * evaluation_steps(config, settings)
    with _bar(args, total, "compare") as bar:
        result = compare(policies, config, settings.n_episodes, settings.seed,
                         reference=reference, ce_gamma=settings.ce_gamma,
                         chunk_size=settings.chunk_size, progress=bar.update,
                         allow_market_mismatch=args.allow_market_mismatch)
    sys.stdout.write(format_comparison(result))
    if args.out is not None:
        _wrote(save_comparison(result, args.out))


def _sweep_values(args: argparse.Namespace) -> list[Any]:
    if args.values is None:
        if args.param != "gamma":
            raise CLIError(f"--values is required for a sweep over {args.param!r}")
        return list(DEFAULT_GAMMAS)
    texts = [t.strip() for t in args.values.split(",") if t.strip()]
    if not texts:
        raise CLIError(f"--values must list at least one value, got {args.values!r}")
    if sweep_target(args.param) == "config":
        return [market_value(args.param, t) for t in texts]
    return [parse_value(t) for t in texts]


def _check_sweep(args: argparse.Namespace, factory: Any, config: MarketConfig,
                 values: list[Any]) -> None:
    """Build every market and policy of the sweep once: a bad value is a user error here."""
    param = args.param
    if sweep_target(param) == "config":
        configs = user_input(f"--param {param}", lambda: sweep_configs(config, param, values))
        what = f"--param {param}"
        for value, cfg in zip(values, configs, strict=True):
            policy = user_input(what, partial(factory, cfg))
            _notes({f"{args.policy}[{param}={value}]": policy}, cfg)
        return
    for value in values:
        user_input(f"--param {param}={value!r} (neither a market field nor a keyword of the "
                   "policy)", partial(factory, config, **{param: value}))


def _cmd_sweep(args: argparse.Namespace) -> None:
    if multi_asset.is_multi_asset(args.preset):
        if args.out is not None:
            raise CLIError("--out is not available for multi-asset presets (the table is "
                           "printed)")
        settings = from_options(args, EvalSettings)
        texts = [t.strip() for t in (args.values or "").split(",") if t.strip()]
        values = [parse_value(t) for t in texts] if texts else list(DEFAULT_GAMMAS)
        if not texts and args.param != "gamma":
            raise CLIError(f"--values is required for a sweep over {args.param!r}")
        return multi_asset.sweep(args, parse_overrides(args.overrides), values,
                                 settings.n_episodes, settings.seed, settings.chunk_size)
    config = market_from(args)
    settings = from_options(args, EvalSettings)
    values = _sweep_values(args)
    factory = policy_factory(args.policy, args.allow_market_mismatch)
    _check_sweep(args, factory, config, values)
    total = sweep_steps(config, args.param, values, settings.n_episodes, settings.chunk_size)
    with _bar(args, total, f"sweep {args.param}") as bar:
        result = sweep(factory, config, args.param, values, settings.n_episodes, settings.seed,
                       ce_gamma=settings.ce_gamma, chunk_size=settings.chunk_size,
                       progress=bar.update, allow_market_mismatch=args.allow_market_mismatch)
    sys.stdout.write(format_sweep(result))
    if args.out is not None:
        _wrote(save_sweep(result, args.out))


def _gammas(text: str | None) -> list[float]:
    if text is None:
        return list(DEFAULT_GAMMAS)
    try:
        out = list(parse_value(text, tuple[float, ...], "--gammas"))
    except ValueError as exc:
        raise CLIError(f"{exc} (comma-separated numbers)") from None
    if not out:
        raise CLIError(f"--gammas must list at least one value, got {text!r}")
    return out


def _cmd_train(args: argparse.Namespace) -> None:
    args.preset_given = args.preset is not None
    run_train(args, parse_overrides(args.overrides))


def _cmd_rllib(args: argparse.Namespace) -> None:
    args.preset_given = args.preset is not None
    run_rllib(args, parse_overrides(args.overrides))


def _cmd_plot(args: argparse.Namespace) -> None:
    if multi_asset.is_multi_asset(args.preset):
        if args.which or args.compare_policies:
            raise CLIError("--which and --compare do not apply to multi-asset presets: plot "
                           "draws the quote heatmaps and the terminal inventories of --policy "
                           "next to the exact optimum")
        settings = from_options(args, EvalSettings)
        for path in multi_asset.plot(args, parse_overrides(args.overrides),
                                     settings.n_episodes, settings.seed, settings.chunk_size):
            sys.stdout.write(f"{path}\n")
        return
    which = resolve_figures(args.which or ["all"])
    config = market_from(args)
    settings = from_options(args, EvalSettings)
    gammas = _gammas(args.gammas)
    policies = args.compare_policies or list(DEFAULT_COMPARISON)
    if args.allow_market_mismatch:
        trained = {s for s in [args.policy, *policies] if s.split(":")[0] in ("sb3", "rllib")}
        _notes({s: make_policy(s, config, True) for s in sorted(trained)}, config)
    total = planned_steps(config, which, settings, len(policies), gammas)
    with _bar(args, total, "plot") as bar:
        paths = write_plots(config, args.out, which, policy=args.policy, policies=policies,
                            sweep_policy=args.sweep_policy, gamma=args.gamma, gammas=gammas,
                            n_paths=args.paths, settings=settings, tables=args.tables,
                            progress=bar.update,
                            allow_market_mismatch=args.allow_market_mismatch)
    for path in paths:
        sys.stdout.write(f"{path}\n")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``mm-env`` console script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        args.handler(args)
    except (UserError, OSError) as exc:  # a ValueError from deeper inside is a bug: traceback
        message = " ".join(str(exc).split())  # one line, whatever the message held
        sys.stderr.write(f"{PROG}: error: {message}\n")
        return 2
    except KeyboardInterrupt:
        sys.stderr.write(f"{PROG}: interrupted\n")
        return 130
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
