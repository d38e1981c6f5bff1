"""The law of the multi-asset market: correlated mids (sample correlations and covariances
against rho and Sigma within 5 standard errors, singular rho included), fill frequencies per
asset and side against the single-asset formulas, the accounting identity and the reward on
every step, the common random numbers, and the scalar and vector envs' agreement."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mm_env.multi_asset import (
    MultiAssetConfig,
    MultiAssetDynamics,
    MultiAssetMarketMakingEnv,
    MultiAssetMarketMakingVectorEnv,
)

Z = 5.0  # tolerance in standard errors


def mid_increments(config: MultiAssetConfig, num_envs: int, seed: int = 0) -> np.ndarray:
    """(num_envs * n_steps, n) one-step increments of the mids (log-mids under gbm)."""
    env = MultiAssetMarketMakingVectorEnv(num_envs, config)
    _, info = env.reset(seed=seed)
    action = np.ones((num_envs, 2 * config.n_assets))
    out = []
    for _ in range(config.n_steps):
        before = info["mid"]
        _, _, _, _, info = env.step(action)
        after = info["mid"]
        out.append(np.log(after / before) if config.mid_model == "gbm" else after - before)
    return np.concatenate(out)


BASKET_RHO = [[1.0, 0.9, -0.5], [0.9, 1.0, -0.3], [-0.5, -0.3, 1.0]]


def test_abm_increments_have_the_correlation_and_variance_of_the_config():
    c = MultiAssetConfig(
        n_assets=3,
        mid_model="abm",
        sigma=(2.0, 1.0, 3.0),
        mu=(0.5, -1.0, 0.0),
        rho=BASKET_RHO,
        n_steps=10,
    )
    dx = mid_increments(c, 3000)
    m = dx.shape[0]
    dt = c.dt
    sigma = np.array(c.sigma)
    np.testing.assert_allclose(
        dx.mean(axis=0), np.array(c.mu) * dt, atol=Z * (sigma * math.sqrt(dt) / math.sqrt(m)).max()
    )
    var = dx.var(axis=0, ddof=1)
    se_var = sigma**2 * dt * math.sqrt(2.0 / m)
    assert (np.abs(var - sigma**2 * dt) < Z * se_var).all(), (var, sigma**2 * dt)
    corr = np.corrcoef(dx.T)
    rho = c.rho_matrix
    se_corr = (1 - rho**2) / math.sqrt(m) + 1e-12
    assert (np.abs(corr - rho) < Z * se_corr).all(), corr
    # Sigma is the covariance per session
    np.testing.assert_allclose(
        np.cov(dx.T) / dt, c.covariance, atol=Z * 2 * c.covariance.max() * math.sqrt(2.0 / m)
    )


def test_gbm_log_increments_have_the_covariance_of_the_config():
    c = MultiAssetConfig(
        n_assets=2,
        mid_model="gbm",
        S0=(100.0, 40.0),
        sigma=(0.2, 0.5),
        mu=(0.1, 0.0),
        rho=[[1.0, -0.6], [-0.6, 1.0]],
        n_steps=10,
    )
    dx = mid_increments(c, 3000, seed=1)
    m = dx.shape[0]
    dt = c.dt
    s = np.array(c.sigma)
    expected_mean = (np.array(c.mu) - s**2 / 2) * dt
    assert (np.abs(dx.mean(axis=0) - expected_mean) < Z * s * math.sqrt(dt / m)).all()
    cov = np.cov(dx.T)
    expected = c.rho_matrix * np.outer(s, s) * dt
    # Var of a sample covariance: (s_i^2 s_j^2 + c_ij^2) / m
    se = np.sqrt((np.outer(s**2, s**2) * dt**2 + expected**2) / m)
    assert (np.abs(cov - expected) < Z * se).all(), (cov, expected)
    # in price units at S0: the config's covariance (sigma_i S0_i), to first order in dt
    np.testing.assert_allclose(c.covariance, expected / dt * np.outer(c.S0, c.S0))


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_perfectly_correlated_assets_move_together(sign):
    c = MultiAssetConfig(
        n_assets=2, mid_model="abm", sigma=2.0, rho=[[1.0, sign], [sign, 1.0]], n_steps=20
    )
    dynamics = MultiAssetDynamics(c)
    np.testing.assert_allclose(dynamics.factor @ dynamics.factor.T, c.rho_matrix, atol=1e-15)
    dx = mid_increments(c, 200)
    np.testing.assert_allclose(dx[:, 1], sign * dx[:, 0], atol=1e-12)
    assert dx[:, 0].std() > 0.1


def test_a_singular_basket_keeps_its_correlation():
    # asset 3 = (asset 1 + asset 2) / sqrt(2 (1 + r)) in its normals: rho of rank 2
    r = 0.2
    a = math.sqrt((1 + r) / 2)
    rho = [[1.0, r, a], [r, 1.0, a], [a, a, 1.0]]
    c = MultiAssetConfig(n_assets=3, mid_model="abm", sigma=1.0, rho=rho, n_steps=10)
    assert np.linalg.eigvalsh(c.rho_matrix).min() < 1e-12
    dx = mid_increments(c, 2000, seed=3)
    corr = np.corrcoef(dx.T)
    se = (1 - c.rho_matrix**2) / math.sqrt(dx.shape[0]) + 1e-9
    assert (np.abs(corr - c.rho_matrix) < Z * se).all(), corr
    np.testing.assert_allclose(dx[:, 2], (dx[:, 0] + dx[:, 1]) / (2 * a), atol=1e-9)


# ----------------------------------------------------------------------------- fills
@pytest.mark.parametrize("fill_model", ["poisson", "bernoulli"])
def test_fill_frequencies_per_asset_and_side_are_the_single_asset_probabilities(fill_model):
    c = MultiAssetConfig(
        n_assets=3,
        mid_model="abm",
        sigma=1.0,
        A=(140.0, 60.0, 300.0),
        k=(1.5, 3.0, 0.8),
        fill_model=fill_model,
        n_steps=20,
        T=0.1,
        min_depth=-1.0,
    )
    depths = np.array([0.3, 1.2, 0.0, 0.5, 2.5, -0.4])  # bid_1, ask_1, bid_2, ...
    env = MultiAssetMarketMakingVectorEnv(1000, c)
    env.reset(seed=5)
    fills = np.zeros((2, 3))
    for _ in range(c.n_steps):
        _, _, _, _, info = env.step(np.tile(depths, (1000, 1)))
        fills += [info["bid_filled"].sum(axis=0), info["ask_filled"].sum(axis=0)]
    trials = 1000 * c.n_steps
    d = depths.reshape(3, 2).T  # (side, asset)
    rate_dt = np.array(c.A) * np.exp(-np.array(c.k) * d) * c.dt
    p = -np.expm1(-rate_dt) if fill_model == "poisson" else np.minimum(rate_dt, 1.0)
    np.testing.assert_allclose(env.dynamics.fill_probability(d), p, rtol=1e-15)
    se = np.sqrt(p * (1 - p) / trials)
    assert (np.abs(fills / trials - p) <= Z * se).all(), (fills / trials, p)


# ------------------------------------------------------------------- accounting
def _check_step(config, before, after, reward, terminated):
    """The accounting identity and the reward of one step, from two infos."""
    size = np.array(config.order_size)
    bought = size * after["bid_filled"]
    sold = size * after["ask_filled"]
    np.testing.assert_array_equal(after["inventory"], before["inventory"] + bought - sold)
    flow = (sold * after["ask"] - bought * after["bid"]).sum(axis=-1)
    np.testing.assert_allclose(after["cash"], before["cash"] + flow, rtol=1e-13, atol=1e-9)
    q, mid = after["inventory"], after["mid"]
    np.testing.assert_allclose(
        after["wealth"], after["cash"] + (q * mid).sum(axis=-1), rtol=1e-13, atol=1e-9
    )
    qq = q[..., :, None] * q[..., None, :]
    penalty = (config.phi_matrix * config.dt * qq).sum(axis=(-2, -1))
    penalty = penalty + (config.alpha_matrix * qq).sum(axis=(-2, -1)) * terminated
    if config.reward == "pnl":
        penalty = 0.0
    np.testing.assert_allclose(
        reward, after["wealth"] - before["wealth"] - penalty, rtol=1e-12, atol=1e-9
    )


@pytest.mark.parametrize("reward", ["inventory_penalty", "pnl"])
def test_accounting_and_reward_on_every_step_of_the_scalar_env(reward):
    c = MultiAssetConfig.preset(
        "basket",
        reward=reward,
        order_size=(1.0, 2.0, 0.5),
        inventory_limit=(5.0, 6.0, 2.0),
        tick_size=0.05,
    )
    env = MultiAssetMarketMakingEnv(c)
    rng = np.random.default_rng(0)
    total = 0.0
    for episode in range(2):
        _, before = env.reset(seed=episode)
        done = False
        while not done:
            _, r, done, _, after = env.step(rng.uniform(-1.0, 2.0, 6))
            _check_step(c, before, after, r, done)
            total += r
            before = after
    assert after["bid_filled"].dtype == bool and abs(total) > 0


def test_accounting_and_reward_on_every_step_of_the_vector_env():
    c = MultiAssetConfig.preset("pair", mid_model="gbm", sigma=0.02, n_steps=30)
    env = MultiAssetMarketMakingVectorEnv(50, c, autoreset_mode="Disabled")
    rng = np.random.default_rng(1)
    _, before = env.reset(seed=2)
    for _ in range(c.n_steps):
        _, r, done, _, after = env.step(rng.uniform(-1.0, 2.0, (50, 4)))
        _check_step(c, before, after, r, done)
        before = after
    assert done.all() and after["inventory"].std() > 0


def test_the_episode_rewards_sum_to_the_terminal_wealth_minus_the_penalties():
    c = MultiAssetConfig.preset("pair")
    env = MultiAssetMarketMakingEnv(c)
    env.reset(seed=8)
    action = np.array([0.2, 0.6, 0.9, -0.1], np.float32)
    rewards, penalties = [], 0.0
    done = False
    while not done:
        _, r, done, _, info = env.step(action)
        q = info["inventory"]
        penalties += c.dt * q @ c.phi_matrix @ q + (q @ c.alpha_matrix @ q if done else 0.0)
        rewards.append(r)
    assert math.isclose(sum(rewards), info["wealth"] - penalties, rel_tol=1e-9, abs_tol=1e-7)


# ------------------------------------------------------- random numbers, both paths
def test_the_market_noise_does_not_depend_on_the_actions():
    c = MultiAssetConfig.preset("basket", mid_model="gbm", sigma=0.02, n_steps=40)
    a, b = MultiAssetMarketMakingVectorEnv(8, c), MultiAssetMarketMakingVectorEnv(8, c)
    a.reset(seed=1)
    b.reset(seed=1)
    rng = np.random.default_rng(0)
    for _ in range(60):
        ia = a.step(rng.uniform(-1, 3, (8, 6)))[4]
        ib = b.step(np.full((8, 6), 0.5))[4]
        np.testing.assert_array_equal(ia["mid"], ib["mid"])
    assert a.np_random.bit_generator.state == b.np_random.bit_generator.state
    s, t = MultiAssetMarketMakingEnv(c), MultiAssetMarketMakingEnv(c)
    s.reset(seed=3)
    t.reset(seed=3)
    for _ in range(40):
        np.testing.assert_array_equal(
            s.step(rng.uniform(-1, 3, 6))[4]["mid"], t.step(np.zeros(6))[4]["mid"]
        )


def test_the_float_and_the_array_paths_compute_the_same_step():
    c = MultiAssetConfig.preset(
        "basket",
        mid_model="gbm",
        sigma=(0.02, 0.05, 0.01),
        tick_size=0.01,
        fill_model="poisson",
        min_depth=-0.5,
    )
    d = MultiAssetDynamics(c)
    rng = np.random.default_rng(4)
    floats = d.initial_state()
    arrays = d.initial_state(1)
    for _ in range(c.n_steps):
        bid, ask = rng.uniform(-1, 2, 3), rng.uniform(-1, 2, 3)
        z = d.correlate(rng.standard_normal(3))
        ub, ua = rng.random(3), rng.random(3)
        rf = d.step(floats, bid.tolist(), ask.tolist(), z.tolist(), ub.tolist(), ua.tolist())
        ra = d.step(arrays, bid[None], ask[None], z[None], ub[None], ua[None])
        for name in ("bid_filled", "ask_filled", "bid_quoted", "ask_quoted"):
            np.testing.assert_array_equal(getattr(rf, name), getattr(ra, name)[0])
        for name in ("mid", "cash", "inventory"):
            np.testing.assert_allclose(
                getattr(rf.state, name), getattr(ra.state, name)[0], rtol=1e-13
            )
        np.testing.assert_allclose(rf.reward, ra.reward[0], rtol=1e-10, atol=1e-10)
        assert rf.terminated == ra.terminated[0]
        floats, arrays = rf.state, ra.state
    assert rf.terminated and np.abs(floats.inventory).sum() > 0


def test_scalar_and_native_vector_env_have_the_same_law():
    c = MultiAssetConfig.preset("pair", n_steps=40)
    action = np.array([0.6, 0.9, 0.9, 0.6], np.float32)
    scalar = MultiAssetMarketMakingEnv(c)
    wealth_s, q_s = [], []
    for episode in range(400):
        scalar.reset(seed=1000 if episode == 0 else None)
        done = False
        while not done:
            _, _, done, _, info = scalar.step(action)
        wealth_s.append(info["wealth"])
        q_s.append(info["inventory"])
    vec = MultiAssetMarketMakingVectorEnv(4000, c, autoreset_mode="Disabled")
    vec.reset(seed=7)
    for _ in range(c.n_steps):
        _, _, done, _, info = vec.step(np.tile(action, (4000, 1)))
    pairs = [(np.array(wealth_s), info["wealth"])]
    pairs += [(np.array(q_s)[:, i], info["inventory"][:, i]) for i in range(2)]
    for a, b in pairs:
        assert a.std() > 0.5
        z_mean = (a.mean() - b.mean()) / math.sqrt(a.var() / a.size + b.var() / b.size)
        assert abs(z_mean) < 4.0, z_mean
        se_var = math.sqrt(2 / a.size) * a.var() + math.sqrt(2 / b.size) * b.var()
        assert abs(a.var() - b.var()) < 4.0 * se_var
