"""The optional market components through both environments: frictions (tick, fees,
liquidation, size action) and their accounting identities, observation extras and info keys,
replay of a price series, the Gymnasium/SB3 checkers, autoreset, and property tests."""

from __future__ import annotations

import math
import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env as gym_check_env
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stable_baselines3.common.env_checker import check_env as sb3_check_env

from mm_env import (
    ENV_ID,
    MarketConfig,
    MarketDynamics,
    MarketMakingEnv,
    MarketMakingVectorEnv,
    PriceSeries,
    action_names,
    observation_names,
)
from mm_env.components.frictions.tick import Tick
from mm_env.ops import ArrayOps, ScalarOps
from tests.mm_env.conftest import EVERYTHING

EXPECTED_CHECKER_WARNINGS = (
    r".*symmetric and normalized.*",
    r".*observation space (minimum|maximum) value is (-)?infinity.*",
)

COMPONENT_CASES = [
    ("adverse", {}),
    ("alpha", {"signal_obs_noise": 2.0}),
    ("microstructure", {"size_action": True}),
    ("default", {"ou_rate": 3.0, "jump_rate": 5.0, "jump_std": 0.01, "tick_size": 0.01}),
    ("as2008", EVERYTHING),
    ("microstructure", {"jump_rate": 0.0, "replay": 100 + np.sin(np.arange(500) / 9.0)}),
]


def run(env_kind, actions, seed, n_envs=16, **config):
    """One episode; stacked infos (reset row first), observations, rewards, actions."""
    if env_kind == "scalar":
        env = MarketMakingEnv(**config)
        obs, info = env.reset(seed=seed)
        infos, observations, rewards, acts = [info], [obs], [], []
        for i in range(env.config.n_steps):
            a = np.asarray(actions(i) if callable(actions) else actions, dtype=np.float64)
            obs, r, term, trunc, info = env.step(a)
            assert term is (i == env.config.n_steps - 1) and trunc is False
            infos.append(info)
            observations.append(obs)
            rewards.append(r)
            acts.append(a)
        stacked = {k: np.array([x[k] for x in infos]) for k in infos[0]}
        return env, stacked, np.array(observations), np.array(rewards), np.array(acts)
    env = MarketMakingVectorEnv(n_envs, autoreset_mode="Disabled", **config)
    obs, info = env.reset(seed=seed)
    infos, observations, rewards, acts = [info], [obs], [], []
    width = env.single_action_space.shape[0]
    for i in range(env.config.n_steps):
        a = actions(i) if callable(actions) else actions
        a = np.array(np.broadcast_to(np.asarray(a, dtype=np.float64), (n_envs, width)))
        obs, r, term, _, info = env.step(a)
        assert np.all(term == (i == env.config.n_steps - 1))
        infos.append(info)
        observations.append(obs)
        rewards.append(r)
        acts.append(a)
    stacked = {k: np.stack([x[k] for x in infos]) for k in infos[0] if not k.startswith("_")}
    return env, stacked, np.stack(observations), np.stack(rewards), np.stack(acts)


def cfg_of(kw):
    return MarketConfig.preset(kw.get("preset", "default"),
                               **{k: v for k, v in kw.items() if k != "preset"})


def random_actions(cfg, shape, seed=0):
    rng = np.random.default_rng(seed)
    lo, hi = cfg.min_depth - 0.5, min(cfg.max_depth, 3.0) + 0.5

    def act(i):
        a = rng.uniform(lo, hi, size=(*shape, 2))
        if cfg.size_action:
            a = np.concatenate([a, rng.uniform(0.0, cfg.max_order_size + 1, (*shape, 1))], -1)
        return a

    return act


def check_identities(cfg, info, rewards, acts):
    """Per-step identities on stacked infos: quotes, fills, cash with fees and liquidation,
    inventory with the quote size, wealth, rewards (pnl)."""
    prev = {k: v[:-1] for k, v in info.items()}
    cur = {k: v[1:] for k, v in info.items()}
    bf, af = cur["bid_filled"].astype(bool), cur["ask_filled"].astype(bool)
    size = np.clip(acts[..., 2], cfg.order_size, cfg.max_order_size) if cfg.size_action \
        else np.full(bf.shape, cfg.order_size)
    if cfg.size_action:
        np.testing.assert_array_equal(cur["size"], size)
    qb, qa = cur["bid_quoted"].astype(bool), cur["ask_quoted"].astype(bool)
    assert np.isfinite(cur["bid"]).all() and np.isfinite(cur["ask"]).all()
    np.testing.assert_array_equal(qb, prev["inventory"] + size <= cfg.inventory_limit)
    np.testing.assert_array_equal(qa, prev["inventory"] - size >= -cfg.inventory_limit)
    assert not np.any(bf & ~qb) and not np.any(af & ~qa)
    fee = cfg.maker_fee * size * (bf.astype(float) + af.astype(float))
    if cfg.maker_fee != 0:
        np.testing.assert_allclose(cur["fees"], fee, rtol=1e-12, atol=1e-15)
    dq = size * (bf.astype(float) - af.astype(float))
    np.testing.assert_allclose(cur["inventory"] - prev["inventory"], dq, rtol=0, atol=1e-12)
    liq = np.zeros_like(dq)
    liq[-1] = 0.5 * cfg.liquidation_impact * cur["inventory"][-1] ** 2
    if cfg.liquidation_impact > 0:
        np.testing.assert_allclose(cur["liquidation_cost"], liq, rtol=1e-12, atol=0)
    bid_px = np.where(bf, cur["bid"], 0.0)
    ask_px = np.where(af, cur["ask"], 0.0)
    d_cash = -size * bid_px + size * ask_px - fee - liq
    scale = 1.0 + np.abs(prev["cash"])
    np.testing.assert_allclose(cur["cash"] - prev["cash"], d_cash, rtol=0, atol=1e-9 * scale.max())
    np.testing.assert_allclose(info["wealth"], info["cash"] + info["inventory"] * info["mid"],
                               rtol=1e-12, atol=1e-9)
    assert np.all(np.abs(info["inventory"]) <= cfg.inventory_limit)
    if cfg.reward == "pnl":
        np.testing.assert_allclose(rewards, np.diff(info["wealth"], axis=0), rtol=1e-9,
                                   atol=1e-9)
    if cfg.tick_size > 0:
        h = cfg.tick_size
        for px in (cur["bid"], cur["ask"]):  # would-be quotes are on the grid too
            np.testing.assert_allclose(px / h, np.round(px / h), rtol=0, atol=1e-6)


# ------------------------------------------------------------------- tick snapping
@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(mid=st.floats(0.5, 1e4), depth_b=st.floats(-3.0, 5.0), depth_a=st.floats(-3.0, 5.0),
       tick=st.sampled_from([0.01, 0.05, 0.1, 0.25, 1.0, 1 / 3]),
       on_grid=st.booleans())
def test_tick_snapping_properties(mid, depth_b, depth_a, tick, on_grid):
    """Quotes lie on the grid, never closer to the mid than asked (away from the mid, up to
    1e-9 ticks of rounding), at most one tick further, and never through the mid when the
    requested depth is >= 0. Float and array paths agree."""
    if on_grid:
        mid = round(mid / tick) * tick
    cfg = MarketConfig(mid_model="abm", tick_size=tick, min_depth=-5.0, max_depth=10.0)
    tick_component = Tick(cfg)
    bid, ask = tick_component.snap(ScalarOps, mid, mid - depth_b, mid + depth_a)
    slack = 1e-9 * tick + 4 * np.finfo(float).eps * mid
    assert abs(bid / tick - round(bid / tick)) < 1e-6
    assert abs(ask / tick - round(ask / tick)) < 1e-6
    assert bid <= mid - depth_b + slack and bid > mid - depth_b - tick - slack
    assert ask >= mid + depth_a - slack and ask < mid + depth_a + tick + slack
    if depth_b >= 0:
        assert bid <= mid
    if depth_a >= 0:
        assert ask >= mid
    arr = tick_component.snap(ArrayOps, np.array([mid]), np.array([mid - depth_b]),
                    np.array([mid + depth_a]))
    assert arr[0][0] == bid and arr[1][0] == ask


def test_tick_on_grid_depths_stay_put():
    """A quote requested exactly on the grid (e.g. replayed prices on a 0.01 grid, one tick
    deep) is not pushed a tick further by floating-point rounding."""
    cfg = MarketConfig(mid_model="abm", tick_size=0.01, S0=99.37, sigma=0.0)
    dyn = MarketDynamics(cfg)
    r = dyn.step(dyn.initial_state(), 0.01, 0.03, 0.0, 0.99, 0.99)
    assert r.bid == pytest.approx(99.36, abs=1e-12) and r.ask == pytest.approx(99.40, abs=1e-12)


@pytest.mark.parametrize("env_kind", ["scalar", "vector"])
def test_tick_never_quotes_through_the_mid(env_kind):
    kw = {"preset": "as2008", "tick_size": 0.25, "min_depth": 0.0, "n_steps": 100}
    shape = (16,) if env_kind == "vector" else ()
    _, info, _, _, _ = run(env_kind, random_actions(cfg_of(kw), shape), seed=3, **kw)
    mid = info["mid"][:-1]
    assert np.all(info["bid"][1:] <= mid) and np.all(info["ask"][1:] >= mid)
    assert np.any(info["bid"][1:] < mid)


def test_tick_fills_follow_the_effective_depth():
    """At requested depth 0 the snapped bid is up to a tick below the mid, and the fill
    probability is that of the effective depth, not of depth 0."""
    n = 20_000
    env = MarketMakingVectorEnv(n, autoreset_mode="Disabled", preset="default", tick_size=0.25,
                                n_steps=5, T=0.025)
    _, info = env.reset(seed=4)
    infos = [info]
    for _ in range(5):
        infos.append(env.step(np.zeros((n, 2)))[-1])
    cfg = env.config
    mid = np.stack([x["mid"] for x in infos])
    bid = np.stack([x["bid"] for x in infos])
    f = np.stack([x["bid_filled"] for x in infos])[1:]
    d_eff = mid[:-1] - bid[1:]
    assert np.all(d_eff >= 0) and np.all(d_eff < 0.25 + 1e-9)
    p = -np.expm1(-cfg.A * np.exp(-cfg.k * d_eff) * cfg.dt)
    se = math.sqrt((p * (1 - p)).sum()) / f.size
    assert abs(f.mean() - p.mean()) < 4 * se
    p0 = 1 - math.exp(-cfg.A * cfg.dt)  # the un-snapped depth 0
    assert abs(f.mean() - p0) > 4 * se


# ------------------------------------------------------ fees, liquidation, size action
FRICTION_CASES = [
    {"preset": "as2008", "maker_fee": 0.05, "n_steps": 60},
    {"preset": "as2008", "maker_fee": -0.02, "inventory_limit": 5.0, "n_steps": 60},
    {"preset": "penalty", "liquidation_impact": 0.3, "n_steps": 60},
    {"preset": "as2008", "size_action": True, "max_order_size": 3.0, "inventory_limit": 7.0,
     "maker_fee": 0.01, "liquidation_impact": 0.1, "n_steps": 60},
    {"preset": "as2008", **EVERYTHING, "n_steps": 60},
]


@pytest.mark.parametrize("kw", FRICTION_CASES)
@pytest.mark.parametrize("env_kind", ["scalar", "vector"])
def test_accounting_identities_with_frictions(kw, env_kind):
    cfg = cfg_of(kw)
    shape = (16,) if env_kind == "vector" else ()
    env, info, obs, rewards, acts = run(env_kind, random_actions(cfg, shape), seed=5, **kw)
    check_identities(env.config, info, rewards, acts)
    assert info["bid_filled"].any() and info["ask_filled"].any()
    assert np.all(np.isfinite(obs))


@pytest.mark.parametrize("env_kind", ["scalar", "vector"])
def test_rewards_sum_to_terminal_wealth_net_of_fees_and_liquidation(env_kind):
    kw = {"preset": "microstructure", "maker_fee": 0.03}
    _, info, _, rewards, _ = run(env_kind, [0.3, 0.8], seed=6, **kw)
    np.testing.assert_allclose(rewards.sum(axis=0), info["wealth"][-1], rtol=1e-9, atol=1e-8)
    fills = info["bid_filled"][1:].sum(axis=0) + info["ask_filled"][1:].sum(axis=0)
    np.testing.assert_allclose(info["fees"][1:].sum(axis=0), 0.03 * fills, rtol=1e-12)


def test_liquidation_cost_only_at_the_end():
    kw = {"preset": "as2008", "liquidation_impact": 0.4, "n_steps": 30}
    _, info, _, _, _ = run("vector", [0.0, 3.0], seed=7, **kw)  # builds inventory
    q = info["inventory"][-1]
    assert np.all(q > 0)
    assert np.all(info["liquidation_cost"][:-1] == 0.0)
    np.testing.assert_allclose(info["liquidation_cost"][-1], 0.2 * q**2, rtol=1e-12)
    # same market without the cost: identical up to the last step's cash
    _, ref, _, _, _ = run("vector", [0.0, 3.0], seed=7, **{**kw, "liquidation_impact": 0.0})
    np.testing.assert_array_equal(info["cash"][:-1], ref["cash"][:-1])
    np.testing.assert_allclose(ref["cash"][-1] - info["cash"][-1], 0.2 * q**2, rtol=1e-12)


def test_size_action_spaces_and_errors():
    env = MarketMakingEnv(preset="as2008", size_action=True, max_order_size=4.0)
    assert env.action_space.shape == (3,)
    assert env.action_space.low[2] == 1.0 and env.action_space.high[2] == 4.0
    assert action_names(env.config) == ("bid_depth", "ask_depth", "size")
    assert action_names(MarketConfig()) == ("bid_depth", "ask_depth")
    env.reset(seed=0)
    with pytest.raises(ValueError, match=r"shape \(3,\) of real numbers, \[bid_depth, "
                       r"ask_depth, size\] \(size_action=True\); got array\(\[1\., 1\.\]\) "
                       r"of shape \(2,\)"):
        env.step(np.array([1.0, 1.0]))
    with pytest.raises(ValueError, match=r"action size must be a finite number, got size=nan"):
        env.step(np.array([1.0, 1.0, math.nan]))
    _, _, _, _, info = env.step(np.array([0.0, 0.0, 9.0]))  # clipped to 4
    assert info["size"] == 4.0
    assert info["inventory"] in (-4.0, 0.0, 4.0)
    venv = MarketMakingVectorEnv(3, preset="as2008", size_action=True)
    venv.reset(seed=0)
    with pytest.raises(ValueError, match=r"shape \(3, 3\) = \(num_envs, \[bid_depth, ask_depth, "
                                         r"size\]\), got shape \(3, 2\)"):
        venv.step(np.ones((3, 2)))
    bad = np.ones((3, 3))
    bad[1, 2] = math.inf
    with pytest.raises(ValueError, match=r"actions must be finite numbers, got \[1\.0, 1\.0, "
                                         r"inf\] for env 1"):
        venv.step(bad)
    assert venv.step(np.ones((3, 3)))[-1]["size"].tolist() == [1.0, 1.0, 1.0]


# ------------------------------------------------------------ observation and info
@pytest.mark.parametrize(("preset", "overrides"), COMPONENT_CASES)
def test_observation_layout_and_info_keys(preset, overrides):
    env = MarketMakingEnv(preset=preset, **overrides)
    venv = MarketMakingVectorEnv(4, preset=preset, **overrides)
    cfg = env.config
    names = observation_names(cfg)
    assert names[:3] == ("time_remaining", "inventory", "mid")
    assert names[3:] == cfg.obs_extras
    assert env.observation_space.shape == (len(names),)
    assert venv.single_observation_space == env.observation_space
    dyn = env.dynamics
    width = env.action_space.shape[0]
    for e in (env, venv):
        obs, info = e.reset(seed=1)
        space = e.observation_space
        assert space.contains(obs)
        assert set(dyn.info_keys) <= set(info)
        for _ in range(cfg.n_steps + 2):
            a = np.full((4, width) if e is venv else (width,), 0.5)
            if e is env and env._last is not None and env._last.terminated:
                obs, info = e.reset()
            else:
                obs, _, _, _, info = e.step(a)
            assert space.contains(obs), obs
            assert set(dyn.info_keys) <= set(info)
            if e is venv:
                for key in dyn.info_keys:
                    assert info[key].shape == (4,) and info["_" + key].all()


def test_base_config_adds_no_info_keys_and_no_observation_columns():
    env = MarketMakingEnv()
    obs, info = env.reset(seed=0)
    assert obs.shape == (3,)
    assert set(info) == {"mid", "cash", "inventory", "wealth", "bid", "ask", "bid_quoted",
                         "ask_quoted", "bid_filled", "ask_filled", "step"}
    assert env.dynamics.info_keys == () and env.dynamics.features == ()
    assert [c.name for c in env.dynamics.components] == [
        "fixed", "gbm", "constant", "exponential", "poisson"]


@pytest.mark.parametrize("mode", ["NextStep", "SameStep"])
def test_autoreset_with_component_state(mode):
    """Reset sub-envs restart from a fresh component state: step 0, reset info extras (0 for
    per-step values, order_size for the quoted size), and under SameStep the final info keeps
    the terminal extras."""
    n, m = 4, 3
    env = MarketMakingVectorEnv(m, autoreset_mode=mode, preset="microstructure", n_steps=n,
                                T=0.02, size_action=True, signal_std=3.0, obs_extras=("signal",))
    _, info0 = env.reset(seed=2)
    size0 = env.config.order_size
    assert np.all(info0["size"] == size0) and np.all(info0["fees"] == 0)
    act = np.tile([0.0, 0.0, 2.0], (m, 1))
    for _ in range(n):
        obs, _, term, _, info = env.step(act)
    assert term.all()
    if mode == "SameStep":
        final = info["final_info"]
        assert np.all(final["liquidation_cost"] >= 0) and np.all(final["size"] == 2.0)
        assert np.all(info["step"] == 0) and np.all(info["size"] == size0)
        assert np.all(info["fees"] == 0.0) and np.all(info["liquidation_cost"] == 0.0)
        np.testing.assert_array_equal(obs[:, 3], info["signal"].astype(np.float32))
    else:
        obs, rew, term, _, info = env.step(act)
        assert np.all(rew == 0) and not term.any() and np.all(info["step"] == 0)
        assert np.all(info["size"] == size0) and np.all(info["arrivals_buy"] == 0)
    assert np.all(obs[:, 0] == np.float32(env.config.T))


# ------------------------------------------------------------------------- checkers
def _filters():
    warnings.simplefilter("error")
    for pattern in EXPECTED_CHECKER_WARNINGS:
        warnings.filterwarnings("ignore", message=pattern)


@pytest.mark.parametrize(("preset", "overrides"), COMPONENT_CASES)
def test_checkers_on_component_configs(preset, overrides):
    with warnings.catch_warnings():
        _filters()
        gym_check_env(gym.make(ENV_ID, preset=preset, **overrides).unwrapped)
        sb3_check_env(MarketMakingEnv(preset=preset, **overrides), warn=True)


@pytest.mark.parametrize(("preset", "overrides"), COMPONENT_CASES)
def test_same_seed_same_trajectory_with_components(preset, overrides):
    def rollout(seed):
        env = MarketMakingVectorEnv(3, preset=preset, n_steps=15, **overrides)
        out = [env.reset(seed=seed)]
        rng = np.random.default_rng(0)
        for _ in range(35):
            a = rng.uniform(0.0, 2.0, size=(3, env.single_action_space.shape[0]))
            out.append(env.step(a))
        return out

    a, b, c = rollout(9), rollout(9), rollout(10)
    for x, y in zip(a, b, strict=True):
        for u, v in zip(x, y, strict=True):
            if isinstance(u, dict):
                for key in u:
                    if not key.startswith("_") and key not in ("final_obs", "final_info"):
                        np.testing.assert_array_equal(u[key], v[key])
            else:
                np.testing.assert_array_equal(u, v)
    assert not np.array_equal(a[-1][0], c[-1][0])


def test_scalar_and_vector_env_agree_in_distribution_with_components():
    """Terminal wealth under a fixed quote on the alpha and adverse presets: two-sample z."""
    for preset in ("alpha", "adverse"):
        n_s = 400
        env = MarketMakingEnv(preset=preset, n_steps=40)
        env.reset(seed=3)
        w = np.empty(n_s)
        for e in range(n_s):
            if e:
                env.reset()
            for _ in range(40):
                _, _, _, _, info = env.step(np.array([0.8, 0.8]))
            w[e] = info["wealth"]
        _, info_v, _, _, _ = run("vector", [0.8, 0.8], seed=4, n_envs=8000, preset=preset,
                                 n_steps=40)
        wv = info_v["wealth"][-1]
        diff = w.mean() - wv.mean()
        se = math.hypot(w.std(ddof=1) / math.sqrt(n_s), wv.std(ddof=1) / math.sqrt(wv.size))
        assert abs(diff) < 4 * se, (preset, diff, se)


# ---------------------------------------------------------------------------- replay
def _series(n=300, seed=0):
    """A random-walk price series with distinct values (a value identifies its index)."""
    rng = np.random.default_rng(seed)
    return 100.0 + np.cumsum(rng.normal(0.0, 0.2, n))


@pytest.mark.parametrize("env_kind", ["scalar", "vector"])
def test_replay_reproduces_the_series_exactly(env_kind):
    series = _series()
    kw = {"mid_model": "abm", "sigma": 1.0, "replay": series, "n_steps": 50}
    for episode in range(3):
        if env_kind == "scalar":
            env = MarketMakingEnv(**kw)
            env.reset(seed=episode)
            mids = [env.get_state()["market"].mid]
            for _ in range(50):
                mids.append(env.step(np.array([0.5, 0.5]))[-1]["mid"])
            mids = np.array(mids)[:, None]
        else:
            _, info, _, _, _ = run("vector", [0.5, 0.5], seed=episode, n_envs=8, **kw)
            mids = info["mid"]
        for j in range(mids.shape[1]):
            o = int(np.flatnonzero(series == mids[0, j])[0])
            assert 0 <= o <= series.size - 51
            np.testing.assert_array_equal(mids[:, j], series[o:o + 51])  # exactly


def test_replay_offsets_are_random_per_episode_and_cover_the_range():
    series = np.arange(1.0, 61.0)  # prices 1..60 identify their index
    env = MarketMakingEnv(mid_model="abm", replay=series, n_steps=10)
    env.reset(seed=0)
    starts = {env.get_state()["market"].parts["offset"]}
    for _ in range(300):
        _, info = env.reset()
        offset = env.get_state()["market"].parts["offset"]
        starts.add(offset)
        assert info["mid"] == series[offset]
    assert starts == set(range(0, 50))  # 0 .. L - n_steps - 1
    venv = MarketMakingVectorEnv(500, mid_model="abm", replay=series, n_steps=10)
    _, info = venv.reset(seed=0)
    assert set((info["mid"] - 1).astype(int).tolist()) == set(range(50))
    fixed = MarketMakingVectorEnv(4, mid_model="abm", replay=series, n_steps=10,
                                  replay_random_start=False)
    assert np.all(fixed.reset(seed=1)[1]["mid"] == 1.0)
    # a series of exactly n_steps + 1 prices always starts at 0
    short = MarketMakingEnv(mid_model="abm", replay=series[:11], n_steps=10)
    short.reset(seed=3)
    assert short.get_state()["market"].parts["offset"] == 0


def test_replay_with_frictions_and_flow_features():
    series = _series(400, seed=2)
    kw = {"preset": "microstructure", "jump_rate": 0.0, "replay": series, "tick_size": 0.01,
          "n_steps": 100}
    env, info, _, rewards, acts = run("vector", random_actions(cfg_of(kw), (8,)), seed=1,
                                      n_envs=8, **kw)
    check_identities(env.config, info, rewards, acts)
    for j in range(8):
        o = int(np.flatnonzero(series == info["mid"][0, j])[0])
        np.testing.assert_array_equal(info["mid"][:, j], series[o:o + 101])


def test_replay_from_csv_and_npy(tmp_path):
    series = _series(120)
    csv_path = tmp_path / "prices.csv"
    lines = ["time,close,volume"] + [f"{i},{float(p)!r},7" for i, p in enumerate(series)]
    csv_path.write_text("\n".join(lines) + "\n")
    cfg = MarketConfig(mid_model="abm", replay=str(csv_path), replay_column="close", n_steps=50)
    assert isinstance(cfg.replay, PriceSeries)
    np.testing.assert_array_equal(cfg.replay.values, series)
    assert cfg.replay.source == str(csv_path) and cfg.replay.column == "close"
    npy = tmp_path / "prices.npy"
    np.save(npy, series)
    cfg2 = MarketConfig(mid_model="abm", replay=npy, n_steps=50)
    assert cfg2.replay == cfg.replay and hash(cfg2.replay) == hash(cfg.replay)
    assert cfg2 == cfg.replace(replay_column="price", replay=npy)
    assert MarketConfig.from_dict(cfg.to_dict()) == cfg
    assert hash(MarketConfig.from_dict(cfg.to_dict())) == hash(cfg)
    env = MarketMakingEnv(config=cfg, replay_random_start=False)
    env.reset(seed=0)
    mids = [env.step(np.array([1.0, 1.0]))[-1]["mid"] for _ in range(50)]
    np.testing.assert_array_equal(mids, series[1:51])
    # changing the column re-reads the file
    with pytest.raises(ValueError, match=r"replay prices must be > 0.*value 0\.0 at index 0"):
        cfg.replace(replay_column="time")


@pytest.mark.parametrize(
    ("content", "column", "message"),
    [
        ("price\n1\n2\n", "close", r"replay_column 'close' not found in .*; its columns are "
                                   r"\['price'\]"),
        ("", "price", r"is empty \(a header row is needed\)"),
        ("price\n1\nabc\n3\n", "price", r"line 3, column 'price': 'abc' is not a number"),
        ("price\n1\n-2\n3\n", "price", r"replay prices must be > 0 .*value -2\.0 at index 1"),
        ("price\n1\n0\n3\n", "price", r"must be > 0 .*value 0\.0 at index 1"),
        ("price\n1\nnan\n3\n", "price", r"must be finite .*value nan at index 1"),
        ("price\n1\ninf\n3\n", "price", r"must be finite .*value inf at index 1"),
        ("price\n1\n", "price", r"at least 2 values .*got 1"),
    ],
)
def test_replay_csv_errors(tmp_path, content, column, message):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(ValueError, match=message):
        MarketConfig(mid_model="abm", replay=str(path), replay_column=column, n_steps=1)


def test_replay_errors():
    with pytest.raises(ValueError, match=r"replay file not found: '/nonexistent/p\.csv'"):
        MarketConfig(replay="/nonexistent/p.csv")
    with pytest.raises(ValueError, match=r"replay series too short for the episode: n_steps \+ 1 "
                                         r"= 201 prices are needed, got 200"):
        MarketConfig(replay=np.full(200, 100.0))
    with pytest.raises(ValueError, match=r"1-D series, got an array of shape \(10, 2\)"):
        MarketConfig(replay=np.ones((10, 2)))
    with pytest.raises(ValueError, match=r"replay must be a PriceSeries, a path .* got dict"):
        MarketConfig(replay={"a": 1})
    with pytest.raises(ValueError, match=r"replay prices must be numbers"):
        MarketConfig(replay=["a", "b"])
    for name, value in (("adverse_prob", 0.5), ("signal_std", 1.0), ("jump_rate", 1.0),
                        ("ou_rate", 1.0), ("mu", 0.1)):
        extra = {"adverse_jump": 1.0} if name == "adverse_prob" else {}
        extra = {**extra, "jump_std": 1.0} if name == "jump_rate" else extra
        with pytest.raises(ValueError, match=rf"^{name} must be 0\.0 with a replayed mid"):
            MarketConfig(replay=_series(), n_steps=10, **{name: value}, **extra)


def test_price_series_is_immutable_and_compared_by_content():
    s = PriceSeries([1.0, 2.0, 3.0])
    assert len(s) == 3 and not s.values.flags.writeable
    with pytest.raises(AttributeError):
        s.values = np.ones(3)  # type: ignore[misc]
    assert s == PriceSeries(np.array([1.0, 2.0, 3.0])) and s != PriceSeries([1.0, 2.0, 4.0])
    import copy
    import pickle

    assert copy.deepcopy(s) is s
    assert pickle.loads(pickle.dumps(s)) == s
    assert "n=3" in repr(s)


# ------------------------------------------------------------------ property tests
SETTINGS = settings(max_examples=40, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow])
finite = {"allow_nan": False, "allow_infinity": False}


@st.composite
def component_configs(draw):
    mid_model = draw(st.sampled_from(["gbm", "abm"]))
    sig = 0.05 if mid_model == "gbm" else 2.0
    signal = draw(st.booleans())
    counts = draw(st.booleans())
    kw = {
        "mid_model": mid_model,
        "sigma": draw(st.floats(0.0, sig, **finite)),
        "n_steps": draw(st.integers(1, 25)),
        "T": draw(st.floats(0.01, 2.0, **finite)),
        "A": 0.0,  # set below from the expected orders per step
        "k": draw(st.floats(0.2, 5.0, **finite)),
        "fill_model": "poisson" if counts else draw(st.sampled_from(["poisson", "bernoulli"])),
        "order_size": draw(st.floats(0.1, 3.0, **finite)),
        "min_depth": draw(st.floats(-0.5, 1.0, **finite)),
        "ou_rate": draw(st.sampled_from([0.0, 0.5, 20.0])),
        "jump_rate": draw(st.sampled_from([0.0, 3.0, 100.0])),
        "jump_std": sig / 4,
        "adverse_prob": draw(st.floats(0.0, 1.0, **finite)),
        "adverse_jump": draw(st.floats(0.0, sig / 4, **finite)),
        # in drift units: log-price/session under gbm, so scaled like sigma
        "signal_std": draw(st.floats(0.1, 10.0, **finite)) * sig / 2.0 if signal else 0.0,
        "signal_flow": draw(st.floats(0.0, 0.2, **finite)) if signal else 0.0,
        "signal_obs_noise": draw(st.floats(0.0, 2.0, **finite)) if signal else 0.0,
        "hawkes_branching": draw(st.floats(0.0, 0.8, **finite)) if counts else 0.0,
        "hawkes_decay": draw(st.floats(1.0, 200.0, **finite)),
        "flow_skew": draw(st.floats(-0.9, 0.9, **finite)),
        "fill_shape": draw(st.sampled_from(["exponential", "power"])),
        "power_tail": draw(st.floats(1.0, 6.0, **finite)),
        "tick_size": draw(st.sampled_from([0.0, 0.01, 0.1, 0.5])),
        "maker_fee": draw(st.floats(-0.1, 0.1, **finite)),
        "liquidation_impact": draw(st.floats(0.0, 1.0, **finite)),
        "size_action": draw(st.booleans()),
        "obs_halflife": draw(st.floats(0.001, 1.0, **finite)),
    }
    kw["A"] = draw(st.floats(0.05, 2.0, **finite)) * kw["n_steps"] / kw["T"]
    if kw["fill_shape"] == "power":  # the power law needs 1 + k d / m > 0
        kw["min_depth"] = max(kw["min_depth"], -0.9 * kw["power_tail"] / kw["k"])
    kw["max_depth"] = kw["min_depth"] + draw(st.floats(0.5, 5.0, **finite))
    kw["max_order_size"] = kw["order_size"] * draw(st.floats(1.1, 4.0, **finite))
    kw["inventory_limit"] = draw(st.sampled_from([math.inf, 2 * kw["max_order_size"]]))
    extras = ["flow_imbalance", "realized_vol"] + (["signal"] if signal else [])
    if not counts and kw["fill_model"] != "poisson":
        extras.remove("flow_imbalance")
    kw["obs_extras"] = tuple(draw(st.permutations(extras)))[: draw(st.integers(0, 3))]
    return MarketConfig(**kw)


@SETTINGS
@given(cfg=component_configs(), seed=st.integers(0, 2**32 - 1), data=st.data())
def test_properties_with_components(cfg, seed, data):
    """Any valid config with market components: finite observations inside the space, every
    identity, in both envs; the config round-trips."""
    assert MarketConfig.from_dict(cfg.to_dict()) == cfg
    for env_kind in ("scalar", "vector"):
        shape = (3,) if env_kind == "vector" else ()
        env, info, obs, rewards, acts = run(env_kind, random_actions(cfg, shape, seed % 1000),
                                            seed=seed, n_envs=3, config=cfg)
        space = env.observation_space if env_kind == "scalar" else env.single_observation_space
        for o in obs.reshape(-1, obs.shape[-1]):
            assert np.all(np.isfinite(o)) and space.contains(o), (o, space)
        check_identities(cfg, info, rewards, acts)
