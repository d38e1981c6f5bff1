"""Throughput of the multi-asset envs, each next to its reference, in one run.

Run: ``.venv/bin/python benchmarks/multi_asset_throughput.py`` (``--quick`` for a smoke run).

1. trajectory-steps/s (num_envs x steps / s) of ``MultiAssetMarketMakingVectorEnv`` with
   1000 envs x 2 assets (preset ``"pair"``) next to the single-asset
   ``MarketMakingVectorEnv(1000)`` (preset ``"penalty"``, the same market per asset);
   target ratio >= 0.5;
2. steps/s of ``gymnasium.make("mm_env/MultiAssetMarketMaking-v0", preset="pair")`` under a
   fixed action next to ``gymnasium.make("Pendulum-v1")`` (both with gymnasium's default
   wrappers); target ratio >= 0.5.

Each figure is the best of ``--repeats`` timings, the two runs of a pair alternating (the
machine is shared); ratios are measured within the same run.
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Callable

import gymnasium as gym
import numpy as np

import mm_env  # noqa: F401 (registers the ids)
from mm_env import MarketMakingVectorEnv
from mm_env.multi_asset import MultiAssetMarketMakingVectorEnv

MULTI_ID = "mm_env/MultiAssetMarketMaking-v0"


def best_rates(fns: list[Callable[[], int]], repeats: int) -> list[float]:
    """Best of ``repeats`` runs of each ``fn`` (which returns its number of steps), in
    steps/s; the runs of the functions alternate, so that a slow spell of the shared machine
    hits them alike."""
    best = [math.inf] * len(fns)
    steps = [0] * len(fns)
    for _ in range(repeats):
        for i, fn in enumerate(fns):
            t0 = time.perf_counter()
            steps[i] = fn()
            best[i] = min(best[i], time.perf_counter() - t0)
    return [n / t for n, t in zip(steps, best, strict=True)]


def vector_loop(env: gym.vector.VectorEnv, width: int, n: int) -> Callable[[], int]:
    action = np.full((env.num_envs, width), 0.7)

    def run() -> int:
        env.reset(seed=0)
        for _ in range(n):
            env.step(action)
        return n * env.num_envs

    return run


def scalar_loop(env: gym.Env, action: np.ndarray, n: int) -> Callable[[], int]:
    def run() -> int:
        env.reset(seed=0)
        for _ in range(n):
            _, _, terminated, truncated, _ = env.step(action)
            if terminated or truncated:
                env.reset()
        return n

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer steps (a smoke run)")
    parser.add_argument("--repeats", type=int, default=25)
    args = parser.parse_args()
    scale = 0.1 if args.quick else 1.0

    num_envs = 1000
    n_vec = max(20, int(200 * scale))
    multi = MultiAssetMarketMakingVectorEnv(num_envs, preset="pair")
    single = MarketMakingVectorEnv(num_envs, preset="penalty")
    r_multi, r_single = best_rates(
        [vector_loop(multi, 4, n_vec), vector_loop(single, 2, n_vec)], args.repeats
    )
    print(
        f"vector env, {num_envs} envs, {n_vec} steps, best of {args.repeats} (trajectory-steps/s)"
    )
    print(f"  {'multi-asset pair (2 assets)':<32} {r_multi:>12,.0f}")
    print(f"  {'single-asset penalty':<32} {r_single:>12,.0f}")
    print(f"  ratio multi / single             {r_multi / r_single:>12.2f}   (target >= 0.5)")
    print()

    n_scalar = max(1000, int(5_000 * scale))
    env = gym.make(MULTI_ID, preset="pair")
    pendulum = gym.make("Pendulum-v1")
    r_env, r_pd = best_rates(
        [
            scalar_loop(env, np.full(4, 0.7, np.float32), n_scalar),
            scalar_loop(pendulum, np.zeros(1, np.float32), n_scalar),
        ],
        args.repeats,
    )
    print(f"scalar env (gym.make, fixed action), {n_scalar} steps, best of {args.repeats}")
    print(f"  {MULTI_ID + ' pair':<40} {r_env:>12,.0f} steps/s")
    print(f"  {'Pendulum-v1':<40} {r_pd:>12,.0f} steps/s")
    print(f"  ratio multi-asset / Pendulum             {r_env / r_pd:>12.2f}   (target >= 0.5)")


if __name__ == "__main__":
    main()
