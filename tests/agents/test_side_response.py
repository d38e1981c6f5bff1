"""One side's best depth: cold and warm starts agree, and beat every depth of a fine grid."""

from __future__ import annotations

import numpy as np
import pytest

from agents.lattice import LatticeModel
from agents.side_response import best_depth
from mm_env import MarketConfig


def _objective(model: LatticeModel, depth: np.ndarray, b: np.ndarray) -> np.ndarray:
    p = np.asarray(model.dynamics.fill_probability(depth), dtype=np.float64)
    return p * (model.config.order_size * depth + b)


@pytest.mark.parametrize("fill_model", ["poisson", "bernoulli"])
def test_best_depth_maximises_the_side_objective(fill_model: str) -> None:
    model = LatticeModel(MarketConfig.preset("default", fill_model=fill_model))
    c = model.config
    b = np.random.default_rng(0).uniform(-3.0, 3.0, 400)
    cold = best_depth(model, b)
    assert ((cold >= c.min_depth) & (cold <= c.max_depth)).all()
    grid = np.linspace(c.min_depth, c.max_depth, 4001)
    best_on_grid = _objective(model, grid[:, None], b[None, :]).max(axis=0)
    assert (_objective(model, cold, b) >= best_on_grid - 1e-12).all()


def test_warm_start_agrees_with_the_cold_start() -> None:
    model = LatticeModel(MarketConfig.preset("default"))
    b = np.random.default_rng(1).uniform(-3.0, 3.0, (20, 20))
    cold = best_depth(model, b)
    start = cold + np.random.default_rng(2).normal(0.0, 1e-3, cold.shape)
    warm = best_depth(model, b, start)
    assert warm.shape == b.shape
    assert np.max(np.abs(warm - cold)) < 1e-12
