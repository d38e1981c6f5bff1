"""The SB3 VecEnv adapter and the training wrappers: SB3's VecEnv contract (shapes, dtypes,
autoreset with terminal_observation, seeding, attribute access), SB3's own wrappers,
evaluation and callbacks on top of it, the martingale reward and the fixed observation scaling.
"""

from __future__ import annotations

import math

import gymnasium as gym
import numpy as np
import pytest
from gymnasium import spaces
from stable_baselines3 import PPO
from stable_baselines3.common.callbacks import EvalCallback as SB3EvalCallback
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.common.monitor import Monitor
from stable_baselines3.common.vec_env import (
    DummyVecEnv,
    VecEnv,
    VecEnvWrapper,
    VecMonitor,
    VecNormalize,
)
from stable_baselines3.common.vec_env.util import obs_space_info

import mm_env
from agents.simple import FixedSpreadAgent
from mm_env import MarketConfig, MarketMakingVectorEnv
from tests.train.conftest import SMALL, rollout, small_market
from train.sb3.vec_env import SB3VecEnv
from train.sb3.wrappers import VecMartingaleReward, VecSelectObservation, fixed_observation_scale

N_STEPS = 5


def constant_actions(n: int, bid: float = 0.7, ask: float = 0.7) -> np.ndarray:
    return np.tile(np.array([bid, ask], dtype=np.float32), (n, 1))


# ------------------------------------------------------------------ VecEnv contract
def test_spaces_shapes_and_dtypes():
    venv = SB3VecEnv(6, preset="as2008", n_steps=N_STEPS)
    assert isinstance(venv, VecEnv) and venv.num_envs == 6
    assert venv.observation_space.shape == (3,) and venv.action_space.shape == (2,)
    assert venv.unwrapped is venv
    venv.seed(0)
    obs = venv.reset()
    assert isinstance(obs, np.ndarray)
    assert obs.shape == (6, 3) and obs.dtype == np.float32
    keys, shapes, dtypes = obs_space_info(venv.observation_space)
    assert keys == [None] and shapes[None] == obs.shape[1:] and dtypes[None] == obs.dtype
    assert len(venv.reset_infos) == 6
    o, r, d, infos = venv.step(constant_actions(6))
    assert o.shape == (6, 3) and o.dtype == np.float32
    assert r.shape == (6,) and r.dtype == np.float32
    assert d.shape == (6,) and d.dtype == np.bool_
    assert isinstance(infos, list) and len(infos) == 6
    assert all(isinstance(i, dict) for i in infos)
    assert all(venv.observation_space.contains(x) for x in o)
    # float64 actions (what SB3 passes after clipping) and a (2,) action per env
    o2, *_ = venv.step(constant_actions(6).astype(np.float64))
    assert o2.shape == (6, 3)
    venv.close()


def test_step_returns_fresh_arrays():
    """Arrays handed out are not reused buffers: writing into them changes nothing later."""
    venv = SB3VecEnv(4, preset="as2008", n_steps=N_STEPS)
    venv.seed(1)
    o0 = venv.reset()
    o1, r1, d1, _ = venv.step(constant_actions(4))
    snapshot = o1.copy(), r1.copy(), d1.copy()
    o1[:] = np.nan
    r1[:] = np.nan
    d1[:] = True
    o2, r2, d2, _ = venv.step(constant_actions(4))
    assert not np.shares_memory(o2, o1) and not np.shares_memory(o2, o0)
    assert not np.shares_memory(r2, r1) and not np.shares_memory(d2, d1)
    assert np.all(np.isfinite(o2)) and not d2.any()
    # the same actions from the same seed give the same first step although we wrote into it
    venv.seed(1)
    venv.reset()
    again = venv.step(constant_actions(4))
    for a, b in zip(snapshot, again[:3], strict=True):
        np.testing.assert_array_equal(a, b)


def test_step_wait_without_step_async_is_an_error():
    venv = SB3VecEnv(2, preset="as2008", n_steps=N_STEPS)
    venv.reset()
    with pytest.raises(RuntimeError, match="step_async"):
        venv.step_wait()


def test_autoreset_and_terminal_observation():
    n = 8
    venv = SB3VecEnv(n, small_market(n_steps=N_STEPS))
    config = venv.config
    actions = constant_actions(n, 0.3, 1.2)  # asymmetric: the inventory moves
    obs, rewards, dones, infos = rollout(venv, N_STEPS + 2, seed=11, actions=actions)
    assert not dones[: N_STEPS - 1].any() and dones[N_STEPS - 1].all()
    assert not dones[N_STEPS:].any()
    for step_infos in infos[: N_STEPS - 1] + infos[N_STEPS:]:
        assert step_infos == [{}] * n  # infos only on an episode's end
    last = infos[N_STEPS - 1]
    # the same episode without autoreset: its last observation is the terminal observation
    ref = MarketMakingVectorEnv(n, config, autoreset_mode="Disabled")
    ref_path = [ref.reset(seed=11)[0]]
    ref_rewards = []
    for _ in range(N_STEPS):
        ref_obs, ref_reward, terminated, truncated, ref_info = ref.step(actions)
        ref_path.append(ref_obs)
        ref_rewards.append(ref_reward)
    assert terminated.all() and not truncated.any()
    np.testing.assert_array_equal(obs[:N_STEPS], np.stack(ref_path[:N_STEPS]))
    # the reward of the last step is the episode's (terminal penalty included), not a reset's
    np.testing.assert_allclose(rewards[:N_STEPS], np.stack(ref_rewards), rtol=1e-6, atol=1e-5)
    for i, info in enumerate(last):
        term = info["terminal_observation"]
        assert isinstance(term, np.ndarray) and term.shape == (3,) and term.dtype == np.float32
        np.testing.assert_array_equal(term, ref_obs[i])
        assert term[0] == 0.0  # time remaining at the end
        assert term[1] == info["inventory"] and term[2] == np.float32(info["mid"])
        assert info["TimeLimit.truncated"] is False
        assert info["wealth"] == pytest.approx(ref_info["wealth"][i])
        assert info["step"] == N_STEPS
        assert isinstance(info["bid_filled"], bool) and isinstance(info["mid"], float)
        assert not any(k.startswith("_") for k in info)
    assert np.any(np.stack([i["terminal_observation"] for i in last])[:, 1] != 0)
    # the observation returned with done is the first of the next episode
    reset_obs = obs[N_STEPS]
    np.testing.assert_array_equal(reset_obs[:, 0], np.full(n, config.T, np.float32))
    np.testing.assert_array_equal(reset_obs[:, 1], np.zeros(n, np.float32))
    np.testing.assert_array_equal(reset_obs[:, 2], np.full(n, config.S0, np.float32))
    # and the next step continues the new episode
    assert np.all(obs[N_STEPS + 1][:, 0] == np.float32(config.T - config.dt))
    # the top-level info of the reset env is that of the new episode
    assert np.all(venv.last_info["step"] == 2) and np.all(venv.last_info["mid"] != config.S0)


def test_reset_seeding():
    n = 5
    venv = SB3VecEnv(n, market := small_market())
    rng = np.random.default_rng(0)
    actions = rng.uniform(0.0, 2.0, size=(n, 2)).astype(np.float32)
    a = rollout(venv, 2 * market.n_steps + 3, seed=7, actions=actions)
    b = rollout(venv, 2 * market.n_steps + 3, seed=7, actions=actions)
    c = rollout(venv, 2 * market.n_steps + 3, seed=8, actions=actions)
    for x, y in zip(a[:3], b[:3], strict=True):
        np.testing.assert_array_equal(x, y)
    assert not np.array_equal(a[0], c[0]) and not np.array_equal(a[1], c[1])
    # seed 0 is a seed like any other; seed() returns SB3's per-env seeds
    assert venv.seed(0) == list(range(n))
    d0 = rollout(venv, 3, seed=None, actions=actions)
    e0 = rollout(venv, 3, seed=0, actions=actions)
    np.testing.assert_array_equal(d0[0], e0[0])
    # a reset without a seed continues the generator: a fresh market, not a replay
    venv.seed(7)
    venv.reset()
    venv.step(actions)
    f = rollout(venv, 3, seed=None, actions=actions)
    assert not np.array_equal(f[1], a[1][:3])
    # seeding is the same as seeding the native vector env
    native = MarketMakingVectorEnv(n, market, autoreset_mode="SameStep")
    native.reset(seed=7)
    np.testing.assert_array_equal(native.step(actions)[0], a[0][1])


def test_wrap_checks_its_argument():
    native = MarketMakingVectorEnv(3, preset="as2008", autoreset_mode="SameStep")
    wrapped = SB3VecEnv.wrap(native)
    assert wrapped.venv is native and wrapped.num_envs == 3 and wrapped.config is native.config
    with pytest.raises(ValueError, match="autoreset_mode='SameStep'"):
        SB3VecEnv.wrap(MarketMakingVectorEnv(3, preset="as2008"))
    with pytest.raises(ValueError, match="MarketMakingVectorEnv"):
        SB3VecEnv.wrap(gym.make(mm_env.ENV_ID))  # type: ignore[arg-type]


# ------------------------------------------------------------- attribute access
def test_get_attr_set_attr_env_method_env_is_wrapped():
    n = 4
    venv = SB3VecEnv(n, preset="as2008", n_steps=N_STEPS)
    config = venv.config
    assert venv.get_attr("config") == [config] * n
    assert venv.get_attr("config", indices=[1, 3]) == [config, config]
    assert venv.get_attr("num_envs", indices=2) == [n]
    assert venv.has_attr("config") and not venv.has_attr("no_such_attribute")
    with pytest.raises(AttributeError):
        venv.get_attr("no_such_attribute")
    # through SB3 wrappers
    assert VecNormalize(VecMonitor(venv)).get_attr("config") == [config] * n

    venv.set_attr("metadata", {"render_modes": [], "tag": 1})
    assert venv.venv.metadata["tag"] == 1
    assert venv.get_attr("metadata", indices=[0])[0]["tag"] == 1
    venv.set_attr("metadata", {"render_modes": [], "tag": 2}, indices=range(n))
    assert venv.venv.metadata["tag"] == 2
    with pytest.raises(ValueError, match="indices=None"):
        venv.set_attr("metadata", {}, indices=[0])
    with pytest.raises(ValueError, match="indices=None"):
        venv.set_attr("metadata", {}, indices=0)
    with pytest.raises(AttributeError, match="no_such_attribute"):
        venv.set_attr("no_such_attribute", 1)
    assert venv.venv.metadata["tag"] == 2

    # env_method calls the shared vector env's method once, one result per index
    results = venv.env_method("reset", seed=3)
    assert len(results) == n
    obs, info = results[0]
    assert all(r is results[0] for r in results)
    np.testing.assert_array_equal(obs, MarketMakingVectorEnv(n, config).reset(seed=3)[0])
    assert set(info) >= {"mid", "cash", "inventory", "wealth"}
    with pytest.raises(ValueError, match="env_method"):
        venv.env_method("reset", indices=[0, 1])
    with pytest.raises(AttributeError):
        venv.env_method("no_such_method")

    wrapped = venv.env_is_wrapped(Monitor)
    assert wrapped == [False] * n and all(type(w) is bool for w in wrapped)
    assert venv.env_is_wrapped(gym.Wrapper, indices=[0, 2]) == [False, False]
    assert VecMonitor(venv).env_is_wrapped(Monitor) == [False] * n
    assert list(venv.get_images()) == [None] * n


# --------------------------------------------------------- SB3 wrappers on top
def test_vec_monitor_episode_statistics():
    n = 6
    venv = VecMonitor(SB3VecEnv(n, small_market()))
    actions = constant_actions(n, 0.5, 0.9)
    steps = 20
    _, rewards, dones, infos = rollout(venv, 2 * steps, seed=3, actions=actions)
    assert dones.sum() == 2 * n
    for end, start in ((steps - 1, 0), (2 * steps - 1, steps)):
        for i, info in enumerate(infos[end]):
            ep = info["episode"]
            assert ep["l"] == steps
            total = float(np.sum(rewards[start : end + 1, i], dtype=np.float64))
            assert ep["r"] == pytest.approx(total, rel=1e-5, abs=1e-4)
            assert "terminal_observation" in info


def test_vec_normalize_on_the_adapter(tmp_path):
    n = 16
    base = SB3VecEnv(n, small_market())
    venv = VecNormalize(VecMonitor(base), gamma=1.0)
    venv.seed(0)
    obs = venv.reset()
    assert obs.shape == (n, 3)
    actions = constant_actions(n, 0.2, 1.0)
    for _ in range(45):
        obs, reward, done, infos = venv.step(actions)
        assert np.all(np.isfinite(obs)) and np.all(np.isfinite(reward))
        raw = venv.get_original_obs()
        np.testing.assert_allclose(venv.normalize_obs(raw), obs, rtol=1e-6)
        if done.any():
            for i in np.flatnonzero(done):
                term = infos[i]["terminal_observation"]
                assert np.all(np.isfinite(term)) and np.all(np.abs(term) <= venv.clip_obs)
    assert venv.obs_rms.count > 45 * n
    # its statistics round-trip through SB3's pickle on a new adapter
    venv.save(str(tmp_path / "vecnorm.pkl"))
    fresh = VecMonitor(SB3VecEnv(n, small_market()))
    back = VecNormalize.load(str(tmp_path / "vecnorm.pkl"), fresh)
    np.testing.assert_array_equal(back.obs_rms.mean, venv.obs_rms.mean)
    np.testing.assert_array_equal(back.ret_rms.var, venv.ret_rms.var)


def test_evaluate_policy_runs_and_matches_a_manual_rollout():
    n, episodes = 4, 8
    market = small_market()
    agent = FixedSpreadAgent(market, bid_depth=0.5, ask_depth=0.8)
    venv = VecMonitor(SB3VecEnv(n, market))
    venv.seed(5)
    rewards, lengths = evaluate_policy(
        agent, venv, n_eval_episodes=episodes, return_episode_rewards=True
    )
    assert isinstance(rewards, list) and len(rewards) == episodes
    assert lengths == [market.n_steps] * episodes
    # the same episodes by hand: 2 episodes per env, in the order they finish
    manual = SB3VecEnv(n, market)
    _, r, _, _ = rollout(manual, 2 * market.n_steps, seed=5, actions=agent.act(np.zeros((n, 3))))
    expected = np.concatenate(
        [r[: market.n_steps].sum(0, dtype=np.float64), r[market.n_steps :].sum(0, dtype=np.float64)]
    )
    np.testing.assert_allclose(rewards, expected, rtol=1e-5, atol=1e-4)
    mean, std = evaluate_policy(agent, venv, n_eval_episodes=episodes)
    assert math.isfinite(mean) and std >= 0


def test_ppo_learns_with_sb3_callbacks_on_the_adapter(tmp_path):
    market = small_market()
    train_env = VecMonitor(SB3VecEnv(8, market))
    eval_env = VecMonitor(SB3VecEnv(4, market))
    callback = SB3EvalCallback(
        eval_env, n_eval_episodes=4, eval_freq=20, log_path=str(tmp_path), verbose=0
    )
    model = PPO(
        "MlpPolicy",
        train_env,
        n_steps=20,
        batch_size=80,
        n_epochs=1,
        seed=0,
        policy_kwargs={"net_arch": [8]},
        device="cpu",
    )
    model.learn(total_timesteps=480, callback=callback)
    assert model.num_timesteps == 480
    assert callback.evaluations_timesteps == [160, 320, 480]
    assert all(len(r) == 4 for r in callback.evaluations_results)
    assert (tmp_path / "evaluations.npz").is_file()
    assert math.isfinite(callback.last_mean_reward)
    assert len(model.ep_info_buffer) > 0  # VecMonitor's episode infos reached SB3


# ------------------------------------------------------------- martingale reward
class _RecordReward(VecEnvWrapper):
    """Keeps the reward that passes through it (the env's own reward, below the martingale)."""

    def reset(self):
        return self.venv.reset()

    def step_wait(self):
        obs, reward, done, infos = self.venv.step_wait()
        self.reward = reward.copy()
        return obs, reward, done, infos


def _martingale_run(market: MarketConfig, n: int, bid: float, ask: float, seed: int):
    """Per-episode sums of the true and the martingale reward, and of ``q' E[dS]``."""
    base = SB3VecEnv(n, market)
    recorder = _RecordReward(VecMonitor(base))
    venv = VecMartingaleReward(recorder)
    venv.seed(seed)
    venv.reset()
    prev_mid = np.full(n, market.S0)
    mart, true, drift_sum = np.zeros(n), np.zeros(n), np.zeros(n)
    actions = constant_actions(n, bid, ask)
    for step in range(market.n_steps):
        _, r, done, infos = venv.step(actions)
        if step < market.n_steps - 1:
            assert not done.any()
            q, mid = base.last_info["inventory"], base.last_info["mid"]
        else:  # the top-level info is the next episode's: the final values are in infos
            assert done.all()
            q = np.array([i["inventory"] for i in infos])
            mid = np.array([i["mid"] for i in infos])
            monitor_sum = np.array([i["episode"]["r"] for i in infos], dtype=np.float64)
        # per step: r_mart = r - q' (S' - S - E[S' - S | S])
        if market.mid_model == "gbm":
            expected = prev_mid * np.expm1(market.mu * market.dt)
        else:
            expected = np.full(n, market.mu * market.dt)
        noise = (q * (mid - prev_mid - expected)).astype(np.float32)
        np.testing.assert_allclose(r, recorder.reward - noise, rtol=1e-5, atol=1e-4)
        mart += r
        true += recorder.reward
        drift_sum += q * expected
        prev_mid = mid
    np.testing.assert_allclose(true, monitor_sum, rtol=1e-5, atol=1e-3)
    # after the autoreset the next step starts from the new episode's mid
    np.testing.assert_array_equal(venv.mid, np.full(n, market.S0))
    return true, mart, drift_sum


@pytest.mark.parametrize(
    ("preset", "changes", "bid", "ask"),
    [
        ("penalty", {"mu": 4.0}, 0.2, 1.5),  # arithmetic mid with drift, long inventory
        ("default", {"mu": 0.02}, 0.2, 1.5),  # geometric mid with drift
        ("penalty", {}, 0.6, 0.6),  # symmetric quotes, no drift
    ],
)
def test_martingale_reward_is_unbiased_and_reduces_variance(preset, changes, bid, ask):
    market = MarketConfig.preset(preset, **{**SMALL, **changes})
    n = 4000
    true, mart, drift_sum = _martingale_run(market, n, bid, ask, seed=21)
    diff = mart - true  # = -sum q'(dS - E[dS]): zero mean, paired on the same episodes
    se_diff = diff.std(ddof=1) / math.sqrt(n)
    assert abs(diff.mean()) < 4 * se_diff, (diff.mean(), se_diff)
    se_true = true.std(ddof=1) / math.sqrt(n)
    assert abs(mart.mean() - true.mean()) < 4 * se_true
    assert mart.var() < 0.5 * true.var(), (mart.var(), true.var())
    if market.mu:
        # the test has power: dropping the drift term (r - q' dS) would be biased by many SEs
        assert abs((diff - drift_sum).mean()) > 10 * se_diff


def test_martingale_reward_needs_the_adapter():
    dummy = DummyVecEnv([lambda: gym.make(mm_env.ENV_ID)])
    with pytest.raises(ValueError, match="SB3VecEnv"):
        VecMartingaleReward(dummy)


# ---------------------------------------------------------- observation scaling
def test_fixed_observation_scale_values():
    abm = MarketConfig.preset("penalty")
    offset, scale = fixed_observation_scale(abm, ("time_remaining", "inventory", "mid"))
    np.testing.assert_allclose(offset, [0.0, 0.0, abm.S0])
    np.testing.assert_allclose(scale, [abm.T, min(abm.inventory_limit, 10.0), abm.sigma])
    gbm = MarketConfig.preset("default", T=2.0, order_size=0.5)
    offset, scale = fixed_observation_scale(gbm, ("mid", "inventory"))
    np.testing.assert_allclose(offset, [gbm.S0, 0.0])
    np.testing.assert_allclose(scale, [gbm.sigma * gbm.S0 * math.sqrt(2.0), 5.0], rtol=1e-6)
    assert offset.dtype == scale.dtype == np.float32
    _, scale = fixed_observation_scale(gbm, ("sqrt_time_remaining",))
    np.testing.assert_allclose(scale, [math.sqrt(2.0)], rtol=1e-6)


@pytest.mark.parametrize(
    "features",
    [
        ("time_remaining", "inventory"),
        ("mid", "time_remaining"),
        ("sqrt_time_remaining", "inventory"),
    ],
)
def test_select_observation_applies_the_fixed_scaling(features):
    n = 8
    market = small_market()
    offset, scale = fixed_observation_scale(market, features)
    venv = VecSelectObservation(SB3VecEnv(n, market), features, offset, scale)
    raw_env = SB3VecEnv(n, market)

    def columns(raw: np.ndarray) -> np.ndarray:
        names = mm_env.OBSERVATION_NAMES
        return np.stack(
            [
                np.sqrt(raw[..., 0]) if f == "sqrt_time_remaining" else raw[..., names.index(f)]
                for f in features
            ],
            axis=-1,
        )

    actions = constant_actions(n, 0.2, 1.0)
    obs, _, dones, infos = rollout(venv, market.n_steps + 1, seed=4, actions=actions)
    raw, _, _, raw_infos = rollout(raw_env, market.n_steps + 1, seed=4, actions=actions)
    assert obs.dtype == np.float32 and obs.shape == (market.n_steps + 2, n, len(features))
    np.testing.assert_allclose(obs, (columns(raw) - offset) / scale, rtol=1e-6, atol=1e-7)
    np.testing.assert_array_equal(venv.transform(raw[3]), obs[3])
    end = market.n_steps - 1
    assert dones[end].all()
    for info, raw_info in zip(infos[end], raw_infos[end], strict=True):
        np.testing.assert_allclose(
            info["terminal_observation"],
            (columns(raw_info["terminal_observation"]) - offset) / scale,
            rtol=1e-6,
            atol=1e-7,
        )
    space = venv.observation_space
    assert isinstance(space, spaces.Box) and space.shape == (len(features),)
    raw_space = raw_env.observation_space
    assert isinstance(raw_space, spaces.Box)
    np.testing.assert_allclose(space.low, (columns(raw_space.low) - offset) / scale)
    np.testing.assert_allclose(space.high, (columns(raw_space.high) - offset) / scale)
    assert all(space.contains(x) for x in obs.reshape(-1, len(features)))


def test_select_observation_defaults_and_errors():
    venv = VecSelectObservation(SB3VecEnv(2, small_market()), ["inventory"])
    assert isinstance(venv, VecEnvWrapper) and venv.features == ("inventory",)
    venv.seed(0)
    np.testing.assert_array_equal(venv.reset(), np.zeros((2, 1), np.float32))
    with pytest.raises(ValueError, match="obs_features"):
        VecSelectObservation(SB3VecEnv(2, small_market()), ["spread"])
    with pytest.raises(ValueError, match="obs_features"):
        VecSelectObservation(SB3VecEnv(2, small_market()), [])


# ------------------------------------------------------------------ market components
def test_observation_extras_can_be_selected_and_are_scaled_by_the_signal_std():
    market = MarketConfig.preset("alpha")
    assert "signal" in mm_env.observation_names(market)
    features = ("time_remaining", "inventory", "signal")
    offset, scale = fixed_observation_scale(market, features)
    assert scale[2] == pytest.approx(market.signal_std)
    base = SB3VecEnv(16, market)
    wrapped = VecSelectObservation(base, features, offset, scale)
    wrapped.seed(3)
    obs = wrapped.reset()
    raw_env = SB3VecEnv(16, market)  # the unscaled observation of the same market
    raw_env.seed(3)
    raw = raw_env.reset()
    col = mm_env.observation_names(market).index("signal")
    np.testing.assert_allclose(obs[:, 2], raw[:, col] / market.signal_std, rtol=1e-6)


def test_a_feature_the_market_does_not_observe_is_a_clear_error():
    with pytest.raises(ValueError, match=r"obs_features \['signal'\] are not observed"):
        VecSelectObservation(
            SB3VecEnv(4, MarketConfig.preset("penalty")), ("time_remaining", "signal")
        )


@pytest.mark.parametrize("preset", ["alpha", "adverse"])
def test_martingale_reward_refuses_markets_whose_mid_moves_predictably(preset):
    with pytest.raises(ValueError, match="martingale_reward=False"):
        VecMartingaleReward(VecMonitor(SB3VecEnv(4, MarketConfig.preset(preset))))
