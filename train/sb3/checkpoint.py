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

import json
import logging
import pickle
import random
import re
import shutil
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import torch
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.vec_env import VecNormalize

from train.atomic import atomic_write_text
from train.evaluation.trained import read_meta
from train.sb3.env_stack import EnvStack
from train.sb3.model_dir import META_FILE, MODEL_FILE, VECNORM_FILE, save_model_dir
from train.values import UserError

log = logging.getLogger(__name__)

CHECKPOINTS = "checkpoints"
LATEST = "LATEST"
RESUME_FILE = "resume_state.pkl"
CONFIG_FILE = "config.toml"  # the run's config when the checkpoint was written
KEEP = 2
_NAME = re.compile(r"step-\d+")


def capture_state(model: BaseAlgorithm, stack: EnvStack) -> dict[str, Any]:
    """Everything outside SB3's zip and VecNormalize's pickle that a resume needs."""
    venv, monitor, vecnorm = stack.base.venv, stack.monitor, stack.vecnorm
    return {
        "martingale_mid": None if stack.martingale is None else stack.martingale.mid.copy(),
        "shaping_potential": None if stack.shaping is None else stack.shaping.potential.copy(),
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
    if stack.shaping is not None:
        stack.shaping.potential = state["shaping_potential"].copy()
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
    config_toml: str | None = None,
) -> Path:
    """Write a complete checkpoint atomically and point ``LATEST`` at it (``config_toml``:
    the run's config, which a resume compares with the run's ``config.toml``)."""
    root = run_dir / CHECKPOINTS
    final = root / f"step-{model.num_timesteps:012d}"
    state = pickle.dumps(resume_state, protocol=pickle.HIGHEST_PROTOCOL)
    extra = {RESUME_FILE: state}
    if config_toml is not None:
        extra[CONFIG_FILE] = config_toml.encode("utf-8")
    save_model_dir(final, model, meta, vecnorm, extra=extra)
    atomic_write_text(root / LATEST, final.name + "\n")
    _prune(root, final.name)
    return final


def latest_checkpoint(run_dir: Path) -> Path | None:
    """The newest intact checkpoint of a run (:func:`checkpoints_to_try`), or None."""
    for path in checkpoints_to_try(run_dir):
        problem = checkpoint_problem(path)
        if problem is None:
            return path
        log.warning("checkpoint %s is corrupt (%s); falling back to the previous one", path,
                    problem)
    return None


def checkpoints_to_try(run_dir: Path) -> list[Path]:
    """The checkpoints of a run, newest first: the one ``LATEST`` names, then the others.

    ``LATEST`` must name a checkpoint directory inside the run (``step-N``): a path that
    leads elsewhere (``../../other_run/...``) is a UserError, never followed. An empty or
    unreadable ``LATEST`` is warned about and the checkpoint directories are tried instead.
    """
    root = run_dir / CHECKPOINTS
    pointer = root / LATEST
    if not root.is_dir():
        return []
    done = sorted((p for p in root.glob("step-*") if p.is_dir()), reverse=True)
    if not pointer.is_file():
        return done
    try:
        name = pointer.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        name = ""
        log.warning("%s is unreadable (%s)", pointer, exc)
    if "/" in name or "\\" in name or name in (".", "..") or name.startswith(".."):
        raise UserError(
            f"{str(pointer)!r} names {name!r}, which is not a checkpoint directory inside the "
            f"run; LATEST must hold the name of one of {CHECKPOINTS}/step-N"
        )
    if not _NAME.fullmatch(name):
        log.warning("%s holds %r, not a checkpoint name; trying the checkpoint directories, "
                    "newest first", pointer, name[:40])
        return done
    named = root / name
    return [named] + [p for p in done if p != named] if named.is_dir() else done


def checkpoint_problem(path: Path) -> str | None:
    """Why the checkpoint ``path`` cannot be resumed from (a missing, truncated or garbage
    file), or None when every file of it reads back."""
    try:
        read_meta(path / META_FILE)
        with zipfile.ZipFile(path / MODEL_FILE) as zf:
            bad = zf.testzip()
        if bad is not None:
            return f"{MODEL_FILE}: member {bad!r} fails its checksum"
        for name in (RESUME_FILE, VECNORM_FILE):
            with open(path / name, "rb") as fh:
                pickle.load(fh)
    except (OSError, EOFError, ValueError, pickle.UnpicklingError, zipfile.BadZipFile,
            AttributeError, ImportError, IndexError, TypeError) as exc:
        return f"{type(exc).__name__}: {' '.join(str(exc).split())[:160]}"
    return None


def checkpoint_config(path: Path) -> dict[str, Any] | None:
    """The run config a checkpoint was written with (its ``config.toml``; None for
    checkpoints written before they carried one), as a plain dict."""
    from train.run_config import read_toml

    file = path / CONFIG_FILE
    return read_toml(file) if file.is_file() else None


def checkpoint_market(path: Path) -> dict[str, Any]:
    """The market and network input a checkpoint was trained on (from its meta.json)."""
    meta = json.loads((path / META_FILE).read_text(encoding="utf-8"))
    return {"market": meta["market"], "obs_features": list(meta["obs_features"])}


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
