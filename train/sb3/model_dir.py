"""Trained SB3 models as policies: saved with what they were trained on, loaded with checks.

A *model directory* holds ``model.zip`` (the SB3 model), ``meta.json`` (algorithm, the
market config, the observation features fed to the network, observation-normalisation
statistics, steps trained) and, for resuming, ``vecnormalize.pkl``.
:func:`load_policy` returns a :class:`TrainedPolicy` whose ``act(obs)`` takes the env's raw
observations and applies exactly the preprocessing used in training (feature selection,
then normalisation), so the evaluation harness treats it like any package agent.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.running_mean_std import RunningMeanStd
from stable_baselines3.common.vec_env import VecNormalize

from mm_env import MarketConfig, observation_names
from train.atomic import atomic_dir, recover_dir
from train.evaluation.trained import check_compatible
from train.evaluation.trained import read_meta as read_checked_meta
from train.features import check_features
from train.values import UserError
from train.wrappers import FeatureTransform

META_FILE = "meta.json"
MODEL_FILE = "model.zip"
VECNORM_FILE = "vecnormalize.pkl"


def model_meta(
    algo: str,
    market: MarketConfig,
    features: Sequence[str],
    vecnorm: VecNormalize | None,
    num_timesteps: int,
    offset: Sequence[float] | None = None,
    scale: Sequence[float] | None = None,
) -> dict[str, Any]:
    """The ``meta.json`` content describing a saved model."""
    obs_norm = None
    if vecnorm is not None and vecnorm.norm_obs:
        rms = vecnorm.obs_rms
        assert isinstance(rms, RunningMeanStd), "dict observations are not supported"
        obs_norm = {
            "mean": np.asarray(rms.mean).tolist(),
            "var": np.asarray(rms.var).tolist(),
            "clip": float(vecnorm.clip_obs),
            "epsilon": float(vecnorm.epsilon),
        }
    return {
        "format": 1,
        "algo": algo,
        "market": market.to_dict(),
        "observation_names": list(observation_names(market)),
        "obs_features": list(features),
        "obs_offset": [0.0] * len(features) if offset is None else [float(x) for x in offset],
        "obs_scale": [1.0] * len(features) if scale is None else [float(x) for x in scale],
        "obs_norm": obs_norm,
        "num_timesteps": int(num_timesteps),
    }


def save_model_dir(
    path: Path,
    model: BaseAlgorithm,
    meta: dict[str, Any],
    vecnorm: VecNormalize | None,
    extra: dict[str, bytes] | None = None,
) -> None:
    """Write a model directory atomically: into a temporary sibling, then renamed into place.

    ``extra`` maps further file names to their bytes (a checkpoint's resume state). A process
    killed mid-write leaves any previous ``path`` intact and complete.
    """
    with atomic_dir(path) as tmp:
        model.save(tmp / MODEL_FILE)
        if vecnorm is not None:
            vecnorm.save(str(tmp / VECNORM_FILE))
        # inf (an unbounded inventory) is written as Infinity, which Python's json reads back
        (tmp / META_FILE).write_text(json.dumps(meta, indent=2) + "\n")
        for name, data in (extra or {}).items():
            (tmp / name).write_bytes(data)


def read_meta(path: str | Path) -> dict[str, Any]:
    """``meta.json`` of a model directory, with a clear error when it is not one."""
    recover_dir(Path(path))  # a swap of best/ or final/ cut short by a kill
    meta_path = Path(path) / META_FILE
    if not meta_path.is_file():
        raise UserError(
            f"{str(path)!r} is not a model directory (no {META_FILE}); pass a directory "
            "written by mm-env train (RUN_DIR/best, RUN_DIR/final or a checkpoint)"
        )
    return read_checked_meta(meta_path)


class TrainedPolicy:
    """A trained SB3 model with its observation preprocessing: ``act(obs)`` like an agent."""

    def __init__(self, model: BaseAlgorithm, meta: dict[str, Any], config: MarketConfig):
        self.model = model
        self.meta = meta
        self.config = config
        self.trained_market = config  # evaluation refuses it on another market
        self.name = f"{meta['algo']}"
        features = check_features(meta["obs_features"])
        n = len(features)
        self._transform = FeatureTransform(
            config, features, "none",
            offset=np.asarray(meta.get("obs_offset", [0.0] * n), np.float64),
            scale=np.asarray(meta.get("obs_scale", [1.0] * n), np.float64),
        )
        norm = meta.get("obs_norm")
        self._norm = None
        if norm is not None:
            self._norm = (
                np.asarray(norm["mean"], dtype=np.float64),
                np.sqrt(np.asarray(norm["var"], dtype=np.float64) + norm["epsilon"]),
                float(norm["clip"]),
            )
        expected = model.observation_space.shape
        if expected != (n,):
            raise ValueError(
                f"the model's observation space has shape {expected}, but its meta.json "
                f"lists {n} features {meta['obs_features']}"
            )

    def preprocess(self, obs: np.ndarray) -> np.ndarray:
        """Raw env observations ``(n, 3)`` to the network's input: feature selection, the
        fixed scaling, then the running normalisation (if the run used it)."""
        x = self._transform(obs).astype(np.float64)  # the training wrapper's float32 input
        if self._norm is not None:
            mean, std, clip = self._norm
            x = np.clip((x - mean) / std, -clip, clip)
        return x.astype(np.float32)

    def act(self, obs: np.ndarray) -> np.ndarray:
        """Deterministic depths for one observation ``(3,)`` or a batch ``(n, 3)``."""
        action, _ = self.model.predict(self.preprocess(obs), deterministic=True)
        return np.asarray(action, dtype=np.float64)

    def __repr__(self) -> str:
        return f"TrainedPolicy({self.name}, {self.meta.get('num_timesteps')} steps)"


def load_model(zip_path: Path, algo: str, **kwargs: Any) -> BaseAlgorithm:
    """SB3's ``algo.load(zip_path)``; UserError naming the file when it is missing, corrupt
    (truncated, not a zip) or holds another algorithm's model."""
    from train.sb3.algorithms import algorithm_class, schedule_objects

    try:
        cls = algorithm_class(algo)
    except ValueError as exc:
        raise UserError(f"{str(zip_path)!r}: {exc}") from None
    if not zip_path.is_file():
        raise UserError(f"no model file at {str(zip_path)!r}")
    kwargs.setdefault("custom_objects", schedule_objects(None))
    try:
        return cls.load(zip_path, device="cpu", **kwargs)
    except Exception as exc:  # whatever SB3/torch raise on a file they cannot read
        message = " ".join(str(exc).split())[:200] or type(exc).__name__
        raise UserError(
            f"cannot load {str(zip_path)!r} as an SB3 {algo} model ({type(exc).__name__}: "
            f"{message}); the file is corrupt or holds another algorithm's model"
        ) from exc


def load_policy(path: str | Path, config: MarketConfig | str | None = None) -> TrainedPolicy:
    """Load a model directory as a policy; ``config`` (a MarketConfig or a preset name; if
    given) must be its training config, else UserError naming the differing fields."""
    meta = read_meta(path)
    trained = check_compatible(meta, config)
    model = load_model(Path(path) / MODEL_FILE, meta["algo"])
    try:
        return TrainedPolicy(model, meta, trained)
    except ValueError as exc:
        raise UserError(f"{str(Path(path) / META_FILE)!r}: {exc}") from None


def policy_from_spec(kwargs: dict[str, Any], spec: str) -> Any:
    """The policy of the spec ``sb3:path=DIR`` (a model directory, with its preprocessing) or
    ``sb3:path=MODEL.zip[,algo=PPO]`` (a bare SB3 model fed raw observations)."""
    kwargs = dict(kwargs)
    path = kwargs.pop("path", None)
    algo = str(kwargs.pop("algo", "PPO"))
    if path is None:
        raise UserError(f"policy {spec!r}: sb3 needs path=MODEL.zip")
    if kwargs:
        raise UserError(f"policy {spec!r}: sb3 takes only path and algo, got {sorted(kwargs)}")
    if Path(str(path)).suffix != ".zip":
        # a model directory (the caller checks its market); the training preprocessing
        return load_policy(str(path))
    return load_model(Path(str(path)), algo)
