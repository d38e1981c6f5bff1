"""Markets and configs shared by the train tests.

``SMALL``: the penalty market in 20 steps with ``A dt = 1`` (non-trivial fill probabilities);
PPO gets close to the exact optimum in about 60k steps. Test modules import the names
(``from tests.train.conftest import SMALL, small_market``).
"""

from __future__ import annotations

from typing import Any

from mm_env import MarketConfig

SMALL: dict[str, Any] = {"n_steps": 20, "A": 20.0, "fill_model": "poisson"}


def small_market(preset: str = "penalty", **changes: Any) -> MarketConfig:
    """``preset`` with :data:`SMALL` and ``changes`` on top."""
    return MarketConfig.preset(preset, **{**SMALL, **changes})
