"""Wall time of ``train.evaluation.harness.evaluate``: Avellaneda-Stoikov on 10,000 default
episodes.

Run: ``.venv/bin/python benchmarks/eval_speed.py`` (``--episodes``, ``--repeats``,
``--preset`` to change the case). The target is under 2 seconds.

Prints each repeat, the best and the median, the episode-steps per second of the best run,
and the time of the report's statistics (``summary()`` and ``estimates()`` with the
bootstrap SEs of the quantiles), which are not part of ``evaluate``. The policy is
``AvellanedaStoikovAgent`` (gamma 0.1), or ``FixedSpreadAgent`` if the AS module is absent.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time

import numpy as np

from agents import FixedSpreadAgent
from mm_env import MarketConfig, available_presets
from train.evaluation.harness import evaluate


def make_agent(config: MarketConfig) -> object:
    try:
        from agents.avellaneda_stoikov import AvellanedaStoikovAgent
    except ImportError:
        return FixedSpreadAgent(config)
    return AvellanedaStoikovAgent(config, gamma=0.1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--episodes", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--preset", default="default", choices=available_presets())
    args = parser.parse_args(argv)
    config = MarketConfig.preset(args.preset)
    agent = make_agent(config)
    print(f"python {platform.python_version()}, numpy {np.__version__}, "
          f"{platform.machine()} {platform.processor() or ''}".rstrip())
    print(f"policy {type(agent).__name__}, preset {args.preset!r} ({config.n_steps} steps), "
          f"{args.episodes} episodes")
    evaluate(agent, config, 100, seed=0)  # warm-up (imports, allocator)
    times = []
    result = None
    for i in range(args.repeats):
        t0 = time.perf_counter()
        result = evaluate(agent, config, args.episodes, seed=i)
        times.append(time.perf_counter() - t0)
        print(f"  run {i}: {times[-1]:.3f} s")
    assert result is not None
    best = min(times)
    steps = args.episodes * config.n_steps
    print(f"evaluate: best {best:.3f} s, median {statistics.median(times):.3f} s "
          f"({steps / best / 1e6:.1f} M episode-steps/s)")
    t0 = time.perf_counter()
    summary = result.summary()
    result.estimates()
    print(f"summary + estimates (with bootstrap SEs): {time.perf_counter() - t0:.3f} s")
    print(f"mean PnL {summary['mean_pnl']:.3f} ± {summary['se_pnl']:.3f}, "
          f"std {summary['std_pnl']:.3f}, mean fills {summary['mean_fills']:.2f}")
    print("target: under 2 s ->", "met" if best < 2.0 else "NOT met")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
