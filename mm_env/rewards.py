"""Rewards: pluggable functions of one step's outcome, independent of the dynamics.

A reward is a callable ``reward(config, step) -> float | ndarray`` where ``step`` is the
:class:`~mm_env.dynamics.StepResult` of the transition. It must work on Python floats
(scalar env) and on numpy arrays (vector env) alike; use only arithmetic operators.

Add one with :func:`register_reward` and select it with ``MarketConfig(reward=name)``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from mm_env.reward_registry import REWARDS as _REWARDS
from mm_env.reward_registry import available_rewards as available_rewards

if TYPE_CHECKING:
    from mm_env.config import MarketConfig
    from mm_env.dynamics import StepResult

RewardFn = Callable[["MarketConfig", "StepResult"], Any]


def register_reward(name: str, fn: RewardFn) -> None:
    """Make ``fn`` selectable as ``MarketConfig(reward=name)``."""
    if not callable(fn):
        raise ValueError(f"reward {name!r} must be callable, got {type(fn).__name__}")
    _REWARDS[name] = fn


def get_reward(name: str) -> RewardFn:
    """The reward function registered under ``name``."""
    try:
        return _REWARDS[name]
    except KeyError:
        raise ValueError(f"reward must be one of {available_rewards()}, got {name!r}") from None


def pnl_reward(config: MarketConfig, step: StepResult) -> Any:
    """Change in mark-to-market wealth ``W = cash + inventory * mid`` over the step."""
    return step.wealth - step.prev_wealth


def inventory_penalty_reward(config: MarketConfig, step: StepResult) -> Any:
    """Cartea-Jaimungal running and terminal inventory penalty on top of the PnL.

    ``dW - phi * q^2 * dt`` each step, where ``q`` is the inventory held over the step's
    price move (after this step's fills), and additionally ``- alpha * q_T^2`` on the
    last step of the episode.
    """
    q2 = step.inventory * step.inventory
    return (
        step.wealth
        - step.prev_wealth
        - config.phi * config.dt * q2
        - config.alpha * q2 * step.terminated
    )


register_reward("pnl", pnl_reward)
register_reward("inventory_penalty", inventory_penalty_reward)
