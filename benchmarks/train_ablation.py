"""Which training levers matter on the ``penalty`` task: one run per lever switched off.

Run (each variant trains ``--total-timesteps`` steps, keeping snapshots at 5M, 10M and 25M
steps; about 4-8 minutes per variant at 25M steps on 2 cores, 10-20 for ``previous_default``)::

    .venv/bin/python benchmarks/train_ablation.py --run-dir runs/ablation
    .venv/bin/python benchmarks/train_ablation.py --run-dir runs/ablation \\
        --variants default --seeds 0,1,2 --total-timesteps 10000000   # seed spread

Variants (each a change to today's default :class:`train.sb3.config.TrainConfig`):

- ``default``: the default configuration;
- ``no_stagger``: all envs start their episodes together (each rollout then holds one time
  slice of the episode for every env);
- ``tanh``: tanh hidden layers (SB3's default) instead of ReLU;
- ``learned_std``: the policy's log std trained by its gradient (SB3's default) instead of
  the linear schedule from -1 to -2.5;
- ``wide``: hidden layers of 64 units instead of 32;
- ``slow_lr``: learning rate 5e-4 instead of 2e-3;
- ``previous_default``: none of the levers (the default before them: 64-unit tanh layers,
  learned std, lr 5e-4, all envs starting together);
- ``shaping``: the default plus potential-based shaping ``Phi = -alpha q^2`` (tried, not kept);
- ``skew_feature``: the default plus the ``inventory_sqrt_time`` input (tried, not kept).

The budget (``--total-timesteps``, default 25M) is the same for every variant, and the
learning-rate and std schedules run over it. For each variant and seed it prints the
optimality score ``(PPO - naive) / (optimal - naive)`` of the snapshot at 5M, 10M and 25M steps
on ``--episodes`` held-out episodes (default 10,000, seed 777, common random numbers, never
trained on) with its standard error, the exact (lattice) score, the wall time at which the
snapshot was taken and the ``model.learn`` throughput (steps/s over the whole run,
evaluations included). Runs already present under ``--run-dir`` are read, not retrained.
"""

from __future__ import annotations

import argparse
import csv
import statistics
from pathlib import Path
from typing import Any

from train.evaluation.optimality import HeldOutScorer
from train.sb3.callbacks import SNAPSHOT_DIR
from train.sb3.config import TrainConfig
from train.sb3.model_dir import load_policy
from train.sb3.trainer import train

MILESTONES = (5_000_000, 10_000_000, 25_000_000)

#: variant -> changes to the default TrainConfig
VARIANTS: dict[str, dict[str, Any]] = {
    "default": {},
    "no_stagger": {"stagger_episodes": False},
    "tanh": {"activation": "tanh"},
    "learned_std": {"log_std_schedule": "learned"},
    "wide": {"net_arch": (64, 64)},
    "slow_lr": {"learning_rate": 5e-4},
    "previous_default": {
        "stagger_episodes": False, "activation": "tanh", "log_std_schedule": "learned",
        "net_arch": (64, 64), "learning_rate": 5e-4,
    },
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


def run_variant(name: str, seed: int, args: argparse.Namespace) -> tuple[Path, float]:
    """Train (or find) the run of ``name`` with ``seed``; its directory and wall time."""
    cfg = (
        TrainConfig()
        .replace(**VARIANTS[name])
        .replace(
            seed=seed,
            total_timesteps=args.total_timesteps,
            eval_freq=args.eval_freq,
            checkpoint_freq=0,
            tensorboard=False,
            snapshot_steps=MILESTONES,
        )
    )
    run = args.run_dir / f"{name}-seed{seed}"
    if (run / "final").is_dir():
        return run, read_rows(run)[-1]["wall_time"]
    return run, train(cfg, run).wall_time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run-dir", type=Path, required=True)
    parser.add_argument(
        "--variants", default=",".join(VARIANTS), help=f"comma-separated, of {list(VARIANTS)}"
    )
    parser.add_argument("--seeds", default="0", help="comma-separated training seeds")
    parser.add_argument("--total-timesteps", type=int, default=25_000_000)
    parser.add_argument("--eval-freq", type=int, default=2_500_000)
    parser.add_argument("--episodes", type=int, default=10_000)
    args = parser.parse_args()
    names = [v.strip() for v in args.variants.split(",") if v.strip()]
    unknown = sorted(set(names) - set(VARIANTS))
    if unknown:
        parser.error(f"unknown variants {unknown}; choose from {list(VARIANTS)}")
    seeds = [int(s) for s in args.seeds.split(",")]
    marks = [m for m in MILESTONES if m <= args.total_timesteps]
    scorer = HeldOutScorer(TrainConfig().market(), args.episodes, 777)
    head = "".join(f"{f'score@{m // 1_000_000}M':>16}{'exact':>8}{'(wall s)':>10}" for m in marks)
    print(f"{'variant':<18}{'seed':>5}{head}{'steps/s':>10}")
    scores: dict[str, list[float]] = {}
    for name in names:
        for seed in seeds:
            run, wall = run_variant(name, seed, args)
            rows = read_rows(run)
            cells = ""
            for m in marks:
                snap = run / SNAPSHOT_DIR / str(m)
                if not snap.is_dir():
                    cells += f"{'-':>16}{'':>8}{'':>10}"
                    continue
                policy = load_policy(snap)
                steps = int(policy.meta["num_timesteps"])
                at = next((r["wall_time"] for r in rows if r["timesteps"] >= steps), wall)
                s = scorer(policy)
                cells += f"{s.value:>9.4f}±{s.se:.4f}{s.exact:>8.4f}{at:>10.0f}"
                scores.setdefault(f"{name}@{m // 1_000_000}M", []).append(s.value)
            print(
                f"{name:<18}{seed:>5}{cells}{rows[-1]['timesteps'] / wall:>10.0f}", flush=True
            )
    if len(seeds) > 1:
        for key, values in scores.items():
            print(
                f"{key}: mean {statistics.mean(values):.4f}, std across seeds "
                f"{statistics.stdev(values):.4f}, range [{min(values):.4f}, {max(values):.4f}] "
                f"({len(values)} seeds)"
            )


if __name__ == "__main__":
    main()
