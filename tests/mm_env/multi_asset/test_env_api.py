"""Gymnasium API of the multi-asset envs: checkers, spaces, info, seeding, snapshots, errors,
the three autoreset modes of the vector env, and the registration (make, make_vec)."""

from __future__ import annotations

import pickle
import re
import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env as gym_check_env
from gymnasium.vector import AsyncVectorEnv, AutoresetMode, SyncVectorEnv
from stable_baselines3.common.env_checker import check_env as sb3_check_env

import mm_env
from mm_env.multi_asset import (
    MultiAssetConfig,
    MultiAssetMarketMakingEnv,
    MultiAssetMarketMakingVectorEnv,
    action_names,
    observation_names,
)
from mm_env.multi_asset.env import INFO_KEYS

ENV_ID = "mm_env/MultiAssetMarketMaking-v0"
EXPECTED_CHECKER_WARNINGS = (
    r".*symmetric and normalized.*",
    r".*observation space (minimum|maximum) value is (-)?infinity.*",
)
CASES = [
    ("pair", {}),
    ("basket", {"n_steps": 30}),
    ("pair", {"mid_model": "gbm", "sigma": 0.02, "fill_model": "poisson", "tick_size": 0.05}),
    (None, {"n_assets": 1, "reward": "inventory_penalty", "phi": 0.1, "alpha": 0.2}),
]


def _checker_warning_filters():
    warnings.simplefilter("error")
    for pattern in EXPECTED_CHECKER_WARNINGS:
        warnings.filterwarnings("ignore", message=pattern)


def rollout(env, seed, steps, action_seed=7):
    """reset + ``steps`` steps under seeded random actions (some outside the box)."""
    rng = np.random.default_rng(action_seed)
    space = env.single_action_space if hasattr(env, "num_envs") else env.action_space
    shape = (env.num_envs, *space.shape) if hasattr(env, "num_envs") else space.shape
    out = [env.reset(seed=seed)]
    for _ in range(steps):
        out.append(env.step(rng.uniform(space.low - 1, space.high + 1, shape).astype(np.float32)))
    return out


def assert_same(a, b):
    if isinstance(a, dict):
        assert a.keys() == b.keys()
        for k in a:
            assert_same(a[k], b[k])
    elif isinstance(a, (tuple, list)):
        assert len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            assert_same(x, y)
    elif isinstance(a, np.ndarray) and a.dtype == object:
        for x, y in zip(a, b, strict=True):
            assert_same(x, y)
    else:
        assert type(a) is type(b)
        np.testing.assert_array_equal(a, b)


# ------------------------------------------------------------------------- checkers
@pytest.mark.parametrize(("preset", "overrides"), CASES)
def test_gymnasium_check_env(preset, overrides):
    env = gym.make(ENV_ID, preset=preset, render_mode="ansi", **overrides).unwrapped
    with warnings.catch_warnings():
        _checker_warning_filters()
        gym_check_env(env)


@pytest.mark.parametrize(("preset", "overrides"), CASES)
def test_sb3_check_env(preset, overrides):
    with warnings.catch_warnings():
        _checker_warning_filters()
        sb3_check_env(MultiAssetMarketMakingEnv(preset=preset, **overrides), warn=True)


# --------------------------------------------------------------------------- spaces
def test_spaces_and_names_of_the_basket():
    c = MultiAssetConfig.preset("basket", min_depth=(-1.0, 0.0, -2.0), max_depth=(5.0, 6.0, 7.0))
    env = MultiAssetMarketMakingEnv(c)
    np.testing.assert_array_equal(env.action_space.low, [-1, -1, 0, 0, -2, -2])
    np.testing.assert_array_equal(env.action_space.high, [5, 5, 6, 6, 7, 7])
    obs_space = env.observation_space
    assert obs_space.shape == (7,) and obs_space.dtype == np.float32
    np.testing.assert_array_equal(obs_space.low, [0, -5, -5, -5, -np.inf, -np.inf, -np.inf])
    np.testing.assert_array_equal(obs_space.high, [1, 5, 5, 5, np.inf, np.inf, np.inf])
    assert observation_names(c) == (
        "time_remaining",
        "inventory_1",
        "inventory_2",
        "inventory_3",
        "mid_1",
        "mid_2",
        "mid_3",
    )
    assert action_names(c)[:3] == ("bid_depth_1", "ask_depth_1", "bid_depth_2")
    gbm = MultiAssetMarketMakingEnv(n_assets=2)  # class defaults: gbm, no inventory limit
    np.testing.assert_array_equal(gbm.observation_space.low, [0, -np.inf, -np.inf, 0, 0])


def test_observation_and_info_after_reset_and_steps():
    env = MultiAssetMarketMakingEnv(preset="basket")
    obs, info = env.reset(seed=5)
    np.testing.assert_array_equal(obs, np.array([1, 0, 0, 0, 100, 50, 80], np.float32))
    assert set(info) == set(INFO_KEYS)
    np.testing.assert_array_equal(info["bid"], [100, 50, 80])
    np.testing.assert_array_equal(info["ask"], info["mid"])
    assert not info["bid_quoted"].any() and info["bid_quoted"].dtype == bool
    assert info["cash"] == 0.0 and info["wealth"] == 0.0 and info["step"] == 0
    depths = np.array([0.5, 1.0, 0.2, 0.3, 2.0, 0.1], np.float32)
    for t in range(1, 6):
        obs, _, terminated, truncated, info = env.step(depths)
        assert not terminated and not truncated and info["step"] == t
        assert obs[0] == np.float32((200 - t) * 0.005)
        np.testing.assert_array_equal(obs[1:4], info["inventory"].astype(np.float32))
        np.testing.assert_array_equal(obs[4:], info["mid"].astype(np.float32))
        assert info["bid_quoted"].all() and info["ask_quoted"].all()
    for key in ("mid", "inventory", "bid", "ask", "bid_filled"):
        assert info[key].shape == (3,)
    assert all(np.isfinite(np.asarray(v, dtype=float)).all() for v in info.values())


def test_the_episode_terminates_after_n_steps_and_must_be_reset():
    env = MultiAssetMarketMakingEnv(preset="pair", n_steps=3)
    env.reset(seed=0)
    action = np.ones(4, np.float32)
    dones = [env.step(action)[2] for _ in range(3)]
    assert dones == [False, False, True]
    with pytest.raises(RuntimeError, match="the episode has ended"):
        env.step(action)
    with pytest.raises(RuntimeError, match=r"call reset\(\) before step\(\)"):
        MultiAssetMarketMakingEnv(preset="pair").step(action)


def test_a_side_is_quoted_iff_its_fill_keeps_the_inventory_within_the_limit():
    env = MultiAssetMarketMakingEnv(preset="pair", inventory_limit=(1.0, 2.0), n_steps=200)
    _, info = env.reset(seed=1)
    limit = np.array([1.0, 2.0])
    unquoted = 0
    done = False
    while not done:
        before, mid = info["inventory"], info["mid"]
        # bid through the mid on asset 1, ask through the mid on asset 2: both hit the limit
        _, _, done, _, info = env.step(np.array([-2.0, 10.0, 10.0, -2.0], np.float32))
        np.testing.assert_array_equal(info["bid_quoted"], before + 1.0 <= limit)
        np.testing.assert_array_equal(info["ask_quoted"], before - 1.0 >= -limit)
        assert not (info["bid_filled"] & ~info["bid_quoted"]).any()
        assert not (info["ask_filled"] & ~info["ask_quoted"]).any()
        assert (np.abs(info["inventory"]) <= limit).all()
        assert np.isfinite(info["bid"]).all() and np.isfinite(info["ask"]).all()
        # quoted or not, a side reports its price at the step's mid
        np.testing.assert_array_equal(info["bid"], mid - np.array([-2.0, 10.0]))
        np.testing.assert_array_equal(info["ask"], mid + np.array([10.0, -2.0]))
        unquoted += int((~info["bid_quoted"]).sum() + (~info["ask_quoted"]).sum())
    assert unquoted > 100
    assert info["inventory"].tolist() == [1.0, -2.0]


# ------------------------------------------------------------------------- actions
BAD_ACTIONS = [
    (
        np.ones(3),
        r"action must be an array of shape \(4,\) of real numbers, \[bid_1, ask_1, "
        r"\.\.\., bid_2, ask_2\] \(depths per asset, n_assets = 2\); got .* of shape "
        r"\(3,\)",
    ),
    (np.ones((2, 2)), r"of shape \(2, 2\)"),
    (1.0, r"of shape \(\)"),
    ([1.0, 1.0, 1.0], r"of shape \(3,\)"),
    (np.array([True, False, True, True]), r"of dtype bool"),
    (["a", "b", "c", "d"], r"of dtype <U1"),
    (np.ones(4, complex), "of dtype complex128"),
    ([1.0, [1.0], 1.0, 1.0], "not an array of numbers"),
    ([1.0, 1.0, np.nan, 1.0], r"action depths must be finite numbers, got bid_2=nan"),
    (np.array([1.0, np.inf, 1.0, 1.0]), r"action depths must be finite numbers, got ask_1=inf"),
]


@pytest.mark.parametrize(("action", "message"), BAD_ACTIONS)
def test_bad_actions_are_refused_with_the_expected_shape(action, message):
    env = MultiAssetMarketMakingEnv(preset="pair")
    env.reset(seed=0)
    with pytest.raises(ValueError, match=message):
        env.step(action)


def test_int_lists_and_float32_arrays_are_actions_like_floats():
    a, b, c = (MultiAssetMarketMakingEnv(preset="pair") for _ in range(3))
    for env in (a, b, c):
        env.reset(seed=3)
    for _ in range(20):
        ra = a.step([1, 2, 1, 2])
        rb = b.step(np.array([1, 2, 1, 2], np.float32))
        rc = c.step((1.0, 2.0, 1.0, 2.0))
        assert_same(ra, rb)
        assert_same(ra, rc)


def test_depths_outside_the_box_are_clipped():
    a, b = MultiAssetMarketMakingEnv(preset="pair"), MultiAssetMarketMakingEnv(preset="pair")
    a.reset(seed=2)
    b.reset(seed=2)
    for _ in range(20):
        ra = a.step(np.array([-50.0, 50.0, 100.0, -100.0]))
        rb = b.step(np.array([-10.0, 10.0, 10.0, -10.0]))
        assert_same(ra, rb)


@pytest.mark.parametrize(
    ("actions", "message"),
    [
        (
            np.ones((3, 3)),
            r"actions must have shape \(3, 4\) = \(num_envs, \[bid_1, ask_1, \.\.\., "
            r"bid_2, ask_2\]\), got shape \(3, 3\)",
        ),
        (np.ones(4), r"got shape \(4,\)"),
        (np.ones((3, 4), bool), "of dtype bool"),
        (
            np.array([[1.0] * 4, [1.0, np.nan, 1.0, 1.0], [1.0] * 4]),
            r"action depths must be finite numbers, got \[1.0, nan, 1.0, 1.0\] for env 1",
        ),
    ],
)
def test_bad_batch_actions_are_refused(actions, message):
    env = MultiAssetMarketMakingVectorEnv(3, preset="pair")
    env.reset(seed=0)
    with pytest.raises(ValueError, match=message):
        env.step(actions)


# ------------------------------------------------------------- seeding and snapshots
def test_same_seed_same_trajectory_other_seed_other():
    a = rollout(MultiAssetMarketMakingEnv(preset="basket"), 11, 40)
    b = rollout(MultiAssetMarketMakingEnv(preset="basket"), 11, 40)
    assert_same(a, b)
    c = rollout(MultiAssetMarketMakingEnv(preset="basket"), 12, 40)
    assert not np.array_equal(a[-1][0], c[-1][0])
    va = rollout(MultiAssetMarketMakingVectorEnv(4, preset="basket"), 11, 40)
    vb = rollout(MultiAssetMarketMakingVectorEnv(4, preset="basket"), 11, 40)
    assert_same(va, vb)


@pytest.mark.parametrize("bad", [-1, 1.5, True, "1"])
def test_bad_seeds_are_refused(bad):
    with pytest.raises(ValueError, match="seed must be a non-negative integer"):
        MultiAssetMarketMakingEnv(preset="pair").reset(seed=bad)
    with pytest.raises(ValueError, match="seed must be an int or None for the native vector"):
        MultiAssetMarketMakingVectorEnv(2, preset="pair").reset(seed=bad)


def test_scalar_snapshot_continues_exactly_and_pickles():
    env = MultiAssetMarketMakingEnv(preset="pair")
    rollout(env, 4, 50)
    snap = pickle.loads(pickle.dumps(env.get_state()))
    action = np.array([0.3, 0.9, 1.2, 0.1], np.float32)
    first = [env.step(action) for _ in range(150)]
    other = MultiAssetMarketMakingEnv(preset="pair")
    other.set_state(snap)
    assert_same(first, [other.step(action) for _ in range(150)])
    with pytest.raises(ValueError, match="snapshot of another market"):
        MultiAssetMarketMakingEnv(preset="basket").set_state(snap)
    with pytest.raises(ValueError, match="must be a dict returned by get_state"):
        other.set_state([])


def test_vector_snapshot_continues_exactly():
    env = MultiAssetMarketMakingVectorEnv(5, preset="pair", n_steps=20)
    rollout(env, 4, 30)
    snap = env.get_state()
    actions = np.full((5, 4), 0.8)
    first = [env.step(actions) for _ in range(25)]
    other = MultiAssetMarketMakingVectorEnv(5, preset="pair", n_steps=20)
    other.set_state(snap)
    assert_same(first, [other.step(actions) for _ in range(25)])
    with pytest.raises(ValueError, match="snapshot of 5 sub-envs, this vector env has num_envs=4"):
        MultiAssetMarketMakingVectorEnv(4, preset="pair", n_steps=20).set_state(snap)


# ------------------------------------------------------------------- constructors
@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"preset": "pair", "config": MultiAssetConfig()}, ValueError, "give either config or"),
        ({"config": mm_env.MarketConfig()}, ValueError, "config must be a MultiAssetConfig"),
        ({"preset": "nope"}, ValueError, r"preset must be one of \['basket', 'pair'\]"),
        ({"preset": "pair", "gamma": 1.0}, TypeError, "unknown MultiAssetConfig field"),
        ({"render_mode": "human"}, ValueError, r"render_mode must be None or one of \['ansi'\]"),
    ],
)
def test_constructor_errors(kwargs, error, message):
    with pytest.raises(error, match=message):
        MultiAssetMarketMakingEnv(**kwargs)


def test_overrides_apply_to_a_config_and_a_preset():
    env = MultiAssetMarketMakingEnv(MultiAssetConfig.preset("pair"), n_steps=7)
    assert env.config.n_steps == 7 and env.config.rho[0][1] == 0.9
    vec = MultiAssetMarketMakingVectorEnv(2, preset="basket", A=100.0)
    assert vec.config.A == (100.0,) * 3
    for bad in (0, 1.5, True):
        with pytest.raises(ValueError, match="num_envs must be an integer >= 1"):
            MultiAssetMarketMakingVectorEnv(bad)
    with pytest.raises(ValueError, match="autoreset_mode must be one of"):
        MultiAssetMarketMakingVectorEnv(2, autoreset_mode="Later")


def test_ansi_render_shows_every_asset():
    env = MultiAssetMarketMakingEnv(preset="basket", render_mode="ansi")
    env.reset(seed=0)
    env.step(np.ones(6, np.float32))
    text = env.render()
    assert text.startswith("t=0.0050 cash=") and text.count("asset ") == 3
    assert re.search(r"asset 2: mid=\d+\.\d{4} q=\S+ bid=", text)
    assert MultiAssetMarketMakingEnv(preset="pair").render() is None


# --------------------------------------------------------------- vector autoreset
def test_vector_info_shapes_masks_and_read_only():
    env = MultiAssetMarketMakingVectorEnv(4, preset="basket")
    obs, info = env.reset(seed=0)
    assert obs.shape == (4, 7) and obs.dtype == np.float32
    obs, reward, terminated, truncated, info = env.step(np.ones((4, 6)))
    assert reward.shape == (4,) and reward.dtype == np.float64
    assert terminated.shape == truncated.shape == (4,)
    for key in INFO_KEYS:
        per_asset = key not in ("cash", "wealth", "step")
        assert info[key].shape == ((4, 3) if per_asset else (4,)), key
        assert info["_" + key].all()
        with pytest.raises(ValueError, match="read-only"):
            info[key][...] = 0


@pytest.mark.parametrize("mode", ["NextStep", "SameStep", "Disabled"])
def test_vector_autoreset_modes(mode):
    n = 4
    env = MultiAssetMarketMakingVectorEnv(3, preset="pair", n_steps=n, autoreset_mode=mode)
    assert env.metadata["autoreset_mode"] is AutoresetMode(mode)
    env.reset(seed=0)
    a = np.ones((3, 4))
    for _ in range(n - 1):
        assert not env.step(a)[2].any()
    obs, reward, terminated, _, info = env.step(a)
    assert terminated.all()
    if mode == "SameStep":
        np.testing.assert_array_equal(obs[:, 0], 1.0)  # the reset observation
        assert info["_final_obs"].all()
        assert all(o[0] == 0.0 for o in info["final_obs"])
        assert info["final_info"]["step"].tolist() == [n] * 3
        np.testing.assert_array_equal(info["bid"], info["mid"])
    else:
        np.testing.assert_array_equal(obs[:, 0], 0.0)
    if mode == "NextStep":
        obs, reward, terminated, _, info = env.step(a)
        np.testing.assert_array_equal(reward, 0.0)
        np.testing.assert_array_equal(obs[:, 0], 1.0)
        assert not terminated.any() and not info["bid_quoted"].any()
        np.testing.assert_array_equal(info["inventory"], 0.0)
    if mode == "Disabled":
        with pytest.raises(RuntimeError, match="autoreset disabled"):
            env.step(a)
        obs, _ = env.reset(options={"reset_mask": np.array([True, False, True])})
        np.testing.assert_array_equal(obs[:, 0], [1.0, 0.0, 1.0])
        with pytest.raises(ValueError, match=r"options\['reset_mask'\] must be a boolean"):
            env.reset(options={"reset_mask": np.array([1, 0, 1])})


# ------------------------------------------------------------------- registration
def test_registration_and_exports():
    spec = gym.spec(ENV_ID)
    assert spec.entry_point == "mm_env.multi_asset.env:MultiAssetMarketMakingEnv"
    assert spec.vector_entry_point == (
        "mm_env.multi_asset.vector_env:MultiAssetMarketMakingVectorEnv"
    )
    assert spec.max_episode_steps is None
    assert mm_env.MultiAssetConfig is MultiAssetConfig
    assert mm_env.MultiAssetMarketMakingEnv is MultiAssetMarketMakingEnv
    assert mm_env.MultiAssetMarketMakingVectorEnv is MultiAssetMarketMakingVectorEnv
    env = gym.make(ENV_ID, preset="basket", n_steps=9)
    assert env.unwrapped.config.n_steps == 9 and env.unwrapped.config.n_assets == 3
    vec = gym.make_vec(
        ENV_ID, num_envs=3, vectorization_mode="vector_entry_point", preset="basket", n_steps=9
    )
    assert isinstance(vec, MultiAssetMarketMakingVectorEnv) and vec.config.n_steps == 9


def _episodes(env, seed, episodes, steps):
    """Obs and rewards of ``episodes`` episodes of every sub-env under a fixed action."""
    action = np.tile(np.array([0.8, 1.1, 0.5, 0.9], np.float32), (env.num_envs, 1))
    out = [env.reset(seed=seed)[0]]
    try:
        for _ in range(episodes * (steps + 1) - 1):
            obs, reward, *_ = env.step(action)
            out += [obs, reward]
    finally:
        env.close()
    return out


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_make_vec_modes_are_the_scalar_env_with_per_env_seeds(mode):
    steps = 15
    env = gym.make_vec(ENV_ID, num_envs=2, vectorization_mode=mode, preset="pair", n_steps=steps)
    assert isinstance(env, {"sync": SyncVectorEnv, "async": AsyncVectorEnv}[mode])
    got = _episodes(env, 40, 2, steps)
    scalars = [MultiAssetMarketMakingEnv(preset="pair", n_steps=steps) for _ in range(2)]
    native = gym.make_vec(
        ENV_ID, num_envs=2, vectorization_mode="vector_entry_point", preset="pair", n_steps=steps
    )
    assert native.single_observation_space == env.single_observation_space
    assert native.single_action_space == env.single_action_space
    assert native.metadata["autoreset_mode"] is env.metadata["autoreset_mode"]
    action = np.array([0.8, 1.1, 0.5, 0.9], np.float32)
    expected = [np.stack([s.reset(seed=40 + i)[0] for i, s in enumerate(scalars)])]
    done = [False, False]
    for _ in range(2 * (steps + 1) - 1):
        obs, rew = [], []
        for i, s in enumerate(scalars):
            if done[i]:  # NextStep autoreset: the reset observation with reward 0
                o, r, done[i] = s.reset()[0], 0.0, False
            else:
                o, r, done[i], _, _ = s.step(action)
            obs.append(o)
            rew.append(r)
        expected += [np.stack(obs), np.array(rew)]
    for g, e in zip(got, expected, strict=True):
        np.testing.assert_array_equal(g, e)
