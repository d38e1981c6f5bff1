"""Multi-asset Avellaneda-Stoikov and the Bergault-Evangelista-Gueant-Vieira approximation."""

from __future__ import annotations

import math

import numpy as np
import pytest

from agents import AvellanedaStoikovAgent, GLFTAgent
from agents.multi_asset import MultiAssetASAgent, QuadraticApproximationAgent
from agents.multi_asset.quadratic import stationary_quadratic
from mm_env import MarketConfig
from mm_env.multi_asset import MultiAssetConfig

OBS1 = np.array([[0.3, 4.0, 100.0], [0.9, -6.0, 101.5], [0.0, 0.0, 99.0], [1.0, 20.0, 100.0]])


# --------------------------------------------------------------------------- AS
@pytest.mark.parametrize("mid_model", ["abm", "gbm"])
@pytest.mark.parametrize("kwargs", [{}, {"time_to_go": 1.0}])
def test_as_with_one_asset_is_the_single_asset_agent_bit_for_bit(mid_model, kwargs):
    sigma = 2.0 if mid_model == "abm" else 0.02
    market = MarketConfig.preset("default", mid_model=mid_model, sigma=sigma, k=1.3)
    single = AvellanedaStoikovAgent(market, 0.07, **kwargs)
    multi = MultiAssetASAgent(MultiAssetConfig.from_market(market), 0.07, **kwargs)
    np.testing.assert_array_equal(multi.act(OBS1), single.act(OBS1))
    np.testing.assert_array_equal(multi.act(OBS1[0]), single.act(OBS1[0]))
    np.testing.assert_array_equal(
        multi.reservation_prices(OBS1)[:, 0], single.reservation_price(OBS1)
    )


def test_as_reservation_prices_use_the_covariance():
    config = MultiAssetConfig.preset("pair")  # sigma 2, rho 0.9
    agent = MultiAssetASAgent(config, 0.1)
    obs = np.array([0.5, 3.0, -1.0, 100.0, 100.0])
    cov = config.covariance
    np.testing.assert_allclose(
        agent.reservation_prices(obs), [100.0, 100.0] - 0.1 * 0.5 * cov @ [3.0, -1.0]
    )
    half = 0.5 * 0.1 * 4.0 * 0.5 + math.log1p(0.1 / 1.5) / 0.1
    skew = 0.1 * 0.5 * cov @ [3.0, -1.0]
    np.testing.assert_allclose(
        agent.act(obs), [half + skew[0], half - skew[0], half + skew[1], half - skew[1]]
    )
    # a long position in asset 1 alone skews asset 2's quotes (hedging) in the same direction
    bid1, ask1, bid2, ask2 = agent.act(np.array([0.5, 5.0, 0.0, 100.0, 100.0]))
    assert bid2 > ask2 and bid1 > ask1
    # a given covariance is used as is
    given = MultiAssetASAgent(config, 0.1, covariance=np.diag([4.0, 4.0]))
    _, _, b2, a2 = given.act(np.array([0.5, 5.0, 0.0, 100.0, 100.0]))
    assert b2 == pytest.approx(a2)


def test_as_refuses_bad_input():
    config = MultiAssetConfig.preset("pair")
    with pytest.raises(ValueError, match="gamma must be a real number"):
        MultiAssetASAgent(config, -1.0)
    with pytest.raises(ValueError, match="covariance must be a finite symmetric positive"):
        MultiAssetASAgent(config, covariance=[[1.0, 2.0], [2.0, 1.0]])
    with pytest.raises(ValueError, match=r"obs must have shape \(5,\) or \(m, 5\)"):
        MultiAssetASAgent(config).act(np.zeros(3))
    with pytest.raises(ValueError, match=r"config must be a mm_env\.multi_asset\.MultiAssetConfig"):
        MultiAssetASAgent(MarketConfig())  # type: ignore[arg-type]


# -------------------------------------------------------------------- quadratic (BEGV)
@pytest.mark.parametrize("xi", [0.0, 0.1])
@pytest.mark.parametrize("order_size", [1.0, 2.0])
def test_stationary_quadratic_with_one_asset_is_glft(xi, order_size):
    market = MarketConfig.preset("as2008", order_size=order_size, inventory_limit=20)
    glft = GLFTAgent(market, gamma=0.1, xi=xi)
    quad = QuadraticApproximationAgent(
        MultiAssetConfig.from_market(market), gamma=0.1, xi=xi, horizon="stationary"
    )
    np.testing.assert_allclose(quad.act(OBS1), glft.act(OBS1), rtol=0, atol=1e-13)


def test_finite_horizon_riccati_with_one_asset_is_the_tanh_solution():
    config = MultiAssetConfig.from_market(MarketConfig.preset("penalty"))
    quad = QuadraticApproximationAgent(config)
    a2 = 140.0 * 1.5 / math.e  # Delta A k / e
    phi = psi = 0.1
    r = math.sqrt(phi / (4 * a2))
    tanh = np.tanh(4 * a2 * r * quad.solution.taus)
    exact = r * (psi + r * tanh) / (r + psi * tanh)
    np.testing.assert_allclose(quad.solution.A[:, 0, 0], exact, rtol=1e-12, atol=0)
    # the constant: dC/dtau = -(2 a0 + 2 a1 A + a2 A^2) with B = 0, integrated in closed form
    # with the antiderivatives of A and A^2 along the tanh solution, checked numerically here
    taus = np.linspace(0.0, 1.0, 20001)
    th = np.tanh(4 * a2 * r * taus)
    a_path = r * (psi + r * th) / (r + psi * th)
    a0, a1 = a2 / 1.5**2, -a2 / 1.5
    rate = -(2 * a0 + 2 * a1 * a_path + a2 * a_path**2)
    c_numeric = np.sum((rate[1:] + rate[:-1]) / 2 * np.diff(taus))
    assert quad.solution.C[-1] == pytest.approx(c_numeric, rel=1e-8)
    assert quad.value(0.0, np.array([0.0])) == pytest.approx(-c_numeric, rel=1e-8)
    np.testing.assert_allclose(quad.value(1.0, np.array([[3.0], [-2.0]])), [-0.9, -0.4])


def test_matrix_riccati_tends_to_the_stationary_solution():
    config = MultiAssetConfig.preset("pair", T=5.0, n_steps=1000, mu=(0.3, -0.1))
    quad = QuadraticApproximationAgent(config)
    stat = QuadraticApproximationAgent(config, horizon="stationary")
    a_inf, b_inf, _ = stat.coefficients(0.0)
    a0, b0, _ = quad.coefficients(0.0)
    np.testing.assert_allclose(a0, a_inf, rtol=1e-9)
    np.testing.assert_allclose(b0, b_inf, rtol=1e-8)
    d = np.full(2, 140.0 * 1.5 / math.e)
    np.testing.assert_allclose(4 * a_inf @ np.diag(d) @ a_inf, config.phi_matrix, rtol=1e-12)
    np.testing.assert_allclose(4 * a_inf @ (d * b_inf), -np.array([0.3, -0.1]), atol=1e-12)
    # between grid times the coefficients are exact: one Mobius step of the ODE
    a_mid, _, c_mid = quad.coefficients(2.5025)
    a_lo, _, c_lo = quad.coefficients(2.505)
    a_hi, _, c_hi = quad.coefficients(2.5)
    assert np.all(np.minimum(a_lo, a_hi) <= a_mid + 1e-15)
    assert min(c_lo, c_hi) <= c_mid <= max(c_lo, c_hi)


def test_quadratic_depths_and_errors():
    config = MultiAssetConfig.preset("pair")
    quad = QuadraticApproximationAgent(config)
    obs = np.array([0.5, 2.0, -1.0, 100.0, 100.0])
    a, b, _ = quad.coefficients(0.5)
    skew = 2 * a @ [2.0, -1.0] + b
    own = np.diag(a)
    np.testing.assert_allclose(
        quad.act(obs),
        [
            1 / 1.5 + skew[0] + own[0],
            1 / 1.5 - skew[0] + own[0],
            1 / 1.5 + skew[1] + own[1],
            1 / 1.5 - skew[1] + own[1],
        ],
        rtol=1e-12,
    )
    # Phi = 0 under the pnl reward: the risk-neutral quotes 1/k
    pnl = MultiAssetConfig.preset("pair", reward="pnl")
    np.testing.assert_allclose(QuadraticApproximationAgent(pnl).act(obs), 1 / 1.5, rtol=1e-12)
    with pytest.raises(ValueError, match="horizon must be one of"):
        QuadraticApproximationAgent(config, horizon="forever")
    with pytest.raises(ValueError, match="phi must be a finite symmetric"):
        QuadraticApproximationAgent(config, phi=[[1.0, 0.0]])
    with pytest.raises(ValueError, match="needs a positive definite running penalty"):
        stationary_quadratic(np.ones(2), np.zeros((2, 2)), np.ones(2))
    with pytest.raises(ValueError, match="value needs horizon='finite'"):
        QuadraticApproximationAgent(config, horizon="stationary").value(0.0, np.zeros(2))
    with pytest.raises(ValueError, match="t must be a real number"):
        quad.coefficients(2.0)
