"""The configuration of a Ray RLlib PPO run: one frozen dataclass, loadable from TOML.

:class:`RLlibConfig` adds RLlib's own fields (env runners, the cluster, the minibatch) to the
fields every PPO run has (:class:`train.run_config.PPORunConfig`), so one task can be trained
with both libraries and compared (``benchmarks/rllib_vs_sb3.py``). Field docs become the
``--help`` of ``mm-env rllib-train``. This module does not import Ray: configs can be built and
checked without the ``ray`` extra.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from train.features import check_available
from train.run_config import PPORunConfig, check_int, doc
from train.wrappers import MartingaleCorrection


@dataclass(frozen=True)
class RLlibConfig(PPORunConfig):
    """Everything that defines an RLlib PPO run (the market, the cluster, the budget)."""

    TOML_HEADER = "# mm_env RLlib run configuration (mm-env rllib-train --config FILE)"

    seed: int = field(default=0, metadata=doc("seed of the env runners and the networks"))
    n_steps: int = field(
        default=40, metadata=doc("steps per env per rollout (RLlib's rollout_fragment_length)")
    )
    log_std_init: float = field(
        default=-1.0,
        metadata=doc("initial log std of the Gaussian policy (a free parameter, as in SB3)"),
    )
    obs_features: tuple[str, ...] = field(
        default=("time_remaining", "sqrt_time_remaining", "inventory"),
        metadata=doc("network input features (train.features), as for mm-env train"),
    )
    norm_reward: bool = field(
        default=True,
        metadata=doc(
            "scale rewards by a running std of the discounted return (Gymnasium's "
            "NormalizeReward, kept by each env runner; SB3 runs use VecNormalize)"
        ),
    )
    eval_freq: int = field(
        default=1_000_000, metadata=doc("evaluate every this many steps (0: only at the end)")
    )
    checkpoint_freq: int = field(
        default=2_000_000,
        metadata=doc("write RUN_DIR/checkpoint every this many steps (0: only at the end)"),
    )
    eval_episodes: int = field(default=2000, metadata=doc("held-out episodes per evaluation"))
    torch_threads: int = field(
        default=1, metadata=doc("torch CPU threads of the learner (0: torch default)")
    )
    num_env_runners: int = field(
        default=0,
        metadata=doc(
            "remote EnvRunner actors sampling in parallel (0: sample in the driver process)"
        ),
    )
    num_envs_per_env_runner: int = field(
        default=1000, metadata=doc("environments per EnvRunner (one native numpy vector env)")
    )
    minibatch_size: int = field(default=10_000, metadata=doc("minibatch size of the updates"))
    num_epochs: int = field(default=5, metadata=doc("epochs over each train batch"))
    address: str = field(
        default="",
        metadata=doc(
            "Ray cluster to join: '' starts a local Ray instance, 'auto' joins the cluster "
            "this machine belongs to, 'ray://HOST:10001' a remote one (ray.init's address)"
        ),
    )
    num_cpus: int = field(
        default=0, metadata=doc("CPUs of a local Ray instance (0: all of this machine's)")
    )

    def __post_init__(self) -> None:
        for name in ("num_envs_per_env_runner", "minibatch_size", "num_epochs"):
            check_int(name, getattr(self, name), 1)
        for name in ("num_env_runners", "num_cpus"):
            check_int(name, getattr(self, name), 0)
        check_int("eval_episodes", self.eval_episodes, 2)
        if isinstance(self.log_std_init, bool) or not (
            isinstance(self.log_std_init, (int, float)) and -20.0 <= self.log_std_init <= 20.0
        ):
            raise ValueError(f"log_std_init must be in [-20, 20], got {self.log_std_init!r}")
        if not isinstance(self.address, str):
            raise ValueError(f"address must be a string, got {self.address!r}")
        super().__post_init__()
        if self.minibatch_size > self.train_batch_size:
            raise ValueError(
                f"minibatch_size ({self.minibatch_size}) must be <= the train batch "
                f"n_steps * num_envs_per_env_runner * max(1, num_env_runners) "
                f"= {self.train_batch_size}"
            )
        market = self.market()  # validates the preset and the overrides
        check_available(self.obs_features, market)
        if self.martingale_reward:
            MartingaleCorrection(market)  # ValueError if the market's mid moves predictably

    @property
    def train_batch_size(self) -> int:
        """Steps per training iteration: ``n_steps * envs per runner * max(1, runners)``."""
        return self.n_steps * self.num_envs_per_env_runner * max(1, self.num_env_runners)

    def env_config(self) -> dict[str, Any]:
        """RLlib's ``env_config`` for :func:`train.rllib.env.make_env`."""
        return {
            "preset": self.preset,
            "overrides": dict(self.overrides),
            "obs_features": list(self.obs_features),
            "obs_scaling": self.obs_scaling,
            "martingale_reward": self.martingale_reward,
            "norm_reward": self.norm_reward,
            "gamma": self.gamma,
        }
