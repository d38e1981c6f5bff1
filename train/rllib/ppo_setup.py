"""What the single-agent and the competition PPO of RLlib share: SB3's loss, the network, the std.

Both :func:`train.rllib.trainer.build_algo` and
:func:`train.rllib.competition.build_competition_algo` train RLlib's PPO (new API stack) so that
it optimises the objective SB3's PPO does, with the same network:

- :func:`sb3_ppo_training`: the ``PPOConfig.training`` arguments: the config's batch sizes,
  epochs, discount, GAE lambda and learning rate, and the loss of SB3's PPO defaults: clipped
  surrogate (0.2) without RLlib's extra KL penalty, unclipped value loss at weight 0.5,
  gradients clipped to global norm 0.5, no entropy bonus;
- :func:`tanh_mlp`: RLlib's default model with ``tanh`` hidden layers and a state-independent
  (free) log std, as SB3's ``MlpPolicy``;
- :func:`set_free_log_std`: that log std starts at 0 in RLlib; it is set on every learner and
  synced to the env runners, because an initial std of 1 in depth units explores far too
  widely.

Needs the ``ray`` extra (its imports are local to the functions).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

__all__ = ["PPOBatchSettings", "sb3_ppo_training", "set_free_log_std", "tanh_mlp"]


class PPOBatchSettings(Protocol):
    """The fields of a run config that :func:`sb3_ppo_training` reads."""

    @property
    def train_batch_size(self) -> int: ...
    @property
    def minibatch_size(self) -> int: ...
    @property
    def num_epochs(self) -> int: ...
    @property
    def gamma(self) -> float: ...
    @property
    def gae_lambda(self) -> float: ...


def sb3_ppo_training(cfg: PPOBatchSettings, lr: Any) -> dict[str, Any]:
    """``PPOConfig.training`` keyword arguments: ``cfg``'s batch sizes, epochs, discount and
    GAE lambda, the learning rate ``lr`` (a number or RLlib's ``[[step, value], ...]``
    schedule) and SB3's PPO loss (module doc)."""
    return {
        "train_batch_size_per_learner": cfg.train_batch_size,
        "minibatch_size": cfg.minibatch_size,
        "num_epochs": cfg.num_epochs,
        "gamma": cfg.gamma,
        "lambda_": cfg.gae_lambda,
        "lr": lr,
        "clip_param": 0.2,
        "use_kl_loss": False,
        "vf_loss_coeff": 0.5,
        "vf_clip_param": float("inf"),
        "grad_clip": 0.5,
        "grad_clip_by": "global_norm",
        "entropy_coeff": 0.0,
    }


def tanh_mlp(net_arch: Sequence[int]) -> Any:
    """RLlib's ``DefaultModelConfig``: hidden layers ``net_arch`` with ``tanh``, free log std."""
    from ray.rllib.core.rl_module.default_model_config import DefaultModelConfig

    return DefaultModelConfig(
        fcnet_hiddens=list(net_arch), fcnet_activation="tanh", free_log_std=True
    )


def set_free_log_std(algo: Any, module_id: str, value: float) -> None:
    """Set every ``*log_std`` parameter of the RLModule ``module_id`` to ``value`` on each
    learner of ``algo`` and sync the weights to its env runners.

    RuntimeError (after stopping ``algo``) when a learner's module has no such parameter.
    """
    value = float(value)

    def set_log_std(learner: Any) -> int:
        import torch

        found = 0
        with torch.no_grad():
            for name, param in learner.module[module_id].named_parameters():
                if name.endswith("log_std"):
                    param.fill_(value)
                    found += 1
        return found

    found = [r.get() for r in algo.learner_group.foreach_learner(set_log_std)]
    if not found or not all(found):
        algo.stop()
        raise RuntimeError("RLlib's policy has no free log std parameter to initialise")
    algo.env_runner_group.sync_weights(
        from_worker_or_learner_group=algo.learner_group, inference_only=True
    )
