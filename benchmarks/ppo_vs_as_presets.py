"""PPO against the best-gamma Avellaneda-Stoikov on the adverse and alpha presets.

Run (one training per preset, 30M steps, about 10-14 minutes each on 2 cores)::

    .venv/bin/python benchmarks/ppo_vs_as_presets.py --preset adverse --run-dir runs/adverse
    .venv/bin/python benchmarks/ppo_vs_as_presets.py --preset alpha --run-dir runs/alpha

or evaluate an existing run with ``--no-train``. The agent is trained with the default
:class:`train.sb3.config.TrainConfig` except: the market is the preset with the
``inventory_penalty`` reward (``--phi``: a running penalty so that the agent trades PnL for
risk as a Sharpe-minded market maker would; default :data:`PHI` per preset — on ``alpha``,
phi = 0.02 and 0.5 gave agents that beat AS on mean PnL but not on Sharpe; on ``adverse``,
phi = 1.5 keeps both margins above the previous default's (0.5 and 1.0 gave smaller Sharpe
margins); the episode PnL is what is compared),
no martingale reward (the mid moves predictably in these markets) and the observed
extras (the alpha signal) added to the network's features.

On ``--episodes`` held-out episodes with common random numbers it prints PPO's mean PnL and
Sharpe (per-episode mean / std of PnL), AS's at every gamma of a sweep, and PPO's paired
difference to the best AS gamma *for each metric, picked on the same episodes* (which favours
AS), with its standard error and ``z = diff / se``
(:func:`train.evaluation.stats.paired_difference`).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from agents import AvellanedaStoikovAgent
from mm_env import MarketConfig, observation_names
from train.evaluation.harness import evaluate
from train.evaluation.stats import paired_difference, sharpe_ratio
from train.sb3.config import TrainConfig
from train.sb3.model_dir import load_policy
from train.sb3.trainer import train

GAMMAS = (0.001, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0)
#: Default running inventory penalty of the training reward, per preset.
PHI = {"adverse": 1.5, "alpha": 2.0, "microstructure": 0.5}


def train_config(preset: str, phi: float, total: int | None) -> TrainConfig:
    market = MarketConfig.preset(preset)
    extras = tuple(n for n in observation_names(market)[3:] if n == "signal")
    cfg = TrainConfig(
        preset=preset,
        overrides={"reward": "inventory_penalty", "phi": phi},
        martingale_reward=False,
        obs_features=("time_remaining", "sqrt_time_remaining", "inventory", *extras),
    )
    return cfg.replace(total_timesteps=total) if total else cfg


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", required=True, choices=["adverse", "alpha", "microstructure"])
    parser.add_argument("--run-dir", type=Path, required=True)
    parser.add_argument("--no-train", action="store_true", help="evaluate RUN_DIR/final only")
    parser.add_argument("--phi", type=float, default=None, help="default: PHI[preset]")
    parser.add_argument("--total-timesteps", type=int, default=30_000_000)
    parser.add_argument("--episodes", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=4242)
    args = parser.parse_args()

    if not args.no_train:
        phi = PHI[args.preset] if args.phi is None else args.phi
        cfg = train_config(args.preset, phi, args.total_timesteps)
        result = train(cfg, args.run_dir)
        print(f"trained {result.num_timesteps:,} steps in {result.wall_time:.0f} s")
    ppo = load_policy(args.run_dir / "final")
    market = ppo.config
    n, seed = args.episodes, args.seed
    pnl = {"PPO": evaluate(ppo, market, n, seed).pnl}
    for g in GAMMAS:
        pnl[f"AS gamma={g:g}"] = evaluate(AvellanedaStoikovAgent(market, g), market, n, seed).pnl
    print(f"preset {args.preset!r}, {n} held-out episodes (seed {seed})\n")
    print(f"{'policy':<18}{'mean PnL':>10}{'Sharpe':>9}")
    for name, x in pnl.items():
        print(f"{name:<18}{x.mean():>10.3f}{sharpe_ratio(x):>9.3f}")
    names = [k for k in pnl if k != "PPO"]
    for metric, value in (("mean", lambda x: x.mean()), ("sharpe", sharpe_ratio)):
        best = max(names, key=lambda k: value(pnl[k]))
        diff, se = paired_difference(pnl["PPO"], pnl[best], metric=metric)
        verdict = "yes" if diff > 3 * se else "NO"
        print(f"PPO - best AS on {metric} ({best}): {diff:+.3f} ± {se:.3f} "
              f"(z = {diff / se:.1f}); beats it by > 3 SE: {verdict}")


if __name__ == "__main__":
    main()
