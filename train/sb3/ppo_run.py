"""What the multi-asset and the self-play PPO runs share: config round trip, run directory, PPO.

:mod:`train.sb3.multi_asset` (``train_multi_asset``) and :mod:`train.sb3.competition`
(``train_self_play``) each train one SB3 PPO model on their own env stack into a run directory
that holds ``config.json`` (the run's config as a JSON object) and model directories
(:func:`train.sb3.model_dir.save_model_dir`). This module is the part they have in common:

- :class:`JsonConfig`: ``replace``, ``to_dict`` and ``from_dict`` for a frozen dataclass whose
  tuple fields are written as JSON lists (and read back as tuples);
- :func:`check_new_run` and :func:`write_run_config`: a run directory holds one run;
- :func:`build_ppo`: the ``PPO("MlpPolicy", ...)`` of the hyperparameters both configs name
  alike (:class:`PPOSettings`), with the linear learning-rate schedule of
  :class:`train.sb3.algorithms.LinearSchedule`, on the CPU.

The single-asset trainer (:mod:`train.sb3.trainer`) has its own TOML config
(:class:`train.run_config.PPORunConfig`), checkpoints and resume.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any, ClassVar, Protocol, TypeVar, cast

from stable_baselines3 import PPO
from stable_baselines3.common.vec_env import VecEnv

from train.sb3.algorithms import LinearSchedule
from train.values import UserError

__all__ = [
    "CONFIG_FILE",
    "JsonConfig",
    "PPOSettings",
    "build_ppo",
    "check_new_run",
    "write_run_config",
]

#: The run's config in a run directory.
CONFIG_FILE = "config.json"

_C = TypeVar("_C", bound="JsonConfig")


class JsonConfig:
    """``replace``, ``to_dict`` and ``from_dict`` of a frozen dataclass (mixed in).

    ``to_dict`` gives the fields with tuples as lists (JSON); ``from_dict`` turns lists back
    into tuples and refuses unknown keys: ValueError ``unknown <Class> field(s) [...]``,
    followed by ``; valid: [...]`` when :attr:`list_valid_fields` is set.
    """

    #: whether the unknown-field error lists the valid fields
    list_valid_fields: ClassVar[bool] = False

    def replace(self: _C, **changes: Any) -> _C:
        """A copy with ``changes`` applied (and checked by ``__post_init__``)."""
        return cast(_C, dataclasses.replace(cast(Any, self), **changes))

    def to_dict(self) -> dict[str, Any]:
        """The fields as a JSON-ready dict (tuples as lists)."""
        out = dataclasses.asdict(cast(Any, self))
        return {k: list(v) if isinstance(v, tuple) else v for k, v in out.items()}

    @classmethod
    def from_dict(cls: type[_C], values: dict[str, Any]) -> _C:
        """The config of :meth:`to_dict`'s output (lists back to tuples)."""
        names = {f.name for f in dataclasses.fields(cast(Any, cls))}
        unknown = sorted(set(values) - names)
        if unknown:
            valid = f"; valid: {sorted(names)}" if cls.list_valid_fields else ""
            raise ValueError(f"unknown {cls.__name__} field(s) {unknown}{valid}")
        fields: dict[str, Any] = {
            k: tuple(v) if isinstance(v, list) else v for k, v in values.items()
        }
        return cls(**fields)


class PPOSettings(Protocol):
    """The fields of a run config that :func:`build_ppo` reads."""

    @property
    def learning_rate(self) -> float: ...
    @property
    def lr_schedule(self) -> str: ...
    @property
    def n_steps(self) -> int: ...
    @property
    def batch_size(self) -> int: ...
    @property
    def n_epochs(self) -> int: ...
    @property
    def gamma(self) -> float: ...
    @property
    def gae_lambda(self) -> float: ...
    @property
    def net_arch(self) -> tuple[int, ...]: ...
    @property
    def log_std_init(self) -> float: ...
    @property
    def seed(self) -> int: ...


def build_ppo(cfg: PPOSettings, env: VecEnv) -> PPO:
    """SB3's ``PPO("MlpPolicy", env)`` with ``cfg``'s hyperparameters: the learning rate
    constant or (``lr_schedule="linear"``) decaying linearly to 0, ``net_arch`` for the policy
    and value networks, the Gaussian log std starting at ``log_std_init``; CPU, silent."""
    rate: Any = cfg.learning_rate
    if cfg.lr_schedule == "linear":
        rate = LinearSchedule(cfg.learning_rate)
    return PPO(
        "MlpPolicy",
        env,
        learning_rate=rate,
        n_steps=cfg.n_steps,
        batch_size=cfg.batch_size,
        n_epochs=cfg.n_epochs,
        gamma=cfg.gamma,
        gae_lambda=cfg.gae_lambda,
        policy_kwargs={"net_arch": list(cfg.net_arch), "log_std_init": cfg.log_std_init},
        seed=cfg.seed,
        device="cpu",
        verbose=0,
    )


def check_new_run(run: Path) -> None:
    """UserError if ``run`` already holds a run (its ``config.json`` exists)."""
    if (run / CONFIG_FILE).exists():
        raise UserError(f"run directory {str(run)!r} already holds a run; choose a new one")


def write_run_config(run: Path, cfg: JsonConfig) -> None:
    """Create ``run`` and write ``run/config.json`` (``cfg.to_dict()``, indented)."""
    run.mkdir(parents=True, exist_ok=True)
    (run / CONFIG_FILE).write_text(json.dumps(cfg.to_dict(), indent=2) + "\n")
