"""The README's main job: PPO against Avellaneda-Stoikov and the exact optimum.

``bash scripts/main.sh`` runs ``python scripts/main_job.py``: it loads the PPO agent shipped in
``models/ppo_penalty`` (trained by ``mm-env train`` on the ``penalty`` task), evaluates it
next to the exact optimum (:class:`agents.OptimalAgent`), Avellaneda-Stoikov at its best
gamma of a small sweep, the AS paper's symmetric strategy and the naive 1/k quotes on held-out
episodes with common random numbers, prints the comparison table and the optimality score,
and writes figures and tables to ``--out``. With ``--train`` it first trains a new agent with
the default :class:`train.sb3.config.TrainConfig` (about 3-5 minutes on 2 cores) into
``--run-dir`` and compares that one instead.
"""

from __future__ import annotations

import argparse
import logging
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path

from agents import AvellanedaStoikovAgent, FixedSpreadAgent, OptimalAgent, SymmetricAgent
from mm_env import MarketConfig
from train.cli.options import add_dataclass_options, from_options
from train.evaluation.compare import compare
from train.evaluation.report import save_comparison
from train.evaluation.score import optimality_score, paired_gap
from train.plots import comparison, optimal_quotes
from train.plots.model import policy_vs_optimal_quotes
from train.sb3.model_dir import load_policy

REPO = Path(__file__).resolve().parent.parent
AS_GAMMAS = (0.005, 0.01, 0.02, 0.05, 0.1, 0.2)


@dataclass
class MainArgs:
    """Options of the main job (their docs are the ``--help``)."""

    model: Path = field(
        default=REPO / "models" / "ppo_penalty",
        metadata={"doc": "model directory of the PPO agent to compare (ignored with --train)"},
    )
    train: bool = field(default=False, metadata={"doc": "train a new agent first"})
    run_dir: Path = field(
        default=Path("runs/main"), metadata={"doc": "with --train: the new run's directory"}
    )
    total_timesteps: int = field(
        default=0, metadata={"doc": "with --train: steps to train (0: the TrainConfig default)"}
    )
    episodes: int = field(default=10_000, metadata={"doc": "held-out evaluation episodes"})
    seed: int = field(default=777, metadata={"doc": "seed of the held-out episodes"})
    out: Path = field(
        default=Path("out/main"), metadata={"doc": "directory for the tables and figures"}
    )


def parse_args(argv: list[str] | None) -> MainArgs:
    """:class:`MainArgs` from the command line (options from :mod:`train.cli.options`)."""
    parser = argparse.ArgumentParser(
        prog="scripts/main_job.py",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_dataclass_options(parser, MainArgs)
    args: MainArgs = from_options(parser.parse_args(argv), MainArgs)
    if args.episodes < 2:
        parser.error(f"--episodes must be >= 2, got {args.episodes}")
    if not args.train and not (args.model / "meta.json").is_file():
        parser.error(f"no trained model in {args.model}; train one with --train")
    return args


def train_agent(args: MainArgs) -> Path:
    """Train with the default TrainConfig into ``args.run_dir``; returns its final model."""
    from train.sb3.config import TrainConfig
    from train.sb3.trainer import train

    cfg = TrainConfig()
    if args.total_timesteps:
        cfg = cfg.replace(total_timesteps=args.total_timesteps)
    result = train(cfg, args.run_dir)
    sys.stdout.write(f"trained {result.num_timesteps:,} steps in {result.wall_time:.0f} s\n")
    return args.run_dir / "final"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    model_dir = train_agent(args) if args.train else args.model
    ppo = load_policy(model_dir)
    market = ppo.config
    n, seed = args.episodes, args.seed

    # AS at its best gamma on these episodes (a choice that favours AS)
    sweep = compare(
        {f"as {g:g}": AvellanedaStoikovAgent(market, gamma=g) for g in AS_GAMMAS}, market, n, seed
    )
    best = max(sweep.policies, key=lambda p: sweep.results[p].episodes.total_reward.mean())
    best_gamma = float(best.split()[1])
    policies = {
        "ppo": ppo,
        "optimal": OptimalAgent(market),
        f"as(gamma={best_gamma:g})": AvellanedaStoikovAgent(market, gamma=best_gamma),
        "symmetric": SymmetricAgent(market, gamma=best_gamma),
        "naive 1/k": FixedSpreadAgent(market),
    }
    result = compare(policies, market, n, seed, reference="ppo")
    reward = {p: result.results[p].episodes.total_reward for p in result.policies}

    out = sys.stdout
    defaults = MarketConfig().to_dict()
    changed = {k: v for k, v in market.to_dict().items() if v != defaults[k]}
    out.write(
        f"market: MarketConfig defaults with {changed}\nmodel: {model_dir} "
        f"({ppo.meta['num_timesteps']:,} training steps)\n"
    )
    out.write(f"{n} held-out episodes, seed {seed}, common random numbers\n\n")
    out.write(
        f"{'policy':<20}{'mean reward':>12}{'± SE':>8}{'ppo - it':>10}{'± SE':>8}"
        f"{'mean PnL':>10}{'std PnL':>9}{'|q_T|':>7}\n"
    )
    for p in result.policies:
        ep = result.results[p].episodes
        gap = paired_gap(reward["ppo"], reward[p])
        se = reward[p].std(ddof=1) / math.sqrt(n)
        out.write(
            f"{p:<20}{reward[p].mean():>12.3f}{se:>8.3f}{gap.value:>10.3f}"
            f"{gap.se:>8.3f}{ep.pnl.mean():>10.3f}{ep.pnl.std(ddof=1):>9.3f}"
            f"{abs(ep.final_inventory).mean():>7.2f}\n"
        )
    score = optimality_score(reward["ppo"], reward["naive 1/k"], reward["optimal"])
    out.write(f"\nscore (ppo - naive) / (optimal - naive) = {score.value:.4f} ± {score.se:.4f}\n")

    args.out.mkdir(parents=True, exist_ok=True)
    written = save_comparison(result, args.out / "tables")
    figures = {
        "comparison.png": lambda path: comparison(result, path=path),
        "ppo_vs_optimal_quotes.png": lambda path: policy_vs_optimal_quotes(
            market, ppo, OptimalAgent(market), path=path
        ),
        "optimal_quotes.png": lambda path: optimal_quotes(market, path=path),
    }
    for name, draw in figures.items():
        draw(args.out / name)
        written.append(args.out / name)
    out.write("\nwrote " + ", ".join(str(p) for p in written) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
