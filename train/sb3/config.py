"""The configuration of an SB3 training run: one frozen dataclass, loadable from TOML.

:class:`TrainConfig` adds SB3's own fields (algorithm, number of envs, minibatch and epochs,
running observation normalisation) to the fields every PPO run has
(:class:`train.run_config.PPORunConfig`). Field docs become the ``--help`` of
``mm-env train``; a run writes its config to ``RUN_DIR/config.toml`` and
``mm-env train --config FILE`` reads one back.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import ClassVar

from train.run_config import PPORunConfig, check_int, check_number, doc
from train.wrappers import SHAPINGS

ALGORITHMS = ("PPO", "A2C", "SAC", "TD3", "DDPG")
OBS_SCALINGS = ("fixed", "running", "none")
#: hidden-layer activations of the policy and value networks (train.sb3.algorithms)
ACTIVATION_NAMES = ("tanh", "relu", "elu", "silu")
#: how the Gaussian policy's log std evolves (train.sb3.callbacks.LogStdSchedule)
LOG_STD_SCHEDULES = ("learned", "linear")


@dataclass(frozen=True)
class TrainConfig(PPORunConfig):
    """Everything that defines a training run (the market, the algorithm, the budget)."""

    TOML_HEADER = "# mm_env training run configuration (mm-env train --config FILE)"
    OBS_SCALINGS: ClassVar[tuple[str, ...]] = OBS_SCALINGS

    total_timesteps: int = field(
        default=10_000_000, metadata=doc("environment steps to train for (all envs together)")
    )
    learning_rate: float = field(default=2e-3, metadata=doc("initial learning rate"))
    net_arch: tuple[int, ...] = field(
        default=(32, 32), metadata=doc("hidden layer sizes of the policy and value networks")
    )
    n_steps: int = field(default=40, metadata=doc("PPO/A2C: steps per env per rollout"))
    gae_lambda: float = field(default=0.95, metadata=doc("PPO/A2C: GAE lambda"))
    log_std_init: float = field(
        default=-1.0, metadata=doc("PPO/A2C: initial log std of the Gaussian policy")
    )
    log_std_schedule: str = field(
        default="linear",
        metadata=doc(
            f"PPO/A2C: the policy's log std, one of {LOG_STD_SCHEDULES}: 'learned' (SB3's "
            "state-independent parameter, trained with the policy) or 'linear' (not trained: "
            "set at each rollout start, moving linearly from log_std_init to log_std_final "
            "over total_timesteps); SAC/TD3/DDPG keep their own exploration"
        ),
    )
    log_std_final: float = field(
        default=-2.5,
        metadata=doc("PPO/A2C: the log std at the end of a 'linear' log_std_schedule"),
    )
    obs_scaling: str = field(
        default="fixed",
        metadata=doc(
            f"observation scaling, one of {OBS_SCALINGS}: 'fixed' by the market config, "
            "'running' mean/std (VecNormalize; its drift can bias the learned policy), 'none'"
        ),
    )
    norm_reward: bool = field(default=True, metadata=doc("VecNormalize the rewards"))
    reward_shaping: str = field(
        default="none",
        metadata=doc(
            f"potential-based shaping of the training reward, one of {SHAPINGS}: 'terminal' "
            "adds Phi(s')-Phi(s) with Phi = -alpha q^2 (0 at the end), 'running' with "
            "Phi = -(alpha + phi (T-t)) q^2; the optimal policy is unchanged "
            "(train.wrappers.InventoryPotential); evaluation uses the env's reward"
        ),
    )
    eval_freq: int = field(
        default=1_000_000, metadata=doc("evaluate every this many steps (0: never)")
    )
    stagger_episodes: bool = field(
        default=True,
        metadata=doc(
            "start the training envs at phases spread over the horizon (SB3VecEnv.stagger), "
            "so that each rollout holds every stage of an episode"
        ),
    )
    activation: str = field(
        default="relu",
        metadata=doc(f"hidden-layer activation of the networks, one of {ACTIVATION_NAMES}"),
    )
    algo: str = field(default="PPO", metadata=doc(f"SB3 algorithm, one of {ALGORITHMS}"))
    n_envs: int = field(default=1000, metadata=doc("parallel environments (one numpy batch)"))
    batch_size: int = field(default=10_000, metadata=doc("minibatch size of the updates"))
    n_epochs: int = field(default=5, metadata=doc("PPO: epochs over each rollout"))
    snapshot_steps: tuple[int, ...] = field(
        default=(),
        metadata=doc(
            "also keep the model at these step counts, in RUN_DIR/snapshots/STEPS (taken at "
            "the first rollout start at or after each)"
        ),
    )
    progress_bar: bool = field(default=False, metadata=doc("show a progress bar"))
    tensorboard: bool = field(default=True, metadata=doc("write TensorBoard logs to RUN_DIR/tb"))

    def __post_init__(self) -> None:
        if self.algo not in ALGORITHMS:
            raise ValueError(f"algo must be one of {list(ALGORITHMS)}, got {self.algo!r}")
        if self.activation not in ACTIVATION_NAMES:
            raise ValueError(
                f"activation must be one of {list(ACTIVATION_NAMES)}, got {self.activation!r}"
            )
        if self.log_std_schedule not in LOG_STD_SCHEDULES:
            raise ValueError(
                f"log_std_schedule must be one of {list(LOG_STD_SCHEDULES)}, got "
                f"{self.log_std_schedule!r}"
            )
        for name in ("log_std_init", "log_std_final"):
            check_number(name, getattr(self, name), -20, 5)
        if self.reward_shaping not in SHAPINGS:
            raise ValueError(
                f"reward_shaping must be one of {list(SHAPINGS)}, got {self.reward_shaping!r}"
            )
        if self.reward_shaping != "none" and self.market().reward != "inventory_penalty":
            raise ValueError(
                f"reward_shaping={self.reward_shaping!r} shapes the inventory penalty, but the "
                f"market's reward is {self.market().reward!r}; use reward_shaping='none'"
            )
        for name in ("n_envs", "batch_size", "n_epochs"):
            check_int(name, getattr(self, name), 1)
        steps = self.snapshot_steps
        if isinstance(steps, (str, bytes)) or not isinstance(steps, Iterable):
            raise ValueError(f"snapshot_steps must be a list of step counts, got {steps!r}")
        steps = tuple(steps)
        for value in steps:
            check_int("snapshot_steps", value, 1)
        object.__setattr__(self, "snapshot_steps", tuple(sorted(set(steps))))
        if self.algo == "PPO":  # SB3 asserts it (minibatch advantages are normalised)
            check_int("batch_size", self.batch_size, 2)
        super().__post_init__()
        self.market()  # validates preset and overrides with MarketConfig's messages
