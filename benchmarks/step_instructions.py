"""Instructions per env step, per preset, counted by callgrind (deterministic: the same
count on a loaded or an idle machine, unlike seconds).

Run: ``.venv/bin/python benchmarks/step_instructions.py`` (needs ``valgrind``; about 20 s per
preset); ``--num-envs 1000`` counts the native vector env's steps instead (per step of all
sub-envs). ``--baseline DIR`` counts another checkout of the project too (e.g. one made with
``git worktree add /tmp/before <commit>``) and prints the ratio, which is how "no slower than
before" is measured across a change. Each count is ``(I(long) - I(short)) / (long - short)``:
the interpreter's start-up and the env's construction cancel.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PRESETS = ("default", "penalty", "adverse", "alpha", "microstructure")
CHILD = """
import sys
sys.path.insert(0, sys.argv[1])
import numpy as np
import mm_env
n = int(sys.argv[4])
if n == 0:
    env = mm_env.MarketMakingEnv(preset=sys.argv[2])
    env.reset(seed=0)
    action = np.full(env.action_space.shape, 0.7, np.float32)
    for _ in range(int(sys.argv[3])):
        if env.step(action)[2]:
            env.reset()
else:
    venv = mm_env.MarketMakingVectorEnv(n, preset=sys.argv[2])
    venv.reset(seed=0)
    actions = np.full(venv.action_space.shape, 0.7)
    for _ in range(int(sys.argv[3])):
        venv.step(actions)
"""


def instructions(tree: Path, preset: str, steps: int, script: Path, num_envs: int) -> int:
    """Instructions of one child run of ``steps`` steps (callgrind's total)."""
    out = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable,
         str(script), str(tree), preset, str(steps), str(num_envs)],
        capture_output=True, text=True, check=True,
    ).stderr
    match = re.search(r"Collected\s*:\s*(\d+)", out)
    if match is None:
        raise RuntimeError(f"no instruction count in valgrind's output:\n{out[-2000:]}")
    return int(match.group(1))


def per_step(tree: Path, preset: str, short: int, long: int, script: Path,
             num_envs: int) -> float:
    return (instructions(tree, preset, long, script, num_envs)
            - instructions(tree, preset, short, script, num_envs)) / (long - short)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", type=Path, default=None,
                        help="another checkout of the project to count as well")
    parser.add_argument("--presets", default=",".join(PRESETS))
    parser.add_argument("--steps", type=int, default=None,
                        help="steps of the long run (default 10000, 500 with --num-envs)")
    parser.add_argument("--num-envs", type=int, default=0,
                        help="count the vector env with this many sub-envs (0: scalar env)")
    args = parser.parse_args()
    if args.steps is None:
        args.steps = 500 if args.num_envs else 10_000
    short = max(args.steps // 5, 1)
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "child.py"
        script.write_text(CHILD)
        header = f"{'preset':<16} {'this tree':>12}"
        if args.baseline is not None:
            header += f" {'baseline':>12} {'ratio':>7}"
        what = f"vector env step ({args.num_envs} envs)" if args.num_envs else "scalar env step"
        print(f"instructions per {what} (callgrind)")
        print(header)
        for preset in args.presets.split(","):
            mine = per_step(ROOT, preset, short, args.steps, script, args.num_envs)
            line = f"{preset:<16} {mine:>12,.0f}"
            if args.baseline is not None:
                base = per_step(args.baseline.resolve(), preset, short, args.steps, script,
                                args.num_envs)
                line += f" {base:>12,.0f} {mine / base:>7.3f}"
            print(line, flush=True)


if __name__ == "__main__":
    main()
