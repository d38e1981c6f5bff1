"""Training quality of PPO on the default task: score against the optimum, PPO vs AS, throughput.

Run (trains with the default TrainConfig, then evaluates; about 10 minutes on 2 cores)::

    .venv/bin/python benchmarks/train_quality.py --run-dir runs/quality --train

or evaluate an existing run (``RUN_DIR/final``) or the shipped model::

    .venv/bin/python benchmarks/train_quality.py --model models/ppo_penalty

What it prints, on ``--episodes`` (default 10,000) held-out episodes with common random
numbers (seed ``--seed``, never used in training):

- mean episode reward (the env's ``inventory_penalty`` reward) of PPO, the naive policy
  (depth 1/k both sides), the exact optimum (``OptimalAgent``), the discrete-time optimum and
  Avellaneda-Stoikov at each gamma of a sweep, each with its paired difference to PPO;
- the score ``(PPO - naive) / (optimal - naive)`` with its standard error, and the same score
  computed exactly (no sampling noise) by the lattice recursion of :mod:`agents.lattice`;
- whether PPO beats the best-gamma AS by more than 3 standard errors of the paired
  difference (the best gamma is picked on the same episodes, which favours AS);
- with a run directory: the score at 5M, 10M and 25M steps, of the run's snapshots there
  (``--train`` keeps them: ``snapshot_steps``) on the same held-out episodes, Monte Carlo and
  exact, with the wall time of each (a run without snapshots: its periodic evaluations,
  2,000 episodes each), and the learning curve (score ±2 SE vs steps and wall time,
  from the run's periodic evaluations, next to the best AS and the optimum) as CSV and PNG;
- the throughput of ``model.learn`` at 1000 envs for the previous default configuration
  (:data:`PREVIOUS_DEFAULT`) and for today's, measured back to back in this run, and their
  ratio (``--no-throughput`` skips it), next to the bare vector env's throughput.
"""

from __future__ import annotations

import argparse
import csv
import math
import time
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import numpy as np
import torch
from matplotlib.figure import Figure

from agents import AvellanedaStoikovAgent, DiscreteOptimalAgent
from mm_env import MarketMakingVectorEnv
from train.evaluation.optimality import HeldOutScorer
from train.evaluation.score import optimality_score, paired_gap
from train.sb3.algorithms import algorithm_class, algorithm_kwargs
from train.sb3.callbacks import SNAPSHOT_DIR
from train.sb3.config import TrainConfig
from train.sb3.env_stack import make_env_stack
from train.sb3.model_dir import load_policy
from train.sb3.trainer import train

GAMMAS = (0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5)
MILESTONES = (5_000_000, 10_000_000, 25_000_000)

#: the default TrainConfig before the training levers (changes to today's default)
PREVIOUS_DEFAULT: dict[str, Any] = {
    "stagger_episodes": False,
    "activation": "tanh",
    "net_arch": (64, 64),
    "learning_rate": 5e-4,
    "log_std_schedule": "learned",
    "total_timesteps": 45_000_000,
}


def learn_rate(cfg: TrainConfig, steps: int = 1_200_000, warmup: int = 200_000) -> float:
    """``model.learn`` env-steps/s of ``cfg`` (no evaluations or checkpoints), after a
    warm-up; torch's thread count is restored afterwards."""
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(cfg.torch_threads or threads)
        stack = make_env_stack(cfg.replace(eval_freq=0, checkpoint_freq=0, tensorboard=False))
        model = algorithm_class(cfg.algo)("MlpPolicy", stack.vecnorm, **algorithm_kwargs(cfg))
        model.learn(warmup)
        t0 = time.perf_counter()
        model.learn(steps, reset_num_timesteps=False)
        return steps / (time.perf_counter() - t0)
    finally:
        torch.set_num_threads(threads)


def bare_env_rate(cfg: TrainConfig, steps: int = 400) -> float:
    """Trajectory-steps/s of the native vector env alone, at the run's number of envs."""
    env = MarketMakingVectorEnv(cfg.n_envs, cfg.market())
    env.reset(seed=0)
    action = np.full((cfg.n_envs, 2), 1.0 / cfg.market().k)
    t0 = time.perf_counter()
    for _ in range(steps):
        env.step(action)
    return steps * cfg.n_envs / (time.perf_counter() - t0)


def learning_curve(run_dir: Path, out: Path, as_score: float | None = None) -> None:
    """eval.csv of the run -> learning_curve.csv and learning_curve.png in ``out``: the score
    with its ±2 SE band against steps and wall time, the best AS (``as_score``, on the same
    scale) and the optimum (1)."""
    with open(run_dir / "eval.csv", newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r.get("score")]
    if not rows:
        print("no periodic evaluations with a score in", run_dir / "eval.csv")
        return
    out.mkdir(parents=True, exist_ok=True)
    cols = ("timesteps", "wall_time", "score", "se_score", "mean_reward", "gap_to_optimal")
    with open(out / "learning_curve.csv", "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(cols)
        writer.writerows([[r[c] for c in cols] for r in rows])
    steps = np.array([float(r["timesteps"]) for r in rows])
    wall = np.array([float(r["wall_time"]) for r in rows])
    score = np.array([float(r["score"]) for r in rows])
    se = np.array([float(r["se_score"]) for r in rows])
    fig = Figure(figsize=(10, 4))
    for ax, x, label in zip(
        fig.subplots(1, 2), (steps / 1e6, wall / 60), ("steps [M]", "wall time [min]"), strict=True
    ):
        ax.plot(x, score, marker="o", label="PPO (held-out score)")
        ax.fill_between(x, score - 2 * se, score + 2 * se, alpha=0.25, label="±2 SE")
        ax.axhline(1.0, color="black", linestyle=":", label="optimum")
        ax.axhline(0.99, color="red", linestyle="--", label="0.99")
        if as_score is not None:
            ax.axhline(as_score, color="gray", linestyle="-.", label="best AS")
        ax.set_xlabel(label)
        ax.set_ylabel("score (PPO - naive) / (optimal - naive)")
        low = min(float(score.min()), 1.0 if as_score is None else as_score)
        ax.set_ylim(max(-0.5, low - 0.03), 1.02)
        ax.legend(loc="lower right")
    fig.suptitle("PPO on the 'penalty' task: periodic held-out evaluations")
    fig.tight_layout()
    fig.savefig(out / "learning_curve.png", dpi=100)
    print(f"wrote {out / 'learning_curve.csv'} and {out / 'learning_curve.png'}")


def milestones(run_dir: Path, scorer: HeldOutScorer) -> None:
    """The score at 5M, 10M and 25M steps: of the run's snapshot there (``snapshot_steps``),
    on the held-out episodes of this benchmark (``scorer``: Monte Carlo and exact), with the
    wall time of the evaluation row at that step; for a run without snapshots, its first
    periodic evaluation at or after each step count."""
    with open(run_dir / "eval.csv", newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r.get("score")]
    for m in MILESTONES:
        snap = run_dir / SNAPSHOT_DIR / str(m)
        if snap.is_dir():
            policy = load_policy(snap)
            steps = int(policy.meta["num_timesteps"])
            row = next((r for r in rows if float(r["timesteps"]) >= steps), None)
            wall = f"{float(row['wall_time']):.0f} s" if row else "?"
            sc = scorer(policy)
            print(
                f"score at {m / 1e6:g}M steps (snapshot at {steps:,}): {sc.value:.4f} ± "
                f"{sc.se:.4f}, exact {sc.exact:.4f}, wall time {wall}"
            )
            continue
        row = next((r for r in rows if float(r["timesteps"]) >= m), None)
        if row is None:
            print(f"score at {m / 1e6:g}M steps: not reached")
            continue
        print(
            f"score at {m / 1e6:g}M steps (periodic evaluation at {float(row['timesteps']):,.0f}"
            f", {len_eval(run_dir)} episodes): {float(row['score']):.4f} ± "
            f"{float(row['se_score']):.4f}, wall time {float(row['wall_time']):.0f} s"
        )


def len_eval(run_dir: Path) -> int:
    """Episodes of the run's periodic evaluations."""
    return TrainConfig.from_toml(run_dir / "config.toml").eval_episodes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run-dir", type=Path, default=None, help="training run directory")
    parser.add_argument(
        "--model",
        type=Path,
        default=None,
        help="a model directory to evaluate (default RUN_DIR/final)",
    )
    parser.add_argument("--train", action="store_true", help="train into --run-dir first")
    parser.add_argument("--total-timesteps", type=int, default=None)
    parser.add_argument("--episodes", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=777)
    parser.add_argument(
        "--out", type=Path, default=None, help="where the curve goes (default RUN_DIR)"
    )
    parser.add_argument("--no-throughput", action="store_true",
                        help="skip the back-to-back model.learn throughput measurement")
    args = parser.parse_args()

    cfg = TrainConfig()
    wall = None
    if args.train:
        if args.run_dir is None:
            parser.error("--train needs --run-dir")
        if args.total_timesteps:
            cfg = cfg.replace(total_timesteps=args.total_timesteps)
        result = train(cfg.replace(snapshot_steps=MILESTONES), args.run_dir)
        wall = result.wall_time
        print(
            f"trained {result.num_timesteps:,} steps in {wall:.0f} s "
            f"({result.num_timesteps / wall:,.0f} steps/s of model.learn incl. evaluations)"
        )
    model_dir = args.model or (args.run_dir / "final" if args.run_dir else None)
    if model_dir is None:
        parser.error("give --run-dir or --model")
    ppo = load_policy(model_dir)
    market = ppo.config
    n, seed = args.episodes, args.seed
    print(f"evaluating {model_dir} on {n} held-out episodes (seed {seed}), market {market}")

    scorer = HeldOutScorer(market, n, seed)
    rewards = scorer.rewards
    r = {
        "PPO": rewards(ppo),
        "naive 1/k": scorer.naive_rewards,
        "optimal (CJP)": scorer.optimal_rewards,
        "discrete-time optimum": rewards(DiscreteOptimalAgent(market)),
    }
    as_r = {g: rewards(AvellanedaStoikovAgent(market, gamma=g)) for g in GAMMAS}
    best_g = max(as_r, key=lambda g: as_r[g].mean())
    for g in GAMMAS:
        r[f"AS gamma={g:g}"] = as_r[g]
    print(f"\n{'policy':<24}{'mean reward':>14}{'SE':>8}{'PPO - it':>12}{'SE':>8}")
    for name, x in r.items():
        gap = paired_gap(r["PPO"], x)
        print(
            f"{name:<24}{x.mean():>14.3f}{x.std(ddof=1) / math.sqrt(n):>8.3f}"
            f"{gap.value:>12.3f}{gap.se:>8.3f}"
        )
    score = scorer(ppo, r["PPO"])
    print(f"\nscore (Monte Carlo) = {score.value:.4f} ± {score.se:.4f}   (target >= 0.99)")
    print(
        f"score (exact, lattice) = {score.exact:.4f}   [naive {scorer.naive_value:.3f}, "
        f"optimal {scorer.optimal_value:.3f}]"
    )
    gap = paired_gap(r["PPO"], as_r[best_g])
    verdict = "yes" if gap.value > 3 * gap.se else "NO"
    print(
        f"PPO - best AS (gamma={best_g:g}) = {gap.value:.3f} ± {gap.se:.3f}: "
        f"beats it by > 3 SE: {verdict}"
    )
    as_score = optimality_score(as_r[best_g], r["naive 1/k"], r["optimal (CJP)"]).value
    print(f"best AS score = {as_score:.4f}")
    if args.run_dir is not None:
        milestones(args.run_dir, scorer)
        learning_curve(args.run_dir, args.out or args.run_dir, as_score)
        run_cfg = TrainConfig.from_toml(args.run_dir / "config.toml")
        env_rate = bare_env_rate(run_cfg)
        print(f"bare vector env with {run_cfg.n_envs} envs: {env_rate:,.0f} steps/s")
        if wall is not None:
            rate = cfg.total_timesteps / wall
            print(
                f"model.learn incl. evaluations: {rate:,.0f} steps/s -> env share of training "
                f"time ~{rate / env_rate:.1%}"
            )
    if not args.no_throughput:
        previous = TrainConfig().replace(**PREVIOUS_DEFAULT)
        old, new = learn_rate(previous), learn_rate(TrainConfig())
        print(
            f"model.learn at 1000 envs, back to back: previous default {old:,.0f} steps/s, "
            f"today's default {new:,.0f} steps/s, ratio {new / old:.2f}"
        )


if __name__ == "__main__":
    main()
