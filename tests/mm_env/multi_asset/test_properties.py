"""Property tests: random valid multi-asset configs (any number of assets up to 4, random
correlations, singular ones included, random penalty matrices) under random, also
out-of-range, finite actions: observations inside the observation space, rewards and info
finite, inventories within their limits, in the scalar and the vector env."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mm_env.multi_asset import (
    MultiAssetConfig,
    MultiAssetMarketMakingEnv,
    MultiAssetMarketMakingVectorEnv,
)

SETTINGS = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
finite = {"allow_nan": False, "allow_infinity": False}


@st.composite
def configs(draw):
    n = draw(st.integers(1, 4))
    mid_model = draw(st.sampled_from(["gbm", "abm"]))

    def per_asset(lo, hi):
        return tuple(draw(st.floats(lo, hi, **finite)) for _ in range(n))

    size = per_asset(0.1, 3.0)
    limit = tuple(s * draw(st.integers(1, 5)) for s in size)
    low = per_asset(-3.0, 1.0)
    high = tuple(lo + draw(st.floats(0.1, 10.0, **finite)) for lo in low)
    rank = draw(st.integers(1, n))  # rank < n: a singular correlation
    seed = draw(st.integers(0, 2**31))
    rng = np.random.default_rng(seed)
    b = rng.standard_normal((n, rank))
    cov = b @ b.T
    d = np.sqrt(np.diag(cov))
    rho = cov / np.outer(d, d)
    m = rng.standard_normal((n, n))
    return MultiAssetConfig(
        n_assets=n,
        mid_model=mid_model,
        S0=per_asset(10.0, 200.0),
        mu=per_asset(-1.0, 1.0),
        sigma=per_asset(0.0, 1.0 if mid_model == "gbm" else 10.0),
        A=per_asset(1.0, 500.0),
        k=per_asset(0.1, 5.0),
        order_size=size,
        inventory_limit=limit,
        min_depth=low,
        max_depth=high,
        tick_size=draw(st.sampled_from([0.0, 0.01])),
        rho=rho,
        phi=m @ m.T * draw(st.floats(0.0, 10.0, **finite)),
        alpha=draw(st.floats(0.0, 5.0, **finite)),
        n_steps=draw(st.integers(1, 25)),
        fill_model=draw(st.sampled_from(["poisson", "bernoulli"])),
        reward=draw(st.sampled_from(["pnl", "inventory_penalty"])),
    )


def _check(config, obs, reward, info, space):
    assert space.contains(obs), obs
    assert np.isfinite(reward).all()
    for key, value in info.items():
        if not key.startswith("_"):
            assert np.isfinite(np.asarray(value, dtype=float)).all(), key
    assert (np.abs(info["inventory"]) <= np.array(config.inventory_limit)).all()


@SETTINGS
@given(config=configs(), seed=st.integers(0, 2**32 - 1), scale=st.floats(0.0, 1e6, **finite))
def test_scalar_env_stays_finite_and_in_its_spaces(config, seed, scale):
    env = MultiAssetMarketMakingEnv(config)
    obs, info = env.reset(seed=seed)
    assert env.observation_space.contains(obs)
    rng = np.random.default_rng(seed)
    done = False
    while not done:
        obs, reward, done, _, info = env.step(rng.uniform(-1, 1, 2 * config.n_assets) * scale)
        _check(config, obs, reward, info, env.observation_space)


@SETTINGS
@given(config=configs(), seed=st.integers(0, 2**32 - 1))
def test_vector_env_stays_finite_and_in_its_spaces(config, seed):
    env = MultiAssetMarketMakingVectorEnv(3, config, autoreset_mode="SameStep")
    env.reset(seed=seed)
    rng = np.random.default_rng(seed)
    for _ in range(config.n_steps + 2):
        actions = rng.uniform(-20, 20, (3, 2 * config.n_assets))
        obs, reward, _, _, info = env.step(actions)
        info = {k: v for k, v in info.items() if "final" not in k}
        _check(config, obs, reward, info, env.observation_space)
