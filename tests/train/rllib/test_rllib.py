"""Ray RLlib and Ray Tune on the env: tiny runs on a local Ray instance (the ``ray`` extra).

scripts/test.sh runs these in .venv-ray (constraints-ray.txt: Ray 2.60, gymnasium 1.2.2).
What they pin down: RLlib builds the native vector env from the registered creator with the
preset and overrides of ``env_config``; a short PPO run learns (beats its own untrained policy
by many paired standard errors on held-out episodes); its saved policy reloads and reproduces
the run's final evaluation exactly; the CLI trains and compares it; a Tune sweep reports the
evaluation harness's optimality score of each trial's own market.
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from mm_env import MarketConfig, MarketMakingVectorEnv
from train.evaluation.harness import evaluate
from train.evaluation.score import paired_gap
from train.rllib.config import RLlibConfig
from train.sb3.callbacks import reference_rewards

pytestmark = [pytest.mark.ray, pytest.mark.usefixtures("keep_torch_threads")]

# a small market (50 steps) and a small PPO: each iteration is 200 envs x 25 steps
TINY = RLlibConfig(
    overrides={"n_steps": 50},
    total_timesteps=150_000,
    num_envs_per_env_runner=200,
    n_steps=25,
    minibatch_size=1000,
    num_epochs=4,
    eval_freq=75_000,
    eval_episodes=1000,
    eval_seed=4321,
)


@pytest.fixture(scope="module")
def ray_local() -> Iterator[None]:
    import ray

    ray.shutdown()  # a fresh local instance of our own (no-op when none is running)
    ray.init(
        num_cpus=2, include_dashboard=False, log_to_driver=False, object_store_memory=200 * 2**20
    )
    yield
    ray.shutdown()


def test_env_runner_steps_the_native_vector_env_built_from_env_config(ray_local):
    from train.rllib.trainer import build_algo, current_policy

    cfg = TINY.replace(
        overrides={"n_steps": 50, "phi": 0.05},
        num_envs_per_env_runner=64,
        n_steps=10,
        minibatch_size=64,
    )
    algo = build_algo(cfg)
    try:
        # SB3's initial log std on the learner and on the env runner that samples
        def log_stds(module):
            return [
                p.detach().numpy().tolist()
                for n, p in module.named_parameters()
                if n.endswith("log_std")
            ]

        assert log_stds(algo.env_runner.module) == [[-1.0, -1.0]]
        results = algo.learner_group.foreach_learner(
            lambda learner: log_stds(learner.module["default_policy"])
        )
        assert [r.get() for r in results] == [[[-1.0, -1.0]]]
        env = algo.env_runner.env
        base = env.unwrapped
        assert isinstance(base, MarketMakingVectorEnv)  # no Python list of scalar envs
        assert base.num_envs == 64
        assert base.config == MarketConfig.preset("penalty", n_steps=50, phi=0.05)
        assert env.single_observation_space.shape == (3,)  # the three training features
        out = algo.train()
        assert out["num_env_steps_sampled_lifetime"] == cfg.train_batch_size == 640
        policy = current_policy(algo, cfg)
        obs = np.array([[0.5, 2.0, 100.0], [0.5, -2.0, 100.0]])
        action = policy.act(obs)
        assert action.shape == (2, 2) and np.all(np.isfinite(action))
        assert np.all(action >= base.config.min_depth) and np.all(action <= base.config.max_depth)
        # one observation or a batch: the same float32 network (matmul rounding differs)
        np.testing.assert_allclose(policy.act(obs[0]), action[0], rtol=1e-5, atol=1e-6)
    finally:
        algo.stop()


@pytest.fixture(scope="module")
def trained_run(ray_local, tmp_path_factory) -> tuple[Path, float, np.ndarray]:
    """A 150k-step run, and the untrained policy's held-out rewards (same seed)."""
    from train.rllib.trainer import build_algo, current_policy, train_rllib

    algo = build_algo(TINY)
    try:
        untrained = evaluate(
            current_policy(algo, TINY), TINY.market(), TINY.eval_episodes, TINY.eval_seed
        ).episodes.total_reward
    finally:
        algo.stop()
    run = tmp_path_factory.mktemp("rllib") / "run"
    result = train_rllib(TINY, run)
    assert result.num_timesteps >= TINY.total_timesteps
    return run, result.evaluations[-1]["mean_reward"], untrained


def test_a_short_run_learns_and_writes_its_run_directory(trained_run):
    run, final_mean, untrained = trained_run
    for name in ("config.toml", "progress.csv", "eval.csv", "policy/meta.json"):
        assert (run / name).is_file(), name
    assert (run / "checkpoint").is_dir() and any((run / "checkpoint").iterdir())
    assert RLlibConfig.from_toml(run / "config.toml") == TINY
    with open(run / "progress.csv") as fh:
        progress = list(csv.DictReader(fh))
    steps = [int(float(r["timesteps"])) for r in progress]
    assert steps == [TINY.train_batch_size * (i + 1) for i in range(len(steps))]
    assert steps[-1] >= TINY.total_timesteps > steps[-2]
    with open(run / "eval.csv") as fh:
        evals = list(csv.DictReader(fh))
    assert [int(r["timesteps"]) for r in evals] == [75_000, 150_000]
    assert all(math.isfinite(float(r["score"])) for r in evals)
    # learning: the trained policy beats its own untrained network on the same episodes
    from train.rllib.policy import load_rllib_policy

    policy = load_rllib_policy(run)
    trained = evaluate(
        policy, TINY.market(), TINY.eval_episodes, TINY.eval_seed
    ).episodes.total_reward
    gap = paired_gap(trained, untrained)
    assert gap.value > 10 * gap.se, (gap, trained.mean(), untrained.mean())
    # the reloaded policy reproduces the run's final evaluation exactly (same actions)
    assert trained.mean() == pytest.approx(final_mean, rel=0, abs=1e-9)


def test_saved_policy_checks_the_market_and_the_directory(trained_run, tmp_path):
    from train.rllib.policy import load_rllib_policy

    run, _, _ = trained_run
    policy = load_rllib_policy(run / "policy", config=TINY.market())
    assert policy.config == TINY.market()
    with pytest.raises(ValueError, match=r"different market config \(phi: trained 0.1 vs"):
        load_rllib_policy(run, config=TINY.market().replace(phi=0.2))
    with pytest.raises(ValueError, match="is not an RLlib policy directory"):
        load_rllib_policy(tmp_path)
    import json
    import shutil

    from train.cli.app import main

    assert (
        main(
            ["evaluate", "--preset", "default", "--episodes", "2", "--policy", f"rllib:path={run}"]
        )
        == 2
    )  # the CLI checks the market too
    broken = tmp_path / "broken"
    shutil.copytree(run / "policy", broken)
    meta = json.loads((broken / "meta.json").read_text())
    (broken / "meta.json").write_text(json.dumps({**meta, "obs_features": "inventory"}))
    with pytest.raises(ValueError, match=r"meta.json': key 'obs_features'"):
        load_rllib_policy(broken)
    (broken / "meta.json").write_text(json.dumps(meta))
    for file in (broken / "rl_module").rglob("*"):
        if file.is_file():
            file.write_bytes(b"garbage")
    with pytest.raises(ValueError, match="cannot load the RLlib module"):
        load_rllib_policy(broken)


def test_cli_compares_the_rllib_policy_with_the_optimum(trained_run, capsys):
    from train.cli.app import main

    run, _, _ = trained_run
    code = main(
        [
            "compare",
            "--policy",
            f"rllib:path={run}",
            "--policy",
            "optimal",
            "--preset",
            "penalty",
            "--set",
            "n_steps=50",
            "--episodes",
            "200",
            "--no-progress",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert f"rllib:path={run}" in out and "optimal" in out


def test_cli_rllib_train_writes_a_run(ray_local, tmp_path, capsys, monkeypatch):
    from train.cli.app import main

    monkeypatch.chdir(tmp_path)  # a relative run directory (RLlib saves to absolute paths)
    out_dir = tmp_path / "cli"
    code = main(
        [
            "rllib-train",
            "--out",
            "cli",
            "--set",
            "n_steps=20",
            "--total-timesteps",
            "4000",
            "--num-envs-per-env-runner",
            "100",
            "--n-steps",
            "20",
            "--minibatch-size",
            "500",
            "--eval-episodes",
            "50",
            "--net-arch",
            "16,16",
        ]
    )
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "trained 4000 steps" in captured.out
    cfg = RLlibConfig.from_toml(out_dir / "config.toml")
    assert cfg.net_arch == (16, 16) and cfg.market().n_steps == 20
    assert (out_dir / "policy" / "meta.json").is_file()
    with pytest.raises(ValueError, match="is not empty"):
        from train.rllib.trainer import train_rllib

        train_rllib(cfg, out_dir)


def test_tune_sweep_scores_each_trial_with_the_harness(ray_local, tmp_path):
    from ray import tune

    from train.rllib.tune import BEST_FILE, RESULTS_FILE, tune_rllib

    base = TINY.replace(
        total_timesteps=10_000,
        num_envs_per_env_runner=100,
        n_steps=25,
        minibatch_size=500,
        num_epochs=2,
        eval_episodes=300,
        net_arch=(16,),
    )
    phis = [0.05, 0.3]
    summary = tune_rllib(base, {"overrides.phi": tune.grid_search(phis)}, tmp_path)
    assert summary.metric == "score"
    assert sorted(r["param:overrides.phi"] for r in summary.rows) == phis
    scores = [r["score"] for r in summary.rows]
    assert scores == sorted(scores, reverse=True)  # best first
    for row in summary.rows:
        # the reported score is the harness's: (policy - naive) / (optimal - naive), all on
        # the held-out episodes of that trial's own market
        market = base.market().replace(phi=row["param:overrides.phi"])
        refs = reference_rewards(market, base.eval_episodes, base.eval_seed)
        naive, optimal = refs["naive"].mean(), refs["optimal"].mean()
        expected = (row["mean_reward"] - naive) / (optimal - naive)
        assert row["score"] == pytest.approx(expected, rel=1e-9)
        assert row["timesteps"] == 10_000
    best = RLlibConfig.from_toml(tmp_path / BEST_FILE)
    assert best.overrides["phi"] == summary.rows[0]["param:overrides.phi"]
    assert best == summary.best
    with open(tmp_path / RESULTS_FILE) as fh:
        assert len(list(csv.DictReader(fh))) == 2
    with pytest.raises(ValueError, match="unknown sweep parameter 'phi'"):
        tune_rllib(base, {"phi": tune.grid_search(phis)}, tmp_path / "bad")


def test_cli_joins_an_existing_cluster_by_address_with_remote_env_runners(ray_local, tmp_path):
    """A second process joins the Ray instance this test process started (an existing
    cluster, by its address) and trains with one remote EnvRunner actor, which builds the
    env from the registered creator inside a Ray worker process."""
    import os
    import subprocess
    import sys

    import ray

    address = ray.get_runtime_context().gcs_address
    out_dir = tmp_path / "cluster"
    cmd = [
        sys.executable,
        "-m",
        "train.cli",
        "rllib-train",
        "--out",
        str(out_dir),
        "--address",
        address,
        "--num-env-runners",
        "1",
        "--set",
        "n_steps=20",
        "--total-timesteps",
        "2000",
        "--num-envs-per-env-runner",
        "50",
        "--n-steps",
        "20",
        "--minibatch-size",
        "500",
        "--eval-episodes",
        "50",
    ]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[3])}
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "trained 2000 steps" in proc.stdout
    cfg = RLlibConfig.from_toml(out_dir / "config.toml")
    assert cfg.address == address and cfg.num_env_runners == 1
    with open(out_dir / "eval.csv") as fh:
        assert math.isfinite(float(next(csv.DictReader(fh))["score"]))


class _Interrupted(Exception):
    pass


class _StopsAtEight:  # the 8th training iteration is interrupted (a crash, a Ctrl-C)
    def __init__(self, algo):
        self.algo, self.calls = algo, 0

    def train(self):
        self.calls += 1
        if self.calls == 8:
            raise _Interrupted
        return self.algo.train()

    def __getattr__(self, name):
        return getattr(self.algo, name)


# a run of 10 iterations of 2,500 steps, checkpointed every 7,500 steps
RESUMED = TINY.replace(
    total_timesteps=25_000,
    num_envs_per_env_runner=100,
    n_steps=25,
    minibatch_size=500,
    num_epochs=1,
    eval_freq=10_000,
    checkpoint_freq=7_500,
    eval_episodes=100,
    net_arch=(16,),
)


def test_an_interrupted_run_resumes_from_its_last_checkpoint(
    ray_local, tmp_path, monkeypatch, capsys
):
    import train.rllib.trainer as rt
    from train.cli.app import main

    cfg = RESUMED
    build = rt.build_algo
    monkeypatch.setattr(rt, "build_algo", lambda c: _StopsAtEight(build(c)))
    run = tmp_path / "run"
    with pytest.raises(_Interrupted):
        rt.train_rllib(cfg, run)
    monkeypatch.undo()

    def rows(name):
        with open(run / name) as fh:
            return [int(float(r["timesteps"])) for r in csv.DictReader(fh)]

    assert rows("progress.csv") == [2500 * i for i in range(1, 8)]  # 7 iterations done
    assert rows("eval.csv") == [10_000]
    state = rt.json.loads((run / "checkpoint" / rt.STATE_FILE).read_text())
    assert state["timesteps"] == 15_000  # checkpoints at 7,500 and 15,000 steps
    assert not (run / "policy").exists()
    with pytest.raises(ValueError, match="is not empty"):
        rt.train_rllib(cfg, run)
    assert main(["rllib-train", "--resume", str(run), "--total-timesteps", "5000"]) == 2
    assert "do not combine it with --out" in capsys.readouterr().err
    cfg.replace(net_arch=(32,)).save(run / rt.CONFIG_FILE)  # edited after the interruption
    assert main(["rllib-train", "--resume", str(run)]) == 2
    err = capsys.readouterr().err
    assert "differs from the config its checkpoint was written with" in err, err
    assert "net_arch: [16] -> [32]" in err and "Traceback" not in err
    cfg.save(run / rt.CONFIG_FILE)  # restored: the resume goes on

    code = main(["rllib-train", "--resume", str(run)])
    assert code == 0, capsys.readouterr().err
    assert "trained 25000 steps" in capsys.readouterr().out
    # the rows after the checkpoint (iteration 7) are redone once, none duplicated
    assert rows("progress.csv") == [2500 * i for i in range(1, 11)]
    assert rows("eval.csv") == [10_000, 20_000, 25_000]
    from train.rllib.policy import load_rllib_policy

    assert load_rllib_policy(run).config == cfg.market()
    assert rt.json.loads((run / "policy" / "meta.json").read_text())["num_timesteps"] == 25_000
    # resuming a finished run changes nothing
    before = (run / "eval.csv").read_text()
    result = rt.resume_rllib(run)
    assert result.num_timesteps == 25_000 and (run / "eval.csv").read_text() == before


def test_a_corrupt_newest_checkpoint_resumes_from_the_previous_one(
    ray_local, tmp_path, monkeypatch
):
    """The run is interrupted after its checkpoints at 7,500 and 15,000 steps and the newest
    one's state file is damaged: the resume warns, continues from 7,500 steps and is killed
    between the renames of its checkpoint at 22,500 steps (only checkpoint.previous, at
    15,000 steps, is left); the next resume continues from there and finishes the run."""
    import json
    import warnings

    import train.rllib.trainer as rt

    cfg = RESUMED
    build = rt.build_algo
    monkeypatch.setattr(rt, "build_algo", lambda c: _StopsAtEight(build(c)))
    run = tmp_path / "run"
    with pytest.raises(_Interrupted):
        rt.train_rllib(cfg, run)
    monkeypatch.undo()
    newest, previous = run / "checkpoint", run / "checkpoint.previous"

    def steps(ckpt):
        return json.loads((ckpt / rt.STATE_FILE).read_text())["timesteps"]

    def rows(name):
        with open(run / name) as fh:
            return [int(float(r["timesteps"])) for r in csv.DictReader(fh)]

    assert (steps(newest), steps(previous)) == (15_000, 7_500)
    (newest / rt.STATE_FILE).write_text((newest / rt.STATE_FILE).read_text()[:40])
    rotate = rt._rotate

    def killed_after_rotating(path):  # the process dies between the renames at 22,500 steps
        trash = rotate(path)
        if steps(previous) == 15_000:
            raise _Interrupted
        return trash

    monkeypatch.setattr(rt, "_rotate", killed_after_rotating)
    message = (
        rf"checkpoint '{re.escape(str(newest))}' is corrupt \(mm_env_state.json is "
        rf"corrupt: JSONDecodeError.*\); falling back to the previous checkpoint "
        rf"'{re.escape(str(previous))}'"
    )
    with pytest.warns(UserWarning, match=message), pytest.raises(_Interrupted):
        rt.resume_rllib(run)
    monkeypatch.undo()
    assert (run / "checkpoint.corrupt").is_dir()  # kept for inspection
    assert not newest.exists() and steps(previous) == 15_000
    assert rows("progress.csv") == [2500 * i for i in range(1, 10)]  # redone from 7,500
    assert rows("eval.csv") == [10_000, 20_000]

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = rt.resume_rllib(run)
    assert not [w for w in caught if "corrupt" in str(w.message)]
    assert result.num_timesteps == 25_000
    assert [r["timesteps"] for r in result.evaluations] == [10_000, 20_000, 25_000]
    assert rows("progress.csv") == [2500 * i for i in range(1, 11)]
    assert rows("eval.csv") == [10_000, 20_000, 25_000]
    assert (steps(newest), steps(previous)) == (25_000, 22_500)
    assert sorted(p.name for p in run.iterdir() if p.name.startswith(".")) == []
    assert json.loads((run / "policy" / "meta.json").read_text())["num_timesteps"] == 25_000
