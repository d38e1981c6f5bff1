"""Throughput of the batched competition env next to the single-asset vector env.

Run: ``.venv/bin/python benchmarks/competition_throughput.py`` (a few seconds; ``--steps``,
``--repeats``, ``--games``, ``--makers``, ``--preset`` to change it).

Trajectory-steps/s: game steps x makers per second for
:class:`mm_env.competition.CompetitionVectorEnv` (``--games`` games of ``--makers`` makers),
env steps x num_envs per second for :class:`mm_env.MarketMakingVectorEnv` (``--games`` envs),
both under a fixed action, each figure the best of ``--repeats`` interleaved timings (the
machine's noise hits both alike), and their ratio (target >= 0.4).
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Callable

import numpy as np

from mm_env import MarketMakingVectorEnv
from mm_env.competition import CompetitionVectorEnv


def timed(fn: Callable[[], None]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--games", type=int, default=1000)
    parser.add_argument("--makers", type=int, default=2)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--preset", default="as2008")
    args = parser.parse_args()

    game = CompetitionVectorEnv(args.games, args.makers, preset=args.preset)
    single = MarketMakingVectorEnv(args.games, preset=args.preset)
    game.reset(seed=0)
    single.reset(seed=0)
    game_action = np.full((args.games, args.makers, 2), 0.8)
    single_action = np.full((args.games, 2), 0.8)

    def run_game() -> None:
        for _ in range(args.steps):
            game.step(game_action)

    def run_single() -> None:
        for _ in range(args.steps):
            single.step(single_action)

    run_game()  # warm-up
    run_single()
    best_game = best_single = math.inf
    for _ in range(args.repeats):
        best_game = min(best_game, timed(run_game))
        best_single = min(best_single, timed(run_single))
    game_rate = args.steps * args.games * args.makers / best_game
    single_rate = args.steps * args.games / best_single
    print(f"preset {args.preset!r}, {args.steps} steps, best of {args.repeats}")
    print(
        f"CompetitionVectorEnv({args.games} games x {args.makers} makers): "
        f"{game_rate:,.0f} trajectory-steps/s"
    )
    print(
        f"MarketMakingVectorEnv({args.games}):                 "
        f"{single_rate:,.0f} trajectory-steps/s"
    )
    print(f"ratio: {game_rate / single_rate:.2f} (target >= 0.4)")


if __name__ == "__main__":
    main()
