"""Avellaneda-Stoikov against simple model-aware heuristics on the presets with market components.

Run: ``.venv/bin/python benchmarks/heuristics_vs_as.py`` (``--episodes`` per evaluation, default
10,000; about 10 seconds on one core).

On the ``adverse`` and ``alpha`` presets AS is no longer nearly optimal. This script shows it
with the evaluation harness (:func:`train.evaluation.compare.compare`, common random numbers):

1. AS is evaluated at every gamma of :data:`GAMMAS` on the evaluation episodes, and the best
   gamma is picked *on those same episodes*, separately for mean PnL and for Sharpe (which
   favours AS);
2. each heuristic has two parameters, tuned on *other* episodes (``--tune-seed``) over a small
   grid (the grid point whose smaller relative gain over the best AS, in mean PnL and in
   Sharpe, is largest), then evaluated once on the evaluation episodes (``--seed``);
3. the table gives the heuristic's mean PnL and Sharpe (per-episode mean/std), the best AS's,
   the paired difference and its standard error (:mod:`train.evaluation.stats`), and ``z = diff /
   se``.

Heuristics (actions ``[bid_depth, ask_depth]``, both built on the AS quotes of gamma ``g``):

- ``adverse``: AS widened by a fraction ``f`` of the expected adverse move per fill ``p eta``
  on both sides (the risk-neutral optimum of ``(d - p eta) e^(-k d)`` is ``d = 1/k + p eta``);
- ``alpha``: AS centred on the expected future mid ``S + a h`` instead of ``S`` (bid depth
  ``- a h``, ask depth ``+ a h``), ``a`` the observed signal (4th observation component).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np

from agents import AvellanedaStoikovAgent
from mm_env import MarketConfig
from train.evaluation.compare import compare

GAMMAS = (0.001, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0)
Policy = Callable[[np.ndarray], np.ndarray]


def widened_as(config: MarketConfig, gamma: float, shift: float) -> Policy:
    """AS quotes pushed ``shift`` further from the mid on both sides."""
    agent = AvellanedaStoikovAgent(config, gamma)

    def policy(obs: np.ndarray) -> np.ndarray:
        return agent.act(obs) + shift

    return policy


def signal_centred_as(config: MarketConfig, gamma: float, horizon: float) -> Policy:
    """AS quotes centred on ``S + a * horizon`` (``a``: observation column 3)."""
    agent = AvellanedaStoikovAgent(config, gamma)

    def policy(obs: np.ndarray) -> np.ndarray:
        act = agent.act(obs).copy()
        move = obs[:, 3] * horizon
        act[:, 0] -= move
        act[:, 1] += move
        return act

    return policy


def heuristics(preset: str, config: MarketConfig) -> dict[str, Policy]:
    """The tuning grid of the preset's heuristic: name -> policy."""
    if preset == "adverse":
        c = config.adverse_prob * config.adverse_jump
        return {
            f"AS(g={g}) + {f}*p*eta": widened_as(config, g, f * c)
            for g in (0.05, 0.1, 0.2, 0.5)
            for f in (0.5, 1.0)
        }
    h0 = 1.0 / config.signal_decay
    return {
        f"AS(g={g}) at S+a*{h:.3f}": signal_centred_as(config, g, h)
        for g in (0.05, 0.1, 0.2, 0.5)
        for h in (0.25 * h0, 0.5 * h0, h0)
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=2024, help="evaluation episodes")
    parser.add_argument("--tune-seed", type=int, default=7, help="tuning episodes")
    parser.add_argument("--presets", nargs="+", default=["adverse", "alpha"])
    args = parser.parse_args()
    n = args.episodes
    for preset in args.presets:
        t0 = time.perf_counter()
        cfg = MarketConfig.preset(preset)
        as_policies = {f"AS(g={g})": AvellanedaStoikovAgent(cfg, g) for g in GAMMAS}
        # 1. tune the heuristic on other episodes
        grid = heuristics(preset, cfg)
        tuned = compare({**grid, **as_policies}, cfg, n_episodes=min(n, 5000),
                        seed=args.tune_seed)
        summ = {k: r.summary() for k, r in tuned.results.items()}
        best_as = {m: max(summ[k][m] for k in as_policies) for m in ("mean_pnl", "sharpe")}

        gains = {k: min(summ[k][m] / best_as[m] - 1.0 for m in best_as) for k in grid}
        best_name = max(grid, key=gains.__getitem__)
        # 2. evaluate it with AS at every gamma on the evaluation episodes
        policies: dict[str, object] = {best_name: grid[best_name], **as_policies}
        res = compare(policies, cfg, n_episodes=n, seed=args.seed, reference=best_name)
        est = res.estimates()
        print(f"\npreset {preset!r}: {n} episodes (seed {args.seed}); heuristic tuned on "
              f"seed {args.tune_seed}: {best_name}")
        print(f"  {'policy':<28} {'mean PnL':>9} {'± se':>6} {'Sharpe':>7} {'± se':>6}"
              f" {'|q_T|':>6} {'fills':>6}")
        for name in res.policies:
            e = est[name]
            print(f"  {name:<28} {e['mean_pnl'].value:9.2f} {e['mean_pnl'].se:6.2f}"
                  f" {e['sharpe'].value:7.3f} {e['sharpe'].se:6.3f}"
                  f" {e['mean_abs_inventory'].value:6.2f} {e['mean_fills'].value:6.1f}")
        for metric, label in (("mean_pnl", "mean PnL"), ("sharpe", "Sharpe")):
            top = max(as_policies, key=lambda k: est[k][metric].value)
            e = est[top][metric]  # diff = AS - heuristic (the heuristic is the reference)
            diff, se = -e.diff, e.diff_se
            print(f"  {label}: heuristic - best AS ({top}, picked on these episodes) = "
                  f"{diff:+.3f} ± {se:.3f} (z = {diff / se:.1f})")
        print(f"  ({time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    main()
