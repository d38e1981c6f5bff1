"""Public get_state()/set_state() of both envs: a snapshot continues exactly, survives
pickling, and is refused by an env of another market."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from mm_env import MarketMakingEnv, MarketMakingVectorEnv

MARKETS = [
    {"preset": "penalty"},
    {"preset": "microstructure", "size_action": True},
    {"preset": "alpha", "signal_obs_noise": 1.0},
]


def _width(kw):
    return 3 if kw.get("size_action") else 2


@pytest.mark.parametrize("kw", MARKETS)
def test_scalar_snapshot_continues_exactly(kw):
    rng = np.random.default_rng(0)
    env = MarketMakingEnv(**kw)
    env.reset(seed=3)
    for _ in range(37):
        env.step(rng.uniform(0, 2, _width(kw)))
    snap = pickle.loads(pickle.dumps(env.get_state()))
    acts = rng.uniform(0, 2, (60, _width(kw)))
    want = [env.step(a)[:2] for a in acts]
    other = MarketMakingEnv(**kw)
    other.reset(seed=99)
    other.set_state(snap)
    got = [other.step(a)[:2] for a in acts]
    for (o1, r1), (o2, r2) in zip(want, got, strict=True):
        np.testing.assert_array_equal(o1, o2)
        assert r1 == r2


@pytest.mark.parametrize("kw", MARKETS)
def test_vector_snapshot_continues_exactly_across_autoreset(kw):
    rng = np.random.default_rng(1)
    env = MarketMakingVectorEnv(5, **kw)
    env.reset(seed=1)
    for _ in range(199):  # the next step terminates, the one after autoresets
        env.step(rng.uniform(0, 2, (5, _width(kw))))
    snap = pickle.loads(pickle.dumps(env.get_state()))
    acts = rng.uniform(0, 2, (20, 5, _width(kw)))
    want = [env.step(a) for a in acts]
    other = MarketMakingVectorEnv(5, **kw)
    other.reset(seed=7)
    other.set_state(snap)
    got = [other.step(a) for a in acts]
    for w, g in zip(want, got, strict=True):
        for x, y in zip(w[:4], g[:4], strict=True):
            np.testing.assert_array_equal(x, y)


def test_snapshot_is_a_copy():
    env = MarketMakingVectorEnv(2, preset="default")
    env.reset(seed=0)
    snap = env.get_state()
    env.step(np.ones((2, 2)))
    again = MarketMakingVectorEnv(2, preset="default")
    again.reset(seed=5)
    again.set_state(snap)
    assert again.get_state()["rng"] == snap["rng"]


def test_snapshot_of_another_market_is_refused():
    env = MarketMakingEnv(preset="default")
    env.reset(seed=0)
    with pytest.raises(ValueError, match="another market"):
        MarketMakingEnv(preset="as2008").set_state(env.get_state())
    with pytest.raises(ValueError, match="get_state"):
        env.set_state({"mid": 1.0})
    venv = MarketMakingVectorEnv(3, preset="default")
    venv.reset(seed=0)
    with pytest.raises(ValueError, match="num_envs=4"):
        MarketMakingVectorEnv(4, preset="default").set_state(venv.get_state())
