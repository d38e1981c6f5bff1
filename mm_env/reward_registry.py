"""The registry of reward functions by name, which :class:`~mm_env.config.MarketConfig`
validates ``reward`` against.

Separate from :mod:`mm_env.rewards` (the reward functions, :func:`~mm_env.rewards.register_reward`
and :func:`~mm_env.rewards.get_reward`), which refers to the config and the step result, so that
the config can read the registry without an import cycle. This module imports nothing from
the package; ``import mm_env`` imports :mod:`mm_env.rewards`, which registers the built-in
rewards.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

#: Reward functions by name (filled by :func:`mm_env.rewards.register_reward`).
REWARDS: dict[str, Callable[..., Any]] = {}


def available_rewards() -> list[str]:
    """Names accepted by ``MarketConfig(reward=...)``."""
    return sorted(REWARDS)
