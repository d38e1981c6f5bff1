"""Training levers of the SB3 pipeline: staggered episode starts and the hidden activation."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mm_env import MarketConfig
from tests.train.conftest import SMALL
from train.sb3.algorithms import ACTIVATIONS, algorithm_class, algorithm_kwargs
from train.sb3.config import TrainConfig
from train.sb3.env_stack import make_env_stack
from train.sb3.vec_env import SB3VecEnv


def _staggered(n_envs: int, seed: int, **market: object) -> SB3VecEnv:
    env = SB3VecEnv(n_envs, MarketConfig.preset("penalty", **market))
    env.stagger_episodes = True
    env.seed(seed)
    return env


def test_stagger_spreads_the_phases_evenly_and_ends_no_episode():
    env = _staggered(1000, 3)
    obs = env.reset()
    steps = np.asarray(env.last_info["step"])
    np.testing.assert_array_equal(steps, (np.arange(1000) * 200) // 1000)
    np.testing.assert_array_equal(np.bincount(steps), np.full(200, 5))
    np.testing.assert_allclose(obs[:, 0], 1.0 - steps * env.config.dt, atol=1e-6)
    # from here every episode runs its full length: each env ends when its phase says
    actions = np.full((1000, 2), 0.7, np.float32)
    ends = np.zeros(1000, dtype=int)
    for t in range(200):
        _, _, done, infos = env.step(actions)
        ends[done] = t + 1
        assert all(infos[i]["step"] == 200 for i in np.flatnonzero(done))
    np.testing.assert_array_equal(ends, 200 - steps)


def test_stagger_is_deterministic_under_the_seed_and_uses_the_envs_generator():
    a, b, c = (_staggered(50, s, **SMALL) for s in (4, 4, 5))
    oa, ob, oc = a.reset(), b.reset(), c.reset()
    np.testing.assert_array_equal(oa, ob)
    assert not np.array_equal(oa, oc)
    assert np.abs(oa[:, 1]).max() > 0  # the naive quotes traded before the starts


def test_a_staggered_training_run_learns():
    cfg = TrainConfig(preset="penalty", overrides=dict(SMALL), n_envs=40, n_steps=10,
                      batch_size=200, n_epochs=1, stagger_episodes=True, eval_freq=0,
                      checkpoint_freq=0, tensorboard=False, total_timesteps=800)
    stack = make_env_stack(cfg)
    model = algorithm_class(cfg.algo)("MlpPolicy", stack.vecnorm, **algorithm_kwargs(cfg))
    model.learn(cfg.total_timesteps)
    assert model.num_timesteps == 800
    assert len(set(np.asarray(stack.base.last_info["step"]).tolist())) > 5


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_the_activation_reaches_both_networks(name):
    cfg = TrainConfig(preset="penalty", overrides=dict(SMALL), n_envs=8, n_steps=5,
                      batch_size=40, activation=name, eval_freq=0, checkpoint_freq=0,
                      tensorboard=False)
    stack = make_env_stack(cfg)
    model = algorithm_class(cfg.algo)("MlpPolicy", stack.vecnorm, **algorithm_kwargs(cfg))
    extractor = model.policy.mlp_extractor
    for net in (extractor.policy_net, extractor.value_net):
        kinds = {type(m) for m in net.modules() if not isinstance(m, (torch.nn.Linear,
                                                                      torch.nn.Sequential))}
        assert kinds == {ACTIVATIONS[name]}


def test_an_unknown_activation_names_the_choices():
    with pytest.raises(ValueError, match=r"activation must be one of \['tanh', 'relu'"):
        TrainConfig(activation="gelu")


def test_a_linear_log_std_schedule_sets_the_std_at_each_rollout_and_does_not_train_it():
    from stable_baselines3.common.callbacks import BaseCallback

    from train.sb3.callbacks import LogStdSchedule

    cfg = TrainConfig(preset="penalty", overrides=dict(SMALL), n_envs=8, n_steps=10,
                      batch_size=40, n_epochs=2, eval_freq=0, checkpoint_freq=0,
                      tensorboard=False, total_timesteps=400, log_std_schedule="linear",
                      log_std_init=-1.0, log_std_final=-3.0)
    seen: list[tuple[int, np.ndarray]] = []

    class Watch(BaseCallback):
        def _on_rollout_end(self) -> None:  # after the schedule's rollout start
            seen.append((self.num_timesteps - 80,
                         self.model.policy.log_std.detach().numpy().copy()))

        def _on_step(self) -> bool:
            return True

    stack = make_env_stack(cfg)
    model = algorithm_class(cfg.algo)("MlpPolicy", stack.vecnorm, **algorithm_kwargs(cfg))
    before = {k: v.clone() for k, v in model.policy.state_dict().items()}
    model.learn(cfg.total_timesteps, callback=[LogStdSchedule(cfg), Watch()])
    assert [s for s, _ in seen] == [0, 80, 160, 240, 320]
    for steps, log_std in seen:  # -1 + (-3 - -1) * steps / 400, on both sides
        np.testing.assert_allclose(log_std, np.full(2, -1.0 - 2.0 * steps / 400), rtol=1e-6)
    after = model.policy.state_dict()
    assert not model.policy.log_std.requires_grad
    assert any(not torch.equal(before[k], after[k]) for k in after if k != "log_std")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"log_std_schedule": "cosine"}, "log_std_schedule must be one of ['learned', 'linear']"),
        ({"log_std_final": float("nan")}, "log_std_final must be a number in [-20, 5], got nan"),
        ({"log_std_init": 30.0}, "log_std_init must be a number in [-20, 5], got 30.0"),
    ],
)
def test_bad_log_std_schedules_are_refused(changes, message):
    with pytest.raises(ValueError) as err:
        TrainConfig(**changes)
    assert message in str(err.value)
