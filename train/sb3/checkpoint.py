"""Atomic checkpoints of a training run, and the exact state needed to resume it.

Layout: ``RUN_DIR/checkpoints/step-<N>/`` model directories (``model.zip``, ``meta.json``,
``vecnormalize.pkl``) plus ``resume_state.pkl``, and ``RUN_DIR/checkpoints/LATEST`` naming
the newest complete one. A checkpoint is written into a hidden temporary directory and
renamed into place, then ``LATEST`` is replaced atomically: a process killed mid-write leaves
the previous checkpoint and ``LATEST`` intact (the stale temporary directory is removed on
the next write). The two newest checkpoints are kept.

What is restored on resume (so that a resumed on-policy run continues exactly as the
uninterrupted run would): model parameters, optimizer state and step counter (SB3's zip),
observation/reward normalisation statistics and running returns, the vector env's market
state and generator, the monitor's running episode statistics, the algorithm's last
observation, and the ``random``, ``numpy`` and ``torch`` global generators. Off-policy
algorithms resume with an empty replay buffer (it is not saved: it would be large).
"""

from __future__ import annotations

import pickle
import random
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import torch
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.vec_env import VecNormalize

from train.atomic import atomic_write_text
from train.sb3.env_stack import EnvStack
from train.sb3.model_dir import save_model_dir

CHECKPOINTS = "checkpoints"
LATEST = "LATEST"
RESUME_FILE = "resume_state.pkl"
KEEP = 2


def capture_state(model: BaseAlgorithm, stack: EnvStack) -> dict[str, Any]:
    """Everything outside SB3's zip and VecNormalize's pickle that a resume needs."""
    venv, monitor, vecnorm = stack.base.venv, stack.monitor, stack.vecnorm
    return {
        "martingale_mid": None if stack.martingale is None else stack.martingale.mid.copy(),
        "env": venv.get_state(),
        "monitor": {
            "episode_returns": monitor.episode_returns.copy(),
            "episode_lengths": monitor.episode_lengths.copy(),
            "episode_count": monitor.episode_count,
        },
        "vecnorm_returns": vecnorm.returns.copy(),
        "vecnorm_old_obs": vecnorm.old_obs.copy(),
        "vecnorm_old_reward": vecnorm.old_reward.copy(),
        "last_obs": model._last_obs,
        "last_original_obs": getattr(model, "_last_original_obs", None),
        "last_episode_starts": model._last_episode_starts,
        "ep_info_buffer": list(model.ep_info_buffer or []),
        "python_rng": random.getstate(),
        "numpy_rng": np.random.get_state(),
        "torch_rng": torch.get_rng_state(),
    }


def restore_state(state: dict[str, Any], model: BaseAlgorithm, stack: EnvStack) -> None:
    """Inverse of :func:`capture_state` on freshly built objects."""
    venv, monitor, vecnorm = stack.base.venv, stack.monitor, stack.vecnorm
    if stack.martingale is not None:
        stack.martingale.mid = state["martingale_mid"].copy()
    venv.set_state(state["env"])
    monitor.episode_returns = state["monitor"]["episode_returns"].copy()
    monitor.episode_lengths = state["monitor"]["episode_lengths"].copy()
    monitor.episode_count = state["monitor"]["episode_count"]
    vecnorm.returns = state["vecnorm_returns"].copy()
    vecnorm.old_obs = state["vecnorm_old_obs"].copy()
    vecnorm.old_reward = state["vecnorm_old_reward"].copy()
    model._last_obs = state["last_obs"]
    if state["last_original_obs"] is not None:
        model._last_original_obs = state["last_original_obs"]
    model._last_episode_starts = state["last_episode_starts"]
    model.ep_info_buffer.extend(state["ep_info_buffer"])  # type: ignore[union-attr]
    random.setstate(state["python_rng"])
    np.random.set_state(state["numpy_rng"])
    torch.set_rng_state(state["torch_rng"])


def write_checkpoint(
    run_dir: Path,
    model: BaseAlgorithm,
    vecnorm: VecNormalize,
    meta: dict[str, Any],
    resume_state: dict[str, Any],
) -> Path:
    """Write a complete checkpoint atomically and point ``LATEST`` at it."""
    root = run_dir / CHECKPOINTS
    final = root / f"step-{model.num_timesteps:012d}"
    state = pickle.dumps(resume_state, protocol=pickle.HIGHEST_PROTOCOL)
    save_model_dir(final, model, meta, vecnorm, extra={RESUME_FILE: state})
    atomic_write_text(root / LATEST, final.name + "\n")
    _prune(root, final.name)
    return final


def latest_checkpoint(run_dir: Path) -> Path | None:
    """The newest complete checkpoint of a run, or None."""
    pointer = run_dir / CHECKPOINTS / LATEST
    if not pointer.is_file():
        return None
    path = run_dir / CHECKPOINTS / pointer.read_text().strip()
    if not (path / RESUME_FILE).is_file():
        raise ValueError(f"checkpoint {str(path)!r} named by {str(pointer)!r} is incomplete")
    return path


def load_resume_state(checkpoint: Path) -> dict[str, Any]:
    with open(checkpoint / RESUME_FILE, "rb") as fh:
        state: dict[str, Any] = pickle.load(fh)
    return state


def _prune(root: Path, newest: str) -> None:
    for stale in root.glob(".step-*"):  # a killed write's temporary or set-aside directory
        shutil.rmtree(stale, ignore_errors=True)
    for stale_file in root.glob(f".{LATEST}.*.tmp"):  # a killed write of LATEST
        stale_file.unlink(missing_ok=True)
    done = sorted(p.name for p in root.glob("step-*") if p.is_dir())
    keep = set(done[-KEEP:]) | {newest}
    for name in done:
        if name not in keep:
            shutil.rmtree(root / name, ignore_errors=True)
