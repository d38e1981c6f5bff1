"""The plumbing every env shares: seeds (mm_env.seeding), snapshots (mm_env.snapshots), the
batched envs' resets (mm_env.batching), the render-mode and config checks, the step hooks.

Each shared piece is checked on its own (its rule and exact messages) and, where several envs
call it, on every env that does, so that a copy drifting back into one env shows here.
"""

from __future__ import annotations

import pickle
import re
from typing import Any

import numpy as np
import pytest
from gymnasium.vector import AutoresetMode

import mm_env
from mm_env import MarketConfig, MarketMakingEnv, MarketMakingVectorEnv
from mm_env.batched_vector_env import VECTOR_BATCH, BatchedVectorEnv
from mm_env.batching import (
    autoreset_mode_of,
    check_count,
    check_reset_mask,
    reset_mask_option,
    reset_rows,
    same_step_final,
)
from mm_env.competition import CompetitionDynamics, CompetitionVectorEnv, build_config
from mm_env.competition.pettingzoo_envs import CompetitionParallelEnv
from mm_env.components import Component, Friction
from mm_env.config import given_config, resolve_config
from mm_env.dynamics import MarketDynamics
from mm_env.multi_asset import (
    MultiAssetConfig,
    MultiAssetMarketMakingEnv,
    MultiAssetMarketMakingVectorEnv,
)
from mm_env.render import check_render_mode
from mm_env.seeding import SEED_RULE, VECTOR_SEED_RULE, LazyGenerator, check_seed
from mm_env.snapshots import BatchName, batch_snapshot, check_snapshot, restore_batch_snapshot
from mm_env.state import where_state


# ------------------------------------------------------------------------------ seeds
@pytest.mark.parametrize(
    ("seed", "expected"), [(None, None), (0, 0), (7, 7), (np.int64(3), 3), (np.uint8(5), 5)]
)
def test_check_seed_accepts_non_negative_integers_as_python_ints(seed: Any, expected: Any) -> None:
    got = check_seed(seed)
    assert got == expected and type(got) is type(expected)


@pytest.mark.parametrize("seed", [-1, np.int64(-2), 1.5, "1", True, np.bool_(False), [1], 2.0])
@pytest.mark.parametrize("rule", [SEED_RULE, VECTOR_SEED_RULE])
def test_check_seed_refuses_with_the_rule_then_the_seed(seed: Any, rule: str) -> None:
    with pytest.raises(ValueError, match=f"^{re.escape(f'{rule}, got {seed!r}')}$"):
        check_seed(seed, rule)


def _envs() -> dict[str, Any]:
    return {
        "scalar": MarketMakingEnv(),
        "vector": MarketMakingVectorEnv(2),
        "multi": MultiAssetMarketMakingEnv(preset="pair"),
        "multi_vector": MultiAssetMarketMakingVectorEnv(2, preset="pair"),
        "competition_vector": CompetitionVectorEnv(2),
        "parallel": CompetitionParallelEnv(),
    }


#: Each env's seed rule: the native Gymnasium vector envs take one seed for the batch.
RULES = {
    "scalar": SEED_RULE,
    "vector": VECTOR_SEED_RULE,
    "multi": SEED_RULE,
    "multi_vector": VECTOR_SEED_RULE,
    "competition_vector": SEED_RULE,
    "parallel": SEED_RULE,
}


@pytest.mark.parametrize("name", sorted(RULES))
def test_every_env_states_its_seed_rule(name: str) -> None:
    env = _envs()[name]
    with pytest.raises(ValueError, match=f"^{re.escape(RULES[name])}, got -3$"):
        env.reset(seed=-3)
    with pytest.raises(ValueError, match=f"^{re.escape(RULES[name])}, got True$"):
        env.reset(seed=True)


@pytest.mark.parametrize("cls", [CompetitionVectorEnv, CompetitionParallelEnv])
def test_lazy_generator_reseeds_only_on_a_seed(cls: type) -> None:
    a, b = cls(), cls()
    assert isinstance(a, LazyGenerator)
    a.reset(seed=11)
    b.reset(seed=11)
    first = a.np_random.random()
    assert b.np_random.random() == first
    a.reset()  # None keeps the generator and its stream
    assert a.np_random.random() == b.np_random.random()
    a.reset(seed=11)  # a seed starts it again
    assert a.np_random.random() == first


def test_lazy_generator_is_created_on_first_use() -> None:
    env = CompetitionVectorEnv()
    generator = env.np_random
    assert isinstance(generator, np.random.Generator) and env.np_random is generator


# -------------------------------------------------------------------------- snapshots
@pytest.mark.parametrize("state", [None, [1], {"config": 1}, {"market": 1}])
def test_check_snapshot_refuses_what_get_state_does_not_return(state: Any) -> None:
    message = f"state must be a dict returned by get_state(), got {type(state).__name__}"
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        check_snapshot(state, MarketConfig())


@pytest.mark.parametrize("kind", ["market", "game"])
def test_check_snapshot_refuses_another_config(kind: str) -> None:
    message = (
        f"state is a snapshot of another {kind} (its config differs from this env's); build "
        "the env from the config the snapshot was taken with"
    )
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        check_snapshot({"config": MarketConfig(sigma=1.0), "market": None}, MarketConfig(), kind)
    check_snapshot({"config": MarketConfig(), "market": None}, MarketConfig(), kind)


def test_batch_snapshot_round_trip_is_a_deep_copy() -> None:
    rng = np.random.default_rng(3)
    needs_reset = np.array([True, False])
    batch = BatchName(size="num_things", units="things", env="this thing")
    snap = batch_snapshot("cfg", batch, 2, {"mid": np.ones(2)}, needs_reset, rng)
    assert list(snap) == ["config", "num_things", "market", "needs_reset", "rng"]
    needs_reset[0] = False  # the snapshot does not see later writes
    assert snap["needs_reset"].tolist() == [True, False]
    expected = rng.random()
    market, pending, rng_state = restore_batch_snapshot(
        pickle.loads(pickle.dumps(snap)), "cfg", batch, 2
    )
    assert pending.tolist() == [True, False] and market["mid"].tolist() == [1.0, 1.0]
    other = np.random.default_rng(0)
    other.bit_generator.state = rng_state
    assert other.random() == expected


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            MarketMakingVectorEnv(3),
            "state is a snapshot of 5 sub-envs, this vector env has num_envs=3",
        ),
        (
            MultiAssetMarketMakingVectorEnv(3, preset="pair"),
            "state is a snapshot of 5 sub-envs, this vector env has num_envs=3",
        ),
        (CompetitionVectorEnv(3), "state is a snapshot of 5 games, this env has num_games=3"),
    ],
)
def test_batched_envs_refuse_a_snapshot_of_another_batch_size(env: Any, message: str) -> None:
    env.reset(seed=0)
    state = env.get_state()
    key = "num_games" if isinstance(env, CompetitionVectorEnv) else "num_envs"
    assert key in state
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        env.set_state({**state, key: 5})


@pytest.mark.parametrize("cls", [MarketMakingVectorEnv, MultiAssetMarketMakingVectorEnv])
def test_native_vector_envs_share_reset_autoreset_and_snapshots(cls: type) -> None:
    assert issubclass(cls, BatchedVectorEnv)
    for name in ("reset", "get_state", "set_state", "_autoreset_next", "_autoreset_same"):
        assert getattr(cls, name) is getattr(BatchedVectorEnv, name), name


def test_vector_batch_names() -> None:
    assert BatchName("num_envs", "sub-envs", "this vector env", "market") == VECTOR_BATCH


# ------------------------------------------------------------------------ batching
@pytest.mark.parametrize("value", [0, -1, 1.0, True, "2", None])
def test_check_count_refuses(value: Any) -> None:
    with pytest.raises(
        ValueError, match=f"^num_envs must be an integer >= 1, got {re.escape(repr(value))}$"
    ):
        check_count("num_envs", value)


def test_check_count_and_autoreset_mode_accept() -> None:
    assert check_count("n", np.int32(4)) == 4
    assert autoreset_mode_of("SameStep") is AutoresetMode.SAME_STEP
    assert autoreset_mode_of(AutoresetMode.DISABLED) is AutoresetMode.DISABLED
    with pytest.raises(ValueError, match=r"^autoreset_mode must be one of \['Disabled', "):
        autoreset_mode_of("sometimes")


@pytest.mark.parametrize(
    ("mask", "problem"),
    [
        ([1, 0, 1], ": dtype int64"),
        ("abc", ": dtype <U3"),
        ([None] * 3, ": dtype object"),
    ],
)
def test_check_reset_mask_refuses_non_booleans(mask: Any, problem: str) -> None:
    message = (
        "options['reset_mask'] must be a boolean array of shape (3,) (True: reset that "
        f"sub-env), got {mask!r}{problem}"
    )
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        check_reset_mask(mask, 3)


def test_check_reset_mask_shape_and_options() -> None:
    with pytest.raises(
        ValueError, match=r"^options\['reset_mask'\] must have shape \(3,\), got \(2,\)$"
    ):
        check_reset_mask([True, False], 3)
    with pytest.raises(ValueError, match="not an array"):
        check_reset_mask([[True], [True, False]], 2)
    assert reset_mask_option(None, 2) is None
    assert reset_mask_option({"other": 1}, 2) is None
    assert reset_mask_option({"reset_mask": [True, False]}, 2).tolist() == [True, False]


def test_reset_rows_resets_only_the_masked_members() -> None:
    dynamics = MarketDynamics(MarketConfig())
    old = dynamics.initial_state((3,))._replace(mid=np.array([1.0, 2.0, 3.0]))
    fresh = dynamics.initial_state((3,))
    needs_reset = np.array([True, True, True])
    got = reset_rows(np.array([True, False, False]), fresh, old, needs_reset, where_state)
    assert got.mid.tolist() == [100.0, 2.0, 3.0] and needs_reset.tolist() == [False, True, True]
    assert reset_rows(None, fresh, old, needs_reset, where_state) is fresh
    assert not needs_reset.any()
    needs_reset[:] = True
    assert (
        reset_rows(np.array([False, True, False]), fresh, None, needs_reset, where_state) is fresh
    )
    assert not needs_reset.any()


def test_same_step_final_lays_out_the_last_observations_and_infos() -> None:
    obs = np.arange(6.0).reshape(3, 2)
    terminated = np.array([False, True, True])
    info = {"mid": np.array([1.0, 2.0, 3.0]), "_mid": np.ones(3, dtype=bool)}
    out = same_step_final(obs, terminated, info)
    assert list(out) == ["final_obs", "_final_obs", "final_info", "_final_info"]
    assert out["final_obs"][0] is None and out["final_obs"][2].tolist() == [4.0, 5.0]
    assert (
        out["_final_obs"].tolist() == terminated.tolist() and not out["_final_obs"].flags.writeable
    )
    assert (
        out["final_info"]["mid"] is info["mid"] and out["final_info"]["_mid"] is out["_final_obs"]
    )


#: Vector envs by autoreset mode, for episodes of 50 steps.
VECTOR_ENVS = {
    "single-as2008": lambda mode: MarketMakingVectorEnv(
        3, preset="as2008", n_steps=50, autoreset_mode=mode
    ),
    "single-microstructure": lambda mode: MarketMakingVectorEnv(
        3, preset="microstructure", n_steps=50, autoreset_mode=mode
    ),
    "multi-pair": lambda mode: MultiAssetMarketMakingVectorEnv(
        3, preset="pair", n_steps=50, autoreset_mode=mode
    ),
}


@pytest.mark.parametrize("name", sorted(VECTOR_ENVS))
def test_same_step_final_obs_is_the_next_step_envs_last_observation(name: str) -> None:
    """SameStep and NextStep envs from one seed: the SameStep env's ``final_obs`` and
    ``final_info`` at the terminating step are the NextStep env's obs and info there."""
    make = VECTOR_ENVS[name]
    same, nxt = make("SameStep"), make("NextStep")
    same.reset(seed=4)
    nxt.reset(seed=4)
    action = np.full(same.action_space.shape, 0.6)
    for _ in range(50):
        obs, _, terminated, _, info = same.step(action)
        last, _, _, _, last_info = nxt.step(action)
    assert terminated.all() and info["_final_obs"].all() and info["_final_info"].all()
    for i in range(3):
        assert np.array_equal(info["final_obs"][i], last[i])
    for key, value in last_info.items():
        if not key.startswith("_"):
            assert np.array_equal(info["final_info"][key], value)
    assert (obs[:, 0] == np.float32(same.config.T)).all()  # the new episodes' observations
    assert (info["step"] == 0).all()


# ------------------------------------------------------------- render mode and config
def test_check_render_mode() -> None:
    assert check_render_mode(None, (), "the vector env") is None
    assert check_render_mode("ansi", ["ansi"], "the env") == "ansi"
    with pytest.raises(
        ValueError, match=r"^render_mode must be None for the vector env, got 'ansi'$"
    ):
        check_render_mode("ansi", (), "the vector env")
    with pytest.raises(
        ValueError, match=r"^render_mode must be None or one of \['ansi'\], got ''$"
    ):
        check_render_mode("", ["ansi"], "the env")


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (
            lambda: MarketMakingVectorEnv(2, render_mode="ansi"),
            "render_mode must be None for the vector env",
        ),
        (
            lambda: MultiAssetMarketMakingVectorEnv(2, render_mode="ansi"),
            "render_mode must be None for the vector env",
        ),
        (
            lambda: CompetitionParallelEnv(render_mode="ansi"),
            "render_mode must be None for the competition env",
        ),
        (
            lambda: MultiAssetMarketMakingEnv(render_mode="rgb_array"),
            "render_mode must be None or one of ['ansi']",
        ),
        (
            lambda: MarketMakingEnv(render_mode="human"),
            "render_mode must be None or one of ['ansi', 'rgb_array']",
        ),
    ],
)
def test_every_env_checks_its_render_mode(make: Any, message: str) -> None:
    with pytest.raises(ValueError, match=f"^{re.escape(message)}, got '"):
        make()


def test_given_config() -> None:
    base = MarketConfig()
    assert given_config(None, "course", {}, MarketConfig) is None
    assert given_config(base, None, {}, MarketConfig) is base
    assert given_config(base, None, {"sigma": 0.5}, MarketConfig) == base.replace(sigma=0.5)
    with pytest.raises(ValueError, match=r"^config must be a MultiAssetConfig, got MarketConfig$"):
        given_config(base, None, {}, MultiAssetConfig)
    both = (
        "give either config or preset, not both (got preset='pair'); pass overrides as "
        "keywords instead"
    )
    for make in (
        lambda: MultiAssetMarketMakingEnv(MultiAssetConfig(), preset="pair"),
        lambda: resolve_config(base, "pair", {}),
        lambda: build_config(MarketConfig(), preset="pair"),
    ):
        with pytest.raises(ValueError, match=f"^{re.escape(both)}$"):
            make()


# ---------------------------------------------------------------------- step hooks
def _implementing(components: tuple[Any, ...], base: type, method: str) -> tuple[Any, ...]:
    return tuple(c for c in components if getattr(type(c), method) is not getattr(base, method))


@pytest.mark.parametrize("preset", ["default", "adverse", "alpha", "microstructure"])
def test_step_hooks_hold_only_the_components_that_implement_them(preset: str) -> None:
    m = MarketDynamics(
        MarketConfig.preset(preset, tick_size=0.01, maker_fee=0.001, liquidation_impact=0.1)
    )
    h = m.hooks
    assert h.quote_frictions == _implementing(m.frictions, Friction, "quote")
    assert h.fill_frictions == _implementing(m.frictions, Friction, "on_fills")
    assert h.end_frictions == _implementing(m.frictions, Friction, "at_end")
    assert h.quote_frictions and h.fill_frictions and h.end_frictions
    stateful = [c for c in _implementing(m.components, Component, "advance") if c.state_fields]
    assert h.advancing == tuple(c.advance for c in stateful)
    assert h.state_info == _implementing(m.components, Component, "state_info")
    assert h.flow_modifiers == tuple(f.modify for f in m.flow_modifiers)
    assert h.shock_terms == tuple(s.term for s in m.shocks)
    game = CompetitionDynamics(build_config(m.config, n_makers=2))
    assert [type(f) for f in game.market.hooks.quote_frictions] == [
        type(f) for f in h.quote_frictions
    ]


def test_the_moved_names_are_still_importable_where_they_were() -> None:
    from mm_env import env, vector_env

    assert env.check_seed is check_seed
    assert vector_env.check_count is check_count
    assert vector_env.autoreset_mode_of is autoreset_mode_of
    assert mm_env.MarketMakingVectorEnv is MarketMakingVectorEnv
