"""Small markets for the competition solvers' tests (a few steps, |q| <= 2 or 3)."""

from __future__ import annotations

import pytest

from agents.competition import CompetitionLattice
from mm_env.config import MarketConfig


def small_config(**overrides: object) -> MarketConfig:
    """The penalty market over 10 steps of the usual dt = 0.005, |q| <= 3."""
    base = {"n_steps": 10, "T": 0.05, "inventory_limit": 3.0, "phi": 2.0, "alpha": 0.5}
    return MarketConfig.preset("penalty", **{**base, **overrides})


@pytest.fixture
def tick_game() -> CompetitionLattice:
    return CompetitionLattice(small_config(tick_size=0.1, sigma=0.0), inventory_limits=(3.0, 2.0))


@pytest.fixture
def smooth_game() -> CompetitionLattice:
    return CompetitionLattice(small_config(fill_model="poisson"))
