"""The PettingZoo envs: PettingZoo's API and seed tests, spaces, infos, state snapshots, and
that ``import mm_env`` does not need pettingzoo."""

from __future__ import annotations

import math
import pickle
import subprocess
import sys

import numpy as np
import pytest
from pettingzoo.test import api_test, parallel_api_test, parallel_seed_test

import mm_env.competition as mc
from mm_env.competition import CompetitionVectorEnv

pytestmark = pytest.mark.filterwarnings("ignore:Agent's (minimum|maximum) observation space")

INFO_KEYS = {
    "mid",
    "cash",
    "inventory",
    "wealth",
    "bid",
    "ask",
    "bid_quoted",
    "ask_quoted",
    "bid_filled",
    "ask_filled",
    "step",
}


@pytest.mark.parametrize(
    "kwargs",
    [
        {"n_makers": 3, "preset": "as2008", "full_information": True},
        {"n_makers": 1, "preset": "microstructure"},
        {"n_makers": 2, "preset": "penalty", "inventory_limit": (2.0, 5.0)},
    ],
)
def test_parallel_api_and_seed_tests(kwargs: dict) -> None:
    parallel_api_test(mc.parallel_env(n_steps=40, **kwargs), num_cycles=100)
    parallel_seed_test(lambda: mc.parallel_env(n_steps=40, **kwargs), num_cycles=100)


def test_aec_api_test() -> None:
    env = mc.env(n_makers=2, preset="alpha", full_information=True, n_steps=30)
    api_test(env, num_cycles=100)


def test_import_mm_env_needs_no_pettingzoo() -> None:
    code = (
        "import sys, mm_env, mm_env.competition\n"
        "assert 'pettingzoo' not in sys.modules, 'pettingzoo imported'\n"
        "mm_env.competition.CompetitionVectorEnv(2, 2).reset(seed=0)\n"
        "assert 'pettingzoo' not in sys.modules\n"
        "import mm_env.competition as mc; mc.parallel_env()\n"
        "assert 'pettingzoo' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
    check = "import sys, mm_env; assert 'mm_env.competition' not in sys.modules"
    subprocess.run([sys.executable, "-c", check], check=True, timeout=60)


def test_spaces_observations_and_infos() -> None:
    env = mc.parallel_env(
        n_makers=3,
        preset="as2008",
        full_information=True,
        inventory_limit=(2.0, 4.0, math.inf),
        tick_size=0.1,
    )
    assert env.possible_agents == ["maker_0", "maker_1", "maker_2"]
    for agent in env.possible_agents:
        assert env.observation_space(agent) is env.observation_space(agent)
        assert env.action_space(agent).shape == (2,)
        assert env.action_space(agent).low.tolist() == [-10.0, -10.0]
        assert env.observation_space(agent).shape == (3 + 3 * 2,)
    space0 = env.observation_space("maker_0")
    assert space0.high[1] == 2.0 and space0.high[3] == 4.0 and space0.high[6] == math.inf
    obs, infos = env.reset(seed=3)
    assert obs["maker_0"][3:].tolist() == [0.0, 10.0, 10.0, 0.0, 10.0, 10.0]
    for agent in env.possible_agents:
        assert set(infos[agent]) == INFO_KEYS
        assert infos[agent]["bid"] == infos[agent]["mid"] == 100.0
        assert infos[agent]["bid_quoted"] is False
    depths = {
        "maker_0": np.array([0.3, 0.4]),
        "maker_1": np.array([0.5, 0.6]),
        "maker_2": np.array([0.7, -20.0]),
    }
    steps = 0
    while env.agents:
        mid_before = infos["maker_0"]["mid"]
        obs, rewards, terms, truncs, infos = env.step(depths)
        steps += 1
        for j, agent in enumerate(env.possible_agents):
            assert env.observation_space(agent).contains(obs[agent])
            assert obs[agent].dtype == np.float32
            assert type(rewards[agent]) is float
            assert set(infos[agent]) == INFO_KEYS
            values = infos[agent]
            assert all(math.isfinite(v) for v in values.values())
            assert type(values["bid_filled"]) is bool and type(values["ask_quoted"]) is bool
            assert obs[agent][1] == values["inventory"]
            others = [k for k in range(3) if k != j]
            for i, k in enumerate(others):
                other = infos[env.possible_agents[k]]
                assert obs[agent][3 + 3 * i] == other["inventory"]
                # the depths quoted at this step, snapped to the tick
                assert obs[agent][4 + 3 * i] == pytest.approx(mid_before - other["bid"], abs=1e-4)
                assert obs[agent][5 + 3 * i] == pytest.approx(other["ask"] - mid_before, abs=1e-4)
        assert not any(truncs.values())
    assert steps == env.config.market.n_steps and all(terms.values())
    assert env.agents == []
    with pytest.raises(RuntimeError, match="call reset"):
        env.step(depths)


def test_bad_actions_and_arguments() -> None:
    env = mc.parallel_env(n_makers=2, preset="as2008")
    env.reset(seed=0)
    with pytest.raises(ValueError, match=r"one action per agent \['maker_0', 'maker_1'\]"):
        env.step({"maker_0": np.zeros(2)})
    with pytest.raises(ValueError, match=r"must be finite numbers, got \[nan, 1.0\] for maker 1"):
        env.step({"maker_0": np.zeros(2), "maker_1": np.array([np.nan, 1.0])})
    with pytest.raises(ValueError, match=r"maker_0: action must be an array of shape \(2,\)"):
        env.step({"maker_0": np.zeros(3), "maker_1": np.zeros(3)})
    with pytest.raises(ValueError, match=r"maker_0: .*bool, complex, string and object"):
        env.step({"maker_0": np.array([True, False]), "maker_1": np.zeros(2)})
    with pytest.raises(ValueError, match="render_mode must be None"):
        mc.parallel_env(render_mode="human")
    with pytest.raises(ValueError, match="seed must be a non-negative integer"):
        env.reset(seed=-1)
    with pytest.raises(RuntimeError, match="call reset"):
        mc.parallel_env().step({})


def test_seeds_and_the_state_snapshot() -> None:
    def trajectory(env: mc.CompetitionParallelEnv, steps: int, start: int = 0) -> list:
        out = []
        for t in range(start, start + steps):
            actions = {
                a: np.array([0.2 + 0.1 * j, 0.9 - 0.05 * (t % 7)]) for j, a in enumerate(env.agents)
            }
            obs, rewards, _, _, infos = env.step(actions)
            out.append((obs["maker_1"].tolist(), rewards, infos))
        return out

    env = mc.parallel_env(n_makers=2, preset="microstructure", full_information=True)
    env.reset(seed=7)
    first = trajectory(env, 30)
    env.reset(seed=7)
    assert trajectory(env, 30) == first
    env.reset(seed=8)
    assert trajectory(env, 30) != first
    env.reset(seed=7)
    trajectory(env, 10)
    snapshot = pickle.loads(pickle.dumps(env.get_state()))
    rest = trajectory(env, 20, 10)
    other = mc.parallel_env(n_makers=2, preset="microstructure", full_information=True)
    other.set_state(snapshot)
    assert trajectory(other, 20, 10) == rest == first[10:]
    with pytest.raises(ValueError, match="snapshot of another game"):
        mc.parallel_env(n_makers=3, preset="microstructure").set_state(snapshot)
    with pytest.raises(ValueError, match="dict returned by get_state"):
        other.set_state([1])  # type: ignore[arg-type]


def test_parallel_env_is_the_batched_env_with_one_game() -> None:
    kwargs = {"n_makers": 3, "preset": "microstructure", "full_information": True}
    par = mc.parallel_env(**kwargs)
    vec = CompetitionVectorEnv(1, **kwargs)
    obs_p, _ = par.reset(seed=5)
    obs_v, _ = vec.reset(seed=5)
    rng = np.random.default_rng(1)
    for _ in range(par.config.market.n_steps):
        np.testing.assert_array_equal(np.stack([obs_p[a] for a in par.possible_agents]), obs_v[0])
        a = rng.uniform(0.0, 1.0, (3, 2))
        obs_p, r_p, t_p, _, i_p = par.step(dict(zip(par.possible_agents, a, strict=True)))
        obs_v, r_v, t_v, _, i_v = vec.step(a[None])
        assert [r_p[x] for x in par.possible_agents] == r_v[0].tolist()
        assert all(t_p[x] == t_v[0] for x in par.possible_agents)
        for key in i_v:
            assert [i_p[x][key] for x in par.possible_agents] == i_v[key][0].tolist(), key
    assert t_v[0]


def test_state_is_a_global_view() -> None:
    env = mc.parallel_env(n_makers=2, preset="as2008")
    env.reset(seed=0)
    _, _, _, _, infos = env.step(
        {"maker_0": np.array([-20.0, 5.0]), "maker_1": np.array([5.0, -20.0])}
    )
    state = env.state()
    assert state.dtype == np.float32
    assert state.tolist() == pytest.approx([0.995, infos["maker_0"]["mid"], 1.0, -1.0], rel=1e-6)
