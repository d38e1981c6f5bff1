"""The README's main job.

Until the training pipeline lands, this runs a Monte Carlo of the vector env under the
fixed-spread policy (depth 1/k on both sides) and prints a summary of terminal PnL.
"""

from __future__ import annotations

import argparse
import logging
import math
import sys

import numpy as np

from agents import FixedSpreadAgent
from mm_env import MarketConfig, MarketMakingVectorEnv, available_presets

log = logging.getLogger(__name__)


def run(config: MarketConfig, n_episodes: int, seed: int) -> dict[str, float]:
    """Terminal-PnL statistics of the fixed-spread policy over ``n_episodes``."""
    env = MarketMakingVectorEnv(n_episodes, config)
    agent = FixedSpreadAgent(config)
    obs, _ = env.reset(seed=seed)
    fills = np.zeros(n_episodes)
    for _ in range(config.n_steps):
        obs, _, terminated, _, info = env.step(agent.act(obs))
        fills += info["bid_filled"] + info["ask_filled"]
    assert terminated.all()
    pnl = info["wealth"]
    return {
        "episodes": float(n_episodes),
        "mean_pnl": float(pnl.mean()),
        "std_pnl": float(pnl.std(ddof=1)),
        "se_pnl": float(pnl.std(ddof=1) / math.sqrt(n_episodes)),
        "mean_fills": float(fills.mean()),
        "mean_abs_final_inventory": float(np.abs(info["inventory"]).mean()),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m train.main", description=__doc__)
    parser.add_argument("--preset", default="default", choices=available_presets())
    parser.add_argument("--episodes", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.episodes < 2:
        parser.error(f"--episodes must be >= 2, got {args.episodes}")
    stats = run(MarketConfig.preset(args.preset), args.episodes, args.seed)
    width = max(map(len, stats))
    sys.stdout.write(f"fixed spread 1/k on preset {args.preset!r}\n")
    for key, value in stats.items():
        sys.stdout.write(f"{key:<{width}}  {value:12.4f}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
