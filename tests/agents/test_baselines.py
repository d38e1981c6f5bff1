"""Baselines: Avellaneda-Stoikov, symmetric, GLFT closed form; the shared policy protocol.

Reference numbers are written out by hand from the formulas (not computed by the package):
the course notebook's printed AS table could not be recovered, so the table below uses the
AS 2008 paper's parameters (section 4: s = 100, sigma = 2, k = 1.5, gamma = 0.1) at time
remaining 0.5, the same setting as the notebook's table:

    gamma sigma^2 (T - t) = 0.1 * 4 * 0.5 = 0.2          (skew 0.2 per share)
    (2/gamma) ln(1 + gamma/k) = 20 ln(16/15) = 1.2907704227514234
    spread = 1.4907704227514234, half spread 0.7453852113757117
    r = 100 - 0.2 q; bid = r - 0.74538..., ask = r + 0.74538...
"""

from __future__ import annotations

import math

import gymnasium as gym
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import mm_env  # noqa: F401  (registers the env id)
from agents import (
    Agent,
    AvellanedaStoikovAgent,
    CARAOptimalAgent,
    DiscreteOptimalAgent,
    FixedSpreadAgent,
    GLFTAgent,
    OptimalAgent,
    Policy,
    RandomAgent,
    SymmetricAgent,
    as_quotes,
    as_reservation_price,
    as_spread,
    glft_depths,
)
from mm_env import MarketConfig

AS_TABLE = {  # q: (reservation price, bid, ask)
    -5: (101.0, 100.2546147886243, 101.7453852113757),
    -2: (100.4, 99.6546147886243, 101.14538521137571),
    0: (100.0, 99.2546147886243, 100.7453852113757),
    2: (99.6, 98.85461478862429, 100.3453852113757),
    5: (99.0, 98.2546147886243, 99.7453852113757),
}
AS2008 = MarketConfig.preset("as2008")


def _obs(tau, q, mid=100.0):
    tau, q, mid = np.broadcast_arrays(np.asarray(tau, float), np.asarray(q, float), mid)
    return np.stack([tau, q, mid], axis=-1)


# ------------------------------------------------------------------ Avellaneda-Stoikov
@pytest.mark.parametrize("q", sorted(AS_TABLE))
def test_as_quote_table_functions(q):
    r, bid, ask = AS_TABLE[q]
    assert as_reservation_price(100.0, q, 0.5, 0.1, 2.0) == pytest.approx(r, abs=1e-12)
    assert as_spread(0.5, 0.1, 2.0, 1.5) == pytest.approx(1.4907704227514234, abs=1e-12)
    b, a = as_quotes(100.0, q, 0.5, 0.1, 2.0, 1.5)
    assert b == pytest.approx(bid, abs=1e-12)
    assert a == pytest.approx(ask, abs=1e-12)


@pytest.mark.parametrize(
    "config",
    [AS2008, MarketConfig.preset("default")],  # ABM sigma = 2; GBM sigma = 2% of S = 100
    ids=["abm", "gbm"],
)
def test_as_agent_reproduces_the_table(config):
    agent = AvellanedaStoikovAgent(config, gamma=0.1)
    qs = np.array(sorted(AS_TABLE), dtype=float)
    depths = agent.act(_obs(0.5, qs))
    expected_bid = np.array([AS_TABLE[q][1] for q in sorted(AS_TABLE)])
    expected_ask = np.array([AS_TABLE[q][2] for q in sorted(AS_TABLE)])
    np.testing.assert_allclose(100.0 - depths[:, 0], expected_bid, atol=1e-12)
    np.testing.assert_allclose(100.0 + depths[:, 1], expected_ask, atol=1e-12)
    np.testing.assert_allclose(
        agent.reservation_price(_obs(0.5, qs)), [AS_TABLE[q][0] for q in sorted(AS_TABLE)]
    )


def test_gbm_uses_price_volatility_at_the_observed_mid():
    config = MarketConfig.preset("default")  # sigma = 0.02 relative
    agent = AvellanedaStoikovAgent(config, gamma=0.1)
    # At S = 200 the price volatility doubles: skew gamma (0.02 * 200)^2 * 0.5 = 0.8 per share.
    d = agent.act(_obs(0.5, [0.0, 1.0], mid=200.0))
    assert d[1, 0] - d[0, 0] == pytest.approx(0.8, abs=1e-12)
    # A relative sigma in the formula would make the skew 2e-5 per share: switched off.
    relative = AvellanedaStoikovAgent(config, gamma=0.1, sigma=0.02)
    d = relative.act(_obs(0.5, [0.0, 1.0]))
    assert d[1, 0] - d[0, 0] == pytest.approx(2e-5, rel=1e-9)


def test_gamma_zero_is_the_risk_neutral_limit():
    obs = _obs([0.9, 0.5, 0.1], [-3.0, 0.0, 4.0])
    at_zero = AvellanedaStoikovAgent(AS2008, gamma=0.0).act(obs)
    np.testing.assert_allclose(at_zero, 1.0 / 1.5, atol=1e-15)
    tiny = AvellanedaStoikovAgent(AS2008, gamma=1e-9).act(obs)
    np.testing.assert_allclose(tiny, at_zero, atol=1e-8)
    assert np.isfinite(AvellanedaStoikovAgent(AS2008, gamma=1e-300).act(obs)).all()
    assert as_spread(0.5, 0.0, 2.0, 1.5) == pytest.approx(2.0 / 1.5)


def test_as_directions_predicted_by_the_theory():
    agent = AvellanedaStoikovAgent(AS2008, gamma=0.1)
    qs = np.arange(-5.0, 6.0)
    d = agent.act(_obs(0.5, qs))
    bid, ask = 100.0 - d[:, 0], 100.0 + d[:, 1]
    assert (np.diff(bid) < 0).all() and (np.diff(ask) < 0).all()  # long -> both quotes lower
    taus = np.linspace(1.0, 0.0, 11)
    spread = agent.act(_obs(taus, 0.0)).sum(axis=1)
    assert (np.diff(spread) < 0).all()  # the spread shrinks as time runs out
    assert spread[-1] == pytest.approx(2.0 * math.log1p(0.1 / 1.5) / 0.1)
    gammas = [0.01, 0.05, 0.1, 0.2, 0.5, 1.0]
    spreads = [AvellanedaStoikovAgent(AS2008, g).act(_obs(0.5, 0.0)).sum() for g in gammas]
    assert (np.diff(spreads) > 0).all()  # higher gamma, wider spread


def test_infinite_horizon_variant_uses_a_fixed_time_to_go():
    agent = AvellanedaStoikovAgent(AS2008, gamma=0.1, time_to_go=0.5)
    d = agent.act(_obs([1.0, 0.3, 0.0], 2.0))
    np.testing.assert_allclose(d, np.repeat(d[:1], 3, axis=0))
    assert 100.0 - d[0, 0] == pytest.approx(AS_TABLE[2][1], abs=1e-12)


def test_symmetric_agent_centres_the_as_spread_on_the_mid():
    obs = _obs([0.8, 0.5, 0.2], [-4.0, 0.0, 3.0])
    sym = SymmetricAgent(AS2008, gamma=0.1).act(obs)
    inv = AvellanedaStoikovAgent(AS2008, gamma=0.1).act(obs)
    np.testing.assert_allclose(sym[:, 0], sym[:, 1])
    np.testing.assert_allclose(sym.sum(axis=1), inv.sum(axis=1))
    assert sym[1, 0] == pytest.approx(AS_TABLE[0][0] - AS_TABLE[0][1])


@settings(max_examples=50, deadline=None)
@given(
    q=st.floats(-20, 20),
    tau=st.floats(0, 1),
    gamma=st.floats(0, 5),
    k=st.floats(0.1, 10),
)
def test_as_depths_are_mirror_images_in_inventory(q, tau, gamma, k):
    agent = AvellanedaStoikovAgent(AS2008, gamma=gamma, k=k)
    d_long, d_short = agent.act(_obs([tau, tau], [q, -q]))
    assert d_long[0] == pytest.approx(d_short[1], rel=1e-12, abs=1e-12)
    assert d_long.sum() == pytest.approx(as_spread(tau, gamma, 2.0, k), rel=1e-12)


# ------------------------------------------------------------------------------ GLFT
def test_glft_closed_form_hand_values():
    # c1 = 10 ln(16/15); c = sqrt(0.4 / 420 * (16/15)^16) = 0.05171721612196599...
    bid, ask = glft_depths(np.array([0.0, 2.0, -2.0]), 0.1, 2.0, 140.0, 1.5)
    np.testing.assert_allclose(bid, [0.6712438194366946, 0.7746782516806267, 0.5678093871927627])
    np.testing.assert_allclose(ask, [0.6712438194366946, 0.5678093871927627, 0.7746782516806267])
    # xi = 0 (running penalty): 1/k + (1/2) sqrt(gamma sigma^2 e / (2 A k)) at q = 0.
    b0, _ = glft_depths(0.0, 0.1, 2.0, 140.0, 1.5, xi=0.0)
    assert b0 == pytest.approx(0.6921069881889453, abs=1e-14)
    agent = GLFTAgent(AS2008, gamma=0.1)
    np.testing.assert_allclose(agent.act(_obs(0.7, 2.0)), [0.7746782516806267, 0.5678093871927627])


def test_glft_directions_and_limits():
    agent = GLFTAgent(AS2008, gamma=0.1)
    d = agent.act(_obs(0.5, np.arange(-5.0, 6.0)))
    assert (np.diff(100.0 - d[:, 0]) < 0).all() and (np.diff(100.0 + d[:, 1]) < 0).all()
    np.testing.assert_allclose(GLFTAgent(AS2008, gamma=0.0).act(_obs(0.5, 3.0)), 1 / 1.5)
    b_small, _ = glft_depths(1.0, 1e-12, 2.0, 140.0, 1.5)
    assert b_small == pytest.approx(1 / 1.5, abs=1e-5)


@pytest.mark.parametrize("size", [1.0, 2.0])
def test_glft_is_the_long_horizon_limit_of_the_exact_cara_optimum(size):
    config = MarketConfig.preset("as2008", T=20.0, n_steps=400, inventory_limit=30 * size,
                                 order_size=size)
    q = size * np.arange(-5, 6)
    exact_bid, exact_ask = CARAOptimalAgent(config, gamma=0.1).depths(0.0, q)
    bid, ask = glft_depths(q, 0.1, 2.0, 140.0, 1.5, order_size=size)
    np.testing.assert_allclose(bid, exact_bid, atol=5e-3)
    np.testing.assert_allclose(ask, exact_ask, atol=5e-3)


# -------------------------------------------------------------------------- protocol
def _all_agents(config):
    return [
        FixedSpreadAgent(config),
        RandomAgent(config, rng=np.random.default_rng(0)),
        AvellanedaStoikovAgent(config),
        SymmetricAgent(config),
        GLFTAgent(config),
        OptimalAgent(config),
        CARAOptimalAgent(config),
        DiscreteOptimalAgent(config),
    ]


CONFIG = MarketConfig.preset("as2008", inventory_limit=5, n_steps=50, reward="inventory_penalty",
                             phi=0.1, alpha=0.1)


@pytest.mark.parametrize("agent", _all_agents(CONFIG), ids=lambda a: type(a).__name__)
def test_protocol_single_and_batch(agent):
    assert isinstance(agent, Agent) and isinstance(agent, Policy)
    obs = _obs(np.linspace(1.0, 0.0, 7), np.array([-5, -3, -1, 0, 1, 3, 5.0]))
    batch = agent.act(obs.astype(np.float32))
    assert batch.shape == (7, 2) and batch.dtype == np.float64 and np.isfinite(batch).all()
    if not isinstance(agent, RandomAgent):
        singles = np.array([agent.act(o) for o in obs])
        np.testing.assert_allclose(singles, batch, rtol=1e-6, atol=1e-6)
        action, state = agent.predict(obs[0], deterministic=True)
        np.testing.assert_allclose(action, batch[0], rtol=1e-6, atol=1e-6)
        assert state is None
    assert type(agent).__name__ in repr(agent)
    with pytest.raises(ValueError, match="obs must have shape"):
        agent.act(np.zeros((2, 2)))


@pytest.mark.parametrize("cls", [type(a) for a in _all_agents(CONFIG)], ids=lambda c: c.__name__)
def test_every_agent_runs_an_episode_of_the_scalar_env(cls):
    env = gym.make("mm_env/MarketMaking-v0", config=CONFIG)
    agent = cls(CONFIG)
    obs, _ = env.reset(seed=1)
    done = False
    while not done:
        obs, _, done, truncated, _ = env.step(agent.act(obs))
        assert not truncated


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: AvellanedaStoikovAgent(AS2008, gamma=-0.1), r"gamma must .* \[0, inf\), got -0.1"),
        (lambda: AvellanedaStoikovAgent(AS2008, gamma=math.nan), "gamma must be"),
        (lambda: AvellanedaStoikovAgent(AS2008, gamma="0.1"), "gamma must be"),
        (lambda: SymmetricAgent(AS2008, k=0.0), r"k must be .* \(0, inf\), got 0.0"),
        (lambda: AvellanedaStoikovAgent(AS2008, sigma=-1.0), "sigma must be"),
        (lambda: AvellanedaStoikovAgent(AS2008, time_to_go=-1.0), "time_to_go must be"),
        (lambda: GLFTAgent(AS2008, gamma=math.inf), "gamma must be"),
        (lambda: GLFTAgent(AS2008, xi=-1.0), "xi must be"),
        (lambda: GLFTAgent(AS2008, A=0.0), r"A must be .* \(0, inf\)"),
        (lambda: AvellanedaStoikovAgent({"k": 1.5}), "config must be a mm_env.MarketConfig"),
    ],
)
def test_bad_parameters_raise_clear_errors(build, message):
    with pytest.raises(ValueError, match=message):
        build()
