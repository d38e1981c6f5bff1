"""Exact yardsticks of two competing market makers on the competition yardstick market.

Run: ``.venv/bin/python benchmarks/competition_yardsticks.py`` (``--tick``, ``--limit`` to
change the market; the default is :func:`agents.competition.yardstick_config`: the
``"penalty"`` preset, inventory limit 10 per maker, tick 0.05, 200 steps).

Prints, all exact (no Monte Carlo): the monopolist's spread (bid + ask depth at ``q = 0``)
over time, from :class:`agents.DiscreteOptimalAgent` (continuous depths) and from the best
response to an absent opponent on the tick grid; the equilibrium's spreads at ``q = (0, 0)``
over time, its values, exploitability, whether every stage game settled, the best-reply rounds
and the expected visits to unsettled states; then the exploitability and values of the
baseline profiles (both makers playing AS with gamma 0.1, the single-maker optimum, or the
fixed spread 1/k). Finally (``--env-games``, default 10,000; 0 skips it) a Monte Carlo of
the equilibrium tables in ``mm_env.competition.CompetitionVectorEnv`` on the same market, with
the yardstick's still mid (the lattice's game exactly) and with the preset's sigma = 2 (the
mid off the tick grid: about one tick more spread). Takes about 20-60 s.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import numpy as np

from agents.competition import (
    CompetitionLattice,
    TablePolicy,
    avellaneda_stoikov_profile,
    best_response,
    exploitability,
    fixed_spread_profile,
    monopolist_profile,
    solve_equilibrium,
    table_from_agent,
    yardstick_config,
)
from mm_env.config import MarketConfig


def spread_row(name: str, tables: np.ndarray, game: CompetitionLattice, steps: list[int]) -> str:
    a, b = game.origin
    cells = " ".join(f"{tables[i, a, b].sum():7.3f}" for i in steps)
    return f"  {name:<34} {cells}"


def env_returns(config: MarketConfig, policies: list[Any], games: int, seed: int) -> np.ndarray:
    """Episode returns ``(games, 2)`` of the policies in the competition env."""
    from mm_env.competition import CompetitionVectorEnv

    env = CompetitionVectorEnv(
        num_games=games,
        n_makers=2,
        config=config,
        full_information=True,
        autoreset_mode="Disabled",
    )
    obs, _ = env.reset(seed=seed)
    total = np.zeros((games, 2))
    for _ in range(config.n_steps):
        actions = np.stack([policies[j].act(obs[:, j, :]) for j in (0, 1)], axis=1)
        obs, rewards, _, _, _ = env.step(actions)
        total += rewards
    return total


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tick", type=float, default=0.05)
    parser.add_argument("--limit", type=float, default=10.0)
    parser.add_argument("--env-games", type=int, default=10_000)
    args = parser.parse_args(argv)
    config = yardstick_config(tick_size=args.tick, inventory_limit=args.limit)
    game = CompetitionLattice(config)
    n = game.n_steps
    steps = [0, n // 4, n // 2, 3 * n // 4, n - 1]
    print(
        f"market: penalty preset, tick {args.tick:g}, |q| <= {args.limit:g}, {n} steps, "
        f"dt {config.dt:g}, A {config.A:g}, k {config.k:g}, {config.fill_model} fills, "
        f"phi {config.phi:g}, alpha {config.alpha:g}"
    )
    start = time.perf_counter()
    mono_agent = monopolist_profile(config, 1)[0]
    mono_table = table_from_agent(game, mono_agent, 0)
    mono_grid = best_response(game, None, 0)
    eq = solve_equilibrium(game)
    elapsed = time.perf_counter() - start
    print(
        "spread = bid + ask depth at q = 0 (joint q = (0, 0)), at steps "
        + " ".join(f"{i:7d}" for i in steps)
    )
    print(spread_row("monopolist (DiscreteOptimalAgent)", mono_table, game, steps))
    print(spread_row("monopolist on the tick grid", mono_grid.table, game, steps))
    print(spread_row("equilibrium, maker 0", eq.tables[0], game, steps))
    print(spread_row("equilibrium, maker 1", eq.tables[1], game, steps))
    a, b = game.origin
    print(
        f"equilibrium quotes at t = 0: maker 0 {eq.tables[0][0, a, b]}, "
        f"maker 1 {eq.tables[1][0, a, b]}"
    )
    print(f"monopolist value (alone, tick grid): {mono_grid.initial:.6f}")
    v = eq.profile.initial
    print(f"equilibrium values: maker 0 {v[0]:.6f}, maker 1 {v[1]:.6f} (sum {v.sum():.6f})")
    print(
        f"equilibrium exploitability: {eq.exploitability:.3e} (gains {eq.check.gains[0]:.3e}, "
        f"{eq.check.gains[1]:.3e})"
    )
    print(
        f"converged (every stage settled): {eq.converged}; unsettled states "
        f"{int(eq.unconverged.sum())} of {n * game.shape[0] * game.shape[1]}; expected visits "
        f"to them per episode {eq.unsettled_visits:.3e}; largest stage gap "
        f"{eq.stage_gaps.max():.3e}"
    )
    print(
        f"best-reply rounds: max {eq.iterations} per stage, total {int(eq.rounds.sum())}; "
        f"solved in {elapsed:.1f} s"
    )
    print("baseline profiles (both makers play the same single-asset agent):")
    baselines = {
        # AS's skew needs a volatility: the penalty preset's sigma = 2 (the yardstick's mid is
        # still, which would switch AS's inventory control off)
        "AS (gamma 0.1, sigma 2)": avellaneda_stoikov_profile(config, 2, sigma=2.0),
        "single-maker optimum": monopolist_profile(config, 2),
        "fixed spread 1/k": fixed_spread_profile(config, 2),
    }
    for name, agents in baselines.items():
        tables = [table_from_agent(game, agent, j) for j, agent in enumerate(agents)]
        ex = exploitability(game, tables)
        pv = ex.profile.initial
        print(
            f"  {name:<24} exploitability {ex.value:10.6f}  values {pv[0]:.6f}, {pv[1]:.6f}  "
            f"best-response values {ex.best_responses[0].initial:.6f}, "
            f"{ex.best_responses[1].initial:.6f}"
        )
    if args.env_games > 0:
        print(
            f"Monte Carlo of the equilibrium in mm_env.competition ({args.env_games} games, "
            "mean +- SE per maker):"
        )
        policies = [TablePolicy(game, eq.tables[j], j) for j in (0, 1)]
        for sigma in (config.sigma, 2.0):
            ret = env_returns(config.replace(sigma=sigma), policies, args.env_games, seed=1)
            mean = ret.mean(axis=0)
            se = ret.std(axis=0, ddof=1) / np.sqrt(ret.shape[0])
            print(
                f"  sigma {sigma:g}: maker 0 {mean[0]:.4f} +- {se[0]:.4f}, maker 1 "
                f"{mean[1]:.4f} +- {se[1]:.4f}  (lattice {v[0]:.4f}, {v[1]:.4f})"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
