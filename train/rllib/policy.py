"""RLlib-trained policies as package agents: ``act(obs)`` on the env's raw observations.

:class:`RLlibPolicy` wraps an RLlib ``RLModule`` with the network-input preprocessing it was
trained with (:class:`train.wrappers.FeatureTransform`) and returns its deterministic
action (the mean of the Gaussian) clipped to the action space, exactly what RLlib's env
runners send to the env with ``explore=False`` and ``clip_actions=True`` (clipped to the
env's action space). The evaluation
harness, ``mm-env compare`` (``rllib:path=DIR``) and the plots use it like any other agent.

A *policy directory* (``RUN_DIR/policy``) holds ``rl_module/`` (the module's own checkpoint)
and ``meta.json`` (the market config and the preprocessing); :func:`load_rllib_policy` reads
it back. Needs the ``ray`` extra.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from mm_env import MarketConfig, observation_names
from mm_env.spaces import action_space
from train.atomic import atomic_dir
from train.evaluation.trained import check_compatible, read_meta
from train.values import UserError
from train.wrappers import FeatureTransform

if TYPE_CHECKING:
    from train.rllib.config import RLlibConfig

META_FILE = "meta.json"
MODULE_DIR = "rl_module"


class RLlibPolicy:
    """The deterministic policy of an RLlib ``RLModule`` trained on ``config``."""

    def __init__(
        self,
        module: Any,
        config: MarketConfig,
        features: Sequence[str],
        scaling: str = "fixed",
    ) -> None:
        self.module, self.config = module, config
        self.trained_market = config  # evaluation refuses it on another market
        self.transform = FeatureTransform(config, features, scaling)
        space = action_space(config)  # depths, and the order size with size_action
        self.low, self.high = space.low.astype(np.float64), space.high.astype(np.float64)
        self._dist_cls = module.get_inference_action_dist_cls()

    def act(self, obs: np.ndarray) -> np.ndarray:
        """Depths for one observation ``(d,)`` -> ``(2,)`` or a batch ``(n, d)`` -> ``(n, 2)``."""
        import torch

        x = np.asarray(obs, dtype=np.float64)
        single = x.ndim == 1
        batch = torch.from_numpy(self.transform(np.atleast_2d(x)))
        with torch.no_grad():
            out = self.module.forward_inference({"obs": batch})
            dist = self._dist_cls.from_logits(out["action_dist_inputs"]).to_deterministic()
            action = dist.sample().numpy().astype(np.float64)
        action = np.clip(action, self.low, self.high)
        return action[0] if single else action

    def __repr__(self) -> str:
        return f"RLlibPolicy(features={list(self.transform.features)})"


def save_policy_dir(path: Path, module: Any, cfg: RLlibConfig, num_timesteps: int) -> None:
    """Write ``path`` (``rl_module/`` + ``meta.json``) atomically: into a temporary sibling,
    then renamed into place."""
    market = cfg.market()
    meta = {
        "format": 1,
        "library": "rllib",
        "algo": "PPO",
        "market": market.to_dict(),
        "observation_names": list(observation_names(market)),
        "obs_features": list(cfg.obs_features),
        "obs_scaling": cfg.obs_scaling,
        "num_timesteps": int(num_timesteps),
    }
    with atomic_dir(path) as tmp:
        module.save_to_path(str((tmp / MODULE_DIR).resolve()))  # absolute, as RLlib needs
        (tmp / META_FILE).write_text(json.dumps(meta, indent=2) + "\n")


def load_rllib_policy(
    path: str | Path, config: MarketConfig | str | None = None
) -> RLlibPolicy:
    """The policy saved in a policy directory (or a run directory holding ``policy/``).

    ``config``: the market it will be evaluated on; ValueError naming the differing fields if
    it is not the one the policy was trained on.
    """
    root = Path(path)
    if not (root / META_FILE).is_file() and (root / "policy" / META_FILE).is_file():
        root = root / "policy"
    meta_path = root / META_FILE
    if not meta_path.is_file() or not (root / MODULE_DIR).is_dir():
        raise UserError(
            f"{str(path)!r} is not an RLlib policy directory (no {META_FILE} and {MODULE_DIR}/);"
            " pass RUN_DIR or RUN_DIR/policy of a run written by mm-env rllib-train"
        )
    meta = read_meta(meta_path)  # checked as a whole: UserError naming the file and key
    if meta.get("library") != "rllib":
        raise UserError(f"{str(root)!r} holds a {meta.get('library', 'SB3')} model, not RLlib")
    market = check_compatible(meta, config, "mm-env rllib-train")
    from ray.rllib.core.rl_module.rl_module import RLModule

    try:
        module = RLModule.from_checkpoint(str((root / MODULE_DIR).resolve()))
    except Exception as exc:  # whatever RLlib/torch raise on files they cannot read
        message = " ".join(str(exc).split())[:200]
        raise UserError(
            f"cannot load the RLlib module in {str(root / MODULE_DIR)!r} ({type(exc).__name__}:"
            f" {message}); the checkpoint is corrupt"
        ) from exc
    return RLlibPolicy(module, market, meta["obs_features"], meta["obs_scaling"])


def policy_from_spec(kwargs: dict[str, Any], spec: str) -> RLlibPolicy:
    """The policy of the spec ``rllib:path=RUN_DIR`` (or ``RUN_DIR/policy``)."""
    kwargs = dict(kwargs)
    path = kwargs.pop("path", None)
    if path is None or kwargs:
        raise UserError(f"policy {spec!r}: rllib takes exactly path=RUN_DIR")
    from train.rllib.env import require_ray

    require_ray()
    return load_rllib_policy(str(path))
