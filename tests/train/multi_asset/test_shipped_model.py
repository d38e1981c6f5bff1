"""The shipped multi-asset agent ``models/ppo_pair``: it loads on its market and, by the exact
lattice value of its greedy policy, beats the independent optima and AS (as its README says)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from agents import DiscreteOptimalAgent
from agents.multi_asset import IndependentAgent, MultiAssetASAgent, evaluate_on_multi_lattice
from mm_env.multi_asset import MultiAssetConfig
from train.sb3.multi_asset import MultiAssetTrainConfig, load_multi_asset_policy
from train.values import UserError

MODEL = Path(__file__).resolve().parents[3] / "models" / "ppo_pair"


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Small batches: one thread is about 20x faster than two on a busy 2-core machine."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_shipped_pair_agent():
    config = MultiAssetConfig.preset("pair")
    policy = load_multi_asset_policy(MODEL, config)
    assert policy.trained_market == config
    assert tuple(policy.meta["features"]) == MultiAssetTrainConfig().features
    value = evaluate_on_multi_lattice(policy, config).initial
    independent = evaluate_on_multi_lattice(IndependentAgent(config, DiscreteOptimalAgent), config)
    as_best = evaluate_on_multi_lattice(MultiAssetASAgent(config, 0.2), config)
    assert value == pytest.approx(124.0735, abs=1e-3)  # the README's exact value
    assert value > independent.initial + 0.4 and value > as_best.initial + 25
    with pytest.raises(UserError, match="rho"):
        load_multi_asset_policy(MODEL, config.replace(rho=((1.0, 0.5), (0.5, 1.0))))
