"""The exact continuous-time multi-asset optimum and the independent single-asset optima."""

from __future__ import annotations

import math

import numpy as np
import pytest

from agents import OptimalAgent
from agents.multi_asset import IndependentAgent, MultiAssetOptimalAgent
from mm_env import MarketConfig
from mm_env.multi_asset import MultiAssetConfig

SEPARABLE = MultiAssetConfig.preset(
    "pair",
    rho=[[1.0, 0.0], [0.0, 1.0]],
    phi=[[0.1, 0.0], [0.0, 0.05]],
    alpha=[[0.2, 0.0], [0.0, 0.1]],
    A=(140.0, 100.0),
    mu=(0.2, -0.1),
    inventory_limit=20,
)


def one_asset_obs(limit: float, size: float) -> np.ndarray:
    rng = np.random.default_rng(1)
    q = size * rng.integers(-round(limit / size), round(limit / size) + 1, size=200)
    tau = rng.uniform(0, 1, size=200)
    tau[:5] = [0.0, 1.0, 0.005, 0.995, 0.5]
    q[:4] = [limit, -limit, 0.0, limit]
    return np.column_stack([tau, q, np.full(200, 100.0)])


@pytest.mark.parametrize(("method", "tol"), [("linear", 1e-11), ("nonlinear", 1e-6)])
def test_one_asset_equals_the_single_asset_optimum(method, tol):
    market = MarketConfig.preset("penalty", order_size=2.0, mu=0.3)
    single = OptimalAgent(market)
    multi = MultiAssetOptimalAgent(MultiAssetConfig.from_market(market), method=method)
    obs = one_asset_obs(20.0, 2.0)
    np.testing.assert_allclose(multi.act(obs), single.act(obs), atol=tol, rtol=0)
    q = np.arange(-20.0, 21.0, 2.0)
    for t in (0.0, 0.123, 1.0):
        np.testing.assert_allclose(multi.value(t, q[:, None]), single.value(t, q), atol=tol * 10)
        bid, ask = multi.depths(t, q[:, None])
        ref_bid, ref_ask = single.depths(t, q)
        np.testing.assert_allclose(bid[:, 0], ref_bid, atol=tol, equal_nan=True)
        np.testing.assert_allclose(ask[:, 0], ref_ask, atol=tol, equal_nan=True)


def test_uncorrelated_value_is_the_sum_of_single_asset_values():
    joint = MultiAssetOptimalAgent(SEPARABLE)
    singles = [OptimalAgent(SEPARABLE.asset(i)) for i in range(2)]
    q = np.stack(np.meshgrid(np.arange(-20.0, 21), np.arange(-20.0, 21), indexing="ij"), -1)
    for t in (0.0, 0.3337, 0.9, 1.0):
        expected = singles[0].value(t, q[..., 0]) + singles[1].value(t, q[..., 1])
        np.testing.assert_allclose(joint.value(t, q), expected, atol=1e-8, rtol=0)
    # and the joint policy is the independent one
    rng = np.random.default_rng(2)
    obs = np.column_stack(
        [rng.uniform(0, 1, 300), rng.integers(-20, 21, (300, 2)), np.full((300, 2), 100.0)]
    )
    indep = IndependentAgent(SEPARABLE)
    np.testing.assert_allclose(joint.act(obs), indep.act(obs), atol=1e-9, rtol=0)


def test_unequal_k_nonlinear_solution_is_the_sum_of_single_asset_values():
    # kappa = k / order_size differs, so only the nonlinear solver applies jointly; each asset
    # alone is linear (OptimalAgent), and with diagonal penalties the value separates.
    config = SEPARABLE.replace(k=(1.5, 1.0), order_size=(1.0, 2.0), inventory_limit=(6.0, 8.0))
    joint = MultiAssetOptimalAgent(config)
    assert joint.method == "nonlinear"
    singles = [OptimalAgent(config.asset(i)) for i in range(2)]
    q = np.stack(np.meshgrid(np.arange(-6.0, 7), np.arange(-8.0, 9, 2), indexing="ij"), -1)
    for t in (0.0, 0.4321, 1.0):
        expected = singles[0].value(t, q[..., 0]) + singles[1].value(t, q[..., 1])
        np.testing.assert_allclose(joint.value(t, q), expected, atol=2e-7, rtol=0)
    with pytest.raises(ValueError, match="method='linear' needs k_i / order_size_i equal"):
        MultiAssetOptimalAgent(config, method="linear")


def test_correlated_value_solves_the_hjb_equation():
    config = MultiAssetConfig.preset("pair", mu=(0.2, 0.0))
    agent = MultiAssetOptimalAgent(config)
    phi, k, a_rate = config.phi_matrix, 1.5, 140.0
    q = np.stack(np.meshgrid(np.arange(-9.0, 10), np.arange(-9.0, 10), indexing="ij"), -1)
    for t in (0.1234, 0.7):
        eps = 1e-5
        dh = (agent.value(t + eps, q) - agent.value(t - eps, q)) / (2 * eps)
        h = agent.value(t, q)
        hamiltonian = np.zeros_like(h)
        for i in range(2):
            for sign in (1, -1):
                nb = q.copy()
                nb[..., i] += sign
                hamiltonian += a_rate / (math.e * k) * np.exp(k * (agent.value(t, nb) - h))
        drift = 0.2 * q[..., 0]
        penalty = np.einsum("...i,ij,...j->...", q, phi, q)
        np.testing.assert_allclose(-dh, drift - penalty + hamiltonian, rtol=1e-6, atol=1e-6)
        # the depths follow from the value differences
        bid, ask = agent.depths(t, q)
        up = q.copy()
        up[..., 1] += 1
        np.testing.assert_allclose(bid[..., 1], 1 / k - (agent.value(t, up) - h), atol=1e-12)
        np.testing.assert_allclose(
            ask[..., 0], 1 / k - (agent.value(t, q - [1, 0]) - h), atol=1e-12
        )
    # long-long is expensive, long-short cheap: the optimum skews more to unload (5, 5)
    bid, _ = agent.depths(0.5, np.array([[5.0, 5.0], [5.0, -5.0]]))
    assert bid[0, 0] > bid[1, 0] + 0.5


def test_policy_boundaries_and_errors():
    config = MultiAssetConfig.preset("pair")
    agent = MultiAssetOptimalAgent(config)
    act = agent.act(np.array([[0.5, 10.0, -10.0, 100.0, 100.0], [0.5, 30.0, 0.2, 100.0, 100.0]]))
    assert act[0, 0] == 10.0 and act[0, 3] == 10.0  # the sides the env does not quote
    np.testing.assert_array_equal(act[1], agent.act(np.array([0.5, 10.0, 0.0, 100.0, 100.0])))
    bid, ask = agent.depths(0.5, np.array([10.0, -10.0]))
    assert np.isnan(bid[0]) and np.isnan(ask[1]) and np.isfinite(bid[1] + ask[0])
    with pytest.raises(ValueError, match="q must be an inventory vector on the grid"):
        agent.value(0.5, np.array([11.0, 0.0]))
    with pytest.raises(ValueError, match="t must be a real number"):
        agent.value(1.5, np.zeros(2))
    with pytest.raises(ValueError, match="needs a finite inventory limit"):
        MultiAssetOptimalAgent(config.replace(inventory_limit=math.inf))
    with pytest.raises(ValueError, match="method must be one of"):
        MultiAssetOptimalAgent(config, method="fast")
    with pytest.raises(ValueError, match="alpha must be a number >= 0 or a finite symmetric"):
        MultiAssetOptimalAgent(config, alpha=-1.0)
    with pytest.raises(ValueError, match="agent_class must be a single-asset agent class"):
        IndependentAgent(config, agent_class=3)  # type: ignore[arg-type]


def test_three_uncorrelated_assets_sum_of_single_asset_values():
    config = MultiAssetConfig.preset(
        "basket",
        rho=None,
        phi=[[0.1, 0, 0], [0, 0.3, 0], [0, 0, 0.05]],
        alpha=0.1,
        A=(140.0, 80.0, 120.0),
        inventory_limit=(4.0, 3.0, 5.0),
    )
    joint = MultiAssetOptimalAgent(config)
    singles = [OptimalAgent(config.asset(i)) for i in range(3)]
    axes = [np.arange(-4.0, 5), np.arange(-3.0, 4), np.arange(-5.0, 6)]
    q = np.stack(np.meshgrid(*axes, indexing="ij"), -1)
    for t in (0.0, 0.61):
        expected = sum(singles[i].value(t, q[..., i]) for i in range(3))
        np.testing.assert_allclose(joint.value(t, q), expected, atol=1e-8, rtol=0)
