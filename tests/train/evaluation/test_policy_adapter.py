"""Anything that quotes as a policy of the harness."""

from __future__ import annotations

import numpy as np
import pytest

from agents import FixedSpreadAgent
from mm_env import MarketConfig
from train.evaluation.harness import evaluate
from train.evaluation.policy_adapter import as_policy


def test_policy_adapter_accepts_agents_models_classes_and_callables():
    config = MarketConfig.preset("default", n_steps=10)
    obs = np.tile(np.array([1.0, 0.0, 100.0], dtype=np.float32), (4, 1))

    class Model:  # stable-baselines3's predict signature
        def predict(self, observation, state=None, episode_start=None, deterministic=False):
            assert deterministic
            return np.full((observation.shape[0], 2), 0.3, dtype=np.float32), None

    assert as_policy(Model())(obs).shape == (4, 2)
    assert as_policy(FixedSpreadAgent, config)(obs)[0, 0] == pytest.approx(1 / config.k)
    assert as_policy(lambda o: np.ones((o.shape[0], 2))).name == "lambda"
    single = as_policy(lambda o: [float(o[1]) + 0.5, 0.5], batched=False)
    np.testing.assert_array_equal(single(obs), np.full((4, 2), 0.5))
    r1 = evaluate(Model(), config, 20, seed=0)
    r2 = evaluate(FixedSpreadAgent(config, 0.3, 0.3), config, 20, seed=0)
    np.testing.assert_allclose(r1.pnl, r2.pnl, atol=1e-4)  # float32 depths
    with pytest.raises(ValueError, match="pass config"):
        as_policy(FixedSpreadAgent)
    with pytest.raises(ValueError, match="act"):
        as_policy(42)
    with pytest.raises(ValueError, match=r"shape \(3,\)"):
        evaluate(lambda o: np.ones(3), config, 5)
    with pytest.raises(ValueError, match="batched=False"):
        evaluate(lambda o: [float(o[1]), 1.0], config, 5)
    with pytest.raises(ValueError, match="finite"):
        evaluate(lambda o: np.full((o.shape[0], 2), np.nan), config, 5)
