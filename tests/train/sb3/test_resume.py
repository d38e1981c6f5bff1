"""Exact resume of an interrupted run, and atomic checkpoints.

A run interrupted after a checkpoint and resumed from it must end bit for bit where the
uninterrupted run ends (on-policy algorithms): same network and optimizer, same
normalisation statistics, same eval.csv. Interruptions tested: an exception in the middle of
a rollout, a checkpoint write that fails half-way, and SIGKILL of an ``mm-env train``
process (``mm-env train --resume RUN_DIR`` then finishes it).
"""

from __future__ import annotations

import csv
import dataclasses
import json
import logging
import os
import pickle
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from stable_baselines3 import PPO
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.vec_env import VecNormalize

from tests.train.conftest import SMALL
from train.cli.app import main
from train.sb3.checkpoint import CHECKPOINTS, LATEST, RESUME_FILE, latest_checkpoint
from train.sb3.config import TrainConfig
from train.sb3.model_dir import META_FILE, MODEL_FILE, VECNORM_FILE
from train.sb3.trainer import CONFIG_FILE, TrainResult, resume, train

REPO = Path(__file__).resolve().parents[3]


def small_config(**changes) -> TrainConfig:
    """6 rollouts of 160 steps, a checkpoint every 2 and an evaluation every rollout; 4
    minibatches per epoch (the numpy generator shuffles them) and a linear lr schedule."""
    values = dict(
        preset="penalty", overrides=SMALL, n_envs=8, n_steps=20, batch_size=40, n_epochs=2,
        total_timesteps=960, net_arch=(8,), lr_schedule="linear", learning_rate=1e-3,
        eval_freq=160, eval_episodes=20, checkpoint_freq=320, tensorboard=False, seed=2,
    )
    values.update(changes)
    return TrainConfig(**values)


class Interrupt(Exception):
    pass


class InterruptAt(BaseCallback):
    """Raise in the middle of a rollout once ``steps`` have been taken (like a crash)."""

    def __init__(self, steps: int) -> None:
        super().__init__()
        self.steps = steps

    def _on_step(self) -> bool:
        if self.num_timesteps >= self.steps:
            raise Interrupt(f"interrupted at {self.num_timesteps}")
        return True


def eval_rows(run: Path) -> list[dict[str, str]]:
    """eval.csv without its wall-time column."""
    with open(run / "eval.csv", newline="") as fh:
        return [{k: v for k, v in row.items() if k != "wall_time"} for row in csv.DictReader(fh)]


def assert_same_state(a: TrainResult, b: TrainResult) -> None:
    """Two runs ended in exactly the same training state."""
    assert a.num_timesteps == b.num_timesteps
    pa, pb = a.model.policy.state_dict(), b.model.policy.state_dict()
    assert pa.keys() == pb.keys()
    for key in pa:
        assert torch.equal(pa[key], pb[key]), key
    oa, ob = a.model.policy.optimizer.state_dict(), b.model.policy.optimizer.state_dict()
    assert oa["param_groups"] == ob["param_groups"]  # learning rate included
    for key in oa["state"]:
        for name, value in oa["state"][key].items():
            assert torch.equal(torch.as_tensor(value), torch.as_tensor(ob["state"][key][name]))
    va, vb = a.model.get_vec_normalize_env(), b.model.get_vec_normalize_env()
    assert va is not None and vb is not None
    assert va.norm_obs == vb.norm_obs and va.norm_reward == vb.norm_reward
    for rms in ("obs_rms", "ret_rms"):
        if not getattr(va, "norm_" + rms[:-4].replace("ret", "reward")):
            continue
        ra, rb = getattr(va, rms), getattr(vb, rms)
        np.testing.assert_array_equal(ra.mean, rb.mean)
        np.testing.assert_array_equal(ra.var, rb.var)
        assert ra.count == rb.count
    np.testing.assert_array_equal(va.returns, vb.returns)
    np.testing.assert_array_equal(a.model._last_obs, b.model._last_obs)


def assert_same_tree(x: Any, y: Any) -> None:
    """Equal nested dicts / sequences of arrays and plain values (an env snapshot)."""
    if isinstance(x, dict):
        assert isinstance(y, dict) and x.keys() == y.keys()
        for key in x:
            assert_same_tree(x[key], y[key])
    elif isinstance(x, (tuple, list)):
        assert isinstance(y, (tuple, list)) and len(x) == len(y)
        for a, b in zip(x, y, strict=True):
            assert_same_tree(a, b)
    elif isinstance(x, (np.ndarray, np.generic, int, float)):
        np.testing.assert_array_equal(x, y)
    elif dataclasses.is_dataclass(x) and not isinstance(x, type) and not hasattr(x, "to_dict"):
        assert type(x) is type(y)
        assert_same_tree(dataclasses.asdict(x), dataclasses.asdict(y))  # type: ignore[arg-type]
    else:
        assert x == y


def assert_same_run_dir(a: Path, b: Path) -> None:
    assert eval_rows(a) == eval_rows(b)
    for name in ("final", "best"):
        assert json.loads((a / name / META_FILE).read_text()) == json.loads(
            (b / name / META_FILE).read_text()), name
    ca, cb = latest_checkpoint(a), latest_checkpoint(b)
    assert ca is not None and cb is not None and ca.name == cb.name
    sa = pickle.loads((ca / RESUME_FILE).read_bytes())
    sb = pickle.loads((cb / RESUME_FILE).read_bytes())
    assert_same_tree(sa["env"], sb["env"])  # the vector env's get_state() snapshot
    np.testing.assert_array_equal(sa["numpy_rng"][1], sb["numpy_rng"][1])
    assert torch.equal(sa["torch_rng"], sb["torch_rng"])


# ---------------------------------------------------------------- in-process
@pytest.mark.parametrize(
    "changes",
    [
        {},  # fixed scaling, martingale reward, reward normalisation
        {"obs_scaling": "running", "martingale_reward": False, "gae_lambda": 0.9},
        {"algo": "A2C", "obs_scaling": "none", "norm_reward": False, "lr_schedule": "constant"},
        {"reward_shaping": "running",
         "obs_features": ("time_remaining", "inventory", "inventory_time")},
        {"log_std_schedule": "linear", "log_std_final": -3.0},
    ],
    ids=["ppo-fixed", "ppo-running", "a2c", "ppo-shaped", "ppo-std-schedule"],
)
def test_resume_after_an_interruption_is_exact(tmp_path, changes):
    cfg = small_config(**changes)
    whole = train(cfg, tmp_path / "whole")
    # interrupted mid-rollout after the checkpoint at 320 and an evaluation at 480
    with pytest.raises(Interrupt):
        train(cfg, tmp_path / "cut", extra_callback=InterruptAt(500))
    ckpt = latest_checkpoint(tmp_path / "cut")
    assert ckpt is not None and ckpt.name == "step-000000000320"
    assert [int(float(r["timesteps"])) for r in eval_rows(tmp_path / "cut")] == [160, 320, 480]
    assert not (tmp_path / "cut" / "final").exists()
    resumed = resume(tmp_path / "cut")
    assert_same_state(whole, resumed)
    assert_same_run_dir(tmp_path / "whole", tmp_path / "cut")  # the row at 480 was redone
    assert [r["timesteps"] for r in eval_rows(tmp_path / "cut")] == [
        "160", "320", "480", "640", "800", "960"]


def test_resume_keeps_the_evaluation_schedule(tmp_path):
    """Evaluations every 480 steps, checkpoints every 320: resumed from 640 (last evaluation
    at 480), the next evaluation is at 960 as in the uninterrupted run, not at 640 + 480."""
    cfg = small_config(eval_freq=480, total_timesteps=1440)
    whole = train(cfg, tmp_path / "whole")
    with pytest.raises(Interrupt):
        train(cfg, tmp_path / "cut", extra_callback=InterruptAt(700))
    assert [r["timesteps"] for r in eval_rows(tmp_path / "cut")] == ["480"]
    assert_same_state(whole, resume(tmp_path / "cut"))
    assert [r["timesteps"] for r in eval_rows(tmp_path / "cut")] == ["480", "960", "1440"]
    assert_same_run_dir(tmp_path / "whole", tmp_path / "cut")


def test_resume_twice_is_exact(tmp_path):
    cfg = small_config()
    whole = train(cfg, tmp_path / "whole")
    with pytest.raises(Interrupt):
        train(cfg, tmp_path / "cut", extra_callback=InterruptAt(400))
    with pytest.raises(Interrupt):
        resume(tmp_path / "cut", extra_callback=InterruptAt(700))
    ckpt = latest_checkpoint(tmp_path / "cut")
    assert ckpt is not None and ckpt.name == "step-000000000640"
    assert_same_state(whole, resume(tmp_path / "cut"))
    assert_same_run_dir(tmp_path / "whole", tmp_path / "cut")


def test_off_policy_runs_resume(tmp_path):
    """SAC resumes (with an empty replay buffer: not exact, documented) and finishes."""
    cfg = small_config(algo="SAC", total_timesteps=320, checkpoint_freq=80, eval_freq=0,
                       batch_size=32, n_envs=4)
    with pytest.raises(Interrupt):
        train(cfg, tmp_path / "run", extra_callback=InterruptAt(200))
    ckpt = latest_checkpoint(tmp_path / "run")
    assert ckpt is not None and 0 < int(ckpt.name.split("-")[1]) < 320
    result = resume(tmp_path / "run")
    assert result.num_timesteps == 320 and (tmp_path / "run" / "final" / MODEL_FILE).is_file()


# ---------------------------------------------------------------- failed writes
def test_a_failed_checkpoint_write_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    cfg = small_config(eval_freq=0, checkpoint_freq=160)
    run = tmp_path / "run"
    real_save = VecNormalize.save
    calls = []

    def failing_save(self, path):
        calls.append(path)
        if len(calls) == 3:  # the third checkpoint: model.zip written, then the disk fills
            Path(path).write_bytes(b"partial")
            raise OSError("No space left on device")
        real_save(self, path)

    monkeypatch.setattr(VecNormalize, "save", failing_save)
    with pytest.raises(OSError, match="No space left"):
        train(cfg, run)
    monkeypatch.undo()
    root = run / CHECKPOINTS
    assert (root / LATEST).read_text() == "step-000000000320\n"
    assert sorted(p.name for p in root.iterdir()) == [
        LATEST, "step-000000000160", "step-000000000320"]  # no partial step-480, no temp dir
    ckpt = latest_checkpoint(run)
    assert ckpt is not None
    assert {p.name for p in ckpt.iterdir()} == {
        MODEL_FILE, META_FILE, VECNORM_FILE, RESUME_FILE, CONFIG_FILE}
    PPO.load(ckpt / MODEL_FILE, device="cpu")
    # and the run resumes from it exactly
    resumed = resume(run)
    assert_same_state(train(cfg, tmp_path / "whole"), resumed)


def test_stale_temporary_files_are_ignored_and_cleaned(tmp_path):
    cfg = small_config()
    whole = train(cfg, tmp_path / "whole")
    run = tmp_path / "run"
    with pytest.raises(Interrupt):
        train(cfg, run, extra_callback=InterruptAt(500))
    root = run / CHECKPOINTS
    # what a process killed while writing the next checkpoint (or LATEST) leaves behind
    stale_tmp = root / ".step-000000000640.tmp-k1ll3d"
    stale_tmp.mkdir()
    (stale_tmp / MODEL_FILE).write_bytes(b"PK\x03\x04 truncated")
    stale_old = root / ".step-000000000320.old-12345"
    stale_old.mkdir()
    stale_latest = root / f".{LATEST}.abc123.tmp"
    stale_latest.write_text("step-0000000")
    ckpt = latest_checkpoint(run)
    assert ckpt is not None and ckpt.name == "step-000000000320"
    resumed = resume(run)
    assert_same_state(whole, resumed)
    assert not stale_tmp.exists() and not stale_old.exists() and not stale_latest.exists()
    assert not [p for p in run.rglob(".*")]


@pytest.fixture(scope="module")
def whole_run(tmp_path_factory) -> TrainResult:
    """The uninterrupted run of :func:`small_config` (the reference of the fallbacks)."""
    return train(small_config(checkpoint_freq=160), tmp_path_factory.mktemp("whole") / "run")


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: max(1, path.stat().st_size // 3)])


CORRUPTIONS = {
    "no-resume-state": lambda c: (c / RESUME_FILE).unlink(),
    "truncated-resume-state": lambda c: _truncate(c / RESUME_FILE),
    "truncated-vecnormalize": lambda c: _truncate(c / VECNORM_FILE),
    "truncated-model": lambda c: _truncate(c / MODEL_FILE),
    "garbage-model": lambda c: (c / MODEL_FILE).write_bytes(b"not a zip at all"),
    "garbage-meta": lambda c: (c / META_FILE).write_text("[1, 2]"),
    "empty-latest": lambda c: (c.parent / LATEST).write_text(""),
    "garbage-latest": lambda c: (c.parent / LATEST).write_bytes(b"\xff\xfe garbage"),
}


@pytest.mark.parametrize("corrupt", list(CORRUPTIONS), ids=list(CORRUPTIONS))
def test_a_corrupt_newest_checkpoint_falls_back_to_the_previous_one(
    tmp_path, corrupt, whole_run, caplog
):
    """Killed after the checkpoint at 480 was written, which is then damaged: the resume
    warns, starts from the intact checkpoint (320, or 480 when only LATEST was damaged) and
    ends with the same final model, bit for bit, as the uninterrupted run."""
    run = tmp_path / "run"
    with pytest.raises(Interrupt):
        train(small_config(checkpoint_freq=160), run, extra_callback=InterruptAt(500))
    newest = run / CHECKPOINTS / "step-000000000480"
    assert latest_checkpoint(run) == newest
    CORRUPTIONS[corrupt](newest)
    with caplog.at_level(logging.WARNING):
        resumed = resume(run)
    assert "latest" in corrupt or ("corrupt" in caplog.text and "falling back" in caplog.text)
    assert "latest" not in corrupt or "not a checkpoint name" in caplog.text
    assert_same_state(whole_run, resumed)


@pytest.mark.parametrize(
    ("change", "fields"),
    [
        ({"preset": "as2008"}, "preset: 'penalty' -> 'as2008'"),
        ({"net_arch": (16, 16)}, "net_arch: [8] -> [16, 16]"),
        ({"n_envs": 4}, "n_envs: 8 -> 4"),
        ({"overrides": {**SMALL, "phi": 0.5}}, "overrides"),
    ],
    ids=["preset", "net_arch", "n_envs", "market"],
)
def test_a_changed_run_config_is_refused_with_the_diff(tmp_path, change, fields):
    run = tmp_path / "run"
    with pytest.raises(Interrupt):
        train(small_config(), run, extra_callback=InterruptAt(400))
    small_config(**change).save(run / CONFIG_FILE)  # edited by hand after the interruption
    with pytest.raises(ValueError, match="differs from the config checkpoint") as err:
        resume(run)
    assert fields in str(err.value)
    # the CLI says the same in one line, exit 2
    small_config(**change, total_timesteps=1200).save(run / CONFIG_FILE)
    assert main(["train", "--resume", str(run)]) == 2


def test_a_longer_budget_is_a_change_a_resume_accepts(tmp_path):
    run = tmp_path / "run"
    with pytest.raises(Interrupt):
        train(small_config(), run, extra_callback=InterruptAt(400))
    small_config(total_timesteps=1120).save(run / CONFIG_FILE)
    assert resume(run).num_timesteps == 1120


@pytest.mark.parametrize("target", ["../../other/step-000000000160", "/etc", "..", "a/b"])
def test_latest_escaping_the_run_is_refused(tmp_path, target):
    other = tmp_path / "other"
    with pytest.raises(Interrupt):
        train(small_config(), other, extra_callback=InterruptAt(400))
    run = tmp_path / "run"
    with pytest.raises(Interrupt):
        train(small_config(), run, extra_callback=InterruptAt(400))
    (run / CHECKPOINTS / LATEST).write_text(target + "\n")
    with pytest.raises(ValueError, match="not a checkpoint directory inside the run"):
        resume(run)


KILL_MID_WRITE = """
import os, signal, sys
from stable_baselines3.common.vec_env import VecNormalize
from train.cli.app import main

real_save, calls = VecNormalize.save, []

def save(self, path):
    calls.append(path)
    if len(calls) == int(sys.argv[1]):  # model.zip is written, vecnormalize.pkl half-way
        with open(path, "wb") as fh:
            fh.write(b"partial")
            fh.flush()
        os.kill(os.getpid(), signal.SIGKILL)
    real_save(self, path)

VecNormalize.save = save
main(["train", "--config", sys.argv[2], "--out", sys.argv[3]])
"""


def test_sigkill_in_the_middle_of_a_checkpoint_write(tmp_path):
    cfg = small_config(eval_freq=0, checkpoint_freq=160)
    cfg.save(tmp_path / "cfg.toml")
    run = tmp_path / "run"
    proc = subprocess.run([sys.executable, "-c", KILL_MID_WRITE, "3", str(tmp_path / "cfg.toml"),
                           str(run)], cwd=REPO, env=_env(), capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-2000:]
    root = run / CHECKPOINTS
    partial = [p for p in root.iterdir() if p.name.startswith(".step-000000000480.tmp-")]
    assert len(partial) == 1 and (partial[0] / MODEL_FILE).is_file()  # the killed write
    assert (partial[0] / VECNORM_FILE).read_bytes() == b"partial"
    assert (root / LATEST).read_text() == "step-000000000320\n"
    ckpt = latest_checkpoint(run)
    assert ckpt is not None and ckpt.name == "step-000000000320"
    assert {p.name for p in ckpt.iterdir()} == {
        MODEL_FILE, META_FILE, VECNORM_FILE, RESUME_FILE, CONFIG_FILE}
    resumed = resume(run)
    assert_same_state(train(cfg, tmp_path / "whole"), resumed)
    assert not partial[0].exists()  # cleaned by the next checkpoint write
    assert_same_run_dir(tmp_path / "whole", run)


KILL_ARGS = ["--preset", "penalty", "--set", "n_steps=20", "--set", "A=20",
             "--set", "fill_model=poisson", "--n-envs", "16", "--n-steps", "20",
             "--batch-size", "80", "--n-epochs", "2", "--total-timesteps", "6400",
             "--net-arch", "16", "--eval-freq", "1600", "--eval-episodes", "50",
             "--checkpoint-freq", "320", "--no-tensorboard", "--seed", "5"]


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "train.cli", "train", *args]


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO), "PYTHONHASHSEED": "0"}


def test_kill_and_resume_from_the_command_line(tmp_path, capfd, caplog):
    run = tmp_path / "run"
    latest = run / CHECKPOINTS / LATEST
    proc = subprocess.Popen(_cli("--out", str(run), *KILL_ARGS), cwd=REPO, env=_env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while not latest.exists():
            if proc.poll() is not None:
                pytest.fail(f"training exited early: {proc.stderr.read().decode()[-2000:]}")
            assert time.monotonic() < deadline, "no checkpoint within 120 s"
            time.sleep(0.005)
        time.sleep(0.1)  # checkpoints are written every rollout: likely mid-write now
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        assert proc.stderr is not None
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    assert not (run / "final").exists(), "the run finished before it was killed"

    # the checkpoint LATEST names is complete and loadable
    ckpt = latest_checkpoint(run)
    assert ckpt is not None
    assert {p.name for p in ckpt.iterdir()} == {
        MODEL_FILE, META_FILE, VECNORM_FILE, RESUME_FILE, CONFIG_FILE}
    steps = int(ckpt.name.split("-")[1])
    assert 0 < steps < 6400 and json.loads((ckpt / META_FILE).read_text())["num_timesteps"] == steps
    PPO.load(ckpt / MODEL_FILE, device="cpu")
    assert isinstance(pickle.loads((ckpt / RESUME_FILE).read_bytes()), dict)

    # mm-env train --resume RUN_DIR (in this process: a second interpreter start is slow)
    caplog.set_level(logging.INFO, logger="train.sb3.trainer")
    assert main(["train", "--resume", str(run)]) == 0
    out, _ = capfd.readouterr()
    assert "trained 6400 steps" in out and f"from {ckpt.name}" in caplog.text

    # the same config uninterrupted, in this process: the same network, bit for bit
    cfg = TrainConfig.from_toml(run / CONFIG_FILE)
    whole = train(cfg, tmp_path / "whole")
    resumed = PPO.load(run / "final" / MODEL_FILE, device="cpu")
    pa, pb = whole.model.policy.state_dict(), resumed.policy.state_dict()
    for key in pa:
        assert torch.equal(pa[key], pb[key]), key
    assert_same_run_dir(tmp_path / "whole", run)
    assert not [p for p in (run / CHECKPOINTS).iterdir() if p.name.startswith(".")]


def test_snapshots_are_kept_at_their_steps_and_a_resume_takes_the_same_ones(tmp_path):
    cfg = small_config(snapshot_steps=(960, 200, 480, 5000))
    assert cfg.snapshot_steps == (200, 480, 960, 5000)
    whole = train(cfg, tmp_path / "whole")
    snaps = tmp_path / "whole" / "snapshots"
    assert sorted(p.name for p in snaps.iterdir()) == ["200", "480", "960"]  # 5000: not reached
    # taken at the first rollout start at or after the step count asked for
    steps = {p.name: json.loads((p / META_FILE).read_text())["num_timesteps"]
             for p in snaps.iterdir()}
    assert steps == {"200": 320, "480": 480, "960": 960}
    a = PPO.load(snaps / "960" / MODEL_FILE, device="cpu").policy.state_dict()
    b = whole.model.policy.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in b)  # the last one is the final model
    with pytest.raises(Interrupt):
        train(cfg, tmp_path / "cut", extra_callback=InterruptAt(500))
    resume(tmp_path / "cut")
    for name in ("200", "480", "960"):
        x = PPO.load(snaps / name / MODEL_FILE, device="cpu").policy.state_dict()
        y = PPO.load(tmp_path / "cut" / "snapshots" / name / MODEL_FILE,
                     device="cpu").policy.state_dict()
        assert all(torch.equal(x[k], y[k]) for k in x), name
