"""Wall time of one exact best response on the competition yardstick market.

Run: ``.venv/bin/python benchmarks/best_response_speed.py`` (``--tick``, ``--limit``,
``--steps``, ``--repeats`` to change the case). The target is under 10 seconds for N = 2 with
``|q| <= 10`` (21 x 21 joint inventories) and 200 steps.

Maker 0 replies to maker 1 playing the single-maker optimum (DiscreteOptimalAgent's table);
prints each repeat, the best, the best-response value and the machine's load average: the
machine may be shared, so a loaded machine makes the times longer than the code needs.
"""

from __future__ import annotations

import argparse
import os
import platform
import time

from agents.competition import (
    CompetitionLattice,
    best_response,
    table_from_discrete_optimum,
    yardstick_config,
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tick", type=float, default=0.05)
    parser.add_argument("--limit", type=float, default=10.0)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    config = yardstick_config(
        tick_size=args.tick, inventory_limit=args.limit, n_steps=args.steps, T=args.steps * 0.005
    )
    game = CompetitionLattice(config)
    opponent = table_from_discrete_optimum(game, 1)
    print(f"market: {game!r} on {platform.processor() or platform.machine()}")
    times = []
    value = 0.0
    for r in range(args.repeats):
        start = time.perf_counter()
        value = best_response(game, opponent, 0).initial
        times.append(time.perf_counter() - start)
        print(f"repeat {r}: {times[-1]:.3f} s")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"best: {min(times):.3f} s (target < 10 s); best-response value {value:.6f}")
    print(
        f"load average (1 min) {load:.2f} on {os.cpu_count()} cores: a shared, loaded machine "
        "makes these times longer"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
