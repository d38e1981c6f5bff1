"""What a PPO training run of either library is configured by: one frozen dataclass base.

:class:`PPORunConfig` declares the fields that :class:`train.sb3.config.TrainConfig` (SB3) and
:class:`train.rllib.config.RLlibConfig` (Ray RLlib) share, with one meaning in both (market,
budget, rollout length, PPO hyperparameters, network input, training reward, evaluation and
checkpoint schedule), and checks them; each library's config adds its own fields and checks.
:class:`RunConfigIO` gives both the copy, dict and TOML round trips (``RUN_DIR/config.toml``).
Field docs (``metadata["doc"]``) are the ``--help`` of the ``mm-env`` training subcommands.
"""

from __future__ import annotations

import dataclasses
import math
import os
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from mm_env import MarketConfig
from train.atomic import atomic_write_text
from train.features import FEATURE_NAMES, check_features

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

LR_SCHEDULES = ("constant", "linear")


def doc(text: str) -> dict[str, str]:
    """Field metadata holding the field's help text."""
    return {"doc": text}


_C = TypeVar("_C", bound="RunConfigIO")


class RunConfigIO:
    """Copying, dict and TOML round trips of a run's frozen config dataclass (TrainConfig,
    RLlibConfig): ``overrides`` becomes the ``[overrides]`` table, tuples become lists."""

    TOML_HEADER = "# mm_env run configuration"

    def replace(self: _C, **changes: Any) -> _C:
        """A copy with some fields changed (unknown names are an error)."""
        check_field_names(type(self), changes)
        return dataclasses.replace(self, **changes)  # type: ignore[type-var]

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)  # type: ignore[call-overload]
        return {k: list(v) if isinstance(v, tuple) else v for k, v in out.items()}

    @classmethod
    def from_dict(cls: type[_C], values: dict[str, Any]) -> _C:
        check_field_names(cls, values)
        values = {  # TOML arrays back to tuples; anything else: __post_init__ says why not
            k: tuple(v) if isinstance(v, list) and k != "overrides" else v
            for k, v in values.items()
        }
        return cls(**values)

    def to_toml(self) -> str:
        """The config as TOML text (round-trips through :meth:`from_toml`)."""
        data = self.to_dict()
        overrides = data.pop("overrides")
        lines = [self.TOML_HEADER]
        lines += [f"{key} = {toml_value(value)}" for key, value in data.items()]
        lines += ["", "[overrides]"]
        lines += [f"{key} = {toml_value(value)}" for key, value in overrides.items()]
        return "\n".join(lines) + "\n"

    @classmethod
    def from_toml(cls: type[_C], path: str | os.PathLike[str]) -> _C:
        """Read a config written by :meth:`save` (or by hand)."""
        return cls.from_dict(read_toml(path))

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write :meth:`to_toml` atomically."""
        atomic_write_text(Path(path), self.to_toml())

    @classmethod
    def field_docs(cls) -> dict[str, str]:
        return {
            f.name: f.metadata.get("doc", "")
            for f in dataclasses.fields(cls)  # type: ignore[arg-type]
        }


@dataclass(frozen=True)
class PPORunConfig(RunConfigIO):
    """The fields both training configs share, and their checks (subclasses redeclare a
    field to change its default or doc)."""

    #: The accepted ``obs_scaling`` values (a library may add its own).
    OBS_SCALINGS: ClassVar[tuple[str, ...]] = ("fixed", "none")

    preset: str = field(default="penalty", metadata=doc("market preset (see mm_env presets)"))
    overrides: dict[str, Any] = field(
        default_factory=dict, metadata=doc("MarketConfig overrides on top of the preset")
    )
    seed: int = field(default=0, metadata=doc("seed of the training envs and the networks"))
    total_timesteps: int = field(
        default=5_000_000, metadata=doc("environment steps to train for (all envs together)")
    )
    n_steps: int = field(default=40, metadata=doc("steps per env per rollout"))
    gamma: float = field(
        default=1.0, metadata=doc("discount; 1.0 = the env's undiscounted finite-horizon sum")
    )
    gae_lambda: float = field(default=0.95, metadata=doc("GAE lambda"))
    learning_rate: float = field(default=5e-4, metadata=doc("initial learning rate"))
    lr_schedule: str = field(
        default="linear", metadata=doc(f"learning-rate schedule, one of {LR_SCHEDULES}")
    )
    net_arch: tuple[int, ...] = field(
        default=(64, 64), metadata=doc("hidden layer sizes of the policy and value networks")
    )
    log_std_init: float = field(
        default=-1.0, metadata=doc("initial log std of the Gaussian policy")
    )
    obs_features: tuple[str, ...] = field(
        default=("time_remaining", "sqrt_time_remaining", "inventory"),
        metadata=doc(
            "network input features (train.features): observation components and "
            "sqrt_time_remaining, which resolves the end of the episode; the mid's level is "
            "irrelevant under an arithmetic mid, add 'mid' for GBM markets"
        ),
    )
    obs_scaling: str = field(
        default="fixed",
        metadata=doc("observation scaling, one of ('fixed', 'none'): 'fixed' by the market "
                     "config, 'none' raw units"),
    )
    martingale_reward: bool = field(
        default=True,
        metadata=doc(
            "train on the reward minus its zero-mean price noise q'(dS - E[dS]) (same "
            "expected return for every policy, much less variance; evaluation always uses "
            "the env's reward)"
        ),
    )
    norm_reward: bool = field(default=True, metadata=doc("scale the rewards by a running std"))
    eval_freq: int = field(
        default=1_000_000, metadata=doc("evaluate every this many steps (0: never)")
    )
    eval_episodes: int = field(
        default=2000, metadata=doc("held-out episodes per periodic evaluation")
    )
    eval_seed: int = field(default=10_000, metadata=doc("seed of the held-out evaluation"))
    checkpoint_freq: int = field(
        default=2_000_000, metadata=doc("write a checkpoint every this many steps (0: never)")
    )
    torch_threads: int = field(default=1, metadata=doc("torch CPU threads (0: torch default)"))

    def __post_init__(self) -> None:
        for name in ("total_timesteps", "n_steps", "eval_episodes"):
            check_int(name, getattr(self, name), 1)
        for name in ("eval_freq", "checkpoint_freq", "torch_threads", "seed", "eval_seed"):
            check_int(name, getattr(self, name), 0)
        if self.lr_schedule not in LR_SCHEDULES:
            raise ValueError(
                f"lr_schedule must be one of {list(LR_SCHEDULES)}, got {self.lr_schedule!r}"
            )
        if self.obs_scaling not in self.OBS_SCALINGS:
            raise ValueError(
                f"obs_scaling must be one of {list(self.OBS_SCALINGS)}, "
                f"got {self.obs_scaling!r}"
            )
        check_learning_fields(self)

    def market(self) -> MarketConfig:
        """The :class:`MarketConfig` this run trains on."""
        return MarketConfig.preset(self.preset, **self.overrides)


def toml_value(value: Any) -> str:
    """One TOML value (bool, int, float incl. inf/nan, str, list) as text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        if math.isnan(value):
            return "nan"
        return repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    raise ValueError(f"cannot write {value!r} of type {type(value).__name__} to TOML")


def check_learning_fields(cfg: Any) -> None:
    """Check and normalise the learning fields (``gamma``, ``gae_lambda``,
    ``learning_rate``, ``net_arch``, ``obs_features``, ``overrides``) on the frozen dataclass
    ``cfg``: tuples for the sequences, a dict for the overrides. A TOML file can hold any
    type there: a wrong one is a ValueError (a clean CLI error)."""
    for name in ("gamma", "gae_lambda"):
        value = getattr(cfg, name)
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        if not (number and 0.0 <= value <= 1.0):
            raise ValueError(f"{name} must be in [0.0, 1.0], got {value!r}")
    lr = cfg.learning_rate
    if isinstance(lr, bool) or not (isinstance(lr, (int, float)) and lr > 0 and math.isfinite(lr)):
        raise ValueError(f"learning_rate must be > 0, got {lr!r}")
    arch = tuple(cfg.net_arch) if isinstance(cfg.net_arch, Iterable) else ()
    if not arch or any(isinstance(n, bool) or not isinstance(n, int) or n < 1 for n in arch):
        raise ValueError(f"net_arch must be positive layer sizes, got {cfg.net_arch!r}")
    object.__setattr__(cfg, "net_arch", arch)
    features = cfg.obs_features
    if isinstance(features, str) or not isinstance(features, Iterable):
        raise ValueError(
            f"obs_features must be a non-empty list of {list(FEATURE_NAMES)}, got {features!r}"
        )
    object.__setattr__(cfg, "obs_features", check_features(tuple(features)))
    if not isinstance(cfg.overrides, Mapping):
        raise ValueError(
            f"overrides must be a table of MarketConfig fields, got {cfg.overrides!r}"
        )
    object.__setattr__(cfg, "overrides", dict(cfg.overrides))


def check_int(name: str, value: object, low: int) -> None:
    """ValueError unless ``value`` is an integer (not a bool) ``>= low``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")


def check_number(name: str, value: object, low: float, high: float) -> None:
    """ValueError unless ``value`` is a number (not a bool) in ``[low, high]`` (NaN is not);
    the bounds are shown as given (``0`` or ``0.0``)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (
        low <= value <= high
    ):
        raise ValueError(f"{name} must be a number in [{low}, {high}], got {value!r}")


def check_field_names(cls: type, values: dict[str, Any]) -> None:
    """ValueError naming the keys of ``values`` that are not fields of dataclass ``cls``."""
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - names)
    if unknown:
        raise ValueError(
            f"unknown {cls.__name__} field(s) {unknown}; valid fields are {sorted(names)}"
        )


def read_toml(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The table of a TOML file, or ValueError saying why it cannot be read."""
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ValueError(f"config file {str(path)!r} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"config file {str(path)!r} is not valid TOML: {exc}") from None


#: Config fields a resume may change: they do not alter what is trained.
RESUMABLE_CHANGES = frozenset({"total_timesteps", "progress_bar", "tensorboard", "torch_threads"})


def config_changes(before: RunConfigIO, after: RunConfigIO) -> str:
    """The fields where two configs of one run differ (but :data:`RESUMABLE_CHANGES`), as
    ``name: old -> new, ...``; empty when a resume may continue with ``after``."""
    old, new = before.to_dict(), after.to_dict()
    return ", ".join(
        f"{k}: {old.get(k)!r} -> {v!r}"
        for k, v in new.items()
        if k not in RESUMABLE_CHANGES and old.get(k) != v
    )
