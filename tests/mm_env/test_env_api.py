"""Gymnasium API contract of the scalar and the vector env: checkers, registration,
seeding, errors, termination, info keys, rendering and the three autoreset modes."""

from __future__ import annotations

import contextlib
import math
import re
import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env as gym_check_env
from gymnasium.utils.env_checker import data_equivalence
from gymnasium.vector import AutoresetMode
from stable_baselines3.common.env_checker import check_env as sb3_check_env

import mm_env
from mm_env import ENV_ID, MarketConfig, MarketMakingEnv, MarketMakingVectorEnv, available_presets

INFO_KEYS = ("mid", "cash", "inventory", "wealth", "bid", "ask", "bid_quoted", "ask_quoted",
             "bid_filled", "ask_filled", "step")

# Warnings the checkers emit by design for this env: raw-unit boxes are neither symmetric nor
# normalised and the mid-price is unbounded. Every other checker warning becomes an error.
EXPECTED_CHECKER_WARNINGS = (
    r".*symmetric and normalized.*",
    r".*observation space (minimum|maximum) value is (-)?infinity.*",
)

PRESET_NAMES = available_presets()  # every preset, including ones added later

CHECK_CASES = [
    *((name, {}) for name in PRESET_NAMES),
    ("default", {"reward": "inventory_penalty", "phi": 0.1, "alpha": 0.5, "n_steps": 20}),
    ("as2008", {"fill_model": "poisson", "inventory_limit": 3.0, "order_size": 1.5}),
]


def _checker_warning_filters():
    warnings.simplefilter("error")
    for pattern in EXPECTED_CHECKER_WARNINGS:
        warnings.filterwarnings("ignore", message=pattern)


def same(a, b) -> bool:
    """Exact structural equality, NaN equal to NaN (data_equivalence(exact=True) is not)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, np.ndarray):
        if a.dtype == object:
            return a.shape == b.shape and all(same(x, y) for x, y in zip(a, b, strict=True))
        return a.shape == b.shape and a.dtype == b.dtype and np.array_equal(a, b, equal_nan=True)
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    return bool(a == b)


def scalar_rollout(env, seed, n_steps, action_seed=7, reset_seed=True):
    """Obs/reward/terminated/truncated/info of one episode under seeded random actions."""
    rng = np.random.default_rng(action_seed)
    lo, hi = env.action_space.low, env.action_space.high
    out = [env.reset(seed=seed) if reset_seed else env.reset()]
    for _ in range(n_steps):
        action = rng.uniform(lo - 1.0, hi + 1.0).astype(np.float32)  # includes clipped values
        out.append(env.step(action))
    return out


def vector_rollout(env, seed, n_steps, action_seed=7):
    rng = np.random.default_rng(action_seed)
    lo, hi = env.single_action_space.low, env.single_action_space.high
    out = [env.reset(seed=seed)]
    for _ in range(n_steps):
        out.append(env.step(rng.uniform(lo - 1.0, hi + 1.0, size=(env.num_envs, 2))))
    return out


# ------------------------------------------------------------------------- checkers
@pytest.mark.parametrize(("preset", "overrides"), CHECK_CASES)
def test_gymnasium_check_env(preset, overrides):
    # made through the registry so check_env can also test the declared render modes
    env = gym.make(ENV_ID, preset=preset, **overrides).unwrapped
    with warnings.catch_warnings():
        _checker_warning_filters()
        gym_check_env(env)


@pytest.mark.parametrize(("preset", "overrides"), CHECK_CASES)
def test_gymnasium_check_env_ansi(preset, overrides):
    env = gym.make(ENV_ID, preset=preset, render_mode="ansi", **overrides).unwrapped
    with warnings.catch_warnings():
        _checker_warning_filters()
        gym_check_env(env)


@pytest.mark.parametrize(("preset", "overrides"), CHECK_CASES)
def test_sb3_check_env(preset, overrides):
    with warnings.catch_warnings():
        _checker_warning_filters()
        sb3_check_env(MarketMakingEnv(preset=preset, **overrides), warn=True)


# --------------------------------------------------------------------- registration
def test_registration_spec():
    spec = gym.spec(ENV_ID)
    assert spec.entry_point == "mm_env.env:MarketMakingEnv"
    assert spec.vector_entry_point == "mm_env.vector_env:MarketMakingVectorEnv"
    assert spec.max_episode_steps is None  # the env terminates by itself at T
    assert mm_env.ENV_ID == "mm_env/MarketMaking-v0"


def test_make_forwards_preset_and_overrides():
    env = gym.make(ENV_ID, preset="as2008", sigma=1.0, n_steps=10)
    assert isinstance(env.unwrapped, MarketMakingEnv)
    assert env.unwrapped.config == MarketConfig.preset("as2008", sigma=1.0, n_steps=10)
    env.reset(seed=1)
    for i in range(10):
        _, _, term, trunc, _ = env.step(np.array([1.0, 1.0], dtype=np.float32))
        assert term == (i == 9) and not trunc  # no TimeLimit wrapper truncating
    env = gym.make(ENV_ID, config=MarketConfig.preset("course"), k=2.0)
    assert env.unwrapped.config == MarketConfig.preset("course", k=2.0)
    with pytest.raises(ValueError, match="unknown MarketConfig field"):
        gym.make(ENV_ID, bogus=1)


def test_make_vec_vector_entry_point_forwards_overrides():
    env = gym.make_vec(
        ENV_ID, num_envs=5, vectorization_mode="vector_entry_point", preset="as2008",
        sigma=0.5, n_steps=7, autoreset_mode="SameStep",
    )
    assert isinstance(env, MarketMakingVectorEnv)
    assert env.num_envs == 5
    assert env.config == MarketConfig.preset("as2008", sigma=0.5, n_steps=7)
    assert env.autoreset_mode is AutoresetMode.SAME_STEP
    assert env.metadata["autoreset_mode"] is AutoresetMode.SAME_STEP
    obs, _ = env.reset(seed=3)
    assert obs.shape == (5, 3) and obs.dtype == np.float32
    assert env.observation_space.contains(obs)
    # the default vectorisation mode of the id is the native one too
    assert isinstance(gym.make_vec(ENV_ID, num_envs=2), MarketMakingVectorEnv)


def test_make_vec_sync_forwards_overrides():
    env = gym.make_vec(ENV_ID, num_envs=3, vectorization_mode="sync", preset="course", A=77.0)
    assert isinstance(env, gym.vector.SyncVectorEnv)
    for sub in env.envs:
        assert sub.unwrapped.config == MarketConfig.preset("course", A=77.0)
    obs, info = env.reset(seed=0)
    assert obs.shape == (3, 3)
    obs, rew, term, trunc, info = env.step(np.ones((3, 2), dtype=np.float32))
    assert rew.shape == (3,) and not term.any() and not trunc.any()
    for key in INFO_KEYS:
        assert key in info


def test_native_and_sync_vector_spaces_agree():
    native = gym.make_vec(ENV_ID, num_envs=4, vectorization_mode="vector_entry_point",
                          preset="course")
    sync = gym.make_vec(ENV_ID, num_envs=4, vectorization_mode="sync", preset="course")
    assert native.single_observation_space == sync.single_observation_space
    assert native.single_action_space == sync.single_action_space
    assert native.observation_space == sync.observation_space
    assert native.action_space == sync.action_space


# ------------------------------------------------------------------------ seeding
@pytest.mark.parametrize("preset", PRESET_NAMES)
def test_scalar_same_seed_same_trajectory(preset):
    a = scalar_rollout(MarketMakingEnv(preset=preset, n_steps=30), seed=123, n_steps=30)
    b = scalar_rollout(MarketMakingEnv(preset=preset, n_steps=30), seed=123, n_steps=30)
    assert same(a, b)
    c = scalar_rollout(MarketMakingEnv(preset=preset, n_steps=30), seed=124, n_steps=30)
    mids_a = [step[-1]["mid"] for step in a[1:]]
    mids_c = [step[-1]["mid"] for step in c[1:]]
    assert mids_a != mids_c


@pytest.mark.parametrize("preset", PRESET_NAMES)
def test_vector_same_seed_same_trajectory(preset):
    a = vector_rollout(MarketMakingVectorEnv(6, preset=preset, n_steps=12), seed=9, n_steps=30)
    b = vector_rollout(MarketMakingVectorEnv(6, preset=preset, n_steps=12), seed=9, n_steps=30)
    assert same(a, b)
    c = vector_rollout(MarketMakingVectorEnv(6, preset=preset, n_steps=12), seed=10, n_steps=30)
    assert not np.array_equal(a[5][-1]["mid"], c[5][-1]["mid"])
    # sub-envs are not copies of one another
    assert len(np.unique(a[5][-1]["mid"])) == 6


def test_seed_zero_is_a_seed_like_any_other():
    a = scalar_rollout(MarketMakingEnv(n_steps=20), seed=0, n_steps=20)
    b = scalar_rollout(MarketMakingEnv(n_steps=20), seed=0, n_steps=20)
    c = scalar_rollout(MarketMakingEnv(n_steps=20), seed=1, n_steps=20)
    d = scalar_rollout(MarketMakingEnv(n_steps=20), seed=None, n_steps=20)
    assert same(a, b)
    assert not same(a, c)
    assert not same(a, d)  # seed=0 is not "unseeded"
    env = MarketMakingEnv()
    env.reset(seed=0)
    assert env.np_random_seed == 0

    va = vector_rollout(MarketMakingVectorEnv(3, n_steps=5), seed=0, n_steps=8)
    vb = vector_rollout(MarketMakingVectorEnv(3, n_steps=5), seed=0, n_steps=8)
    vc = vector_rollout(MarketMakingVectorEnv(3, n_steps=5), seed=None, n_steps=8)
    assert same(va, vb)
    assert not same(va, vc)


def test_unseeded_reset_continues_the_stream():
    """reset(seed=s) then reset() is reproducible: the second episode depends only on s."""
    env1, env2 = MarketMakingEnv(n_steps=15), MarketMakingEnv(n_steps=15)
    first1 = scalar_rollout(env1, seed=5, n_steps=15)
    second1 = scalar_rollout(env1, seed=None, n_steps=15, reset_seed=False)
    first2 = scalar_rollout(env2, seed=5, n_steps=15)
    second2 = scalar_rollout(env2, seed=None, n_steps=15, reset_seed=False)
    assert same(first1, first2)
    assert same(second1, second2)
    assert not same(first1[1:], second1[1:])


def test_long_episode_crosses_noise_blocks_deterministically():
    """n_steps larger than the scalar env's block of pre-drawn noise (4096 steps)."""
    n = 5000
    a = scalar_rollout(MarketMakingEnv(n_steps=n), seed=2, n_steps=n)
    b = scalar_rollout(MarketMakingEnv(n_steps=n), seed=2, n_steps=n)
    assert same(a, b)
    terminated = [step[2] for step in a[1:]]
    assert terminated == [False] * (n - 1) + [True]
    assert a[-1][0][0] == 0.0
    # the market noise keeps moving after the first block
    mids = np.array([step[-1]["mid"] for step in a[1:]])
    assert np.all(np.diff(mids[4090:4110]) != 0.0)


# ------------------------------------------------------------------------- errors
def test_step_before_reset_raises():
    with pytest.raises(RuntimeError, match=r"reset\(\)"):
        MarketMakingEnv().step(np.array([1.0, 1.0]))
    with pytest.raises(RuntimeError, match=r"reset\(\)"):
        MarketMakingVectorEnv(2).step(np.ones((2, 2)))


def test_step_after_termination_raises_until_reset():
    env = MarketMakingEnv(n_steps=3)
    env.reset(seed=0)
    for _ in range(3):
        env.step(np.array([1.0, 1.0]))
    for _ in range(2):
        with pytest.raises(RuntimeError, match=r"episode has ended.*reset\(\)"):
            env.step(np.array([1.0, 1.0]))
    obs, _ = env.reset()
    assert obs[0] == pytest.approx(env.config.T)
    env.step(np.array([1.0, 1.0]))  # works again


@pytest.mark.parametrize(
    ("action", "shown"),
    [
        ([math.nan, 1.0], r"bid_depth=nan, ask_depth=1\.0"),
        ([1.0, math.inf], r"bid_depth=1\.0, ask_depth=inf"),
        ([-math.inf, math.nan], r"bid_depth=-inf, ask_depth=nan"),
    ],
)
def test_scalar_non_finite_action_raises(action, shown):
    env = MarketMakingEnv(n_steps=10)
    env.reset(seed=0)
    with pytest.raises(ValueError, match=rf"action depths must be finite numbers, got {shown}"):
        env.step(np.array(action, dtype=np.float32))


def test_rejected_action_does_not_advance_the_env():
    good = np.array([0.7, 1.2], dtype=np.float32)
    a, b = MarketMakingEnv(n_steps=6), MarketMakingEnv(n_steps=6)
    a.reset(seed=4)
    b.reset(seed=4)
    with pytest.raises(ValueError):
        a.step(np.array([math.nan, 1.0]))
    for _ in range(6):
        assert same(a.step(good), b.step(good))

    va, vb = MarketMakingVectorEnv(3, n_steps=6), MarketMakingVectorEnv(3, n_steps=6)
    va.reset(seed=4)
    vb.reset(seed=4)
    with pytest.raises(ValueError):
        va.step(np.full((3, 2), math.nan))
    with pytest.raises(ValueError):
        va.step(np.ones((2, 2)))
    for _ in range(6):
        assert same(va.step(np.ones((3, 2))), vb.step(np.ones((3, 2))))


def test_vector_non_finite_action_raises():
    env = MarketMakingVectorEnv(3, n_steps=10)
    env.reset(seed=0)
    actions = np.ones((3, 2))
    actions[1, 0] = math.nan
    with pytest.raises(
        ValueError, match=r"action depths must be finite numbers, got \[nan, 1\.0\] for env 1"
    ):
        env.step(actions)
    actions = np.ones((3, 2))
    actions[2, 1] = -math.inf
    with pytest.raises(ValueError, match=r"got \[1\.0, -inf\] for env 2"):
        env.step(actions)


@pytest.mark.parametrize("shape", [(3,), (2,), (3, 3), (4, 2), (2, 3), (3, 2, 1), ()])
def test_vector_wrong_action_shape_raises(shape):
    env = MarketMakingVectorEnv(3, n_steps=10)
    env.reset(seed=0)
    with pytest.raises(
        ValueError, match=rf"actions must have shape \(3, 2\).*got shape {re.escape(str(shape))}"
    ):
        env.step(np.ones(shape))


def test_vector_reset_mask_wrong_shape_raises():
    env = MarketMakingVectorEnv(3)
    env.reset(seed=0)
    with pytest.raises(ValueError, match=r"reset_mask'\] must have shape \(3,\), got \(2,\)"):
        env.reset(options={"reset_mask": np.array([True, False])})


SHAPE_2 = r"action must be an array of shape \(2,\) of real numbers, \[bid_depth, ask_depth\]"


@pytest.mark.parametrize(
    ("action", "got"),
    [
        ([1, 1, 99], r"\[1, 1, 99\] of shape \(3,\)"),
        (1.0, r"1\.0 of shape \(\)"),
        ([1.0], r"\[1\.0\] of shape \(1,\)"),
        ([[1.0, 1.0]], r"\[\[1\.0, 1\.0\]\] of shape \(1, 2\)"),
        (np.ones((2, 1), np.float32), r"of shape \(2, 1\)"),
        ([1 + 2j, 1.0], r"of dtype complex128"),
        (np.array([1.0, 1.0], dtype=complex), r"of dtype complex128"),
        (["1.0", "2.0"], r"of dtype <U3"),
        ("ab", r"'ab' of dtype <U2"),
        (None, r"None of dtype object"),
        ([1.0, None], r"of dtype object"),
        ([True, False], r"of dtype bool"),
        ([[1.0], 2.0], r"not an array of numbers"),
    ],
)
def test_scalar_action_shape_and_dtype_are_checked(action, got):
    env = MarketMakingEnv()
    env.reset(seed=0)
    with pytest.raises(ValueError, match=SHAPE_2 + "; got .*" + got):
        env.step(action)
    assert env.get_state()["market"].step == 0  # nothing was stepped


@pytest.mark.parametrize(
    "action",
    [np.array([0.5, 0.7]), np.array([0.5, 0.7], np.float32), np.array([0.5, 0.7], np.float16),
     np.array([0.5, 0.7], np.longdouble), [0.5, 0.7], (0.5, 0.7), [np.float32(0.5), 0.7],
     np.array([1, 2]), [1, 2], np.array([1, 2], np.uint8), np.array([0.5, 0.7], ">f8")],
)
def test_scalar_accepts_real_arrays_and_sequences_like_a_float64_array(action):
    ref, env = MarketMakingEnv(), MarketMakingEnv()
    ref.reset(seed=3)
    env.reset(seed=3)
    want = ref.step(np.asarray(action, dtype=np.float64))
    got = env.step(action)
    assert type(got[1]) is float and got[1] == want[1]
    np.testing.assert_array_equal(got[0], want[0])
    assert got[4] == want[4]


def test_size_action_shape_is_named():
    env = MarketMakingEnv(size_action=True)
    env.reset(seed=0)
    with pytest.raises(ValueError, match=r"shape \(3,\) of real numbers, \[bid_depth, ask_depth, "
                                         r"size\] \(size_action=True\); got \[1, 1, 1, 1\]"):
        env.step([1, 1, 1, 1])
    env.step([1.0, 1.0, 2.0])
    env.step(np.array([1, 1, 2]))


@pytest.mark.parametrize("actions", [np.ones((3, 2), complex), [["1", "2"]] * 3,
                                     np.ones((3, 2), bool), [[1.0, None]] * 3])
def test_vector_refuses_non_real_actions(actions):
    env = MarketMakingVectorEnv(3)
    env.reset(seed=0)
    with pytest.raises(ValueError, match=r"actions must be real numbers of shape \(3, 2\) = "
                                         r"\(num_envs, \[bid_depth, ask_depth\]\); got .* "
                                         r"of dtype"):
        env.step(actions)


def test_vector_accepts_int_actions():
    env = MarketMakingVectorEnv(3)
    env.reset(seed=0)
    env.step(np.ones((3, 2), np.int64))
    env.step([[1, 1]] * 3)


@pytest.mark.parametrize("make", [lambda: MarketMakingEnv(), lambda: MarketMakingVectorEnv(2)])
def test_numpy_integer_seeds_are_ints(make):
    a, b = make(), make()
    obs_a, _ = a.reset(seed=np.int64(5))
    obs_b, _ = b.reset(seed=5)
    np.testing.assert_array_equal(obs_a, obs_b)
    act = b.action_space.sample() * 0 + 0.5
    np.testing.assert_array_equal(a.step(act)[0], b.step(act)[0])
    a.reset(seed=np.uint8(7))
    assert a.np_random_seed == 7


@pytest.mark.parametrize("make", [lambda: MarketMakingEnv(), lambda: MarketMakingVectorEnv(2)])
@pytest.mark.parametrize("seed", [-1, np.int64(-3), True, np.bool_(True)])
def test_negative_and_bool_seeds_are_refused(make, seed):
    with pytest.raises(ValueError, match=r"non-negative integer \(int or numpy integer\).*, got"):
        make().reset(seed=seed)


@pytest.mark.parametrize("mask", [["no", ""], [1, 0], np.array([1, 0, 1]), [1.0, 0.0, 1.0],
                                  "yes", object()])
def test_vector_reset_mask_must_be_boolean(mask):
    env = MarketMakingVectorEnv(3)
    env.reset(seed=0)
    env.step(np.ones((3, 2)))
    with pytest.raises(ValueError, match=r"options\['reset_mask'\] must be a boolean array of "
                                         r"shape \(3,\)"):
        env.reset(options={"reset_mask": mask})
    assert np.all(env.get_state()["market"].step == 1)  # nothing was reset
    env.reset(options={"reset_mask": [True, False, np.True_]})
    assert env.get_state()["market"].step.tolist() == [0, 1, 0]


# --------------------------------------------------------------- episode structure
@pytest.mark.parametrize("preset", PRESET_NAMES)
def test_scalar_terminates_exactly_after_n_steps(preset):
    n = 17
    env = MarketMakingEnv(preset=preset, n_steps=n)
    obs, info = env.reset(seed=11)
    cfg = env.config
    assert obs[0] == np.float32(cfg.T)
    for i in range(1, n + 1):
        obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
        assert truncated is False
        assert terminated is (i == n)
        assert isinstance(reward, float)
        assert info["step"] == i
        assert obs[0] == np.float32((n - i) * cfg.dt)
        if i < n:
            assert obs[0] > 0.0
    assert obs[0] == 0.0


def test_vector_terminates_exactly_after_n_steps():
    n = 9
    env = MarketMakingVectorEnv(4, n_steps=n, autoreset_mode="Disabled")
    obs, _ = env.reset(seed=1)
    assert np.all(obs[:, 0] == np.float32(env.config.T))
    for i in range(1, n + 1):
        obs, reward, terminated, truncated, info = env.step(np.ones((4, 2)))
        assert terminated.dtype == bool and truncated.dtype == bool
        assert reward.shape == (4,) and reward.dtype == np.float64
        assert not truncated.any()
        assert np.all(terminated == (i == n))
        assert np.all(info["step"] == i)
    assert np.all(obs[:, 0] == 0.0)


def test_scalar_info_keys_and_reset_values():
    env = MarketMakingEnv(preset="as2008")
    obs, info = env.reset(seed=0)
    assert set(INFO_KEYS) <= set(info)
    assert info["mid"] == 100.0 and info["cash"] == 0.0 and info["inventory"] == 0.0
    assert info["wealth"] == 0.0 and info["step"] == 0
    # at reset nothing is quoted: bid and ask are the mid, the flags False (no NaN in info)
    assert info["bid"] == 100.0 and info["ask"] == 100.0
    assert info["bid_quoted"] is False and info["ask_quoted"] is False
    assert info["bid_filled"] is False and info["ask_filled"] is False
    assert np.array_equal(obs, np.array([1.0, 0.0, 100.0], dtype=np.float32))
    obs, _, _, _, info = env.step(np.array([0.5, 0.5], dtype=np.float32))
    assert set(INFO_KEYS) <= set(info)
    assert isinstance(info["bid_filled"], bool) and isinstance(info["ask_filled"], bool)
    assert info["bid"] == pytest.approx(100.0 - 0.5) and info["ask"] == pytest.approx(100.5)
    assert info["bid_quoted"] is True and info["ask_quoted"] is True
    assert obs[1] == np.float32(info["inventory"]) and obs[2] == np.float32(info["mid"])


def test_vector_info_keys_and_masks():
    env = MarketMakingVectorEnv(4, preset="course")
    for info in (env.reset(seed=0)[1], env.step(np.ones((4, 2)))[-1]):
        for key in INFO_KEYS:
            assert info[key].shape == (4,), key
            assert info["_" + key].dtype == bool and info["_" + key].all(), key
        assert info["bid_filled"].dtype == bool and info["ask_filled"].dtype == bool


def test_render_ansi_returns_string():
    env = MarketMakingEnv(render_mode="ansi", n_steps=5)
    env.reset(seed=0)
    text = env.render()
    assert isinstance(text, str) and "mid=" in text and "wealth=" in text
    env.step(np.array([1.0, 1.0], dtype=np.float32))
    text = env.render()
    assert isinstance(text, str) and "bid=" in text and "ask=" in text
    assert MarketMakingEnv(n_steps=5).render() is None


@pytest.mark.parametrize("mode", MarketMakingEnv.metadata["render_modes"])
def test_every_declared_render_mode_renders(mode):
    env = MarketMakingEnv(render_mode=mode, n_steps=5)
    env.reset(seed=0)
    for _ in range(5):
        env.step(np.array([0.5, 0.5], dtype=np.float32))
        frame = env.render()
        if mode == "ansi":
            assert isinstance(frame, str) and frame
        elif mode == "rgb_array":
            assert isinstance(frame, np.ndarray) and frame.dtype == np.uint8
            assert frame.ndim == 3 and frame.shape[2] == 3
        else:
            assert frame is not None


# ------------------------------------------------------------------ autoreset modes
def test_autoreset_modes_declared_in_metadata():
    assert MarketMakingVectorEnv.metadata["autoreset_mode"] is AutoresetMode.NEXT_STEP
    for mode in AutoresetMode:
        for spelling in (mode, mode.value):
            env = MarketMakingVectorEnv(2, autoreset_mode=spelling)
            assert env.autoreset_mode is mode
            assert env.metadata["autoreset_mode"] is mode
    # building an instance does not change the class default
    assert MarketMakingVectorEnv.metadata["autoreset_mode"] is AutoresetMode.NEXT_STEP
    assert MarketMakingVectorEnv(2).metadata["autoreset_mode"] is AutoresetMode.NEXT_STEP


# AS 2008 scale (dt = 0.005); the bid (depth 0) fills half the time and the ask (depth 3)
# almost never, so inventory builds up: terminal states differ from the reset state and a
# step taken from them would have a non-zero PnL (a zero reward then means a reset).
AUTORESET_KW = {"preset": "as2008", "T": 0.02}
AUTORESET_ACTION = [0.0, 3.0]


def test_autoreset_next_step():
    n, m = 4, 5
    env = MarketMakingVectorEnv(m, **AUTORESET_KW, n_steps=n)
    reset_obs, reset_info = env.reset(seed=21)
    act = np.tile(AUTORESET_ACTION, (m, 1))
    for i in range(n):
        obs, rew, term, trunc, info = env.step(act)
        assert np.all(term == (i == n - 1)) and not trunc.any()
    assert np.all(obs[:, 0] == 0.0)
    assert np.all(obs[:, 1] > 0.0)  # every sub-env holds inventory at the end
    # the step after termination: reset obs, reward 0, not terminated, reset info
    obs, rew, term, trunc, info = env.step(act)
    assert np.array_equal(obs, reset_obs)
    assert np.array_equal(rew, np.zeros(m))
    assert not term.any() and not trunc.any()
    assert same(info, reset_info)
    # then a normal episode again, of full length
    for i in range(n):
        obs, rew, term, trunc, info = env.step(act)
        assert np.all(info["step"] == i + 1)
        assert np.all(term == (i == n - 1))


def test_autoreset_same_step_obs_and_final_obs():
    n, m = 4, 5
    kw = {**AUTORESET_KW, "n_steps": n}
    same_step = MarketMakingVectorEnv(m, autoreset_mode="SameStep", **kw)
    # Reference: the Disabled env draws the same noise, so its terminal step is the one
    # SameStep must report in final_obs.
    ref = MarketMakingVectorEnv(m, autoreset_mode="Disabled", **kw)
    reset_obs, _ = same_step.reset(seed=8)
    ref.reset(seed=8)
    act = np.tile(AUTORESET_ACTION, (m, 1))
    for i in range(n):
        obs, rew, term, trunc, info = same_step.step(act)
        r_obs, r_rew, r_term, _, _ = ref.step(act)
        assert np.array_equal(rew, r_rew)
        assert np.array_equal(term, r_term)
        assert not trunc.any()
        if i < n - 1:
            assert np.array_equal(obs, r_obs)
            assert "final_obs" not in info
    # the terminating step returns the reset observation
    assert term.all()
    assert np.array_equal(obs, reset_obs)
    assert info["_final_obs"].dtype == bool and info["_final_obs"].all()
    assert info["final_obs"].shape == (m,)
    for j in range(m):
        assert np.array_equal(info["final_obs"][j], r_obs[j])
    assert np.all(r_obs[:, 0] == 0.0)
    assert np.all(r_obs[:, 1] > 0.0)  # terminal states are not reset states
    # the next episode starts from scratch with a full horizon
    for i in range(n):
        obs, rew, term, trunc, info = same_step.step(act)
        assert np.all(term == (i == n - 1))
        if i == 0:
            assert np.all(obs[:, 0] == np.float32((n - 1) * same_step.config.dt))


# Under SameStep the native env lays out info as Gymnasium's own vector envs do for the same
# id: final_info is a dict of batched arrays with "_key" masks, and the top-level info of a
# sub-env just reset is its reset info (consistent with the returned reset observation).
def test_autoreset_same_step_info_layout_matches_gymnasium_sync():
    n, m = 3, 2
    native = gym.make_vec(ENV_ID, num_envs=m, vectorization_mode="vector_entry_point",
                          n_steps=n, autoreset_mode="SameStep")
    sync = gym.make_vec(ENV_ID, num_envs=m, vectorization_mode="sync", n_steps=n,
                        vector_kwargs={"autoreset_mode": AutoresetMode.SAME_STEP})
    outs = []
    for env in (native, sync):
        env.reset(seed=0)
        for _ in range(n):
            obs, _, term, _, info = env.step(np.ones((m, 2), dtype=np.float32))
        assert term.all()
        outs.append((obs, info))
    (n_obs, n_info), (s_obs, s_info) = outs
    assert np.array_equal(n_obs, s_obs)  # both return the reset observation
    assert set(n_info) == set(s_info)
    # layout of final_info: Gymnasium's is a dict of batched arrays with "_key" masks
    assert isinstance(s_info["final_info"], dict)
    assert isinstance(n_info["final_info"], dict), (
        f"final_info is {type(n_info['final_info']).__name__}, Gymnasium uses a dict of arrays"
    )
    assert set(n_info["final_info"]) == set(s_info["final_info"])
    for key in INFO_KEYS:
        assert np.shape(n_info["final_info"][key]) == (m,), key
        assert n_info["final_info"]["_" + key].all(), key
    assert np.all(n_info["final_info"]["step"] == n)
    # top-level info of the reset sub-envs describes the reset state, like the observation
    assert np.all(s_info["step"] == 0)
    assert np.all(n_info["step"] == 0)
    assert np.all(n_info["mid"] == native.config.S0)
    assert np.all(n_info["bid"] == native.config.S0) and not n_info["bid_quoted"].any()
    assert np.all(n_info["ask"] == native.config.S0) and not n_info["ask_quoted"].any()


def test_autoreset_disabled():
    n, m = 3, 3
    env = MarketMakingVectorEnv(m, n_steps=n, autoreset_mode="Disabled")
    reset_obs, _ = env.reset(seed=5)
    act = np.ones((m, 2))
    for _ in range(n):
        obs, _, term, _, _ = env.step(act)
    assert term.all()
    terminal_obs = obs.copy()
    for _ in range(2):
        with pytest.raises(RuntimeError, match=r"reset\(options=\{'reset_mask'"):
            env.step(act)
    # resetting only some of the finished sub-envs is not enough
    obs, info = env.reset(options={"reset_mask": np.array([True, False, True])})
    assert np.array_equal(obs[[0, 2]], reset_obs[[0, 2]])
    assert np.array_equal(obs[1], terminal_obs[1])  # untouched sub-env keeps its state
    assert info["step"].tolist() == [0, n, 0]
    with pytest.raises(RuntimeError, match="autoreset disabled"):
        env.step(act)
    obs, info = env.reset(options={"reset_mask": np.array([False, True, False])})
    assert np.array_equal(obs, reset_obs)
    obs, _, term, _, info = env.step(act)
    assert not term.any()
    assert np.all(info["step"] == 1)
    # a full reset also clears the flags
    for _ in range(n - 1):
        env.step(act)
    env.reset()
    env.step(act)


def test_autoreset_disabled_staggered_episodes():
    """Sub-envs reset at different times finish at different times."""
    n, m = 3, 2
    env = MarketMakingVectorEnv(m, n_steps=n, autoreset_mode="Disabled")
    env.reset(seed=0)
    act = np.ones((m, 2))
    env.step(act)
    env.reset(options={"reset_mask": np.array([True, False])})  # env 0 restarts
    _, _, term, _, _ = env.step(act)
    assert term.tolist() == [False, False]
    _, _, term, _, info = env.step(act)
    assert term.tolist() == [False, True]
    assert info["step"].tolist() == [2, 3]


def test_record_episode_statistics_on_native_vector_env():
    """Gymnasium's vector wrappers read the declared autoreset mode and see the episodes."""
    from gymnasium.wrappers.vector import RecordEpisodeStatistics

    n, m = 5, 3
    env = RecordEpisodeStatistics(MarketMakingVectorEnv(m, n_steps=n, preset="as2008"))
    env.reset(seed=2)
    total = np.zeros(m)
    for _ in range(n):
        _, rew, term, _, info = env.step(np.zeros((m, 2)))
        total += rew
    assert term.all() and info["_episode"].all()
    np.testing.assert_allclose(info["episode"]["r"], total, rtol=1e-6)
    assert np.all(info["episode"]["l"] == n)


def test_data_equivalence_of_make_and_direct_env():
    """gym.make's env is the same MDP as the class built directly (Gymnasium's utility)."""
    from gymnasium.utils.env_match import check_environments_match

    a = gym.make(ENV_ID, preset="course", n_steps=30).unwrapped
    b = MarketMakingEnv(preset="course", n_steps=30)
    # info holds NaN quotes at reset, which data_equivalence treats as unequal: compare keys
    check_environments_match(a, b, num_steps=29, seed=3, info_comparison="keys-equivalence")
    obs_a, _ = a.reset(seed=3)
    obs_b, _ = b.reset(seed=3)
    assert data_equivalence(obs_a, obs_b, exact=True)


# BUG (mm_env/vector_env.py, MarketMakingVectorEnv._info): the info arrays
# "mid", "cash", "inventory", "step" (and "wealth"'s inputs) are the env's own state arrays,
# not copies, so writing into a returned info (e.g. a logging wrapper that rescales or
# clips values in place) silently changes the market state: after
# ``info["inventory"][:] = 1e9`` the next observation shows inventory 1e9 and the PnL is
# computed on it. Proposed fix: in _info, return ``value.copy()`` for the state arrays, or a
# read-only view (``v = value.view(); v.flags.writeable = False``), which is cheaper.
def test_vector_info_arrays_do_not_alias_the_state():
    def scribble(info):
        for key in ("mid", "cash", "inventory", "step"):
            # a read-only view (writing raises ValueError) is a fine fix too
            with contextlib.suppress(ValueError):
                info[key][:] = 7

    a, b = MarketMakingVectorEnv(3, n_steps=6), MarketMakingVectorEnv(3, n_steps=6)
    _, info_a = a.reset(seed=2)
    b.reset(seed=2)
    scribble(info_a)
    for _ in range(6):
        out_a = a.step(np.ones((3, 2)))
        out_b = b.step(np.ones((3, 2)))
        scribble(out_a[-1])
        assert np.array_equal(out_a[0], out_b[0]), "writing into info changed the state"
        assert np.array_equal(out_a[1], out_b[1])
