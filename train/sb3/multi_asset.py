"""Train SB3 PPO on the multi-asset market: ``train_multi_asset(cfg, run_dir)``, and load it back.

The env stack (:mod:`train.sb3.multi_asset_env`): :class:`MultiAssetSB3VecEnv` (all envs in one
numpy batch) -> ``VecMonitor`` (episode statistics of the env's own reward) ->
:class:`VecMultiAssetMartingaleReward` (optional, training-only variance reduction) ->
:class:`VecMultiAssetPotentialShaping` (optional, training-only potential-based shaping) ->
:class:`VecMultiAssetFeatures` (the network input, fixed scaling) -> ``VecNormalize``
(reward scaling only; the observation scaling is fixed, so the saved model needs no running
statistics).

A run directory holds ``config.json`` (the :class:`MultiAssetTrainConfig`), ``eval.csv`` (one
row per periodic evaluation: steps, wall time, mean episode reward and its SE, how it was
computed), ``best/`` (the model of the best evaluation) and ``final/``. Each model directory
(written atomically, :func:`train.sb3.model_dir.save_model_dir`) holds ``model.zip`` (SB3) and
``meta.json`` (the market as ``MultiAssetConfig.to_dict()``, the features and their offsets and
scales, steps trained), read by :func:`load_multi_asset_policy`.

Periodic evaluation. When the network input has no mids and the market fits the joint
inventory lattice (arithmetic mids or driftless GBM, finite integer limits), the evaluation is
the *exact* expected episode reward of the deterministic policy,
:func:`agents.multi_asset.evaluate_on_multi_lattice` (no Monte Carlo noise: choosing ``best/``
does not overfit a sample); otherwise a Monte Carlo of ``eval_episodes`` held-out episodes
(seed ``eval_seed``, the same episodes at every evaluation).
"""

from __future__ import annotations

import csv
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from stable_baselines3 import PPO
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.vec_env import VecEnv, VecMonitor, VecNormalize

from agents.base import SB3Predict
from agents.multi_asset import MultiAssetLatticeModel, evaluate_on_multi_lattice
from mm_env.multi_asset import MultiAssetConfig
from train.evaluation.multi_asset import evaluate_multi_asset, market_diff
from train.run_config import check_int, check_number
from train.sb3.model_dir import MODEL_FILE, load_model, save_model_dir
from train.sb3.multi_asset_env import (
    MultiAssetInventoryPotential,
    MultiAssetSB3VecEnv,
    VecMultiAssetFeatures,
    VecMultiAssetMartingaleReward,
    VecMultiAssetPotentialShaping,
)
from train.sb3.multi_asset_features import (
    MultiAssetFeatures,
    check_multi_asset_features,
)
from train.sb3.ppo_run import JsonConfig, build_ppo, check_new_run, write_run_config
from train.values import UserError

META_FILE = "meta.json"
EVAL_FILE = "eval.csv"
#: ``meta.json["kind"]`` of a multi-asset model directory.
MODEL_KIND = "multi_asset"


#: The network input of the shipped pair agent (see :mod:`train.sb3.multi_asset_features`).
PAIR_FEATURES: tuple[str, ...] = (
    "time_remaining",
    "sqrt_time_remaining",
    "inverse_steps_remaining",
    "final_step",
    "inventory",
    "inventory_inverse_steps",
    "inventory_final_step",
)


@dataclass(frozen=True)
class MultiAssetTrainConfig(JsonConfig):
    """One PPO run on a multi-asset market (the defaults train the shipped ``pair`` agent).

    Choices behind the defaults, measured on ``pair`` with the exact lattice value of the
    greedy policy (``benchmarks/multi_asset_ppo.py``; the README of ``models/ppo_pair``):

    - ``n_steps = 200`` (the episode length) with ``n_envs = 250``: all envs start together and
      stay in lock step, so a rollout of 40 steps would hold one fifth of the episode and each
      update would fit one window of time; whole-episode rollouts fit every time at every
      update (at 8M steps: 121.96 against 119.28 with 1000 envs x 40 steps).
    - ``features``: :data:`PAIR_FEATURES`; the products of the inventory with the inverse
      number of steps left and the last-step indicator resolve the end of the episode, where
      the discrete-time optimum steepens (121.7 -> 123.5 at 6M steps).
    - ``reward_shaping = "none"``: the terminal potential ``-q' Psi q`` slowed learning here
      (115.8 against 119.3 at 4M steps): with ``Psi = Sigma / 2`` each fill's shaped reward is
      dominated by the penalty change, which the future repays, so its variance grows.
    - ``martingale_reward``: the reward without the zero-mean price noise.
    """

    preset: str = "pair"
    overrides: dict[str, Any] = field(default_factory=dict)
    seed: int = 0
    total_timesteps: int = 20_000_000
    n_envs: int = 250
    n_steps: int = 200
    batch_size: int = 10_000
    n_epochs: int = 5
    gamma: float = 1.0
    gae_lambda: float = 0.95
    learning_rate: float = 5e-4
    lr_schedule: str = "linear"
    net_arch: tuple[int, ...] = (64, 64)
    log_std_init: float = -1.0
    features: tuple[str, ...] = PAIR_FEATURES
    martingale_reward: bool = True
    reward_shaping: str = "none"
    norm_reward: bool = True
    eval_freq: int = 1_000_000
    eval_episodes: int = 2000
    eval_seed: int = 10_000
    torch_threads: int = 1

    def __post_init__(self) -> None:
        for name in ("total_timesteps", "n_envs", "n_steps", "n_epochs", "eval_episodes"):
            check_int(name, getattr(self, name), 1)
        for name in ("seed", "eval_freq", "eval_seed", "torch_threads"):
            check_int(name, getattr(self, name), 0)
        check_int("batch_size", self.batch_size, 2)  # SB3 normalises minibatch advantages
        for name in ("gamma", "gae_lambda"):
            check_number(name, getattr(self, name), 0, 1)
        lr = self.learning_rate
        if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not (0 < lr < np.inf):
            raise ValueError(f"learning_rate must be a finite number > 0, got {lr!r}")
        if self.lr_schedule not in ("constant", "linear"):
            raise ValueError(
                f"lr_schedule must be one of ['constant', 'linear'], got {self.lr_schedule!r}"
            )
        arch = tuple(self.net_arch)
        if not arch or any(isinstance(n, bool) or not isinstance(n, int) or n < 1 for n in arch):
            raise ValueError(f"net_arch must be positive layer sizes, got {self.net_arch!r}")
        object.__setattr__(self, "net_arch", arch)
        object.__setattr__(self, "features", check_multi_asset_features(self.features))
        object.__setattr__(self, "overrides", dict(self.overrides))
        market = self.market()  # the preset and overrides, with MultiAssetConfig's messages
        if self.reward_shaping != "none":
            MultiAssetInventoryPotential(market, self.reward_shaping)  # its checks

    def market(self) -> MultiAssetConfig:
        """The :class:`MultiAssetConfig` this run trains on."""
        return MultiAssetConfig.preset(self.preset, **self.overrides)


@dataclass
class MultiAssetTrainResult:
    """What :func:`train_multi_asset` returns."""

    run_dir: Path
    model: PPO
    num_timesteps: int
    wall_time: float
    evaluations: list[dict[str, Any]]

    @property
    def best_dir(self) -> Path:
        return self.run_dir / "best"

    @property
    def final_dir(self) -> Path:
        return self.run_dir / "final"


class MultiAssetTrainedPolicy(SB3Predict):
    """A trained SB3 model with its preprocessing: ``act(obs)`` like a multi-asset agent.

    Acting on small batches (the lattice evaluator's 441 states per step) is dominated by
    torch's thread start-up: on a busy machine ``torch.set_num_threads(1)`` makes it about
    20 times faster (the trainer sets it from ``torch_threads``).
    """

    def __init__(self, model: Any, meta: dict[str, Any], config: MultiAssetConfig) -> None:
        self.model = model
        self.meta = meta
        self.config = config
        self.trained_market = config  # evaluation refuses it on another market
        self.n_assets = config.n_assets
        self.name = str(meta.get("algo", "PPO"))
        self.features = MultiAssetFeatures(
            config, meta["features"], offset=meta["obs_offset"], scale=meta["obs_scale"]
        )
        if tuple(model.observation_space.shape) != (self.features.width,):
            raise ValueError(
                f"the model's observation space has shape {model.observation_space.shape}, but "
                f"its meta.json lists {self.features.width} columns {list(self.features.columns)}"
            )

    def act(self, obs: np.ndarray) -> np.ndarray:
        """Deterministic depths ``[bid_1, ask_1, ...]`` for one observation or a batch."""
        action, _ = self.model.predict(self.features(obs), deterministic=True)
        return np.asarray(action, dtype=np.float64)

    def __repr__(self) -> str:
        return f"MultiAssetTrainedPolicy({self.name}, {self.meta.get('num_timesteps')} steps)"


def make_multi_asset_stack(
    cfg: MultiAssetTrainConfig,
) -> tuple[MultiAssetSB3VecEnv, VecMultiAssetFeatures, VecNormalize]:
    """The training env (module doc): the adapter, the feature layer and the outermost env."""
    market = cfg.market()
    base = MultiAssetSB3VecEnv(cfg.n_envs, market)
    inner: VecEnv = VecMonitor(base)
    if cfg.martingale_reward:
        inner = VecMultiAssetMartingaleReward(inner)
    if cfg.reward_shaping != "none":
        inner = VecMultiAssetPotentialShaping(inner, cfg.reward_shaping)
    select = VecMultiAssetFeatures(inner, MultiAssetFeatures(market, cfg.features))
    vecnorm = VecNormalize(select, norm_obs=False, norm_reward=cfg.norm_reward, gamma=cfg.gamma)
    return base, select, vecnorm


def model_meta(
    cfg: MultiAssetTrainConfig, features: MultiAssetFeatures, steps: int
) -> dict[str, Any]:
    """The ``meta.json`` of a model trained by ``cfg``."""
    return {
        "format": 1,
        "kind": MODEL_KIND,
        "library": "sb3",
        "algo": "PPO",
        "market": cfg.market().to_dict(),
        "features": list(features.features),
        "columns": list(features.columns),
        "obs_offset": features.offset.tolist(),
        "obs_scale": features.scale.tolist(),
        "num_timesteps": int(steps),
        "seed": cfg.seed,
    }


def save_multi_asset_model(path: Path, model: PPO, meta: dict[str, Any]) -> None:
    """Write a model directory (``model.zip``, ``meta.json``) atomically, replacing any
    previous one (:func:`train.sb3.model_dir.save_model_dir`)."""
    save_model_dir(path, model, meta, None)


def load_multi_asset_policy(
    path: str | Path, config: MultiAssetConfig | str | None = None
) -> MultiAssetTrainedPolicy:
    """Load a model directory; ``config`` (a MultiAssetConfig or preset name), if given, must
    be its training market, else UserError naming the differing fields."""
    meta_path = Path(path) / META_FILE
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UserError(
            f"{str(path)!r} is not a multi-asset model directory (cannot read {META_FILE}: {exc})"
        ) from None
    if not isinstance(meta, dict) or meta.get("kind") != MODEL_KIND:
        raise UserError(
            f"{str(meta_path)!r} does not describe a multi-asset model (key 'kind' must be "
            f"{MODEL_KIND!r}); a single-asset model loads with train.sb3.model_dir.load_policy"
        )
    try:
        trained = MultiAssetConfig.from_dict(
            {k: _tuples(v) for k, v in dict(meta["market"]).items()}
        )
    except (KeyError, ValueError, TypeError) as exc:
        raise UserError(f"{str(meta_path)!r}: key 'market' is not a valid market: {exc}") from None
    if config is not None:
        given = MultiAssetConfig.preset(config) if isinstance(config, str) else config
        if given != trained:
            raise UserError(
                f"the model was trained on a different market ({market_diff(trained, given)}); "
                "evaluate it on its own config or retrain it"
            )
    model = load_model(Path(path) / MODEL_FILE, str(meta.get("algo", "PPO")))
    try:
        return MultiAssetTrainedPolicy(model, meta, trained)
    except (KeyError, ValueError, TypeError) as exc:
        raise UserError(f"{str(meta_path)!r}: {exc}") from None


class _EvalCallback(BaseCallback):
    """Every ``cfg.eval_freq`` steps (at a rollout's start): evaluate, log, keep the best."""

    def __init__(self, run: Path, cfg: MultiAssetTrainConfig, features: MultiAssetFeatures):
        super().__init__()
        self.run, self.cfg, self.features = run, cfg, features
        self.market = cfg.market()
        self.exact = "mid" not in cfg.features and _lattice_fits(self.market)
        self.rows: list[dict[str, Any]] = []
        self.best = -np.inf
        self.last = 0
        self.t0 = time.perf_counter()

    def _on_rollout_start(self) -> None:
        freq = self.cfg.eval_freq
        if freq and self.model.num_timesteps - self.last >= freq:
            self.evaluate_now()

    def _on_step(self) -> bool:
        return True

    def evaluate_now(self) -> dict[str, Any]:
        self.last = self.model.num_timesteps
        meta = model_meta(self.cfg, self.features, self.model.num_timesteps)
        policy = MultiAssetTrainedPolicy(self.model, meta, self.market)
        if self.exact:
            value, se, method = evaluate_on_multi_lattice(policy, self.market).initial, 0.0, "exact"
        else:
            ev = evaluate_multi_asset(
                policy, self.market, self.cfg.eval_episodes, self.cfg.eval_seed
            )
            value, se, method = ev.mean_reward.value, ev.mean_reward.se, "monte_carlo"
        row = {
            "steps": self.model.num_timesteps,
            "wall_s": round(time.perf_counter() - self.t0, 2),
            "mean_reward": value,
            "se": se,
            "method": method,
        }
        self.rows.append(row)
        _append_csv(self.run / EVAL_FILE, row)
        if value > self.best:
            self.best = value
            assert isinstance(self.model, PPO)
            save_multi_asset_model(self.run / "best", self.model, meta)
        return row


def train_multi_asset(cfg: MultiAssetTrainConfig, run_dir: str | Path) -> MultiAssetTrainResult:
    """Train PPO from scratch into a new (or empty) ``run_dir`` (module doc: its files)."""
    run = Path(run_dir)
    check_new_run(run)
    if cfg.torch_threads:
        torch.set_num_threads(cfg.torch_threads)
    _, select, vecnorm = make_multi_asset_stack(cfg)
    model = build_ppo(cfg, vecnorm)
    write_run_config(run, cfg)
    evaluator = _EvalCallback(run, cfg, select.features)
    t0 = time.perf_counter()
    model.learn(total_timesteps=cfg.total_timesteps, callback=evaluator)
    wall = time.perf_counter() - t0
    evaluator.evaluate_now()
    save_multi_asset_model(
        run / "final", model, model_meta(cfg, select.features, model.num_timesteps)
    )
    vecnorm.close()
    return MultiAssetTrainResult(run, model, model.num_timesteps, wall, evaluator.rows)


def _lattice_fits(market: MultiAssetConfig) -> bool:
    try:
        MultiAssetLatticeModel(market)
    except ValueError:
        return False
    return True


def _append_csv(path: Path, row: dict[str, Any]) -> None:
    new = not path.exists()
    with path.open("a", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(row))
        if new:
            writer.writeheader()
        writer.writerow(row)


def _tuples(value: Any) -> Any:
    """JSON lists back to the tuples a MultiAssetConfig stores."""
    if isinstance(value, list):
        return tuple(_tuples(v) for v in value)
    return value


__all__ = [
    "MultiAssetSB3VecEnv",
    "MultiAssetTrainConfig",
    "MultiAssetTrainResult",
    "MultiAssetTrainedPolicy",
    "VecMultiAssetFeatures",
    "VecMultiAssetMartingaleReward",
    "load_multi_asset_policy",
    "train_multi_asset",
]
