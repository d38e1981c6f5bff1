"""The exact optima: the linear-ODE solver, CJP's OptimalAgent, GLFT's CARAOptimalAgent,
the discrete-time DiscreteOptimalAgent and the exact lattice evaluation.

Discretisation allowance (used by tests/agents/test_monte_carlo.py and measured here): the
env decides once per ``dt``, so the expected episode reward of ``OptimalAgent`` in the env,
computed exactly by ``evaluate_on_lattice``, differs from the continuous-time ``value(0, 0)``
by ``O(dt)``. For ``as2008`` with bernoulli fills, ``phi = 0.05``, ``alpha = 0.1``,
inventory limit 10 (``value(0, 0) = 66.8386``):

    dt = 0.005    lattice 67.3046   gap -0.4660
    dt = 0.0025   lattice 67.0744   gap -0.2359
    dt = 0.00125  lattice 66.9573   gap -0.1187

(first order: the gap halves with ``dt``, about ``-93 dt``), so the documented allowance at
``dt = 0.005`` is 0.5. The discrete-time optimum beats the continuous policy in the env by
only ``O(dt^2)`` (0.0101 at ``dt = 0.005``, 0.0027 at 0.0025).
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
    SymmetricAgent,
    default_q_max,
    evaluate_on_lattice,
    solve_discrete_optimum,
)
from agents.lattice import LatticeModel
from agents.linear_ode import LogTridiagonalExp
from mm_env import MarketConfig
from tests.agents.conftest import DISCRETISATION_ALLOWANCE, PENALTY_AS2008


# ------------------------------------------------------------------------- the solver
def test_log_expm_matches_eigh_when_well_conditioned():
    q = np.arange(-10.0, 11.0)
    diag, off = -0.01 * 1.5 * q * q, 140.0 / math.e
    m = np.diag(diag) + off * (np.eye(21, k=1) + np.eye(21, k=-1))
    w, v = np.linalg.eigh(m)
    ode = LogTridiagonalExp(diag, off)
    for tau in (0.37, 1.0):  # entries of similar size: eigh is accurate there
        exact = v @ np.diag(np.exp(w * tau)) @ v.T
        np.testing.assert_allclose(ode.log_expm(tau), np.log(exact), atol=1e-12, rtol=0)
    log_identity = np.where(np.eye(21) > 0, 0.0, -np.inf)
    np.testing.assert_array_equal(ode.log_expm(0.0), log_identity)
    # Short times: the corner entry is (a tau)^20 / 20! (1 + tau mean(diag)) to ~1e-6
    # relative, ~e^-148: lost by eigh, kept here.
    tau = 1e-4
    corner = 20 * math.log(off * tau) - math.lgamma(21) + math.log1p(tau * diag.mean())
    assert ode.log_expm(tau)[0, 20] == pytest.approx(corner, abs=1e-5)
    z = np.exp(-0.05 * 1.5 * q * q)
    grid = ode.log_solution_grid(np.log(z), 0.005, 200)
    for i in (1, 100, 200):
        exact = v @ (np.exp(w * i * 0.005) * (v.T @ z))
        np.testing.assert_allclose(grid[i], np.log(exact), atol=1e-12, rtol=0)


def test_three_state_closed_form():
    # q in {-1, 0, 1}, omega_-1 = omega_1 by symmetry: omega_0' = 2a omega_1,
    # omega_1' = a omega_0 - p omega_1, solved with the 2x2 eigenvalues by hand.
    a, p, tau = 2.0, 3.0, 0.7
    root = math.sqrt(p * p + 8 * a * a)
    lam = np.array([(-p + root) / 2, (-p - root) / 2])
    # from omega(0) = (1, 1): omega_0(tau) = c1 e^(l1 tau) + c2 e^(l2 tau),
    # omega_1 = omega_0' / (2a) = (c1 l1 e^(l1 tau) + c2 l2 e^(l2 tau)) / (2a).
    c = np.linalg.solve([[1, 1], lam / (2 * a)], [1.0, 1.0])
    w0 = c @ np.exp(lam * tau)
    w1 = (c * lam) @ np.exp(lam * tau) / (2 * a)
    got = LogTridiagonalExp(np.array([-p, 0.0, -p]), a).log_solution(np.zeros(3), tau)
    np.testing.assert_allclose(got, np.log([w1, w0, w1]), rtol=1e-13)


def test_no_underflow_with_a_huge_terminal_penalty():
    config = MarketConfig.preset(
        "as2008", reward="inventory_penalty", alpha=5.0, inventory_limit=40
    )
    agent = OptimalAgent(config)  # z_q = exp(-alpha k q^2) = e^-12000 at the bound
    v = agent.value(np.array([0.0, 0.5, 1.0]), 40.0)
    assert np.isfinite(v).all()
    assert v[-1] == pytest.approx(-5.0 * 1600)
    assert np.isfinite(agent.act(np.array([[0.5, 40.0, 100.0], [0.5, -39.0, 100.0]]))).all()


# --------------------------------------------------------------------- OptimalAgent
def test_value_at_the_horizon_is_the_terminal_penalty():
    agent = OptimalAgent(PENALTY_AS2008)
    q = np.arange(-10.0, 11.0)
    np.testing.assert_allclose(agent.value(1.0, q), -0.1 * q * q, atol=1e-12)


def test_risk_neutral_value_without_binding_bounds():
    # phi = alpha = 0 and a far bound: h_0(t) = 2 A (T - t) / (e k) (both sides at 1/k).
    config = MarketConfig.preset("as2008")  # no inventory limit: default truncation
    agent = OptimalAgent(config)
    assert agent.q_max == default_q_max(config) == 61.0
    t = np.array([0.0, 0.25, 0.9])
    np.testing.assert_allclose(agent.value(t, 0.0), 2 * 140 * (1 - t) / (math.e * 1.5), rtol=1e-9)
    np.testing.assert_allclose(agent.act(np.array([[0.6, 3.0, 100.0]])), 1 / 1.5, atol=1e-9)


def test_value_solves_the_hjb_equation():
    # d h_q/dt = phi q^2 - (A/(e k)) sum_(+-) exp(k (h_(q+-1) - h_q)) (inside the bounds),
    # checked by a central difference of value() at off-grid times.
    agent = OptimalAgent(PENALTY_AS2008)
    phi, A, k = 0.05, 140.0, 1.5
    q = np.arange(-9.0, 10.0)
    for t in (0.1234, 0.5, 0.9876):
        eps = 1e-5
        dh = (agent.value(t + eps, q) - agent.value(t - eps, q)) / (2 * eps)
        h, up, down = agent.value(t, q), agent.value(t, q + 1), agent.value(t, q - 1)
        rhs = phi * q * q - A / (math.e * k) * (np.exp(k * (up - h)) + np.exp(k * (down - h)))
        np.testing.assert_allclose(dh, rhs, rtol=1e-6, atol=1e-6)


def test_depths_follow_from_the_value_function():
    agent = OptimalAgent(PENALTY_AS2008)
    t, q = 0.3, np.arange(-10.0, 11.0)
    bid, ask = agent.depths(t, q)
    h = agent.value(t, q)
    np.testing.assert_allclose(bid[:-1], 1 / 1.5 + h[:-1] - h[1:], atol=1e-12)
    np.testing.assert_allclose(ask[1:], 1 / 1.5 + h[1:] - h[:-1], atol=1e-12)
    assert np.isnan(bid[-1]) and np.isnan(ask[0])  # the side that would cross the bound
    np.testing.assert_allclose(bid, ask[::-1], atol=1e-12)  # mu = 0: mirror images
    obs = np.stack([np.full(21, 0.7), q, np.full(21, 100.0)], axis=1)
    act = agent.act(obs)
    assert act[-1, 0] == PENALTY_AS2008.max_depth and act[0, 1] == PENALTY_AS2008.max_depth
    np.testing.assert_allclose(act[:-1, 0], agent.depths(0.3, q[:-1])[0], atol=1e-12)


def test_optimal_directions():
    agent = OptimalAgent(PENALTY_AS2008)
    q = np.arange(-9.0, 10.0)
    bid, ask = agent.depths(0.5, q)
    assert (np.diff(-bid) < 0).all() and (np.diff(ask) < 0).all()  # long -> quotes lower
    tighter = OptimalAgent(PENALTY_AS2008, phi=0.5)
    b2, _ = tighter.depths(0.5, q)
    assert (b2[q > 0] > bid[q > 0]).all()  # more penalty, stronger skew


def test_value_and_depths_broadcast_and_validate():
    agent = OptimalAgent(PENALTY_AS2008)
    v = agent.value(np.array([[0.0], [0.5]]), np.array([-1.0, 0.0, 1.0]))
    assert v.shape == (2, 3)
    assert agent.value(0.0, 0.0) == pytest.approx(66.83855923616807, abs=1e-9)
    bid, ask = agent.depths(np.array([0.0, 0.5]), 0.0)
    assert bid.shape == ask.shape == (2,)
    with pytest.raises(ValueError, match=r"t must be a time in \[0, T\] = \[0, 1\], got 1.5"):
        agent.value(1.5, 0.0)
    with pytest.raises(ValueError, match=r"q must be an inventory on the grid.*got 11.0"):
        agent.value(0.0, 11.0)
    with pytest.raises(ValueError, match=r"got 0\.5"):
        agent.depths(0.0, 0.5)


def test_q_max_and_order_size():
    with pytest.raises(ValueError, match=r"q_max must be a real number in \[1, 10\], got 20"):
        OptimalAgent(PENALTY_AS2008, q_max=20)
    small = OptimalAgent(PENALTY_AS2008, q_max=4)
    np.testing.assert_allclose(small.inventories, np.arange(-4.0, 5.0))
    assert small.act(np.array([0.5, 7.0, 100.0]))[0] == PENALTY_AS2008.max_depth  # clipped to +4
    lots = OptimalAgent(PENALTY_AS2008.replace(order_size=3.0))  # grid -9..9 step 3
    np.testing.assert_allclose(lots.inventories, [-9, -6, -3, 0, 3, 6, 9])
    with pytest.raises(ValueError, match="phi must be"):
        OptimalAgent(PENALTY_AS2008, phi=-1.0)
    with pytest.raises(ValueError, match="alpha must be"):
        OptimalAgent(PENALTY_AS2008, alpha=math.inf)


@pytest.mark.parametrize("order_size", [1.0, 2.0])
def test_lattice_value_converges_to_the_continuous_value_at_first_order(order_size):
    gaps = []
    for n in (200, 400):
        config = PENALTY_AS2008.replace(n_steps=n, order_size=order_size)
        agent = OptimalAgent(config)
        gaps.append(evaluate_on_lattice(agent, config).initial - float(agent.value(0.0, 0.0)))
    assert 1.8 < gaps[0] / gaps[1] < 2.2
    if order_size == 1.0:
        assert abs(gaps[0]) < DISCRETISATION_ALLOWANCE
        assert gaps[0] == pytest.approx(0.4660, abs=1e-3)


# ------------------------------------------------------------------------------ CARA
def test_cara_tends_to_the_risk_neutral_optimum_as_gamma_vanishes():
    config = PENALTY_AS2008.replace(phi=0.0, alpha=0.0)
    rn = OptimalAgent(config)
    cara = CARAOptimalAgent(config, gamma=1e-7)
    q = np.arange(-10.0, 11.0)
    np.testing.assert_allclose(cara.value(0.2, q), rn.value(0.2, q), rtol=1e-5)
    np.testing.assert_allclose(cara.depths(0.2, q)[0], rn.depths(0.2, q)[0], atol=1e-6)


def test_cara_certainty_equivalent_against_the_lattice():
    # The exact discrete-time certainty equivalent converges to theta(0, 0) at first order,
    # and the CARA optimum beats AS, GLFT and the symmetric strategy on it.
    gamma = 0.1
    gaps = []
    for n in (200, 400):
        config = MarketConfig.preset("as2008", inventory_limit=10, n_steps=n)
        agent = CARAOptimalAgent(config, gamma)
        ce = evaluate_on_lattice(agent, config, cara_gamma=gamma).initial
        gaps.append(ce - float(agent.value(0.0, 0.0)))
        if n == 200:
            for other in (
                AvellanedaStoikovAgent(config, gamma),
                GLFTAgent(config, gamma),
                SymmetricAgent(config, gamma),
                FixedSpreadAgent(config),
            ):
                assert evaluate_on_lattice(other, config, cara_gamma=gamma).initial < ce
    assert 1.8 < gaps[0] / gaps[1] < 2.2
    with pytest.raises(ValueError, match="gamma must be"):
        CARAOptimalAgent(config, gamma=0.0)


# ------------------------------------------------------------- the discrete optimum
def test_discrete_optimum_beats_every_agent_exactly():
    best = DiscreteOptimalAgent(PENALTY_AS2008)
    v_best = best.solution.initial
    assert best.value(0.0, 0.0) == pytest.approx(v_best)
    v_opt = evaluate_on_lattice(OptimalAgent(PENALTY_AS2008), PENALTY_AS2008).initial
    assert 0 < v_best - v_opt < 0.02  # O(dt^2): 0.0101
    assert evaluate_on_lattice(best, PENALTY_AS2008).initial == pytest.approx(v_best, abs=1e-9)
    for other in (
        FixedSpreadAgent(PENALTY_AS2008),
        AvellanedaStoikovAgent(PENALTY_AS2008),
        SymmetricAgent(PENALTY_AS2008),
        GLFTAgent(PENALTY_AS2008),
        GLFTAgent(PENALTY_AS2008, gamma=2 * 0.05 / 4.0, xi=0.0),
        CARAOptimalAgent(PENALTY_AS2008),
    ):
        assert evaluate_on_lattice(other, PENALTY_AS2008).initial < v_opt


def _brute_force_step(model, w, j, lo, hi, points=401):
    """Best one-step value at node j over a (bid, ask) grid, refined twice around the best.

    The step's expectation is written out outcome by outcome, independently of the module's
    algebra: both fill (stay), bid only (up), ask only (down), none (stay).
    """
    top = model.inventories.size - 1
    quoted_b, quoted_a = float(j < top), float(j > 0)
    centre_b = centre_a = 0.5 * (lo + hi)
    half = 0.5 * (hi - lo)
    best = -np.inf
    for _ in range(3):
        db = np.clip(np.linspace(centre_b - half, centre_b + half, points), lo, hi)[:, None]
        da = np.clip(np.linspace(centre_a - half, centre_a + half, points), lo, hi)[None, :]
        pb = quoted_b * model.dynamics.fill_probability(db)
        pa = quoted_a * model.dynamics.fill_probability(da)
        e = (
            pb * pa * (db + da + w[j])
            + pb * (1 - pa) * (db + w[min(j + 1, top)])
            + (1 - pb) * pa * (da + w[max(j - 1, 0)])
            + (1 - pb) * (1 - pa) * w[j]
        )
        k = np.unravel_index(np.argmax(e), e.shape)
        best = max(best, float(e[k]))
        centre_b, centre_a = float(db[k[0], 0]), float(da[0, k[1]])
        half *= 4.0 / points
    return best


@pytest.mark.parametrize("fill_model", ["bernoulli", "poisson"])
def test_discrete_optimum_against_brute_force(fill_model):
    config = MarketConfig.preset(
        "as2008",
        reward="inventory_penalty",
        phi=0.2,
        alpha=0.5,
        inventory_limit=4,
        n_steps=20,
        fill_model=fill_model,
        min_depth=-1.0,
        max_depth=3.0,
    )
    sol = solve_discrete_optimum(config)
    model = LatticeModel(config)
    for i in (0, 10, 19):
        w = model.continuation(i, sol.values[i + 1])
        for j in range(model.inventories.size):
            best = _brute_force_step(model, w, j, -1.0, 3.0)
            assert sol.values[i, j] >= best - 1e-12
            assert sol.values[i, j] - best < 2e-6  # the grid's resolution at a kink
