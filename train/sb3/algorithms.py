"""The SB3 algorithms a run can use, and their keyword arguments from a TrainConfig."""

from __future__ import annotations

from typing import Any

import torch
from stable_baselines3 import A2C, DDPG, PPO, SAC, TD3
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.utils import FloatSchedule

from train.sb3.config import ACTIVATION_NAMES, TrainConfig

_CLASSES: dict[str, type[BaseAlgorithm]] = {
    "PPO": PPO,
    "A2C": A2C,
    "SAC": SAC,
    "TD3": TD3,
    "DDPG": DDPG,
}
ON_POLICY = ("PPO", "A2C")


def algorithm_class(name: str) -> type[BaseAlgorithm]:
    """The SB3 class of ``name`` (one of PPO, A2C, SAC, TD3, DDPG)."""
    try:
        return _CLASSES[name]
    except KeyError:
        raise ValueError(f"algo must be one of {sorted(_CLASSES)}, got {name!r}") from None


def learning_rate(cfg: TrainConfig) -> Any:
    """A constant, or SB3's progress-based schedule decaying linearly to 0."""
    if cfg.lr_schedule == "constant":
        return cfg.learning_rate
    return LinearSchedule(cfg.learning_rate)


class LinearSchedule:
    """``lr * progress_remaining`` (picklable, unlike a lambda in some contexts)."""

    def __init__(self, initial: float) -> None:
        self.initial = initial

    def __call__(self, progress_remaining: float) -> float:
        return self.initial * progress_remaining


def schedule_objects(cfg: TrainConfig | None) -> dict[str, Any]:
    """``custom_objects`` for SB3's ``load``: the learning-rate schedule rebuilt from ``cfg``
    (SB3 derives ``lr_schedule`` from it), not unpickled from the zip, so a saved model does
    not depend on where the schedule's class lives. ``None``: a model loaded only to act."""
    rate = 0.0 if cfg is None else learning_rate(cfg)
    return {"learning_rate": rate, "lr_schedule": FloatSchedule(rate)}


#: ``TrainConfig.activation`` -> the torch module of the hidden layers.
ACTIVATIONS: dict[str, type[torch.nn.Module]] = {
    "tanh": torch.nn.Tanh,
    "relu": torch.nn.ReLU,
    "elu": torch.nn.ELU,
    "silu": torch.nn.SiLU,
}
assert tuple(ACTIVATIONS) == ACTIVATION_NAMES


def algorithm_kwargs(cfg: TrainConfig) -> dict[str, Any]:
    """Constructor keywords of ``cfg.algo`` built from the config."""
    policy_kwargs: dict[str, Any] = {
        "net_arch": list(cfg.net_arch),
        "activation_fn": ACTIVATIONS[cfg.activation],
    }
    kwargs: dict[str, Any] = {
        "learning_rate": learning_rate(cfg),
        "gamma": cfg.gamma,
        "seed": cfg.seed,
        "device": "cpu",
        "verbose": 0,
    }
    if cfg.algo in ON_POLICY:
        policy_kwargs["log_std_init"] = cfg.log_std_init
        kwargs.update(n_steps=cfg.n_steps, gae_lambda=cfg.gae_lambda)
        if cfg.algo == "PPO":
            kwargs.update(batch_size=cfg.batch_size, n_epochs=cfg.n_epochs)
    else:
        kwargs.update(batch_size=cfg.batch_size, buffer_size=max(100_000, 50 * cfg.n_envs))
    kwargs["policy_kwargs"] = policy_kwargs
    return kwargs
