"""Potential-based reward shaping of the SB3 training env: the shaped reward is the env's
reward plus Phi(s') - Phi(s) on every step (Phi = 0 at the end), so an episode's shaped
return equals its own return from a flat start, on every episode and across autoresets."""

from __future__ import annotations

import numpy as np
import pytest
from stable_baselines3.common.vec_env import VecMonitor

from mm_env import MarketConfig
from train.sb3.config import TrainConfig
from train.sb3.vec_env import SB3VecEnv
from train.sb3.wrappers import VecPotentialShaping
from train.wrappers import InventoryPotential

MARKET = {"n_steps": 20, "T": 0.1, "phi": 0.3, "alpha": 0.7}


@pytest.mark.parametrize("kind", ["terminal", "running"])
def test_each_step_adds_the_potential_difference_and_episodes_keep_their_return(kind):
    market = MarketConfig.preset("penalty", **MARKET)
    n, episodes = 64, 3
    raw = VecMonitor(SB3VecEnv(n, market))
    twin = VecPotentialShaping(VecMonitor(SB3VecEnv(n, market)), kind)
    raw.seed(5)
    twin.seed(5)
    raw.reset()
    twin.reset()
    potential = InventoryPotential(market, kind)
    rng = np.random.default_rng(0)
    q = np.zeros(n)
    step = np.zeros(n)
    raw_sum, shaped_sum = np.zeros(n), np.zeros(n)
    for _ in range(episodes * market.n_steps):
        actions = rng.uniform(-0.5, 1.5, (n, 2)).astype(np.float32)  # skewed quotes: q moves
        _, r, done, infos = raw.step(actions)
        _, shaped, done2, _ = twin.step(actions)
        np.testing.assert_array_equal(done, done2)
        info = raw.unwrapped.last_info  # for a finished episode: the next one's first state
        q_after, step_after = np.array(info["inventory"]), np.array(info["step"])
        for i in np.flatnonzero(done):  # the state the episode ended in
            q_after[i], step_after[i] = infos[i]["inventory"], infos[i]["step"]
        want = r + (potential.value(step_after, q_after) - potential.value(step, q))
        np.testing.assert_allclose(shaped, want, rtol=1e-5, atol=1e-4)
        raw_sum += r
        shaped_sum += shaped
        assert np.all(step_after[done] == market.n_steps)
        q, step = np.array(info["inventory"]), np.array(info["step"])
    assert np.abs(q_after).max() > 0  # the test has inventories to shape
    # Phi(end) = 0 and Phi(start) = 0 (flat start): every episode keeps its return
    np.testing.assert_allclose(shaped_sum, raw_sum, rtol=1e-5, atol=1e-3)


def test_potential_values_in_closed_form():
    market = MarketConfig.preset("penalty", **MARKET)
    dt = market.T / market.n_steps
    terminal = InventoryPotential(market, "terminal")
    running = InventoryPotential(market, "running")
    assert terminal.value(3, 2.0) == pytest.approx(-0.7 * 4.0)
    assert running.value(3, 2.0) == pytest.approx(-(0.7 + 0.3 * (market.T - 3 * dt)) * 4.0)
    assert terminal.value(market.n_steps, 5.0) == 0.0 == running.value(market.n_steps, 5.0)


def test_shaping_errors_name_the_field():
    with pytest.raises(ValueError, match="reward_shaping must be one of"):
        TrainConfig(reward_shaping="quadratic")
    with pytest.raises(ValueError, match="market's reward is 'pnl'"):
        TrainConfig(preset="default", reward_shaping="terminal")
    with pytest.raises(ValueError, match="reward_shaping must be one of"):
        InventoryPotential(MarketConfig.preset("penalty"), "none")
