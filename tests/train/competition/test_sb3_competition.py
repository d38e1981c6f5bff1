"""The SB3 adapter of the competition env and self-play training: rows are (game, maker)
pairs of the batched env, one maker reproduces the single-asset adapter exactly, SB3's own
wrappers and checks accept it, a tiny self-play PPO run trains, saves and reloads exactly."""

from __future__ import annotations

import json

import numpy as np
import pytest
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.common.vec_env import VecCheckNan, VecMonitor, VecNormalize

from mm_env import MarketConfig
from mm_env.competition import CompetitionVectorEnv, build_config
from train.evaluation.competition import evaluate_competition
from train.sb3.competition import (
    SelfPlayConfig,
    load_self_play,
    train_self_play,
)
from train.sb3.competition_vec_env import (
    CompetitionFeatureTransform,
    CompetitionSB3VecEnv,
    VecCompetitionFeatures,
)
from train.sb3.vec_env import SB3VecEnv
from train.values import UserError

SHORT = {"n_steps": 6}


def random_actions(rng: np.random.Generator, rows: int) -> np.ndarray:
    return rng.uniform(-0.5, 2.0, size=(rows, 2)).astype(np.float32)


@pytest.mark.parametrize("preset", ["as2008", "penalty", "course"])
def test_one_maker_rows_equal_the_single_asset_adapter(preset):
    single = SB3VecEnv(5, preset=preset, **SHORT)
    comp = CompetitionSB3VecEnv(5, 1, preset=preset, **SHORT)
    assert comp.observation_space == single.observation_space
    assert comp.action_space == single.action_space
    single.seed(7)
    comp.seed(7)
    np.testing.assert_array_equal(comp.reset(), single.reset())
    rng = np.random.default_rng(0)
    ends = 0
    for _ in range(14):  # two episode ends
        actions = random_actions(rng, 5)
        o1, r1, d1, i1 = single.step(actions)
        o2, r2, d2, i2 = comp.step(actions)
        np.testing.assert_array_equal(o2, o1)
        np.testing.assert_array_equal(r2, r1)
        np.testing.assert_array_equal(d2, d1)
        assert r2.dtype == r1.dtype == np.float32
        for a, b in zip(i1, i2, strict=True):
            assert a.keys() <= b.keys()
            for key, value in a.items():
                np.testing.assert_array_equal(b[key], value)
        ends += int(d1.all())
    assert ends == 2


def test_rows_are_game_major_and_each_row_gets_its_makers_reward():
    venv = CompetitionSB3VecEnv(4, 3, preset="penalty", sigma=0.0, **SHORT)
    assert venv.num_envs == 12 and venv.n_makers == 3 and venv.num_games == 4
    venv.seed(1)
    obs = venv.reset()
    assert obs.shape == (12, 3) and obs.dtype == np.float32
    # maker 1 of every game quotes tight, the others far: only maker 1 trades
    actions = np.tile(np.array([[2.0, 2.0], [0.05, 0.05], [3.0, 3.0]], np.float32), (4, 1))
    fills = np.zeros(12)
    total_reward = np.zeros(12)
    for step in range(SHORT["n_steps"]):
        obs, reward, done, infos = venv.step(actions)
        assert all(venv.observation_space.contains(row) for row in obs)
        info = venv.last_info
        if step < SHORT["n_steps"] - 1:
            np.testing.assert_array_equal(obs[:, 1], venv.venv.flat(info["inventory"]))
            fills += venv.venv.flat(info["bid_filled"] + info["ask_filled"])
        total_reward += reward
    assert done.all()  # every row of every game ends together, a termination
    assert all(not i["TimeLimit.truncated"] for i in infos)
    assert all(i["terminal_observation"][0] == 0.0 for i in infos)
    maker = np.arange(12) % 3
    assert fills[maker == 1].sum() > 0 and fills[maker != 1].sum() == 0
    # with a still mid, the idle makers' rewards are exactly 0
    assert np.all(total_reward[maker != 1] == 0.0)
    inv = np.array([i["inventory"] for i in infos])
    assert np.all(inv[maker != 1] == 0.0)


def test_sb3_wrappers_and_checks_accept_the_adapter():
    base = CompetitionSB3VecEnv(6, 2, preset="as2008", **SHORT)
    venv = VecNormalize(VecCheckNan(VecMonitor(base), raise_exception=True))
    venv.seed(3)
    venv.reset()
    rng = np.random.default_rng(1)
    for _ in range(2 * SHORT["n_steps"]):
        actions = rng.uniform(-20, 20, size=(12, 2)).astype(np.float32)  # clipped by the env
        _, reward, _, infos = venv.step(actions)
        assert np.isfinite(reward).all()
    episodes = [i["episode"] for i in infos if "episode" in i]
    assert len(episodes) == 12 and all(e["l"] == SHORT["n_steps"] for e in episodes)
    assert base.get_attr("render_mode") == [None] * 12
    assert base.env_is_wrapped(VecMonitor) == [False] * 12


def test_evaluate_policy_counts_one_episode_per_row_and_game():
    venv = VecMonitor(CompetitionSB3VecEnv(3, 2, preset="penalty", **SHORT))

    class Fixed:
        def predict(self, obs, state=None, episode_start=None, deterministic=True):
            return np.full((obs.shape[0], 2), 0.7, np.float32), None

    rewards, lengths = evaluate_policy(
        Fixed(), venv, n_eval_episodes=6, return_episode_rewards=True
    )
    assert len(rewards) == 6 and set(lengths) == {SHORT["n_steps"]}


def test_wrap_competition_needs_same_step_autoreset():
    with pytest.raises(ValueError, match="SameStep"):
        CompetitionSB3VecEnv.wrap_competition(CompetitionVectorEnv(2, 2, preset="penalty"))
    with pytest.raises(ValueError, match="CompetitionVectorEnv"):
        CompetitionSB3VecEnv.wrap_competition(object())  # type: ignore[arg-type]
    env = CompetitionVectorEnv(2, 2, preset="penalty", autoreset_mode="SameStep")
    assert CompetitionSB3VecEnv.wrap_competition(env).num_envs == 4


def test_feature_transform_scales_and_appends_the_other_inventories():
    game = build_config(n_makers=3, preset="penalty", full_information=True)
    t = CompetitionFeatureTransform(game, ("time_remaining", "inventory"), other_inventories=True)
    obs = np.array([[0.5, 4.0, 100.0, -2.0, 0.3, 0.4, 6.0, 0.5, 0.6]], np.float32)
    scale = min(game.market.inventory_limit, 10.0)  # the fixed inventory scale
    np.testing.assert_allclose(t(obs), [[0.5, 4.0 / scale, -2.0 / scale, 6.0 / scale]], rtol=1e-6)
    assert t.width == 4
    venv = VecCompetitionFeatures(CompetitionSB3VecEnv(2, config=game), t)
    assert venv.observation_space.shape == (4,) and venv.reset().shape == (6, 4)
    with pytest.raises(ValueError, match="full_information=True"):
        CompetitionFeatureTransform(build_config(n_makers=2), ("inventory",), True)


def test_self_play_config_checks():
    with pytest.raises(ValueError, match="batch_size"):
        SelfPlayConfig(n_makers=2, n_games=4, n_steps=5, batch_size=100)
    with pytest.raises(ValueError, match="lr_schedule"):
        SelfPlayConfig(lr_schedule="cosine")
    with pytest.raises(ValueError, match="n_makers"):
        SelfPlayConfig(n_makers=0)
    cfg = SelfPlayConfig(n_makers=3)
    assert SelfPlayConfig.from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg
    with pytest.raises(ValueError, match="unknown"):
        SelfPlayConfig.from_dict({"n_makerz": 2})


TINY = SelfPlayConfig(
    n_makers=2,
    overrides={"n_steps": 20, "A": 20.0, "inventory_limit": 5.0, "tick_size": 0.05, "sigma": 0.0},
    n_games=16,
    total_timesteps=2560,
    n_steps=20,
    batch_size=320,
    n_epochs=2,
    seed=3,
)


def test_tiny_self_play_trains_saves_and_reloads_exactly(tmp_path):
    result = train_self_play(TINY, tmp_path / "a")
    assert result.num_timesteps >= TINY.total_timesteps
    meta = json.loads((result.model_dir / "meta.json").read_text())
    assert meta["n_makers"] == 2 and meta["kind"] == "competition_self_play"
    market = MarketConfig.preset("penalty", **TINY.overrides)
    assert MarketConfig.from_dict(meta["market"]) == market
    policy = load_self_play(tmp_path / "a")  # the run directory finds model/
    assert policy.trained_market == market and policy.n_makers == 2
    obs = np.array([[1.0, 0.0, 100.0], [0.5, 3.0, 100.0], [0.05, -4.0, 100.0]], np.float32)
    x = policy.transform(obs)
    expected, _ = result.model.predict(x, deterministic=True)
    np.testing.assert_array_equal(policy.act(obs), expected)
    # one row alone: float32 BLAS may round the last bit differently from the batch
    np.testing.assert_allclose(policy.act(obs[1]), expected[1], rtol=1e-5)
    # same config and seed: the same policy
    again = train_self_play(TINY, tmp_path / "b")
    np.testing.assert_array_equal(load_self_play(again.model_dir).act(obs), policy.act(obs))
    with pytest.raises(UserError, match="already holds a run"):
        train_self_play(TINY, tmp_path / "a")


def test_loader_refuses_what_is_not_a_self_play_model(tmp_path):
    with pytest.raises(UserError, match="not a self-play model directory"):
        load_self_play(tmp_path)
    (tmp_path / "meta.json").write_text(json.dumps({"algo": "PPO", "market": {}}))
    with pytest.raises(UserError, match="kind"):
        load_self_play(tmp_path)


def test_stagger_spreads_the_games_over_the_horizon_without_ending_one():
    venv = CompetitionSB3VecEnv(5, 2, preset="penalty", n_steps=10)
    venv.stagger_episodes = True
    venv.seed(2)
    obs = venv.reset()
    dt = venv.config.dt
    phase = (np.arange(5) * 10) // 5  # game g at step 2 g
    np.testing.assert_allclose(obs[:, 0], np.repeat(venv.config.T - phase * dt, 2), atol=1e-6)
    np.testing.assert_array_equal(venv.last_info["step"], np.repeat(phase[:, None], 2, axis=1))
    venv.seed(2)
    np.testing.assert_array_equal(venv.reset(), obs)  # a seeded stagger repeats
    ended = []
    for t in range(1, 11):
        _, _, done, _ = venv.step(np.full((10, 2), 0.7, np.float32))
        games = np.flatnonzero(done) // 2
        assert np.all(phase[games] + t == 10)  # game g ends after its 10 - 2 g remaining steps
        ended += sorted(set(games.tolist()))
    assert sorted(ended) == [0, 1, 2, 3, 4]


def test_a_policy_that_sees_the_others_needs_their_columns(tmp_path):
    cfg = SelfPlayConfig.from_dict({**TINY.to_dict(), "other_inventories": True})
    policy = load_self_play(train_self_play(cfg, tmp_path / "run").model_dir)
    assert policy.full_information and policy.transform.width == 4
    full = np.array([[0.5, 1.0, 100.0, -3.0, 0.2, 0.3]], np.float32)
    assert policy.act(full).shape == (1, 2)
    with pytest.raises(ValueError, match="6 columns"):
        policy.act(full[:, :3])
    ev = evaluate_competition(policy, policy.trained_market, n_makers=2, n_episodes=4)
    assert ev.game.full_information  # chosen for the policy that needs it
