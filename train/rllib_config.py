"""The configuration of a Ray RLlib PPO run: one dataclass, loadable from and written to TOML.

Field docs (``metadata["doc"]``) become the ``--help`` of ``mm-env rllib-train``. The fields
mirror :class:`train.config.TrainConfig` where the two libraries share a meaning (market,
budget, rollout shape, PPO hyperparameters, network input, training reward), so one task can
be trained with both and compared (``benchmarks/rllib_vs_sb3.py``). This module does not
import Ray: configs can be built and checked without the ``ray`` extra.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mm_env import MarketConfig
from train.config import (
    LR_SCHEDULES,
    RunConfigIO,
    check_int,
    check_learning_fields,
)
from train.features import check_available
from train.gym_wrappers import SCALINGS, expected_move


def _doc(text: str) -> dict[str, str]:
    return {"doc": text}


@dataclass(frozen=True)
class RLlibConfig(RunConfigIO):
    """Everything that defines an RLlib PPO run (the market, the cluster, the budget)."""

    TOML_HEADER = "# mm_env RLlib run configuration (mm-env rllib-train --config FILE)"

    preset: str = field(default="penalty", metadata=_doc("market preset (see mm_env presets)"))
    overrides: dict[str, Any] = field(
        default_factory=dict, metadata=_doc("MarketConfig overrides on top of the preset")
    )
    seed: int = field(default=0, metadata=_doc("seed of the env runners and the networks"))
    total_timesteps: int = field(
        default=5_000_000, metadata=_doc("environment steps to train for (all envs together)")
    )
    num_env_runners: int = field(
        default=0,
        metadata=_doc(
            "remote EnvRunner actors sampling in parallel (0: sample in the driver process)"
        ),
    )
    num_envs_per_env_runner: int = field(
        default=1000, metadata=_doc("environments per EnvRunner (one native numpy vector env)")
    )
    n_steps: int = field(
        default=40, metadata=_doc("steps per env per rollout (RLlib's rollout_fragment_length)")
    )
    minibatch_size: int = field(default=10_000, metadata=_doc("minibatch size of the updates"))
    num_epochs: int = field(default=5, metadata=_doc("epochs over each train batch"))
    gamma: float = field(
        default=1.0, metadata=_doc("discount; 1.0 = the env's undiscounted finite-horizon sum")
    )
    gae_lambda: float = field(default=0.95, metadata=_doc("GAE lambda"))
    learning_rate: float = field(default=5e-4, metadata=_doc("initial learning rate"))
    lr_schedule: str = field(
        default="linear", metadata=_doc(f"learning-rate schedule, one of {LR_SCHEDULES}")
    )
    net_arch: tuple[int, ...] = field(
        default=(64, 64), metadata=_doc("hidden layer sizes of the policy and value networks")
    )
    log_std_init: float = field(
        default=-1.0,
        metadata=_doc("initial log std of the Gaussian policy (a free parameter, as in SB3)"),
    )
    obs_features: tuple[str, ...] = field(
        default=("time_remaining", "sqrt_time_remaining", "inventory"),
        metadata=_doc("network input features (train.features), as for mm-env train"),
    )
    obs_scaling: str = field(
        default="fixed",
        metadata=_doc(f"observation scaling, one of {SCALINGS}: 'fixed' by the market config"),
    )
    martingale_reward: bool = field(
        default=True,
        metadata=_doc(
            "train on the reward minus its zero-mean price noise (evaluation always uses the "
            "env's reward)"
        ),
    )
    norm_reward: bool = field(
        default=True,
        metadata=_doc(
            "scale rewards by a running std of the discounted return (Gymnasium's "
            "NormalizeReward, kept by each env runner; SB3 runs use VecNormalize)"
        ),
    )
    eval_freq: int = field(
        default=1_000_000, metadata=_doc("evaluate every this many steps (0: only at the end)")
    )
    checkpoint_freq: int = field(
        default=2_000_000,
        metadata=_doc("write RUN_DIR/checkpoint every this many steps (0: only at the end)"),
    )
    eval_episodes: int = field(
        default=2000, metadata=_doc("held-out episodes per evaluation")
    )
    eval_seed: int = field(default=10_000, metadata=_doc("seed of the held-out evaluation"))
    address: str = field(
        default="",
        metadata=_doc(
            "Ray cluster to join: '' starts a local Ray instance, 'auto' joins the cluster "
            "this machine belongs to, 'ray://HOST:10001' a remote one (ray.init's address)"
        ),
    )
    num_cpus: int = field(
        default=0, metadata=_doc("CPUs of a local Ray instance (0: all of this machine's)")
    )
    torch_threads: int = field(
        default=1, metadata=_doc("torch CPU threads of the learner (0: torch default)")
    )

    def __post_init__(self) -> None:
        for name in ("total_timesteps", "num_envs_per_env_runner", "n_steps", "minibatch_size",
                     "num_epochs"):
            check_int(name, getattr(self, name), 1)
        for name in ("num_env_runners", "eval_freq", "checkpoint_freq", "seed", "eval_seed",
                     "num_cpus", "torch_threads"):
            check_int(name, getattr(self, name), 0)
        check_int("eval_episodes", self.eval_episodes, 2)
        if isinstance(self.log_std_init, bool) or not (
            isinstance(self.log_std_init, (int, float)) and -20.0 <= self.log_std_init <= 20.0
        ):
            raise ValueError(f"log_std_init must be in [-20, 20], got {self.log_std_init!r}")
        if self.lr_schedule not in LR_SCHEDULES:
            raise ValueError(
                f"lr_schedule must be one of {list(LR_SCHEDULES)}, got {self.lr_schedule!r}"
            )
        if self.obs_scaling not in SCALINGS:
            raise ValueError(
                f"obs_scaling must be one of {list(SCALINGS)}, got {self.obs_scaling!r}"
            )
        if not isinstance(self.address, str):
            raise ValueError(f"address must be a string, got {self.address!r}")
        check_learning_fields(self)
        if self.minibatch_size > self.train_batch_size:
            raise ValueError(
                f"minibatch_size ({self.minibatch_size}) must be <= the train batch "
                f"n_steps * num_envs_per_env_runner * max(1, num_env_runners) "
                f"= {self.train_batch_size}"
            )
        market = self.market()  # validates the preset and the overrides
        check_available(self.obs_features, market)
        if self.martingale_reward:
            expected_move(market)  # ValueError if the market's mid moves predictably

    @property
    def train_batch_size(self) -> int:
        """Steps per training iteration: ``n_steps * envs per runner * max(1, runners)``."""
        return self.n_steps * self.num_envs_per_env_runner * max(1, self.num_env_runners)

    def market(self) -> MarketConfig:
        """The :class:`MarketConfig` this run trains on."""
        return MarketConfig.preset(self.preset, **self.overrides)

    def env_config(self) -> dict[str, Any]:
        """RLlib's ``env_config`` for :func:`train.rllib_env.make_env`."""
        return {
            "preset": self.preset,
            "overrides": dict(self.overrides),
            "obs_features": list(self.obs_features),
            "obs_scaling": self.obs_scaling,
            "martingale_reward": self.martingale_reward,
            "norm_reward": self.norm_reward,
            "gamma": self.gamma,
        }
