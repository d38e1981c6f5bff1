"""Property tests: random valid configs and random (also out-of-range) finite actions.

For every drawn config and action sequence, in the scalar and the vector env:
observations are finite and inside observation_space, the accounting identities hold on
every step, and |inventory| never exceeds the limit.
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mm_env import MarketConfig, MarketMakingEnv, MarketMakingVectorEnv

# derandomize: a fixed seed, so the suite is deterministic (run with a larger max_examples
# and derandomize=False to hunt; 3000 random examples per test passed when this was written).
SETTINGS = settings(
    max_examples=50,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

finite = {"allow_nan": False, "allow_infinity": False}


@st.composite
def configs(draw):
    mid_model = draw(st.sampled_from(["gbm", "abm"]))
    fill_model = draw(st.sampled_from(["poisson", "bernoulli"]))
    # keep the GBM mid finite and positive in float32 over <= 30 steps
    sigma = draw(st.floats(0.0, 1.0 if mid_model == "gbm" else 20.0, **finite))
    mu = draw(st.floats(-1.0, 1.0, **finite))
    order_size = draw(st.floats(0.01, 5.0, **finite))
    limit = draw(
        st.one_of(
            st.just(math.inf),
            st.floats(1.0, 10.0, **finite).map(lambda m: m * order_size),
            st.just(order_size),
        )
    )
    min_depth = draw(st.floats(-5.0, 2.0, **finite))
    width = draw(st.floats(1e-3, 10.0, **finite))
    reward = draw(st.sampled_from(["pnl", "inventory_penalty"]))
    return MarketConfig(
        mid_model=mid_model,
        fill_model=fill_model,
        S0=draw(st.floats(1.0, 1000.0, **finite)),
        mu=mu,
        sigma=sigma,
        T=draw(st.floats(0.01, 10.0, **finite)),
        n_steps=draw(st.integers(1, 30)),
        A=draw(st.floats(0.1, 1000.0, **finite)),
        k=draw(st.floats(0.01, 10.0, **finite)),
        order_size=order_size,
        inventory_limit=limit,
        min_depth=min_depth,
        max_depth=min_depth + width,
        reward=reward,
        phi=draw(st.floats(0.0, 10.0, **finite)),
        alpha=draw(st.floats(0.0, 10.0, **finite)),
    )


def depths(cfg):
    """Finite depths, also far outside [min_depth, max_depth] (the env clips them)."""
    inside = st.floats(cfg.min_depth, cfg.max_depth, **finite)
    outside = st.floats(-1e6, 1e6, **finite)
    edges = st.sampled_from([cfg.min_depth, cfg.max_depth, 0.0, -0.0])
    return st.one_of(inside, outside, edges)


def check_step(cfg, prev, info, action, obs, reward, space):
    """The one-step identities on plain float values of one sub-env."""
    size = cfg.order_size
    assert np.all(np.isfinite(obs))
    assert space.contains(obs), (obs, space)
    for key in ("mid", "cash", "inventory", "wealth"):
        assert math.isfinite(info[key]), key
    assert math.isfinite(reward)
    lo, hi = cfg.min_depth, cfg.max_depth
    db, da = min(max(action[0], lo), hi), min(max(action[1], lo), hi)
    bid_quoted = prev["inventory"] + size <= cfg.inventory_limit
    ask_quoted = prev["inventory"] - size >= -cfg.inventory_limit
    assert info["bid_quoted"] == bid_quoted and math.isfinite(info["bid"])
    assert info["ask_quoted"] == ask_quoted and math.isfinite(info["ask"])
    bf, af = bool(info["bid_filled"]), bool(info["ask_filled"])
    assert bid_quoted or not bf
    assert ask_quoted or not af
    scale = 1.0 + abs(prev["cash"]) + size * (abs(prev["mid"]) + abs(db) + abs(da))
    if bid_quoted:
        assert math.isclose(info["bid"], prev["mid"] - db, rel_tol=1e-12, abs_tol=1e-12 * scale)
    if ask_quoted:
        assert math.isclose(info["ask"], prev["mid"] + da, rel_tol=1e-12, abs_tol=1e-12 * scale)
    d_cash = -size * (info["bid"] if bf else 0.0) + size * (info["ask"] if af else 0.0)
    assert math.isclose(info["cash"] - prev["cash"], d_cash, rel_tol=1e-9, abs_tol=1e-9 * scale)
    assert math.isclose(info["inventory"] - prev["inventory"], size * (bf - af),
                        rel_tol=1e-9, abs_tol=1e-9 * size)
    assert abs(info["inventory"]) <= cfg.inventory_limit
    wealth = info["cash"] + info["inventory"] * info["mid"]
    w_scale = 1.0 + abs(info["cash"]) + abs(info["inventory"] * info["mid"])
    assert math.isclose(info["wealth"], wealth, rel_tol=1e-12, abs_tol=1e-12 * w_scale)
    d_w = info["wealth"] - prev["wealth"]
    if cfg.reward == "pnl":
        expected = d_w
    else:
        q2 = info["inventory"] ** 2
        expected = d_w - cfg.phi * q2 * cfg.dt - cfg.alpha * q2 * (info["step"] == cfg.n_steps)
    penalty_scale = (cfg.phi * cfg.dt + cfg.alpha) * info["inventory"] ** 2
    r_scale = w_scale + abs(prev["wealth"]) + penalty_scale
    assert math.isclose(reward, expected, rel_tol=1e-9, abs_tol=1e-9 * r_scale)
    assert info["step"] == prev["step"] + 1


@SETTINGS
@given(data=st.data(), cfg=configs(), seed=st.integers(0, 2**32 - 1))
def test_scalar_env_properties(data, cfg, seed):
    env = MarketMakingEnv(config=cfg)
    obs, info = env.reset(seed=seed)
    assert env.observation_space.contains(obs)
    assert obs[0] == np.float32(cfg.T) and obs[1] == 0.0 and obs[2] == np.float32(cfg.S0)
    actions = data.draw(st.lists(st.tuples(depths(cfg), depths(cfg)),
                                 min_size=cfg.n_steps, max_size=cfg.n_steps))
    for i, action in enumerate(actions):
        prev = info
        obs, reward, terminated, truncated, info = env.step(np.array(action, dtype=np.float64))
        check_step(cfg, prev, info, action, obs, reward, env.observation_space)
        assert truncated is False
        assert terminated is (i == cfg.n_steps - 1)
    assert obs[0] == 0.0


@SETTINGS
@given(data=st.data(), cfg=configs(), seed=st.integers(0, 2**32 - 1),
       num_envs=st.integers(1, 5))
def test_vector_env_properties(data, cfg, seed, num_envs):
    env = MarketMakingVectorEnv(num_envs, config=cfg, autoreset_mode="Disabled")
    obs, info = env.reset(seed=seed)
    assert env.observation_space.contains(obs)
    for i in range(cfg.n_steps):
        action = np.array(
            data.draw(st.lists(st.tuples(depths(cfg), depths(cfg)),
                               min_size=num_envs, max_size=num_envs)),
            dtype=np.float64,
        )
        prev = info
        obs, reward, terminated, truncated, info = env.step(action)
        assert env.observation_space.contains(obs)
        assert not truncated.any()
        assert np.all(terminated == (i == cfg.n_steps - 1))
        for j in range(num_envs):
            prev_j = {k: v[j].item() for k, v in prev.items() if not k.startswith("_")}
            info_j = {k: v[j].item() for k, v in info.items() if not k.startswith("_")}
            check_step(cfg, prev_j, info_j, action[j].tolist(), obs[j], float(reward[j]),
                       env.single_observation_space)


@SETTINGS
@given(cfg=configs())
def test_config_round_trips(cfg):
    assert MarketConfig.from_dict(cfg.to_dict()) == cfg
    assert cfg.replace() == cfg
    assert cfg.dt > 0 and math.isclose(cfg.dt * cfg.n_steps, cfg.T, rel_tol=1e-12)
