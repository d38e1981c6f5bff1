"""Throughput of the scalar and the vector env, each next to its reference, in one run.

Run: ``.venv/bin/python benchmarks/throughput.py`` (``--quick`` for a short run).

1. steps/s of ``gymnasium.make("mm_env/MarketMaking-v0")`` under a fixed action next to
   ``gymnasium.make("Pendulum-v1")`` (both with gymnasium's default wrappers);
2. trajectory-steps/s (num_envs x steps / s) of ``MarketMakingVectorEnv`` at several
   num_envs next to a bare inline numpy loop doing the same arithmetic (the model's step:
   clip, quote check, fill probability, fills, accounting, GBM move, wealth, observation).

Each figure is the best of ``--repeats`` timings, to damp the machine's noise; ratios are
measured within the same run.
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Callable

import gymnasium as gym
import numpy as np

import mm_env
from mm_env import MarketConfig, MarketMakingVectorEnv


def best_rate(fn: Callable[[], int], repeats: int) -> float:
    """Best of ``repeats`` runs of ``fn`` (which returns its number of steps), in steps/s."""
    best = math.inf
    steps = 0
    for _ in range(repeats):
        t0 = time.perf_counter()
        steps = fn()
        best = min(best, time.perf_counter() - t0)
    return steps / best


def scalar_loop(env: gym.Env, action: np.ndarray, n: int) -> Callable[[], int]:
    def run() -> int:
        env.reset(seed=0)
        for _ in range(n):
            _, _, terminated, truncated, _ = env.step(action)
            if terminated or truncated:
                env.reset()
        return n

    return run


def vector_loop(num_envs: int, n: int) -> Callable[[], int]:
    env = MarketMakingVectorEnv(num_envs)
    action = np.full((num_envs, 2), 0.7)

    def run() -> int:
        env.reset(seed=0)
        for _ in range(n):
            env.step(action)
        return n * num_envs

    return run


def bare_loop(num_envs: int, n: int) -> Callable[[], int]:
    """The same model step written inline in numpy, with no env around it."""
    c = MarketConfig.preset("default")
    dt = c.dt
    a_dt, neg_k, size, lim = c.A * dt, -c.k, c.order_size, c.inventory_limit
    drift, vol = (c.mu - 0.5 * c.sigma**2) * dt, c.sigma * math.sqrt(dt)
    action = np.full((num_envs, 2), 0.7)

    def run() -> int:
        rng = np.random.default_rng(0)
        mid = np.full(num_envs, c.S0)
        cash = np.zeros(num_envs)
        q = np.zeros(num_envs)
        step = np.zeros(num_envs, np.int64)
        for _ in range(n):
            z = rng.standard_normal(num_envs)
            u = rng.random((2, num_envs))
            bd = np.minimum(np.maximum(action[:, 0], c.min_depth), c.max_depth)
            ad = np.minimum(np.maximum(action[:, 1], c.min_depth), c.max_depth)
            bq = q + size <= lim
            aq = q - size >= -lim
            bf = bq & (u[0] < -np.expm1(-a_dt * np.exp(neg_k * bd)))
            af = aq & (u[1] < -np.expm1(-a_dt * np.exp(neg_k * ad)))
            bp, ap = mid - bd, mid + ad
            prev_wealth = cash + q * mid
            cash = cash - size * bf * bp + size * af * ap
            q = q + size * bf - size * af
            mid = mid * np.exp(drift + vol * z)
            step = step + 1
            reward = cash + q * mid - prev_wealth
            obs = np.empty((num_envs, 3), np.float32)
            obs[:, 0] = (c.n_steps - step) * dt
            obs[:, 1] = q
            obs[:, 2] = mid
            done = step >= c.n_steps
            if done.any():
                mid[:], cash[:], q[:], step[:] = c.S0, 0.0, 0.0, 0
            del reward, obs
        return n * num_envs

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer steps (a smoke run)")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    scale = 0.1 if args.quick else 1.0

    n_scalar = int(50_000 * scale)
    mm = gym.make(mm_env.ENV_ID)
    pendulum = gym.make("Pendulum-v1")
    r_mm = best_rate(scalar_loop(mm, np.array([0.7, 0.7], np.float32), n_scalar), args.repeats)
    r_pd = best_rate(scalar_loop(pendulum, np.array([0.0], np.float32), n_scalar), args.repeats)
    print(f"scalar env (gym.make, fixed action), {n_scalar} steps, best of {args.repeats}")
    print(f"  {'mm_env/MarketMaking-v0':<24} {r_mm:>12,.0f} steps/s")
    print(f"  {'Pendulum-v1':<24} {r_pd:>12,.0f} steps/s")
    print(f"  ratio mm_env / Pendulum   {r_mm / r_pd:>12.2f}   (target >= 0.5)")
    print()
    print("vector env vs bare numpy loop (trajectory-steps/s)")
    print(f"  {'num_envs':>9} {'vector env':>14} {'bare loop':>14} {'ratio':>7}")
    for num_envs in (1, 64, 1000, 10_000):
        n = max(20, int(scale * min(20_000, 4_000_000 // num_envs)))
        r_env = best_rate(vector_loop(num_envs, n), args.repeats)
        r_bare = best_rate(bare_loop(num_envs, n), args.repeats)
        print(f"  {num_envs:>9} {r_env:>14,.0f} {r_bare:>14,.0f} {r_env / r_bare:>7.2f}")
    print("  (target: ratio >= 0.6 at num_envs = 1000)")


if __name__ == "__main__":
    main()
