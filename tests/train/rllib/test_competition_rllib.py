"""RLlib multi-agent PPO on the competition game (the ``ray`` extra, run in .venv-ray).

What it pins down: the ``MultiAgentEnv`` adapter passes RLlib's multi-agent env check and
replays the PettingZoo env exactly (scaled observations, the same rewards); a short training
run maps every maker to the one shared module, which is trained on all the makers' steps,
and its policy plays every maker in the competition harness.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

pytestmark = [pytest.mark.ray, pytest.mark.usefixtures("keep_torch_threads")]

MARKET = {"inventory_limit": 10.0, "tick_size": 0.05, "sigma": 0.0, "n_steps": 50, "T": 0.25}


@pytest.fixture(scope="module")
def ray_local() -> Iterator[None]:
    import ray

    ray.shutdown()
    ray.init(
        num_cpus=2, include_dashboard=False, log_to_driver=False, object_store_memory=200 * 2**20
    )
    yield
    ray.shutdown()


def test_adapter_passes_rllib_checks_and_replays_the_parallel_env():
    from ray.rllib.utils.pre_checks.env import check_multiagent_environments

    import mm_env.competition as mc
    from train.rllib.competition import make_competition_env

    env = make_competition_env({"n_makers": 3, "overrides": MARKET})
    check_multiagent_environments(env)
    par = mc.parallel_env(n_makers=3, preset="penalty", **MARKET)
    obs, _ = env.reset(seed=4)
    raw, _ = par.reset(seed=4)
    rng = np.random.default_rng(0)
    for _ in range(MARKET["n_steps"]):
        for agent in raw:
            np.testing.assert_array_equal(obs[agent], env.transform(raw[agent]))
        actions = {a: rng.uniform(0.0, 1.0, 2).astype(np.float32) for a in env.agents}
        obs, rewards, terminateds, truncateds, _ = env.step(actions)
        raw, raw_rewards, raw_term, _, _ = par.step(actions)
        assert rewards == {a: float(r) for a, r in raw_rewards.items()}
    assert terminateds["__all__"] and not truncateds["__all__"] and all(raw_term.values())
    assert env.agents == []


def test_short_training_shares_one_module_among_the_makers(ray_local):
    from mm_env import MarketConfig
    from train.evaluation.competition import evaluate_competition
    from train.rllib.competition import CompetitionRLlibConfig, train_competition_rllib

    cfg = CompetitionRLlibConfig(
        overrides=MARKET,
        total_timesteps=400,
        train_batch_size=200,
        minibatch_size=100,
        rollout_fragment_length=50,
        num_epochs=1,
    )
    result = train_competition_rllib(cfg)
    assert result.num_env_steps >= 400 and len(result.iterations) == 2
    last = result.iterations[-1]
    assert last["modules_trained"] == ["shared"]
    assert result.num_agent_steps == 2 * result.num_env_steps  # both makers sampled
    assert last["module_steps"] == result.num_agent_steps  # all of them for the shared module
    market = MarketConfig.preset("penalty", **MARKET)
    obs = np.array([[0.25, 0.0, 100.0], [0.1, 5.0, 100.0]], np.float32)
    actions = result.policy.act(obs)
    assert actions.shape == (2, 2) and np.isfinite(actions).all()
    assert np.all(np.abs(actions) <= market.max_depth)
    ev = evaluate_competition(result.policy, market, n_makers=2, n_episodes=20, seed=0)
    assert ev.episodes.reward.shape == (20, 2) and np.isfinite(ev.episodes.reward).all()
