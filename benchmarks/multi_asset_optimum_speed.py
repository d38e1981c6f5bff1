"""Precompute times of the multi-asset exact optima, and what the joint optimum is worth.

Run: ``.venv/bin/python benchmarks/multi_asset_optimum_speed.py`` (``--repeats``,
``--episodes`` for the Monte Carlo of the episode rewards' spread, ``--skip-compare``).

1. Speed: :class:`~agents.multi_asset.MultiAssetOptimalAgent` (continuous time, the linear
   ODE solved by log-space uniformisation; and the BDF integration used when ``k_i /
   order_size_i`` differ) and :class:`~agents.multi_asset.MultiAssetDiscreteOptimalAgent`
   (the env's Bellman recursion) on the ``pair`` market (2 assets, rho 0.9, mean-variance
   penalty) with ``|q_i| <= 20`` (1681 joint inventories, target under 5 s), and on the
   ``basket`` market (3 assets) with ``|q_i| <= 5`` and ``10``, 200 steps each. Prints the
   best of the repeats and the load average (the machine may be shared).
2. Value (``pair`` preset as it is, ``|q_i| <= 10``): the exact expected episode reward of
   each agent in the env (:func:`~agents.multi_asset.evaluate_on_multi_lattice`, no noise),
   the gap of the joint optima over the independent single-asset optima, and the number of
   episodes a Monte Carlo comparison needs for that gap to be 10 standard errors, from the
   standard deviation of the episode rewards (independent runs) and of the paired
   differences (common random numbers: the same seeds for both policies), estimated with
   the multi-asset vector env.
"""

from __future__ import annotations

import argparse
import math
import os
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from agents import DiscreteOptimalAgent
from agents.multi_asset import (
    IndependentAgent,
    MultiAssetASAgent,
    MultiAssetDiscreteOptimalAgent,
    MultiAssetOptimalAgent,
    QuadraticApproximationAgent,
    evaluate_on_multi_lattice,
)
from mm_env.multi_asset import MultiAssetConfig, MultiAssetMarketMakingVectorEnv


def best_time(build: Callable[[], Any], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        build()
        times.append(time.perf_counter() - start)
    return min(times)


def speed(repeats: int) -> None:
    cases = [
        ("pair", 20.0, "poisson"),
        ("pair", 20.0, "bernoulli"),
        ("basket", 5.0, "bernoulli"),
        ("basket", 10.0, "bernoulli"),
    ]
    print(
        f"{'market':>8} {'|q|<=':>5} {'states':>7} {'fills':>9} {'continuous':>11} "
        f"{'nonlinear':>10} {'discrete':>9}  [s, best of {repeats}]"
    )
    for preset, limit, fills in cases:
        config = MultiAssetConfig.preset(preset, inventory_limit=limit, fill_model=fills)
        states = round(2 * limit + 1) ** config.n_assets
        cont = best_time(lambda c=config: MultiAssetOptimalAgent(c), repeats)
        # unequal k / order_size: the BDF integration of the nonlinear HJB (2 assets only)
        if config.n_assets == 2:
            uneven = config.replace(k=(1.5, 1.2))
            nonlin = f"{best_time(lambda c=uneven: MultiAssetOptimalAgent(c), 1):10.2f}"
        else:
            nonlin = f"{'-':>10}"
        disc = best_time(lambda c=config: MultiAssetDiscreteOptimalAgent(c), 1)
        print(f"{preset:>8} {limit:5g} {states:7d} {fills:>9} {cont:11.2f} {nonlin} {disc:9.2f}")
    print(f"load average: {os.getloadavg()}")


def episode_rewards(policy: Any, config: MultiAssetConfig, episodes: int, seed: int) -> np.ndarray:
    env = MultiAssetMarketMakingVectorEnv(episodes, config)
    obs, _ = env.reset(seed=seed)
    total = np.zeros(episodes)
    for _ in range(config.n_steps):
        obs, reward, _, _, _ = env.step(policy.act(obs).astype(np.float32))
        total += reward
    return total


def compare(episodes: int) -> None:
    config = MultiAssetConfig.preset("pair")
    discrete = MultiAssetDiscreteOptimalAgent(config)
    agents: dict[str, Any] = {
        "joint discrete optimum": discrete,
        "joint continuous optimum": MultiAssetOptimalAgent(config),
        "quadratic (BEGV), finite T": QuadraticApproximationAgent(config),
        "independent discrete optima": IndependentAgent(config, DiscreteOptimalAgent),
        "independent continuous optima": IndependentAgent(config),
        "quadratic (BEGV), stationary": QuadraticApproximationAgent(config, horizon="stationary"),
        "multi-asset AS, gamma 0.1": MultiAssetASAgent(config, 0.1),
    }
    print(f"\npair preset: exact expected episode reward in the env ({config.fill_model} fills)")
    values = {name: evaluate_on_multi_lattice(a, config).initial for name, a in agents.items()}
    for name, v in values.items():
        print(f"  {name:<32} {v:10.4f}")
    pairs = [
        ("joint discrete optimum", "independent discrete optima"),
        ("joint continuous optimum", "independent continuous optima"),
    ]
    print(f"\nepisodes for the gap to be 10 SE (spreads from {episodes} episodes of the env):")
    for best, base in pairs:
        gap = values[best] - values[base]
        r_best = episode_rewards(agents[best], config, episodes, seed=1)
        r_base = episode_rewards(agents[base], config, episodes, seed=1)  # same market noise
        r_indep = episode_rewards(agents[base], config, episodes, seed=2)
        sd_unpaired = math.sqrt(r_best.var(ddof=1) + r_indep.var(ddof=1))
        sd_paired = float((r_best - r_base).std(ddof=1))
        print(f"  {best} - {base}: gap {gap:.4f} ({100 * gap / values[base]:.2f}%)")
        print(
            f"    sd of one episode's reward {r_best.std(ddof=1):.3f}; independent runs: "
            f"{math.ceil((10 * sd_unpaired / gap) ** 2)} episodes per policy; "
            f"common random numbers (sd of the difference {sd_paired:.3f}): "
            f"{math.ceil((10 * sd_paired / gap) ** 2)}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--episodes", type=int, default=4000)
    parser.add_argument("--skip-compare", action="store_true")
    args = parser.parse_args(argv)
    speed(args.repeats)
    if not args.skip_compare:
        compare(args.episodes)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
