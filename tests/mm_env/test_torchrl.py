"""TorchRL integration (optional extra ``torchrl``): the scalar and the native vector env
wrapped by TorchRL's ``GymWrapper`` pass ``check_env_specs``, roll out (with TorchRL's
partial resets), feed a data collector and give the same market as the Gymnasium loop."""

from __future__ import annotations

import warnings

import gymnasium as gym
import numpy as np
import pytest

from agents import OptimalAgent
from mm_env import ENV_ID, MarketConfig

with warnings.catch_warnings():  # torchrl 0.14 warns about its own deprecated classes
    warnings.simplefilter("ignore", DeprecationWarning)
    torchrl = pytest.importorskip("torchrl")
    torch = pytest.importorskip("torch")
    from tensordict import TensorDictBase
    from torchrl.collectors import Collector
    from torchrl.data import Unbounded
    from torchrl.envs import GymEnv, GymWrapper
    from torchrl.envs.libs.gym import default_info_dict_reader
    from torchrl.envs.utils import check_env_specs

N_STEPS = 20
M = 4


def vector_env(mode: str, preset: str = "penalty") -> gym.vector.VectorEnv:
    return gym.make_vec(ENV_ID, num_envs=M, vectorization_mode="vector_entry_point",
                        preset=preset, n_steps=N_STEPS, autoreset_mode=mode)


def test_scalar_env_passes_check_env_specs():
    env = GymWrapper(gym.make(ENV_ID, preset="penalty", n_steps=N_STEPS))
    check_env_specs(env, seed=0)
    space = env._env.action_space
    assert env.action_spec.shape == (2,)
    np.testing.assert_array_equal(env.action_spec.space.low.numpy(), space.low)
    np.testing.assert_array_equal(env.action_spec.space.high.numpy(), space.high)
    assert env.observation_spec["observation"].shape == (3,)
    env.close()


def test_scalar_rollout_is_the_gymnasium_loop():
    """A policy run through TorchRL sees exactly the market of the plain Gymnasium loop."""
    config = MarketConfig.preset("penalty", n_steps=N_STEPS)
    agent = OptimalAgent(config)

    def policy(td: TensorDictBase) -> TensorDictBase:
        return td.set("action", torch.as_tensor(agent.act(td["observation"].numpy()),
                                                dtype=torch.float32))

    env = GymWrapper(gym.make(ENV_ID, config=config))
    td = env.rollout(N_STEPS + 5, policy, auto_reset=False, tensordict=env.reset(seed=7))
    assert td.batch_size == (N_STEPS,)  # stops at the termination
    assert td["next", "terminated"][-1].item() and not td["next", "truncated"].any()

    plain = gym.make(ENV_ID, config=config)
    obs, _ = plain.reset(seed=7)
    rewards, observations = [], [obs]
    terminated = False
    while not terminated:
        obs, reward, terminated, _, _ = plain.step(agent.act(obs).astype(np.float32))
        rewards.append(reward)
        observations.append(obs)
    np.testing.assert_array_equal(td["observation"].numpy(), np.array(observations[:-1]))
    np.testing.assert_array_equal(td["next", "observation"].numpy(), np.array(observations[1:]))
    # TorchRL's reward spec is float32
    np.testing.assert_allclose(td["next", "reward"].numpy()[:, 0], np.array(rewards, float),
                               rtol=1e-6, atol=1e-4)


@pytest.mark.parametrize("mode", ["Disabled", "SameStep"])
def test_native_vector_env_batched_rollout_with_resets(mode):
    env = GymWrapper(vector_env(mode, preset="as2008"))  # as2008: reward pnl, sum = wealth
    assert env.batch_size == (M,)
    check_env_specs(env, seed=0)
    spec = [Unbounded((M,), dtype=torch.float64)] * 2
    env.set_info_dict_reader(default_info_dict_reader(["wealth", "step"], spec=spec))
    env.set_seed(1)
    steps = 2 * N_STEPS + 5
    td = env.rollout(steps, break_when_any_done=False)  # TorchRL resets the ended sub-envs
    assert td.batch_size == (M, steps)
    done = td["next", "done"][..., 0]
    ends = [N_STEPS - 1, 2 * N_STEPS - 1]
    assert done.sum().item() == 2 * M
    assert done[:, ends].all()
    obs = td["observation"]
    T = env._env.unwrapped.config.T
    assert torch.all(obs[:, [0, N_STEPS, 2 * N_STEPS], 0] == T)  # fresh episodes after ends
    assert torch.all(td["next", "observation"][:, ends, 0] == 0.0)  # the real final obs
    rewards = td["next", "reward"][..., 0].double()
    wealth = td["next", "wealth"]
    torch.testing.assert_close(rewards[:, :N_STEPS].sum(1), wealth[:, N_STEPS - 1],
                               rtol=1e-5, atol=1e-3)
    torch.testing.assert_close(rewards[:, N_STEPS:2 * N_STEPS].sum(1),
                               wealth[:, 2 * N_STEPS - 1], rtol=1e-5, atol=1e-3)
    assert torch.all(td["next", "step"][:, ends] == N_STEPS)
    env.close()


def test_next_step_vector_env_is_refused_with_a_clear_message():
    """TorchRL needs autoreset_mode="Disabled" (preferred) or "SameStep"; the native env's
    default, NextStep, is refused at wrapping time rather than silently misread."""
    with pytest.raises(RuntimeError, match="auto-reset mode"):
        GymWrapper(vector_env("NextStep"))


def test_collector_on_the_native_vector_env():
    env = GymWrapper(vector_env("Disabled"))
    frames = 4 * (N_STEPS + 1) * M
    collector = Collector(env, policy=None, frames_per_batch=frames // 2, total_frames=frames)
    batches = list(collector)
    collector.shutdown()
    assert len(batches) == 2
    for batch in batches:
        assert batch.numel() == frames // 2
        assert torch.isfinite(batch["next", "reward"]).all()
    done = torch.cat([b["next", "done"] for b in batches], dim=-2)
    assert done.sum().item() == 4 * M  # four episodes per sub-env, each ended once


# TorchRL's GymEnv(env_id, **kwargs) passes gym.make(..., frameskip=1) and drops it only when
# the env raises a TypeError "unexpected keyword argument 'frameskip'": mm_env's
# UnknownFieldError is both that TypeError and the ValueError of its config contract.
def test_gymenv_by_id():
    env = GymEnv(ENV_ID, preset="penalty", n_steps=N_STEPS)
    check_env_specs(env, seed=0)
