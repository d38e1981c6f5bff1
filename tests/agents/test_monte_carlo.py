"""The optima against Monte Carlo in the env (native vector env, bernoulli fills).

``value(0, 0)`` of :class:`agents.OptimalAgent` is the continuous-time optimum; the env is
discrete in time, so the mean episode reward converges to it only as ``dt -> 0``. The
allowance for that is measured exactly in tests/agents/test_optimal.py (lattice evaluation,
first-order in ``dt``): 0.466 at ``dt = 0.005`` for the config below, allowance 0.5.
Figures of this file's first test (seed 2024, 40,000 episodes):

    value(0, 0)            66.8386   (continuous time)
    lattice (exact, env)   67.3046
    Monte Carlo            67.3144 +- 0.0394 (SE)

Comparisons between agents use common random numbers (same seed: the vector env draws the
same market noise whatever the actions), so paired differences have small standard errors.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from agents import (
    AvellanedaStoikovAgent,
    CARAOptimalAgent,
    DiscreteOptimalAgent,
    FixedSpreadAgent,
    GLFTAgent,
    OptimalAgent,
    RandomAgent,
    SymmetricAgent,
    evaluate_on_lattice,
)
from mm_env import MarketConfig, MarketMakingVectorEnv
from tests.agents.conftest import DISCRETISATION_ALLOWANCE, PENALTY_AS2008

Z = 4.0  # standard errors


def run_episodes(agent, config, n_episodes, seed):
    """Total reward and terminal wealth of each of ``n_episodes`` episodes."""
    env = MarketMakingVectorEnv(n_episodes, config)
    obs, _ = env.reset(seed=seed)
    total = np.zeros(n_episodes)
    for _ in range(config.n_steps):
        obs, reward, terminated, _, info = env.step(agent.act(obs))
        total += reward
    assert terminated.all()
    return total, info["wealth"]


def _mean_se(x):
    return float(x.mean()), float(x.std(ddof=1) / math.sqrt(x.size))


def test_optimal_agent_mean_reward_matches_its_value():
    agent = OptimalAgent(PENALTY_AS2008)
    total, _ = run_episodes(agent, PENALTY_AS2008, 40_000, seed=2024)
    mean, se = _mean_se(total)
    value = float(agent.value(0.0, 0.0))
    lattice = evaluate_on_lattice(agent, PENALTY_AS2008).initial
    assert abs(mean - lattice) < Z * se  # the env's exact expectation: noise only
    assert abs(mean - value) < Z * se + DISCRETISATION_ALLOWANCE  # the continuous optimum
    assert abs(lattice - value) < DISCRETISATION_ALLOWANCE


def test_no_agent_beats_the_optimum():
    n, seed = 20_000, 7
    optimal = OptimalAgent(PENALTY_AS2008)
    reference, _ = run_episodes(optimal, PENALTY_AS2008, n, seed)
    best = DiscreteOptimalAgent(PENALTY_AS2008)
    # The env's exact optimum beats the continuous-time policy by O(dt^2) (0.0101), exactly.
    gain = best.solution.initial - evaluate_on_lattice(optimal, PENALTY_AS2008).initial
    assert 0 < gain < 0.02
    others = [
        best,
        FixedSpreadAgent(PENALTY_AS2008),
        RandomAgent(PENALTY_AS2008, rng=np.random.default_rng(1)),
        AvellanedaStoikovAgent(PENALTY_AS2008, gamma=0.1),
        AvellanedaStoikovAgent(PENALTY_AS2008, gamma=0.01),
        SymmetricAgent(PENALTY_AS2008, gamma=0.1),
        GLFTAgent(PENALTY_AS2008, gamma=0.1),
        GLFTAgent(PENALTY_AS2008, gamma=2 * PENALTY_AS2008.phi / PENALTY_AS2008.sigma**2, xi=0.0),
        CARAOptimalAgent(PENALTY_AS2008, gamma=0.05),
    ]
    for agent in others:
        total, _ = run_episodes(agent, PENALTY_AS2008, n, seed)
        diff, se = _mean_se(total - reference)
        assert diff < Z * se + gain, f"{agent!r} beats OptimalAgent by {diff:.4f} +- {se:.4f}"


def test_optimal_agent_under_a_driftless_gbm_mid():
    # With mu = 0 the mid is a martingale: the value does not depend on the mid model.
    config = MarketConfig.preset(
        "default",
        fill_model="bernoulli",
        reward="inventory_penalty",
        phi=0.05,
        alpha=0.1,
        inventory_limit=10,
    )
    agent = OptimalAgent(config)
    assert agent.value(0.0, 0.0) == pytest.approx(OptimalAgent(PENALTY_AS2008).value(0.0, 0.0))
    total, _ = run_episodes(agent, config, 20_000, seed=11)
    mean, se = _mean_se(total)
    assert abs(mean - evaluate_on_lattice(agent, config).initial) < Z * se
    assert abs(mean - float(agent.value(0.0, 0.0))) < Z * se + DISCRETISATION_ALLOWANCE


def test_cara_optimum_certainty_equivalent_by_monte_carlo():
    # CE = -(1/gamma) log E[exp(-gamma W_T)] estimated from the episodes (delta-method SE)
    # against the exact lattice CE of the env and the continuous theta(0, 0).
    gamma = 0.1
    config = MarketConfig.preset("as2008", inventory_limit=10)
    agent = CARAOptimalAgent(config, gamma)
    _, wealth = run_episodes(agent, config, 20_000, seed=5)
    u = np.exp(-gamma * (wealth - wealth.mean()))
    ce = wealth.mean() - math.log(u.mean()) / gamma
    se = float(u.std(ddof=1) / (math.sqrt(u.size) * u.mean() * gamma))
    lattice = evaluate_on_lattice(agent, config, cara_gamma=gamma).initial
    assert abs(ce - lattice) < Z * se
    # Discretisation gap of the CE at dt = 0.005 (first order in dt, see test_agents_optimal).
    assert abs(ce - float(agent.value(0.0, 0.0))) < Z * se + 1.2
