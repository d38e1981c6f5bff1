"""The multi-asset SB3 adapter and its training wrappers: SB3's VecEnv contract, SameStep
autoreset with terminal observations, the one-asset reduction to the single-asset adapter,
the martingale reward and the fixed feature scaling."""

from __future__ import annotations

import math

import numpy as np
import pytest
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.common.vec_env import VecCheckNan, VecMonitor
from stable_baselines3.common.vec_env.util import obs_space_info

from mm_env import MarketConfig
from mm_env.multi_asset import MultiAssetConfig, MultiAssetMarketMakingVectorEnv
from tests.train.conftest import rollout
from tests.train.multi_asset.conftest import small_pair
from train.sb3.multi_asset_env import (
    MultiAssetInventoryPotential,
    MultiAssetSB3VecEnv,
    VecMultiAssetFeatures,
    VecMultiAssetMartingaleReward,
    VecMultiAssetPotentialShaping,
)
from train.sb3.multi_asset_features import MultiAssetFeatures, fixed_multi_asset_scale
from train.sb3.vec_env import SB3VecEnv
from train.sb3.wrappers import VecMartingaleReward, VecPotentialShaping


def test_vecenv_contract_and_same_step_autoreset():
    config = small_pair()
    venv = VecCheckNan(MultiAssetSB3VecEnv(6, config), raise_exception=True)
    assert venv.num_envs == 6 and venv.observation_space.shape == (5,)
    assert venv.action_space.shape == (4,)
    keys, shapes, _ = obs_space_info(venv.observation_space)
    assert keys == [None] and shapes[None] == (5,)
    actions = np.full((6, 4), 0.7, dtype=np.float32)
    obs, rewards, dones, infos = rollout(venv, config.n_steps + 3, 0, actions)
    assert obs.dtype == np.float32 and rewards.dtype == np.float32 and dones.dtype == np.bool_
    # episodes end together after n_steps, the SameStep reset returns the first observation
    assert dones[: config.n_steps - 1].sum() == 0 and dones[config.n_steps - 1].all()
    assert np.array_equal(obs[config.n_steps][:, 0], np.full(6, config.T, np.float32))
    assert (obs[config.n_steps][:, 1:3] == 0).all()
    last = infos[config.n_steps - 1]
    for i in range(6):
        assert last[i]["TimeLimit.truncated"] is False
        term = last[i]["terminal_observation"]
        assert term.shape == (5,) and term[0] == pytest.approx(0.0, abs=1e-6)
        assert last[i]["inventory"].shape == (2,) and isinstance(last[i]["wealth"], float)
        assert np.array_equal(term[1:3], last[i]["inventory"].astype(np.float32))
    # SB3's own tools run on it
    monitored = VecMonitor(MultiAssetSB3VecEnv(4, config))

    class Const:
        def predict(self, obs, state=None, episode_start=None, deterministic=True):
            return np.full((obs.shape[0], 4), 0.7, np.float32), None

    mean, _ = evaluate_policy(Const(), monitored, n_eval_episodes=8)  # type: ignore[arg-type]
    assert math.isfinite(mean)


def test_wrap_refuses_other_envs_and_modes():
    with pytest.raises(ValueError, match="MultiAssetMarketMakingVectorEnv"):
        MultiAssetSB3VecEnv.wrap(object())
    with pytest.raises(ValueError, match="SameStep"):
        MultiAssetSB3VecEnv.wrap(MultiAssetMarketMakingVectorEnv(2, small_pair()))
    wrapped = MultiAssetSB3VecEnv.wrap(
        MultiAssetMarketMakingVectorEnv(2, small_pair(), autoreset_mode="SameStep")
    )
    assert wrapped.n_assets == 2 and wrapped.get_attr("num_envs") == [2, 2]


def test_one_asset_equals_the_single_asset_adapter():
    market = MarketConfig.preset("penalty", n_steps=20, A=20.0, fill_model="poisson")
    single = SB3VecEnv(5, market)
    multi = MultiAssetSB3VecEnv(5, MultiAssetConfig.from_market(market))
    rng = np.random.default_rng(3)
    actions = rng.uniform(0.0, 1.5, size=(5, 2)).astype(np.float32)
    a = rollout(single, 45, 11, actions)
    b = rollout(multi, 45, 11, actions)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert np.array_equal(a[2], b[2])
    # and the martingale training rewards agree
    ma = rollout(VecMartingaleReward(SB3VecEnv(5, market)), 45, 11, actions)
    mb = rollout(
        VecMultiAssetMartingaleReward(MultiAssetSB3VecEnv(5, MultiAssetConfig.from_market(market))),
        45,
        11,
        actions,
    )
    np.testing.assert_allclose(ma[1], mb[1], rtol=0, atol=1e-5)


def test_martingale_reward_removes_each_assets_price_noise():
    config = small_pair(mu=(0.5, -1.0))  # a drift: E[dS_i] = mu_i dt is kept in the reward
    actions = np.full((8, 4), 0.5, dtype=np.float32)
    raw = MultiAssetSB3VecEnv(8, config)
    trained = VecMultiAssetMartingaleReward(MultiAssetSB3VecEnv(8, config))
    raw.seed(5)
    trained.seed(5)
    raw.reset()
    trained.reset()
    mid = np.array(raw.last_info["mid"], dtype=np.float64)
    drift = np.asarray(config.mu) * config.dt
    for _ in range(config.n_steps):
        _, r, done, infos = raw.step(actions)
        _, r_train, _, _ = trained.step(actions)
        q = np.array(raw.last_info["inventory"], dtype=np.float64)
        new_mid = np.array(raw.last_info["mid"], dtype=np.float64)
        for i in np.flatnonzero(done):
            q[i], new_mid[i] = infos[i]["inventory"], infos[i]["mid"]
        noise = (q * (new_mid - mid - drift)).sum(axis=1)
        np.testing.assert_allclose(r_train, r - noise.astype(np.float32), atol=1e-4)
        mid = np.array(raw.last_info["mid"], dtype=np.float64)
    with pytest.raises(ValueError, match="MultiAssetSB3VecEnv"):
        VecMultiAssetMartingaleReward(SB3VecEnv(2, MarketConfig.preset("penalty")))


def test_feature_columns_scaling_and_bounds():
    config = small_pair(inventory_limit=(4.0, 20.0))
    feats = MultiAssetFeatures(
        config, ("time_remaining", "sqrt_time_remaining", "inventory", "inventory_sqrt_time", "mid")
    )
    assert feats.columns == (
        "time_remaining",
        "sqrt_time_remaining",
        "inventory_1",
        "inventory_2",
        "inventory_sqrt_time_1",
        "inventory_sqrt_time_2",
        "mid_1",
        "mid_2",
    )
    obs = np.array([0.25, 2.0, -5.0, 101.0, 98.0])
    x = feats(obs)
    # inventory scales: min(limit, 10 sizes) = 4 and 10; the abm mid: (S - S0) / (sigma sqrt T)
    expected = [0.25, 0.5, 0.5, -0.5, 0.25, -0.25, 0.5, -1.0]
    np.testing.assert_allclose(x, expected, rtol=1e-6)
    offset, scale = fixed_multi_asset_scale(config, ("inventory",))
    assert offset.tolist() == [0.0, 0.0] and scale.tolist() == [4.0, 10.0]
    venv = VecMultiAssetFeatures(MultiAssetSB3VecEnv(3, config), feats)
    assert venv.observation_space.shape == (8,)
    first = venv.reset()
    assert venv.observation_space.contains(first[0])
    with pytest.raises(ValueError, match="distinct names"):
        MultiAssetFeatures(config, ("inventory", "spread"))
    with pytest.raises(ValueError, match="string"):
        MultiAssetFeatures(config, "inventory")
    with pytest.raises(ValueError, match="5 entries"):
        feats(np.zeros(3))
    with pytest.raises(ValueError, match="2 finite numbers"):
        MultiAssetFeatures(config, ("inventory",), offset=[0.0], scale=[1.0, 1.0])


def test_potential_shaping_telescopes_and_reduces_to_one_asset():
    config = small_pair()
    actions = np.random.default_rng(1).uniform(0.0, 1.0, (4, 4)).astype(np.float32)
    for kind in ("terminal", "running"):
        raw = rollout(MultiAssetSB3VecEnv(4, config), config.n_steps, 9, actions)
        shaped = rollout(
            VecMultiAssetPotentialShaping(MultiAssetSB3VecEnv(4, config), kind),
            config.n_steps,
            9,
            actions,
        )
        assert np.array_equal(raw[0], shaped[0])
        # from a flat start the shaping terms sum to 0 over an episode, not step by step
        np.testing.assert_allclose(raw[1].sum(axis=0), shaped[1].sum(axis=0), atol=1e-3)
        assert not np.allclose(raw[1], shaped[1])
    # the first step's term for "terminal": -q_1' Psi q_1 (flat start)
    venv = MultiAssetSB3VecEnv(4, config)
    wrapped = VecMultiAssetPotentialShaping(venv, "terminal")
    wrapped.seed(2)
    wrapped.reset()
    _, r_shaped, _, _ = wrapped.step(actions)
    q = np.array(venv.last_info["inventory"], dtype=np.float64)
    plain = rollout(MultiAssetSB3VecEnv(4, config), 1, 2, actions)[1][0]
    psi = np.asarray(config.alpha_matrix)
    np.testing.assert_allclose(r_shaped, plain - np.einsum("mi,ij,mj->m", q, psi, q), atol=1e-4)
    # one asset: the single-asset shaping
    market = MarketConfig.preset("penalty", n_steps=20, A=20.0)
    one = rollout(VecPotentialShaping(SB3VecEnv(3, market), "running"), 30, 4, actions[:3, :2])
    multi = rollout(
        VecMultiAssetPotentialShaping(
            MultiAssetSB3VecEnv(3, MultiAssetConfig.from_market(market)), "running"
        ),
        30,
        4,
        actions[:3, :2],
    )
    np.testing.assert_allclose(one[1], multi[1], atol=1e-5)
    with pytest.raises(ValueError, match="reward_shaping"):
        VecMultiAssetPotentialShaping(MultiAssetSB3VecEnv(2, config), "sometimes")
    with pytest.raises(ValueError, match="use reward_shaping='none'"):
        MultiAssetInventoryPotential(small_pair(reward="pnl", phi=0.0, alpha=0.0), "terminal")


def test_inverse_steps_remaining_resolves_the_last_steps():
    config = small_pair()  # 20 steps, dt = 0.05
    feats = MultiAssetFeatures(config, ("inverse_steps_remaining",))
    venv = MultiAssetSB3VecEnv(1, config)
    venv.seed(0)
    seen = [feats(venv.reset())[0, 0]]
    for _ in range(config.n_steps - 1):
        obs, *_ = venv.step(np.full((1, 4), 0.7, np.float32))
        seen.append(feats(obs)[0, 0])
    np.testing.assert_allclose(seen, [1.0 / (config.n_steps - i) for i in range(20)], rtol=1e-5)
    assert feats(np.array([0.0, 0, 0, 100, 100]))[0] == 1.0  # the terminal observation
