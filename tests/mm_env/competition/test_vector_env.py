"""The batched competition env: shapes, autoreset modes, flattening for parameter sharing,
state snapshots and input checks."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from mm_env.competition import CompetitionVectorEnv

N_STEPS = 5


def make(mode: str = "NextStep", games: int = 4, **kwargs: object) -> CompetitionVectorEnv:
    return CompetitionVectorEnv(
        games,
        3,
        preset="microstructure",
        n_steps=N_STEPS,
        T=0.05,
        autoreset_mode=mode,
        full_information=True,
        **kwargs,
    )


def actions(env: CompetitionVectorEnv, t: int) -> np.ndarray:
    rng = np.random.default_rng(t)
    return rng.uniform(-0.2, 1.5, (env.num_games, env.n_makers, 2))


def test_shapes_spaces_and_read_only_infos() -> None:
    env = make()
    obs, info = env.reset(seed=0)
    width = 3 + 2 + 3 * 2  # base, flow_imbalance and realized_vol, two others
    assert obs.shape == (4, 3, width) and obs.dtype == np.float32
    assert env.observation_space.shape == (4, 3, width)
    assert env.action_space.shape == (4, 3, 2)
    assert all(s.shape == (width,) for s in env.observation_spaces)
    for t in range(3 * N_STEPS):
        obs, rewards, term, trunc, info = env.step(actions(env, t))
        assert env.observation_space.contains(obs)
        assert env.shared_observation_space.contains(env.flat(obs)[0])
        assert rewards.shape == (4, 3) and rewards.dtype == np.float64
        assert term.shape == trunc.shape == (4,) and not trunc.any()
        for key, value in info.items():
            assert value.shape == (4, 3), key
            assert np.isfinite(value).all(), key
            with pytest.raises(ValueError, match="read-only"):
                value[0, 0] = 1


def test_next_step_autoreset() -> None:
    env = make()
    env.reset(seed=1)
    for t in range(N_STEPS - 1):
        _, _, term, _, _ = env.step(actions(env, t))
        assert not term.any()
    _, rewards, term, _, info = env.step(actions(env, 99))
    assert term.all() and (info["step"] == N_STEPS).all()
    obs, rewards, term, _, info = env.step(actions(env, 100))
    assert not term.any() and (rewards == 0.0).all()
    assert (info["step"] == 0).all() and (info["cash"] == 0).all()
    assert (info["bid"] == info["mid"]).all() and not info["bid_quoted"].any()
    assert (obs[:, :, 0] == np.float32(0.05)).all() and (obs[:, :, 1] == 0).all()
    assert (obs[:, :, 6::3] == env.config.market.max_depth).all()  # no quote yet


def test_same_step_autoreset() -> None:
    same, nxt = make("SameStep"), make("NextStep")
    same.reset(seed=2)
    nxt.reset(seed=2)
    for t in range(N_STEPS - 1):
        a = actions(same, t)
        np.testing.assert_array_equal(same.step(a)[0], nxt.step(a)[0])
    a = actions(same, 50)
    obs_s, r_s, term_s, _, info_s = same.step(a)
    obs_n, r_n, term_n, _, info_n = nxt.step(a)
    assert term_s.all() and term_n.all()
    np.testing.assert_array_equal(r_s, r_n)
    np.testing.assert_array_equal(info_s["final_obs"], obs_n)
    np.testing.assert_array_equal(info_s["_final_obs"], term_s)
    np.testing.assert_array_equal(info_s["final_info"]["wealth"], info_n["wealth"])
    assert (obs_s[:, :, 0] == np.float32(0.05)).all() and (info_s["step"] == 0).all()


def test_disabled_autoreset_and_reset_mask() -> None:
    env = make("Disabled")
    env.reset(seed=3)
    for t in range(N_STEPS):
        _, _, term, _, _ = env.step(actions(env, t))
    assert term.all()
    with pytest.raises(RuntimeError, match="autoreset disabled"):
        env.step(actions(env, 0))
    mask = np.array([True, False, True, True])
    obs, info = env.reset(options={"reset_mask": mask})
    assert (info["step"][mask] == 0).all() and (info["step"][~mask] == N_STEPS).all()
    assert (obs[mask, :, 0] == np.float32(0.05)).all() and (obs[~mask, :, 0] == 0.0).all()
    with pytest.raises(ValueError, match=r"reset_mask'\] must be a boolean array of shape \(4,\)"):
        env.reset(options={"reset_mask": [1, 0, 1, 1]})


def test_flat_rows_for_parameter_sharing() -> None:
    env = make()
    obs, _ = env.reset(seed=4)
    flat = env.flat(obs)
    assert flat.shape == (12, obs.shape[2])
    np.testing.assert_array_equal(flat[1 * 3 + 2], obs[1, 2])  # row g * N + j
    np.testing.assert_array_equal(env.unflat(flat), obs)
    row_actions = np.arange(24.0).reshape(12, 2) / 24
    _, rewards, _, _, info = env.step(env.unflat(row_actions))
    assert env.flat(rewards).shape == (12,)
    np.testing.assert_array_equal(env.flat(info["bid"]), info["bid"].reshape(12))


def test_seeds_determinism_and_state_snapshot() -> None:
    def run(env: CompetitionVectorEnv, start: int, stop: int) -> list:
        return [env.step(actions(env, t)) for t in range(start, stop)]

    a, b = make(), make()
    a.reset(seed=5)
    b.reset(seed=5)
    first, second = run(a, 0, 12), run(b, 0, 12)
    for x, y in zip(first, second, strict=True):
        np.testing.assert_array_equal(x[0], y[0])
        np.testing.assert_array_equal(x[1], y[1])
    b.reset(seed=6)
    assert not np.array_equal(run(b, 0, 3)[2][0], first[2][0])
    a.reset(seed=5)
    run(a, 0, 7)
    snapshot = pickle.loads(pickle.dumps(a.get_state()))
    rest = run(a, 7, 12)
    c = make()
    c.set_state(snapshot)
    for x, y, z in zip(run(c, 7, 12), rest, first[7:], strict=True):
        np.testing.assert_array_equal(x[0], y[0])
        np.testing.assert_array_equal(x[0], z[0])
        np.testing.assert_array_equal(x[1], z[1])
    with pytest.raises(ValueError, match="snapshot of 4 games, this env has num_games=2"):
        make(games=2).set_state(snapshot)
    with pytest.raises(ValueError, match="snapshot of another game"):
        make(sigma=1.0).set_state(snapshot)


def test_bad_inputs() -> None:
    with pytest.raises(ValueError, match="num_games must be an integer >= 1, got 0"):
        CompetitionVectorEnv(0, 2)
    with pytest.raises(ValueError, match="num_games must be an integer >= 1, got True"):
        CompetitionVectorEnv(True, 2)
    with pytest.raises(ValueError, match="autoreset_mode must be one of"):
        CompetitionVectorEnv(2, 2, autoreset_mode="Sometimes")
    env = make()
    with pytest.raises(RuntimeError, match="call reset"):
        env.step(actions(env, 0))
    env.reset(seed=0)
    with pytest.raises(
        ValueError,
        match=r"shape \(4, 3, 2\) = \(games, makers, \[bid_depth, "
        r"ask_depth\]\); got shape \(4, 2\)",
    ):
        env.step(np.zeros((4, 2)))
    bad = np.zeros((4, 3, 2))
    bad[2, 1, 0] = np.inf
    with pytest.raises(ValueError, match=r"got \[inf, 0.0\] for maker 1 of game 2"):
        env.step(bad)
    with pytest.raises(ValueError, match="dtype <U1"):
        env.step(np.full((4, 3, 2), "a"))
    with pytest.raises(ValueError, match="seed must be a non-negative integer"):
        env.reset(seed=1.5)  # type: ignore[arg-type]
