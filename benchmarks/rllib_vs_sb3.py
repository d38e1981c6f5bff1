"""Training throughput of Ray RLlib's PPO next to SB3's on the same task and configuration.

Run in the Ray environment (``MM_ENV_STACK=ray bash scripts/setup.sh`` creates it)::

    .venv-ray/bin/python benchmarks/rllib_vs_sb3.py                  # 2M steps each, ~4 min
    .venv-ray/bin/python benchmarks/rllib_vs_sb3.py --steps 10000000 --runners 0,1

The task is the default training task (preset ``penalty``) and both libraries get the same
configuration: PPO, 1000 envs x 40 steps per rollout (40,000 steps per update), minibatch
10,000, 5 epochs, learning rate 5e-4 decaying linearly, a 64-64 tanh network, the network
input (time remaining, its square root, inventory) with the fixed scaling, the martingale
training reward, reward normalisation, a state-independent log std starting at -1 and SB3's
PPO loss (clip 0.2, no KL penalty, value weight 0.5, gradient norm 0.5). Differences that
remain: SB3 normalises rewards with VecNormalize, RLlib with Gymnasium's NormalizeReward
(both divide by a running std of the discounted return); each library initialises and
updates its networks its own way.

It prints, for SB3 and for RLlib with each number of remote EnvRunners (``--runners``; 0
samples in the driver): steps trained, wall time of the training loop, steps per second,
the ratio to SB3, and the optimality score of the final policy on ``--episodes`` held-out
episodes (the harness's evaluation, same episodes for all). For RLlib it also prints the
share of its training iterations spent sampling and in the learner (RLlib's own timers).
All runs in one process, one after the other, so the ratios compare like with like.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from train.evaluation.harness import evaluate
from train.rllib.config import RLlibConfig
from train.sb3.callbacks import eval_row, reference_rewards
from train.sb3.config import TrainConfig


def sb3_run(steps: int, episodes: int, seed: int, root: Path) -> tuple[float, dict]:
    from train.sb3.model_dir import load_policy
    from train.sb3.trainer import train

    cfg = TrainConfig(total_timesteps=steps, eval_freq=0, checkpoint_freq=0, tensorboard=False)
    result = train(cfg, root / "sb3")
    policy = load_policy(root / "sb3" / "final")
    held_out = evaluate(policy, cfg.market(), episodes, seed)
    refs = reference_rewards(cfg.market(), episodes, seed)
    return result.wall_time, eval_row(held_out, refs, result.num_timesteps, result.wall_time)


def rllib_run(steps: int, runners: int, episodes: int, seed: int) -> tuple[float, dict, dict]:
    from train.rllib.trainer import build_algo, current_policy

    cfg = RLlibConfig(total_timesteps=steps, num_env_runners=runners,
                      num_envs_per_env_runner=1000 // max(1, runners))
    algo = build_algo(cfg)
    timers = {"sampling": 0.0, "learner": 0.0, "iteration": 0.0}
    done = 0
    t0 = time.perf_counter()
    try:
        while done < steps:
            out = algo.train()
            done = int(out["num_env_steps_sampled_lifetime"])
            t = out["timers"]
            timers["sampling"] += t.get("env_runner_sampling_timer", 0.0)
            timers["learner"] += t.get("learner_update_timer", 0.0)
            timers["iteration"] += t.get("training_iteration", 0.0)
        wall = time.perf_counter() - t0
        held_out = evaluate(current_policy(algo, cfg), cfg.market(), episodes, seed)
    finally:
        algo.stop()
    refs = reference_rewards(cfg.market(), episodes, seed)
    return wall, eval_row(held_out, refs, done, wall), timers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=2_000_000, help="steps per run")
    parser.add_argument("--runners", default="0", help="RLlib num_env_runners, comma-separated")
    parser.add_argument("--episodes", type=int, default=2000, help="held-out episodes")
    parser.add_argument("--seed", type=int, default=777, help="held-out evaluation seed")
    args = parser.parse_args()
    runners = [int(r) for r in args.runners.split(",")]

    import ray

    ray.init(include_dashboard=False, log_to_driver=False)
    cpus = int(ray.cluster_resources().get("CPU", 0))
    print(f"task: preset 'penalty', PPO, 1000 envs x 40 steps per update, {args.steps:,} steps "
          f"per run; Ray sees {cpus} CPUs")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        wall, row = sb3_run(args.steps, args.episodes, args.seed, Path(tmp))
        rows.append(("SB3 (1 process)", wall, row, None))
    for n in runners:
        wall, row, timers = rllib_run(args.steps, n, args.episodes, args.seed)
        label = f"RLlib ({n} env runner{'s' if n != 1 else ''})"
        rows.append((label, wall, row, timers))
    base = rows[0][2]["timesteps"] / rows[0][1]
    print(f"{'library':<24}{'steps':>11}{'wall s':>9}{'steps/s':>10}{'vs SB3':>8}"
          f"{'score':>9}{'± SE':>8}")
    for label, wall, row, _ in rows:
        rate = row["timesteps"] / wall
        print(f"{label:<24}{row['timesteps']:>11,}{wall:>9.1f}{rate:>10,.0f}{rate / base:>8.2f}"
              f"{row['score']:>9.4f}{row['se_score']:>8.4f}")
    for label, _, _, timers in rows:
        if timers:
            total = timers["iteration"]
            print(f"{label}: sampling {timers['sampling'] / total:.0%}, learner "
                  f"{timers['learner'] / total:.0%} of {total:.1f} s of training iterations")
    ray.shutdown()


if __name__ == "__main__":
    main()
