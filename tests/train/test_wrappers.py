"""The Gymnasium training wrappers of :mod:`train.wrappers` (what RLlib and other
Gymnasium-based frameworks train on): feature selection with the fixed scaling, checked in
closed form and against the SB3 ``VecSelectObservation``, and the martingale reward, checked
step by step against an unwrapped twin env run from the same seed with the same actions
(the envs are deterministic given both) and statistically over many episodes.
"""

from __future__ import annotations

import math
import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium import spaces
from gymnasium.utils.env_checker import check_env

from mm_env import MarketConfig, MarketMakingEnv, MarketMakingVectorEnv
from tests.train.conftest import SMALL
from tests.train.conftest import small_market as market
from train.features import compute_features
from train.wrappers import (
    MartingaleReward,
    SelectFeatures,
    VectorMartingaleReward,
    VectorSelectFeatures,
)

FEATURES = ("time_remaining", "sqrt_time_remaining", "inventory", "mid")

# (preset, overrides, closed-form (offset, scale) of FEATURES: time / T, sqrt(time) / sqrt(T),
# inventory / min(limit, 10 order sizes), (S - S0) / (absolute sigma * sqrt(T)))
SCALED_MARKETS = [
    # arithmetic mid, sigma 2 price units, inventory limit 20 -> inventory scale 10
    ("penalty", SMALL, [(0.0, 1.0), (0.0, 1.0), (0.0, 10.0), (100.0, 2.0)]),
    # geometric mid, sigma 2% of S0 = 100 over T = 2, no inventory limit, half-size orders
    ("default", {**SMALL, "T": 2.0, "order_size": 0.5},
     [(0.0, 2.0), (0.0, math.sqrt(2.0)), (0.0, 5.0), (100.0, 2.0 * math.sqrt(2.0))]),
]


def random_actions(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Depths in [0, 2]: both sides fill often, so the inventory moves."""
    return rng.uniform(0.0, 2.0, size=(*shape, 2)).astype(np.float32)


# ------------------------------------------------------------------ SelectFeatures
@pytest.mark.parametrize(("preset", "changes", "pairs"), SCALED_MARKETS)
def test_select_features_is_the_fixed_scaling_in_closed_form(preset, changes, pairs):
    from train.sb3.vec_env import SB3VecEnv
    from train.sb3.wrappers import VecSelectObservation, fixed_observation_scale

    config = MarketConfig.preset(preset, **changes)
    offset = np.array([p[0] for p in pairs])
    scale = np.array([p[1] for p in pairs])
    env = SelectFeatures(MarketMakingEnv(config), FEATURES)
    raw_env = MarketMakingEnv(config)
    unscaled = SelectFeatures(MarketMakingEnv(config), FEATURES, scaling="none")
    sb3 = VecSelectObservation(SB3VecEnv(1, config), FEATURES,
                               *fixed_observation_scale(config, FEATURES))
    rng = np.random.default_rng(0)
    obs, _ = env.reset(seed=3)
    raw, _ = raw_env.reset(seed=3)
    plain, _ = unscaled.reset(seed=3)
    seen = [(obs, raw, plain)]
    for action in random_actions(rng, (config.n_steps,)):
        obs, _, terminated, _, _ = env.step(action)
        raw, _, raw_terminated, _, _ = raw_env.step(action)
        plain, *_ = unscaled.step(action)
        assert terminated == raw_terminated
        seen.append((obs, raw, plain))
    assert terminated
    inventories = []
    for obs, raw, plain in seen:
        assert obs.dtype == np.float32 and obs.shape == (len(FEATURES),)
        assert env.observation_space.contains(obs)
        t, q, s = (float(x) for x in raw)
        columns = np.array([t, math.sqrt(t), q, s])
        np.testing.assert_allclose(obs, (columns - offset) / scale, rtol=1e-6, atol=1e-6)
        # the same network input as SB3 training gives (its offsets are float32)
        np.testing.assert_allclose(obs, sb3.transform(raw[None])[0], rtol=1e-6, atol=1e-6)
        # scaling="none": the raw features themselves
        assert plain.dtype == np.float32
        np.testing.assert_allclose(plain, columns.astype(np.float32), rtol=1e-7)
        inventories.append(q)
    assert np.ptp(inventories) > 0 and seen[-1][1][0] == 0.0  # the inventory moved; t hit 0


@pytest.mark.parametrize(("preset", "changes", "pairs"), SCALED_MARKETS)
def test_select_features_observation_space(preset, changes, pairs):
    config = MarketConfig.preset(preset, **changes)
    env = SelectFeatures(MarketMakingEnv(config), FEATURES)
    space = env.observation_space
    assert isinstance(space, spaces.Box)
    assert space.shape == (4,) and space.dtype == np.float32
    # raw bounds: time [0, T], inventory [-limit, limit], mid [0 (gbm) or -inf (abm), inf]
    t_max, limit = config.T, config.inventory_limit
    mid_low = 0.0 if config.mid_model == "gbm" else -math.inf
    raw_low = np.array([0.0, 0.0, -limit, mid_low])
    raw_high = np.array([t_max, math.sqrt(t_max), limit, math.inf])
    offset = np.array([p[0] for p in pairs])
    scale = np.array([p[1] for p in pairs])
    np.testing.assert_allclose(space.low, (raw_low - offset) / scale, rtol=1e-6)
    np.testing.assert_allclose(space.high, (raw_high - offset) / scale, rtol=1e-6)
    assert space.low[1] == 0.0 and space.high[0] == pytest.approx(1.0)
    unscaled = SelectFeatures(MarketMakingEnv(config), ("inventory", "time_remaining"), "none")
    np.testing.assert_array_equal(unscaled.observation_space.low, [-limit, 0.0])
    np.testing.assert_array_equal(unscaled.observation_space.high,
                                  np.float32([limit, t_max]))


@pytest.mark.parametrize(
    ("preset", "features"),
    [("penalty", FEATURES), ("alpha", ("time_remaining", "inventory", "signal")),
     ("microstructure", ("inventory", "flow_imbalance", "realized_vol", "mid"))],
)
def test_select_features_passes_gymnasium_check_env(preset, features):
    env = SelectFeatures(MarketMakingEnv(market(preset)), features)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # unbounded mid, wrapped env, action space advice
        check_env(env, skip_render_check=True)
    assert env.observation_space.shape == (len(features),)


def test_select_features_extras_are_scaled_and_any_iterable_of_names_works():
    config = market("alpha")
    env = SelectFeatures(MarketMakingEnv(config), iter(["signal", "inventory"]))
    raw_env = MarketMakingEnv(config)
    obs, _ = env.reset(seed=1)
    raw, _ = raw_env.reset(seed=1)
    assert obs.shape == (2,) and env.transform.features == ("signal", "inventory")
    # the signal, 4th raw component, over its stationary std (10 in the alpha preset)
    assert config.signal_std == 10.0 and raw[3] != 0.0
    np.testing.assert_allclose(obs, [raw[3] / 10.0, 0.0], rtol=1e-6)


def test_vector_select_features_is_the_scalar_transform_row_by_row():
    n, config = 6, market()
    venv = VectorSelectFeatures(MarketMakingVectorEnv(n, config), FEATURES)
    raw_venv = MarketMakingVectorEnv(n, config)
    scalar = SelectFeatures(MarketMakingEnv(config), FEATURES)
    assert venv.single_observation_space == scalar.observation_space
    assert venv.observation_space.shape == (n, 4) and venv.observation_space.dtype == np.float32
    np.testing.assert_array_equal(venv.observation_space.low,
                                  np.tile(scalar.observation_space.low, (n, 1)))
    rng = np.random.default_rng(2)
    obs, _ = venv.reset(seed=9)
    raw, _ = raw_venv.reset(seed=9)
    ended = 0
    for _ in range(2 * config.n_steps + 2):  # two episodes and the autoreset step
        assert obs.shape == (n, 4) and obs.dtype == np.float32
        assert venv.observation_space.contains(obs)
        expected = np.stack([scalar.observation(row) for row in raw])
        np.testing.assert_array_equal(obs, expected)
        actions = random_actions(rng, (n,))
        obs, reward, terminated, truncated, info = venv.step(actions)
        raw, raw_reward, raw_terminated, _, raw_info = raw_venv.step(actions)
        np.testing.assert_array_equal(reward, raw_reward)  # only the observation changes
        np.testing.assert_array_equal(terminated, raw_terminated)
        assert not truncated.any()
        np.testing.assert_array_equal(info["mid"], raw_info["mid"])
        ended += int(terminated.sum())
    assert ended == 2 * n
    plain = VectorSelectFeatures(MarketMakingVectorEnv(n, config), FEATURES, scaling="none")
    np.testing.assert_array_equal(
        plain.reset(seed=9)[0],
        compute_features(raw_venv.reset(seed=9)[0], FEATURES).astype(np.float32),
    )


@pytest.mark.parametrize("wrapper", [SelectFeatures, VectorSelectFeatures])
def test_select_features_errors(wrapper):
    def base(preset: str = "penalty"):
        if wrapper is SelectFeatures:
            return MarketMakingEnv(preset=preset)
        return MarketMakingVectorEnv(2, preset=preset)

    with pytest.raises(ValueError, match=r"obs_features must be a non-empty list of .*'mid'.*"
                                         r"got \['inventory', 'spread'\]"):
        wrapper(base(), ["inventory", "spread"])
    with pytest.raises(ValueError, match=r"obs_features must be a non-empty list .*got \[\]"):
        wrapper(base(), [])
    with pytest.raises(ValueError, match=r"obs_features \['signal'\] are not observed in this "
                                         r"market \(its observation is \['time_remaining', "
                                         r"'inventory', 'mid'\]\)"):
        wrapper(base("penalty"), ["time_remaining", "signal"])
    with pytest.raises(ValueError, match=r"scaling must be one of \['fixed', 'none'\], "
                                         r"got 'running'"):
        wrapper(base(), ["inventory"], scaling="running")


def test_wrappers_refuse_an_env_that_is_not_mm_env():
    with pytest.raises(TypeError, match=r"expected an mm_env environment.*got PendulumEnv"):
        SelectFeatures(gym.make("Pendulum-v1"), ["inventory"])
    with pytest.raises(TypeError, match="got PendulumEnv"):
        MartingaleReward(gym.make("Pendulum-v1"))
    venv = gym.make_vec("Pendulum-v1", num_envs=2, vectorization_mode="sync")
    with pytest.raises(TypeError, match="got SyncVectorEnv"):
        VectorSelectFeatures(venv, ["inventory"])
    with pytest.raises(TypeError, match="got SyncVectorEnv"):
        VectorMartingaleReward(venv)


# ------------------------------------------------------------------ martingale reward
def expected_move(config: MarketConfig, mid: np.ndarray | float) -> np.ndarray | float:
    """E[S' - S | S]: mu dt (arithmetic) or S (e^(mu dt) - 1) (geometric)."""
    if config.mid_model == "gbm":
        return mid * (math.exp(config.mu * config.dt) - 1.0)
    return config.mu * config.dt


@pytest.mark.parametrize(
    ("preset", "changes"),
    [("penalty", {"mu": 4.0}), ("default", {"mu": 0.02}), ("penalty", {})],
)
def test_martingale_reward_per_step_against_an_unwrapped_twin(preset, changes):
    config = market(preset, **changes)
    env = MartingaleReward(MarketMakingEnv(config))
    twin = MarketMakingEnv(config)
    rng = np.random.default_rng(5)
    corrected = 0
    for episode in range(2):
        seed = 11 if episode == 0 else None  # the second episode continues the generator
        obs, info = env.reset(seed=seed)
        twin_obs, twin_info = twin.reset(seed=seed)
        np.testing.assert_array_equal(obs, twin_obs)
        mid = twin_info["mid"]
        assert env.mid == mid == config.S0
        terminated = False
        while not terminated:
            action = random_actions(rng, ())
            obs, reward, terminated, truncated, info = env.step(action)
            twin_obs, raw, twin_terminated, _, twin_info = twin.step(action)
            np.testing.assert_array_equal(obs, twin_obs)
            assert info == twin_info and terminated == twin_terminated and not truncated
            q, new_mid = twin_info["inventory"], twin_info["mid"]
            # r - q' (S' - S - E[S' - S | S]), q' the inventory held over the move
            assert reward == pytest.approx(
                raw - q * (new_mid - mid - expected_move(config, mid)), rel=1e-12, abs=1e-12)
            corrected += q != 0 and new_mid != mid
            mid = new_mid
    assert corrected > config.n_steps  # the check had something to check


def _vector_episode_returns(config: MarketConfig, n: int, seed: int):
    """Per-episode sums of the env's reward, the martingale reward and ``q' E[dS]``, paired
    (same episodes) through an unwrapped twin; asymmetric quotes build up inventory."""
    venv = VectorMartingaleReward(MarketMakingVectorEnv(n, config))
    twin = MarketMakingVectorEnv(n, config)
    venv.reset(seed=seed)
    _, info = twin.reset(seed=seed)
    actions = np.tile(np.float32([0.2, 1.5]), (n, 1))
    true, mart, drift = np.zeros(n), np.zeros(n), np.zeros(n)
    mid = info["mid"].copy()
    for _ in range(config.n_steps):
        _, reward, terminated, _, _ = venv.step(actions)
        _, raw, _, _, info = twin.step(actions)
        true += raw
        mart += reward
        drift += info["inventory"] * expected_move(config, mid)
        mid = info["mid"].copy()
    assert terminated.all()
    return true, mart, drift


@pytest.mark.parametrize(
    ("preset", "changes"),
    [
        ("penalty", {"mu": 4.0}),  # arithmetic mid with drift
        ("default", {"mu": 0.02}),  # geometric mid with drift
        ("penalty", {}),  # no drift
        ("microstructure", {}),  # compensated jumps, Hawkes flow, tick, fees: E[dS] = mu dt
    ],
)
def test_martingale_reward_is_unbiased_and_reduces_variance(preset, changes):
    config = market(preset, **changes)
    n = 4000
    true, mart, drift = _vector_episode_returns(config, n, seed=21)
    diff = mart - true  # = -sum q'(dS - E[dS]): zero mean, paired on the same episodes
    se = diff.std(ddof=1) / math.sqrt(n)
    assert se > 0
    assert abs(diff.mean()) < 4 * se, (diff.mean(), se)  # 4 SE: a false alarm ~ 6e-5
    assert mart.var() < 0.5 * true.var(), (mart.var(), true.var())
    if config.mu:
        # the test has power: leaving the drift in the correction (r - q' dS) would be
        # biased by many SEs
        assert abs((diff - drift).mean()) > 10 * se


def test_vector_martingale_reward_with_autoreset_and_partial_resets():
    n, config = 6, market(n_steps=5, mu=4.0)
    venv = VectorMartingaleReward(MarketMakingVectorEnv(n, config))
    twin = MarketMakingVectorEnv(n, config)
    rng = np.random.default_rng(8)
    mask = np.array([True, False, True, False, False, True])
    _, info = twin.reset(seed=4)
    venv.reset(seed=4)
    mid = info["mid"].copy()
    autoreset = np.zeros(n, dtype=bool)
    autoreset_steps = np.zeros(n, dtype=int)
    corrected = 0
    for step in range(4 * config.n_steps):
        if step == 2:  # restart half of the markets mid-episode: their episodes shift
            venv.reset(options={"reset_mask": mask})
            _, info = twin.reset(options={"reset_mask": mask})
            np.testing.assert_array_equal(venv.mid, info["mid"])
            assert np.all(info["mid"][mask] == config.S0)
            mid = info["mid"].copy()
            autoreset[mask] = False
        actions = random_actions(rng, (n,))
        _, reward, terminated, truncated, _ = venv.step(actions)
        _, raw, twin_terminated, _, info = twin.step(actions)
        np.testing.assert_array_equal(terminated, twin_terminated)
        assert not truncated.any()
        q, new_mid = info["inventory"], info["mid"]
        noise = q * (new_mid - mid - expected_move(config, mid))
        # the autoreset step (reward 0, first observation of the next episode) is left alone
        np.testing.assert_allclose(reward, np.where(autoreset, raw, raw - noise),
                                   rtol=1e-12, atol=1e-12)
        assert np.all(reward[autoreset] == 0.0) and np.all(new_mid[autoreset] == config.S0)
        autoreset_steps[autoreset] += 1
        corrected += int(np.sum(~autoreset & (noise != 0)))
        autoreset = terminated | truncated
        mid = new_mid.copy()
    # three autoresets each, at different steps for the restarted markets
    np.testing.assert_array_equal(autoreset_steps, np.full(n, 3))
    assert corrected > n * config.n_steps


def test_vector_martingale_reward_first_reset_with_a_mask():
    """The first reset is a full one whatever the mask: every market starts from S0."""
    n, config = 4, market(mu=4.0)
    venv = VectorMartingaleReward(MarketMakingVectorEnv(n, config))
    twin = MarketMakingVectorEnv(n, config)
    options = {"reset_mask": np.array([True, False, True, False])}
    venv.reset(seed=0, options=options)
    twin.reset(seed=0, options=options)
    np.testing.assert_array_equal(venv.mid, np.full(n, config.S0))
    buy = np.tile(np.float32([-2.0, 10.0]), (n, 1))  # a bid through the mid always fills
    _, reward, *_ = venv.step(buy)
    _, raw, _, _, info = twin.step(buy)
    np.testing.assert_array_equal(info["inventory"], np.ones(n))
    np.testing.assert_allclose(
        reward, raw - (info["mid"] - config.S0 - config.mu * config.dt), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(("mode", "name"), [("SameStep", "SAME_STEP"), ("Disabled", "DISABLED")])
def test_vector_martingale_reward_needs_next_step_autoreset(mode, name):
    with pytest.raises(ValueError, match=rf"needs autoreset_mode NextStep .*got .*{name}"):
        VectorMartingaleReward(MarketMakingVectorEnv(2, market(), autoreset_mode=mode))


@pytest.mark.parametrize(
    ("preset", "changes", "feature"),
    [("adverse", {}, "adverse_selection"), ("alpha", {}, "signal"),
     ("penalty", {"ou_rate": 5.0}, "ou")],
)
def test_martingale_reward_refuses_markets_whose_mid_moves_predictably(preset, changes, feature):
    config = market(preset, **changes)
    message = (rf"components \[[^]]*'{feature}'[^]]*\] move the mid predictably"
               r".*martingale_reward=False")
    with pytest.raises(ValueError, match=message):
        MartingaleReward(MarketMakingEnv(config))
    with pytest.raises(ValueError, match=message):
        VectorMartingaleReward(MarketMakingVectorEnv(2, config))
