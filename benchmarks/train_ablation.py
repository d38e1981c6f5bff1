"""Which training levers matter on the ``penalty`` task: one run per lever switched off.

Run (each variant trains ``--total-timesteps`` steps with held-out evaluations every
``--eval-freq`` steps; about 4-6 minutes per variant at 25M steps on 2 cores)::

    .venv/bin/python benchmarks/train_ablation.py --run-dir runs/ablation
    .venv/bin/python benchmarks/train_ablation.py --run-dir runs/ablation \\
        --variants default --seeds 0,1,2 --total-timesteps 10000000   # seed spread

Variants (each a change to today's default :class:`train.sb3.config.TrainConfig`, whose levers
are staggered episode starts and ReLU hidden layers):

- ``default``: the default configuration;
- ``no_stagger``: all envs start their episodes together (each rollout then holds one time
  slice of the episode for every env);
- ``tanh``: tanh hidden layers (SB3's default) instead of ReLU;
- ``previous_default``: neither lever (the default before them);
- ``shaping``: the default plus potential-based shaping ``Phi = -alpha q^2`` (tried, not kept);
- ``skew_feature``: the default plus the ``inventory_sqrt_time`` input (tried, not kept).

For each variant and seed it prints the held-out score ``(PPO - naive) / (optimal - naive)``
(2,000 episodes with common random numbers, seed ``eval_seed``, never trained on) at the first
evaluation at or after 5M, 10M and 25M steps, with the wall time at which it was reached, and
the ``model.learn`` throughput (steps/s over the whole run, evaluations included). Runs already
present under ``--run-dir`` are read, not retrained.
"""

from __future__ import annotations

import argparse
import csv
import math
import statistics
from pathlib import Path
from typing import Any

from train.sb3.config import TrainConfig
from train.sb3.trainer import train

MILESTONES = (5_000_000, 10_000_000, 25_000_000)

#: variant -> changes to the default TrainConfig
VARIANTS: dict[str, dict[str, Any]] = {
    "default": {},
    "no_stagger": {"stagger_episodes": False},
    "tanh": {"activation": "tanh"},
    "previous_default": {"stagger_episodes": False, "activation": "tanh"},
    "shaping": {"reward_shaping": "terminal"},
    "skew_feature": {
        "obs_features": ("time_remaining", "sqrt_time_remaining", "inventory",
                         "inventory_sqrt_time"),
    },
}


def read_rows(run: Path) -> list[dict[str, float]]:
    with open(run / "eval.csv", newline="") as fh:
        return [
            {k: float(v) for k, v in r.items() if v not in ("", None)} for r in csv.DictReader(fh)
        ]


def at(rows: list[dict[str, float]], steps: int) -> dict[str, float] | None:
    """The first evaluation at or after ``steps``."""
    return next((r for r in rows if r["timesteps"] >= steps), None)


def run_variant(name: str, seed: int, args: argparse.Namespace) -> tuple[list[dict], float]:
    cfg = (
        TrainConfig()
        .replace(**VARIANTS[name])
        .replace(
            seed=seed,
            total_timesteps=args.total_timesteps,
            eval_freq=args.eval_freq,
            checkpoint_freq=0,
            tensorboard=False,
        )
    )
    run = args.run_dir / f"{name}-seed{seed}"
    if (run / "final").is_dir():
        rows = read_rows(run)
        return rows, rows[-1]["wall_time"]
    result = train(cfg, run)
    return read_rows(run), result.wall_time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run-dir", type=Path, required=True)
    parser.add_argument(
        "--variants", default=",".join(VARIANTS), help=f"comma-separated, of {list(VARIANTS)}"
    )
    parser.add_argument("--seeds", default="0", help="comma-separated training seeds")
    parser.add_argument("--total-timesteps", type=int, default=25_000_000)
    parser.add_argument("--eval-freq", type=int, default=2_500_000)
    args = parser.parse_args()
    names = [v.strip() for v in args.variants.split(",") if v.strip()]
    unknown = sorted(set(names) - set(VARIANTS))
    if unknown:
        parser.error(f"unknown variants {unknown}; choose from {list(VARIANTS)}")
    seeds = [int(s) for s in args.seeds.split(",")]
    marks = [m for m in MILESTONES if m <= args.total_timesteps]
    head = "".join(f"{f'score@{m // 1_000_000}M':>16}{'(wall s)':>10}" for m in marks)
    print(f"{'variant':<18}{'seed':>5}{head}{'final':>9}{'steps/s':>10}")
    at_first: dict[str, list[float]] = {}
    for name in names:
        for seed in seeds:
            rows, wall = run_variant(name, seed, args)
            cells = ""
            for m in marks:
                row = at(rows, m)
                if row is None:
                    cells += f"{'-':>16}{'':>10}"
                    continue
                cells += f"{row['score']:>9.4f}±{row['se_score']:.4f}{row['wall_time']:>10.0f}"
                if m == marks[0] or m == 10_000_000:
                    at_first.setdefault(f"{name}@{m // 1_000_000}M", []).append(row["score"])
            steps = rows[-1]["timesteps"]
            print(
                f"{name:<18}{seed:>5}{cells}{rows[-1]['score']:>9.4f}{steps / wall:>10.0f}",
                flush=True,
            )
    if len(seeds) > 1:
        for key, scores in at_first.items():
            spread = statistics.stdev(scores) if len(scores) > 1 else math.nan
            print(
                f"{key}: mean {statistics.mean(scores):.4f}, std across seeds {spread:.4f}, "
                f"range [{min(scores):.4f}, {max(scores):.4f}] ({len(scores)} seeds)"
            )


if __name__ == "__main__":
    main()
