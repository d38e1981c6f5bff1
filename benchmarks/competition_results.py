"""Self-play PPO among N competing market makers against AS and the monopolist's quotes.

Run: ``.venv/bin/python benchmarks/competition_results.py`` (``--help`` for the options).

Market: the competition yardsticks' (:func:`agents.competition.yardstick_config`: the
``"penalty"`` preset, i.e. the AS 2008 market with arithmetic mid, T = 1, 200 steps, A = 140,
k = 1.5, bernoulli fills, reward ``inventory_penalty`` with phi = alpha = 0.1; inventory
limit 10 per maker, tick 0.05, a still mid), the same for every N.

For N = 1, 2, 4, 8 (``--ns``):

1. trains one self-play PPO policy shared by all makers
   (:func:`train.sb3.competition.train_self_play`, ``--timesteps`` maker-steps, about
   ``--rows`` batch rows: ``rows // N`` games; other hyperparameters the
   :class:`~train.sb3.competition.SelfPlayConfig` defaults: n_steps 40, minibatch 10,000,
   5 epochs, lr 5e-4 linear, network 64x64, input ``[t, sqrt t, q]`` scaled, reward
   normalisation), into ``--runs-dir/n{N}_{timesteps}`` (a run whose ``config.json`` matches
   is reused, not retrained);
2. evaluates by Monte Carlo (:func:`train.evaluation.competition.evaluate_competition`,
   ``--episodes`` games, one seed for every profile: common random numbers) the PPO profile,
   AS for every maker (gamma 0.1 with the preset's sigma = 2 in the AS formula, as the
   yardsticks), and the N = 1 optimum (``DiscreteOptimalAgent``) played by every maker:
   the mean quoted spread (bid + ask depth when quoting both sides), the reward and PnL per
   maker and each maker's fill share, with standard errors;
3. for N = 2, exactly on the lattice (:mod:`agents.competition`): the PPO profile tabulated
   on ``(t, q_0, q_1)``, its exact values and exploitability, the same for AS and for the
   monopolist profile, next to the equilibrium's (:func:`agents.competition.solve_equilibrium`);
   also for the further N = 2 runs of ``--n2-variants`` (other budgets: the learning trend;
   ``STEPS:stagger``: the games' episodes spread over the horizon at the start,
   :meth:`train.sb3.competition_vec_env.CompetitionSB3VecEnv.stagger`; ``STEPS:others``: the
   policy also sees the other maker's inventory, as the equilibrium's quotes do).

Prints a table and writes the figure of spread against N (``--figure``,
:func:`train.plots.competition.plot_spread_vs_makers`). ``--train-only`` stops after step 1.

Measured (``.venv/bin/python benchmarks/competition_results.py``, the defaults; training on
a shared 2-core machine took 160-400 s per 5M-step run, 604 s for the 10M one; the
evaluation and the lattice section about 2 minutes)::

    market: penalty preset, tick 0.05, |q| <= 10 per maker, still mid, 200 steps
    4000 games per profile (common random numbers), mean +- SE; PPO: 5M maker-steps per N
     N profile                 spread reward per maker    PnL per maker  fills  fill share
     1 self-play PPO            1.618  64.823 +- 0.102  65.771 +- 0.103   85.8 1.000-1.000
     1 AS every maker           1.542  63.658 +- 0.097  64.715 +- 0.096   93.3 1.000-1.000
     1 N=1 optimum every maker  1.404  66.864 +- 0.095  67.684 +- 0.096   98.9 1.000-1.000
     2 self-play PPO            0.687  27.256 +- 0.028  28.031 +- 0.026   85.2 0.499-0.501
     2 AS every maker           1.542  32.813 +- 0.049  33.276 +- 0.048   49.0 0.498-0.502
     2 N=1 optimum every maker  1.404  33.602 +- 0.047  34.073 +- 0.047   50.1 0.498-0.502
     2 equilibrium (lattice)    0.281   9.802 +- 0.021  18.093 +- 0.021   98.0 0.498-0.502
     4 self-play PPO            0.663  13.336 +- 0.013  13.702 +- 0.013   43.6 0.249-0.251
     4 AS every maker           1.542  16.622 +- 0.024  16.842 +- 0.024   24.9 0.249-0.252
     4 N=1 optimum every maker  1.404  16.853 +- 0.024  17.100 +- 0.024   25.2 0.248-0.252
     8 self-play PPO            0.783   7.245 +- 0.007   7.406 +- 0.007   20.1 0.124-0.127
     8 AS every maker           1.542   8.339 +- 0.012   8.451 +- 0.012   12.5 0.124-0.127
     8 N=1 optimum every maker  1.403   8.447 +- 0.012   8.564 +- 0.012   12.7 0.124-0.126
    spread: mean quoted bid + ask depth (SE at most 0.0004); fills per maker per game;
    fill share: min-max over the makers
    exact, on the (t, q0, q1) lattice (spread: maker 0's requested bid + ask depth at
    t = 0, q = (0, 0); values and best-response gains of makers 0 and 1):
    profile                      spread            values exploit.        BR gains
    PPO, 5M steps                 0.674   27.244   27.244   44.854  22.427  22.427
    PPO, 2M steps                 1.253   30.692   30.692   56.553  28.276  28.276
    PPO, 10M steps                0.306   18.900   18.900   25.740  12.870  12.870
    PPO, 5M steps, staggered      0.589   27.125   27.125   44.624  22.312  22.312
    PPO, 5M steps, sees q_other   0.695   27.137   27.137   44.704  22.352  22.352
    AS every maker                1.691   32.821   32.821   67.289  33.644  33.644
    N=1 optimum every maker       1.351   33.628   33.628   64.984  32.492  32.492
    equilibrium                   0.100    9.731    9.933  1.9e-07

Reading. Self-play PPO with parameter sharing learns to compete: from the monopolist's
spread at N = 1 (1.62 against the optimum's 1.40, 97 % of the optimum's value) it halves
the spread as soon as a second maker is there, and its N = 2 profile is less exploitable
than any single-maker profile (45 against 65-67) and keeps moving towards the equilibrium
with more training (57, 45, 26 after 2M, 5M, 10M steps; spread at t = 0 1.25, 0.67, 0.31).
It is still far from Bertrand: the equilibrium quotes one tick a side (0.10 at q = 0, 0.28
on average over the states visited) and leaves each maker 9.8, the 10M-step profile still
earns 18.9 each, and a best response gains 12.9. Staggered episode phases and the other
maker's inventory as an input change little at 5M steps (exploitability 44.6, 44.7 against
44.9). With the same budget per N, the policies for N = 4 and 8 quote about the same spread
as for N = 2 (0.66, 0.78): more competitors do not make the self-play quotes tighter within
this budget.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path
from typing import Any

import numpy as np

from agents.competition import (
    CompetitionLattice,
    Equilibrium,
    TablePolicy,
    avellaneda_stoikov_profile,
    exploitability,
    monopolist_profile,
    solve_equilibrium,
    table_from_agent,
    yardstick_config,
)
from train.evaluation.competition import CompetitionEvaluation, evaluate_competition
from train.sb3.competition import (
    CONFIG_FILE,
    SelfPlayConfig,
    SelfPlayPolicy,
    load_self_play,
    train_self_play,
)

#: ``--n2-variants`` options and their labels.
VARIANTS = {"": "", "stagger": ", staggered", "others": ", sees q_other"}
AS_SIGMA = 2.0  # the preset's volatility, kept in AS's formula on the still-mid market


def self_play_policy(
    n: int, args: argparse.Namespace, timesteps: int, option: str = ""
) -> SelfPlayPolicy:
    """Train (or reuse) the self-play run of ``n`` makers with a budget of ``timesteps``
    (``option`` ``"stagger"``: the games' episodes spread over the horizon; ``"others"``: the
    policy also sees the other makers' inventories)."""
    cfg = SelfPlayConfig(
        n_makers=n,
        n_games=max(1, args.rows // n),
        total_timesteps=timesteps,
        seed=args.train_seed,
        stagger_episodes=option == "stagger",
        other_inventories=option == "others",
    )
    run = Path(args.runs_dir) / f"n{n}_{timesteps}{'_' + option if option else ''}"
    if (run / CONFIG_FILE).is_file():
        saved = SelfPlayConfig.from_dict(json.loads((run / CONFIG_FILE).read_text()))
        if saved != cfg:
            raise SystemExit(f"{run} holds a run of another config; remove it or pick --runs-dir")
        print(f"N={n}: reusing {run}", flush=True)
    else:
        t0 = time.perf_counter()
        result = train_self_play(cfg, run)
        print(
            f"N={n}: trained {result.num_timesteps} maker-steps in "
            f"{time.perf_counter() - t0:.0f} s -> {run}",
            flush=True,
        )
    return load_self_play(run)


def tabulate(game: CompetitionLattice, policy: SelfPlayPolicy, maker: int) -> np.ndarray:
    """The PPO policy's table of ``maker`` on ``(t, q_0, q_1)``: queried with the env's
    observation of that state (the other maker's last depths, unseen by the policy, set to
    ``max_depth``)."""
    if not policy.full_information:
        return table_from_agent(game, policy, maker)
    c = game.config
    q_own = game.inventories[maker]
    q_other = game.inventories[1 - maker]
    out = np.empty((game.n_steps, *game.shape, 2))
    for i in range(game.n_steps):
        own, other = np.meshgrid(q_own, q_other, indexing="ij")
        obs = np.zeros((own.size, 6), np.float32)
        obs[:, 0] = c.T - i * c.dt
        obs[:, 1], obs[:, 2], obs[:, 3] = own.ravel(), c.S0, other.ravel()
        obs[:, 4] = obs[:, 5] = c.max_depth
        act = policy.act(obs).reshape(own.shape[0], own.shape[1], 2)
        out[i] = act if maker == 0 else act.transpose(1, 0, 2)
    return out


def fmt(value: float, se: float) -> str:
    if math.isnan(value):
        return "nan"
    return f"{value:.3f} +- {se:.3f}"


def row(n: int, name: str, ev: CompetitionEvaluation) -> dict[str, Any]:
    s = ev.summary()
    shares = [e.value for e in s["fill_share"]["makers"]]
    return {
        "N": n,
        "profile": name,
        "spread": s["spread"]["all"],
        "reward": s["reward"]["all"],
        "pnl": s["pnl"]["all"],
        "fills": s["fills"]["all"],
        "share_min": min(shares),
        "share_max": max(shares),
        "share_0": s["fill_share"]["makers"][0],
    }


def lattice_section(
    game: CompetitionLattice, eq: Equilibrium, ppo: dict[str, SelfPlayPolicy]
) -> list[str]:
    """The exact N = 2 lines: spreads at t = 0, values, exploitability of each profile."""
    config = game.config
    a, b = game.origin
    profiles = {
        **{f"PPO, {label}": [tabulate(game, pol, j) for j in (0, 1)] for label, pol in ppo.items()},
        "AS every maker": [
            table_from_agent(game, ag, j)
            for j, ag in enumerate(avellaneda_stoikov_profile(config, 2, sigma=AS_SIGMA))
        ],
        "N=1 optimum every maker": [
            table_from_agent(game, ag, j) for j, ag in enumerate(monopolist_profile(config, 2))
        ],
    }
    lines = [
        "exact, on the (t, q0, q1) lattice (spread: maker 0's requested bid + ask depth at\n"
        "t = 0, q = (0, 0); values and best-response gains of makers 0 and 1):",
        f"{'profile':28s} {'spread':>6s} {'values':>17s} {'exploit.':>8s} {'BR gains':>15s}",
    ]
    for name, tables in profiles.items():
        ex = exploitability(game, tables)
        v = ex.profile.initial
        spread = float(tables[0][0, a, b].sum())
        lines.append(
            f"{name:28s} {spread:6.3f} {v[0]:8.3f} {v[1]:8.3f} {ex.value:8.3f} "
            f"{ex.gains[0]:7.3f} {ex.gains[1]:7.3f}"
        )
    v = eq.profile.initial
    spread = float(eq.tables[0][0, a, b].sum())
    lines.append(
        f"{'equilibrium':28s} {spread:6.3f} {v[0]:8.3f} {v[1]:8.3f} {eq.exploitability:8.1e}"
    )
    return lines


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--ns", type=int, nargs="+", default=[1, 2, 4, 8])
    p.add_argument("--timesteps", type=int, default=5_000_000, help="maker-steps per training")
    p.add_argument("--rows", type=int, default=1000, help="batch rows (games x makers)")
    p.add_argument("--train-seed", type=int, default=0)
    p.add_argument("--episodes", type=int, default=4000, help="Monte Carlo games per profile")
    p.add_argument("--seed", type=int, default=2024, help="seed of the Monte Carlo")
    p.add_argument("--runs-dir", default="runs/competition_results")
    p.add_argument("--figure", default="out/competition_spread_vs_n.png")
    p.add_argument(
        "--n2-variants",
        nargs="*",
        default=["2000000", "10000000", "5000000:stagger", "5000000:others"],
        help="further N = 2 self-play runs for the exact section: STEPS (another budget: the "
        "learning trend), STEPS:stagger (episodes spread over the horizon) or STEPS:others "
        "(the policy also sees the other maker's inventory)",
    )
    p.add_argument("--train-only", action="store_true")
    p.add_argument("--no-lattice", action="store_true", help="skip the exact N = 2 section")
    args = p.parse_args()
    config = yardstick_config()
    policies = {n: self_play_policy(n, args, args.timesteps) for n in args.ns}
    n2_runs = {f"{args.timesteps / 1e6:g}M steps": policies[2]} if 2 in args.ns else {}
    for variant in args.n2_variants:
        steps, _, option = variant.partition(":")
        if option not in VARIANTS:
            raise SystemExit(
                f"--n2-variants takes STEPS or STEPS:OPTION, OPTION one of "
                f"{[v for v in VARIANTS if v]}, got {variant!r}"
            )
        label = f"{int(steps) / 1e6:g}M steps{VARIANTS[option]}"
        n2_runs.setdefault(label, self_play_policy(2, args, int(steps), option))
    if args.train_only:
        return
    game = eq = None
    if 2 in args.ns and not args.no_lattice:
        game = CompetitionLattice(config)
        t0 = time.perf_counter()
        eq = solve_equilibrium(game)
        print(f"equilibrium of the N = 2 lattice game solved in {time.perf_counter() - t0:.0f} s")
    rows = []
    for n in args.ns:
        profiles: dict[str, Any] = {
            "self-play PPO": policies[n],
            "AS every maker": avellaneda_stoikov_profile(config, n, sigma=AS_SIGMA),
            "N=1 optimum every maker": monopolist_profile(config, n),
        }
        if n == 2 and game is not None and eq is not None:
            profiles["equilibrium (lattice)"] = [TablePolicy(game, eq.tables[j], j) for j in (0, 1)]
        for name, profile in profiles.items():
            ev = evaluate_competition(
                profile, config, n_makers=n, n_episodes=args.episodes, seed=args.seed
            )
            rows.append(row(n, name, ev))
    print(
        "market: penalty preset, tick 0.05, |q| <= 10 per maker, still mid, 200 steps\n"
        f"{args.episodes} games per profile (common random numbers), mean +- SE; "
        f"PPO: {args.timesteps / 1e6:g}M maker-steps per N"
    )
    print(
        f"{'N':>2s} {'profile':23s} {'spread':>6s} {'reward per maker':>16s} "
        f"{'PnL per maker':>16s} {'fills':>6s} {'fill share':>11s}"
    )
    for r in rows:
        print(
            f"{r['N']:2d} {r['profile']:23s} {r['spread'].value:6.3f} "
            f"{fmt(r['reward'].value, r['reward'].se):>16s} "
            f"{fmt(r['pnl'].value, r['pnl'].se):>16s} "
            f"{r['fills'].value:6.1f} {r['share_min']:5.3f}-{r['share_max']:.3f}"
        )
    worst = max(r["spread"].se for r in rows)
    print(
        f"spread: mean quoted bid + ask depth (SE at most {worst:.4f}); fills per maker per "
        "game;\nfill share: min-max over the makers"
    )
    if game is not None and eq is not None:
        print("\n".join(lattice_section(game, eq, n2_runs)))
    from train.plots.competition import plot_spread_vs_makers

    plot_spread_vs_makers(rows, args.figure)
    print(f"figure: {args.figure}")


if __name__ == "__main__":
    main()
