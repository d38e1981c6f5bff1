"""The joint lattice evaluator and the discrete-time Bellman optimum.

Checked against the single-asset versions (one asset), against separable problems (sums of
single-asset values), against a brute-force search of one step, and against Monte Carlo:
an independent numpy simulator of the model written here, and the package's own
multi-asset vector env.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.optimize

from agents import AvellanedaStoikovAgent, DiscreteOptimalAgent, evaluate_on_lattice
from agents.multi_asset import (
    IndependentAgent,
    MultiAssetASAgent,
    MultiAssetDiscreteOptimalAgent,
    MultiAssetLatticeModel,
    MultiAssetOptimalAgent,
    QuadraticApproximationAgent,
    evaluate_on_multi_lattice,
)
from mm_env import MarketConfig
from mm_env.multi_asset import MultiAssetConfig, MultiAssetMarketMakingVectorEnv

SMALL = MultiAssetConfig.preset("pair", n_steps=40, inventory_limit=5, fill_model="poisson")


def simulate(policy, config: MultiAssetConfig, episodes: int, seed: int) -> np.ndarray:
    """Episode rewards of ``policy`` in the model, simulated from its definition."""
    rng = np.random.default_rng(seed)
    n, dt = config.n_assets, config.dt
    size, limit = np.array(config.order_size), np.array(config.inventory_limit)
    a_rate, k = np.array(config.A), np.array(config.k)
    lo, hi = np.array(config.min_depth), np.array(config.max_depth)
    chol = np.linalg.cholesky(config.rho_matrix)
    sigma, mu = np.array(config.sigma), np.array(config.mu)
    phi, psi = config.phi_matrix, config.alpha_matrix
    mid = np.tile(np.array(config.S0), (episodes, 1))
    q = np.zeros((episodes, n))
    cash = np.zeros(episodes)
    total = np.zeros(episodes)
    for i in range(config.n_steps):
        obs = np.column_stack([np.full(episodes, (config.n_steps - i) * dt), q, mid])
        act = policy.act(obs.astype(np.float32))
        bid = np.clip(act[:, 0::2], lo, hi)
        ask = np.clip(act[:, 1::2], lo, hi)
        lam_b, lam_a = a_rate * np.exp(-k * bid) * dt, a_rate * np.exp(-k * ask) * dt
        if config.fill_model == "poisson":
            p_b, p_a = -np.expm1(-lam_b), -np.expm1(-lam_a)
        else:
            p_b, p_a = np.minimum(lam_b, 1.0), np.minimum(lam_a, 1.0)
        fill_b = (rng.random((episodes, n)) < p_b) & (q + size <= limit + 1e-9)
        fill_a = (rng.random((episodes, n)) < p_a) & (q - size >= -limit - 1e-9)
        wealth = cash + np.sum(q * mid, axis=1)
        cash = cash - np.sum(fill_b * size * (mid - bid), axis=1)
        cash = cash + np.sum(fill_a * size * (mid + ask), axis=1)
        q = q + size * (fill_b.astype(float) - fill_a)
        mid = mid + mu * dt + sigma * math.sqrt(dt) * rng.standard_normal((episodes, n)) @ chol.T
        reward = cash + np.sum(q * mid, axis=1) - wealth
        reward -= dt * np.einsum("ei,ij,ej->e", q, phi, q)
        total += reward
    return total - np.einsum("ei,ij,ej->e", q, psi, q)


def env_rewards(policy, config: MultiAssetConfig, episodes: int, seed: int) -> np.ndarray:
    env = MultiAssetMarketMakingVectorEnv(episodes, config)
    obs, _ = env.reset(seed=seed)
    total = np.zeros(episodes)
    for _ in range(config.n_steps):
        obs, reward, terminated, _, _ = env.step(policy.act(obs).astype(np.float32))
        total += reward
    assert terminated.all()
    return total


# ----------------------------------------------------------------------- one asset
@pytest.mark.parametrize("fill_model", ["bernoulli", "poisson"])
def test_one_asset_equals_the_single_asset_solvers(fill_model):
    market = MarketConfig.preset(
        "penalty", fill_model=fill_model, inventory_limit=10, mu=0.2, n_steps=100
    )
    config = MultiAssetConfig.from_market(market)
    single, multi = DiscreteOptimalAgent(market), MultiAssetDiscreteOptimalAgent(config)
    np.testing.assert_allclose(multi.solution.values, single.solution.values, atol=1e-10)
    np.testing.assert_allclose(
        multi.solution.bid_depths[..., 0], single.solution.bid_depths, atol=1e-9, equal_nan=True
    )
    np.testing.assert_allclose(
        multi.solution.ask_depths[..., 0], single.solution.ask_depths, atol=1e-9, equal_nan=True
    )
    t = np.array([0.0, 0.5, 1.0])
    np.testing.assert_allclose(
        multi.value(t, np.array([[3.0], [-2.0], [0.0]])),
        single.value(t, np.array([3.0, -2.0, 0.0])),
        atol=1e-10,
    )
    as_single = evaluate_on_lattice(AvellanedaStoikovAgent(market), market)
    as_multi = evaluate_on_multi_lattice(MultiAssetASAgent(config), config)
    np.testing.assert_allclose(as_multi.values, as_single.values, atol=1e-10, rtol=0)
    np.testing.assert_allclose(
        as_multi.bid_depths[..., 0], as_single.bid_depths, atol=0, equal_nan=True
    )


def test_uncorrelated_discrete_value_is_the_sum_of_single_asset_values():
    config = SMALL.replace(
        rho=[[1.0, 0.0], [0.0, 1.0]],
        phi=[[0.1, 0.0], [0.0, 0.3]],
        alpha=[[0.2, 0.0], [0.0, 0.05]],
        A=(140.0, 80.0),
        k=(1.5, 1.0),
        inventory_limit=(5.0, 3.0),
    )
    joint = MultiAssetDiscreteOptimalAgent(config)
    singles = [DiscreteOptimalAgent(config.asset(i)).solution.values for i in range(2)]
    np.testing.assert_allclose(
        joint.solution.values, singles[0][:, :, None] + singles[1][:, None, :], atol=1e-10
    )
    indep = evaluate_on_multi_lattice(IndependentAgent(config, DiscreteOptimalAgent), config)
    np.testing.assert_allclose(indep.values, joint.solution.values, atol=1e-10)


# ------------------------------------------------------------------ one step, brute force
def step_objective(model, cont, state, depths):
    """Expected value of one step from ``state`` with depths [b1, a1, b2, a2], by enumeration."""
    total = 0.0
    probs = []
    for a in range(2):
        market = model.markets[a]
        b, s = market.clip(np.array(depths[2 * a])), market.clip(np.array(depths[2 * a + 1]))
        j = state[a]
        pb = float(market.dynamics.fill_probability(b)) * market.bid_quoted[j]
        pa = float(market.dynamics.fill_probability(s)) * market.ask_quoted[j]
        total += pb * float(b) + pa * float(s)
        probs.append({1: pb * (1 - pa), -1: pa * (1 - pb), 0: 1 - pb * (1 - pa) - pa * (1 - pb)})
    for x in (-1, 0, 1):
        for y in (-1, 0, 1):
            p = probs[0][x] * probs[1][y]
            if p > 0:
                total += p * cont[state[0] + x, state[1] + y]
    return total


@pytest.mark.parametrize("fill_model", ["bernoulli", "poisson"])
def test_discrete_optimum_against_a_brute_force_search(fill_model):
    config = MultiAssetConfig.preset("pair", n_steps=4, inventory_limit=3, fill_model=fill_model)
    sol = MultiAssetDiscreteOptimalAgent(config).solution
    model = MultiAssetLatticeModel(config)
    rng = np.random.default_rng(3)
    for step in (0, 3):
        cont = model.continuation(step, sol.values[step + 1])
        for state in [(3, 3), (0, 6), (5, 1), (6, 6), (2, 4)]:
            found = [
                sol.bid_depths[(step, *state, 0)],
                sol.ask_depths[(step, *state, 0)],
                sol.bid_depths[(step, *state, 1)],
                sol.ask_depths[(step, *state, 1)],
            ]
            found = [10.0 if np.isnan(d) else float(d) for d in found]
            best = step_objective(model, cont, state, found)
            assert best == pytest.approx(sol.values[(step, *state)], abs=1e-10)

            def neg(d, cont=cont, state=state):
                return -step_objective(model, cont, state, d)

            starts = [rng.uniform(-3, 3, size=4) for _ in range(4)]
            starts.append(np.array(found) + rng.normal(0, 0.05, size=4))
            for start in starts:
                res = scipy.optimize.minimize(
                    neg,
                    start,
                    method="Nelder-Mead",
                    options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 4000},
                )
                assert -res.fun <= best + 1e-9


# ------------------------------------------------------------------------- Monte Carlo
@pytest.mark.parametrize("which", ["discrete", "independent"])
def test_lattice_values_against_monte_carlo(which):
    if which == "discrete":
        policy = MultiAssetDiscreteOptimalAgent(SMALL)
    else:
        policy = IndependentAgent(SMALL)
    exact = evaluate_on_multi_lattice(policy, SMALL).initial
    for rewards in (simulate(policy, SMALL, 6000, seed=11), env_rewards(policy, SMALL, 6000, 12)):
        se = rewards.std(ddof=1) / math.sqrt(rewards.size)
        assert abs(rewards.mean() - exact) < 4.5 * se, (rewards.mean(), exact, se)


# --------------------------------------------------------------------------- ordering
def test_joint_optima_beat_the_independent_ones_on_the_pair():
    config = MultiAssetConfig.preset("pair")
    discrete = MultiAssetDiscreteOptimalAgent(config)
    best = discrete.solution.initial
    values = {
        name: evaluate_on_multi_lattice(agent, config).initial
        for name, agent in {
            "joint": MultiAssetOptimalAgent(config),
            "quadratic": QuadraticApproximationAgent(config),
            "independent_discrete": IndependentAgent(config, DiscreteOptimalAgent),
            "independent": IndependentAgent(config),
            "as": MultiAssetASAgent(config),
        }.items()
    }
    assert all(v <= best + 1e-9 for v in values.values())
    assert values["joint"] > values["independent"] + 1.0
    assert best > values["independent_discrete"] + 1.0
    assert values["quadratic"] > values["independent"]
    assert values["independent"] > values["as"]


def test_lattice_errors():
    with pytest.raises(ValueError, match="needs arithmetic mids or driftless GBM"):
        MultiAssetLatticeModel(SMALL.replace(mid_model="gbm", sigma=0.02, mu=0.1))
    with pytest.raises(ValueError, match="policy must have an act"):
        evaluate_on_multi_lattice(object(), SMALL)
    with pytest.raises(ValueError, match="needs a finite inventory limit"):
        MultiAssetDiscreteOptimalAgent(SMALL.replace(inventory_limit=math.inf))

    class Bad:
        def act(self, obs):
            return np.zeros((obs.shape[0], 3))

    with pytest.raises(ValueError, match=r"policy returned \(121, 3\) actions"):
        evaluate_on_multi_lattice(Bad(), SMALL)


# ------------------------------------------------------------------------ three assets
def test_three_assets_separable_sum_and_monte_carlo():
    basket = MultiAssetConfig.preset(
        "basket", n_steps=40, inventory_limit=(2.0, 3.0, 2.0), fill_model="poisson"
    )
    separable = basket.replace(
        rho=None,
        phi=[[0.1, 0, 0], [0, 0.3, 0], [0, 0, 0.05]],
        alpha=[[0.2, 0, 0], [0, 0, 0], [0, 0, 0.4]],
        A=(140.0, 80.0, 120.0),
        k=(1.5, 1.0, 2.0),
    )
    joint = MultiAssetDiscreteOptimalAgent(separable).solution.values
    v = [DiscreteOptimalAgent(separable.asset(i)).solution.values for i in range(3)]
    expected = v[0][:, :, None, None] + v[1][:, None, :, None] + v[2][:, None, None, :]
    np.testing.assert_allclose(joint, expected, atol=1e-10)
    # the correlated basket: the exact value of its optimum against the env
    policy = MultiAssetDiscreteOptimalAgent(basket)
    exact = policy.solution.initial
    rewards = env_rewards(policy, basket, 6000, seed=5)
    se = rewards.std(ddof=1) / math.sqrt(rewards.size)
    assert abs(rewards.mean() - exact) < 4.5 * se, (rewards.mean(), exact, se)
    assert exact >= evaluate_on_multi_lattice(IndependentAgent(basket), basket).initial
