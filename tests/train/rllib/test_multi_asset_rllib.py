"""The Ray env creator builds the multi-asset market for a multi-asset preset, and RLlib's PPO
trains on it through the registered creator (the Ray test runs in .venv-ray)."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from mm_env.multi_asset import MultiAssetConfig, MultiAssetMarketMakingVectorEnv
from train.rllib.env import make_env

SMALL = {"n_steps": 20, "inventory_limit": 3}


def test_the_creator_builds_the_multi_asset_envs_and_refuses_single_asset_wrappers():
    env = make_env({"preset": "pair", "overrides": SMALL})
    assert env.unwrapped.config == MultiAssetConfig.preset("pair", **SMALL)
    venv = make_env({"preset": "basket", "overrides": SMALL, "num_envs": 6})
    assert isinstance(venv, MultiAssetMarketMakingVectorEnv)
    assert venv.single_observation_space.shape == (7,) and venv.single_action_space.shape == (6,)
    obs, _ = venv.reset(seed=1)
    obs, reward, *_ = venv.step(np.full((6, 6), 0.7, np.float32))
    assert np.isfinite(obs).all() and np.isfinite(reward).all()
    for key in ("obs_features", "martingale_reward"):
        with pytest.raises(ValueError, match=f"{key}.*single-asset markets only"):
            make_env({"preset": "pair", key: ["time_remaining"] if key == "obs_features" else 1})
    with pytest.raises(ValueError, match="rho"):
        make_env({"preset": "pair", "overrides": {"rho": ((1.0, 2.0), (2.0, 1.0))}})


@pytest.fixture(scope="module")
def ray_local() -> Iterator[None]:
    import ray

    ray.shutdown()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             object_store_memory=200 * 2**20)
    yield
    ray.shutdown()


@pytest.mark.ray
@pytest.mark.usefixtures("keep_torch_threads")
def test_rllib_ppo_trains_on_the_pair_preset(ray_local):
    from ray.rllib.algorithms.ppo import PPOConfig

    from train.rllib.env import ENV_NAME, register

    register()
    config = (
        PPOConfig()
        .environment(ENV_NAME, env_config={"preset": "pair", "overrides": SMALL},
                     normalize_actions=False, clip_actions=True)
        .env_runners(num_env_runners=0, num_envs_per_env_runner=10,
                     gym_env_vectorize_mode="vector_entry_point", rollout_fragment_length=20)
        .training(train_batch_size_per_learner=200, minibatch_size=100, num_epochs=1)
    )
    algo = config.build_algo()
    try:
        result = algo.train()
        module = algo.get_module()
    finally:
        algo.stop()
    assert result["num_env_steps_sampled_lifetime"] >= 200
    assert module.observation_space.shape == (5,) and module.action_space.shape == (4,)
