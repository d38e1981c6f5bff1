"""Competing market makers: ``N`` makers quoting one market, as PettingZoo envs and as a
batched numpy env.

- :func:`parallel_env` / :class:`CompetitionParallelEnv`: a PettingZoo ``ParallelEnv`` with
  agents ``"maker_0"``, ..., ``"maker_{N-1}"``; :func:`env`: its AEC version;
- :class:`CompetitionVectorEnv`: many games in one numpy step, for training;
- :class:`CompetitionDynamics`: the law (:mod:`mm_env.competition.dynamics`), one step
  shared by both; :class:`CompetitionConfig`: the game's parameters.

The PettingZoo envs need pettingzoo (the ``competition`` extra); the rest needs only numpy
and gymnasium (importing :mod:`mm_env.competition` itself does not import pettingzoo).
``import mm_env`` does not import this package. ``docs/competition.md`` is the guide.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from mm_env.competition.config import MAX_MAKERS, CompetitionConfig, build_config
from mm_env.competition.dynamics import (
    CompetitionDynamics,
    CompetitionNoise,
    CompetitionState,
    CompetitionStep,
    best_quote,
)
from mm_env.competition.observation import CompetitionObserver, competition_observation_names
from mm_env.competition.vector_env import CompetitionVectorEnv

if TYPE_CHECKING:
    from mm_env.competition.pettingzoo_envs import CompetitionParallelEnv, env, parallel_env

__all__ = [
    "MAX_MAKERS",
    "CompetitionConfig",
    "CompetitionDynamics",
    "CompetitionNoise",
    "CompetitionObserver",
    "CompetitionParallelEnv",
    "CompetitionState",
    "CompetitionStep",
    "CompetitionVectorEnv",
    "best_quote",
    "build_config",
    "competition_observation_names",
    "env",
    "parallel_env",
]

_PETTINGZOO = ("CompetitionParallelEnv", "env", "parallel_env")


def __getattr__(name: str) -> Any:
    """The PettingZoo envs, imported on first use (they need the pettingzoo extra)."""
    if name in _PETTINGZOO:
        module = importlib.import_module("mm_env.competition.pettingzoo_envs")
        return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
