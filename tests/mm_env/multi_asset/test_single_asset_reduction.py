"""n = 1 is the single-asset model to the last bit, and the asset axis is each asset's own
market: the multi-asset envs draw their random numbers in the single-asset envs' order, so
with one asset every observation, reward and info entry is that of MarketMakingEnv /
MarketMakingVectorEnv on the same market; the stacked market (per-asset parameter arrays)
computes on an (N, n) state exactly what each asset's market computes on its column."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mm_env import MarketConfig, MarketDynamics, MarketMakingEnv, MarketMakingVectorEnv
from mm_env.multi_asset import (
    MultiAssetConfig,
    MultiAssetMarketMakingEnv,
    MultiAssetMarketMakingVectorEnv,
)
from mm_env.multi_asset.asset_axis import AssetAxisConfig, stacked_market
from mm_env.state import make_state

MARKETS = [
    ("penalty", {}),
    ("default", {"reward": "inventory_penalty", "phi": 0.3, "alpha": 1.0, "n_steps": 60}),
    ("as2008", {"tick_size": 0.1, "inventory_limit": 3.0, "order_size": 1.5}),
    ("course", {"n_steps": 50}),
]


@pytest.mark.parametrize(("preset", "overrides"), MARKETS)
def test_one_asset_scalar_env_is_the_single_asset_env(preset, overrides):
    market = MarketConfig.preset(preset, **overrides)
    single = MarketMakingEnv(market)
    multi = MultiAssetMarketMakingEnv(MultiAssetConfig.from_market(market))
    rng = np.random.default_rng(1)
    for episode in range(2):
        seed = 9 if episode == 0 else None
        obs_s, info_s = single.reset(seed=seed)
        obs_m, info_m = multi.reset(seed=seed)
        np.testing.assert_array_equal(obs_s, obs_m)
        done = False
        while not done:
            action = rng.uniform(market.min_depth - 1, market.max_depth + 1, 2)
            obs_s, r_s, done, _, info_s = single.step(action.astype(np.float32))
            obs_m, r_m, done_m, _, info_m = multi.step(action.astype(np.float32))
            np.testing.assert_array_equal(obs_s, obs_m)
            assert r_s == r_m and type(r_m) is float and done == done_m
            for key in ("cash", "wealth", "step"):
                assert info_s[key] == info_m[key], key
            for key in (
                "mid",
                "inventory",
                "bid",
                "ask",
                "bid_quoted",
                "ask_quoted",
                "bid_filled",
                "ask_filled",
            ):
                assert info_m[key].shape == (1,) and info_s[key] == info_m[key][0], key


@pytest.mark.parametrize(("preset", "overrides"), MARKETS)
@pytest.mark.parametrize("mode", ["NextStep", "SameStep"])
def test_one_asset_vector_env_is_the_single_asset_vector_env(preset, overrides, mode):
    market = MarketConfig.preset(preset, **{**overrides, "n_steps": 25})
    single = MarketMakingVectorEnv(6, market, autoreset_mode=mode)
    multi = MultiAssetMarketMakingVectorEnv(
        6, MultiAssetConfig.from_market(market), autoreset_mode=mode
    )
    np.testing.assert_array_equal(single.reset(seed=4)[0], multi.reset(seed=4)[0])
    rng = np.random.default_rng(2)
    for _ in range(60):  # two episodes and a half, through the autoresets
        actions = rng.uniform(market.min_depth - 1, market.max_depth + 1, (6, 2))
        obs_s, r_s, d_s, _, info_s = single.step(actions)
        obs_m, r_m, d_m, _, info_m = multi.step(actions)
        np.testing.assert_array_equal(obs_s, obs_m)
        np.testing.assert_array_equal(r_s, r_m)
        np.testing.assert_array_equal(d_s, d_m)
        for key in ("cash", "wealth", "step"):
            np.testing.assert_array_equal(info_s[key], info_m[key])
        for key in ("mid", "inventory", "bid", "ask", "bid_quoted", "ask_filled"):
            np.testing.assert_array_equal(info_s[key], info_m[key][:, 0])
        if mode == "SameStep" and d_s.any():
            np.testing.assert_array_equal(
                info_s["final_info"]["wealth"], info_m["final_info"]["wealth"]
            )


# ---------------------------------------------------------------------- asset axis
def _three_assets() -> list[MarketConfig]:
    return list(
        MultiAssetConfig(
            n_assets=3,
            mid_model="gbm",
            S0=(100.0, 20.0, 55.0),
            mu=(0.0, 0.1, -0.2),
            sigma=(0.02, 0.05, 0.01),
            A=(140.0, 60.0, 300.0),
            k=(1.5, 3.0, 0.8),
            order_size=(1.0, 2.0, 0.5),
            inventory_limit=(5.0, 4.0, 1.5),
            min_depth=(0.0, -0.5, 0.1),
            max_depth=(10.0, 3.0, 4.0),
            tick_size=(0.01, 0.05, 0.1),
        ).assets()
    )


def test_the_stacked_market_steps_each_asset_as_its_own_market():
    configs = _three_assets()
    stacked = stacked_market(configs)
    singles = [MarketDynamics(c) for c in configs]
    rng = np.random.default_rng(0)
    shape = (500, 3)
    state = make_state(
        step=np.zeros(500, np.int64),
        mid=np.array([c.S0 for c in configs]) + np.zeros(shape),
        cash=np.zeros(shape),
        inventory=np.zeros(shape),
    )
    columns = [
        make_state(
            step=np.zeros(500, np.int64),
            mid=np.full(500, c.S0),
            cash=np.zeros(500),
            inventory=np.zeros(500),
        )
        for c in configs
    ]
    for _ in range(30):
        bid, ask = rng.uniform(-1, 6, shape), rng.uniform(-1, 6, shape)
        z, ub, ua = rng.standard_normal(shape), rng.random(shape), rng.random(shape)
        result = stacked.step(state, bid, ask, z, ub, ua)
        for i, market in enumerate(singles):
            r = market.step(columns[i], bid[:, i], ask[:, i], z[:, i], ub[:, i], ua[:, i])
            for name in (
                "bid",
                "ask",
                "bid_quoted",
                "ask_quoted",
                "bid_filled",
                "ask_filled",
                "wealth",
            ):
                np.testing.assert_array_equal(getattr(result, name)[:, i], getattr(r, name))
            for name in ("mid", "cash", "inventory"):
                np.testing.assert_array_equal(
                    getattr(result.state, name)[:, i], getattr(r.state, name)
                )
            columns[i] = r.state
        state = result.state
    assert (np.abs(state.inventory) <= [5.0, 4.0, 1.5]).all()
    assert state.inventory.std(axis=0).min() > 0  # every asset traded


def test_the_stacked_market_carries_per_asset_parameters_as_arrays():
    stacked = stacked_market(_three_assets())
    assert isinstance(stacked.config, AssetAxisConfig)
    np.testing.assert_array_equal(stacked.config.order_size, [1.0, 2.0, 0.5])
    np.testing.assert_array_equal(
        stacked.mid.vol, [s * math.sqrt(0.005) for s in (0.02, 0.05, 0.01)]
    )
    assert stacked.config.T == 1.0 and stacked.config.mid_model == "gbm"  # shared: scalars
    same = stacked_market(MultiAssetConfig(n_assets=2).assets())
    assert type(same.mid.vol) is float  # equal values stay floats


def test_markets_of_different_components_are_not_stacked():
    a = MarketConfig.preset("as2008")
    with pytest.raises(ValueError, match="composed of different components"):
        stacked_market([a, a.replace(tick_size=0.1)])
    with pytest.raises(ValueError, match="composed of different components"):
        stacked_market([a, a.replace(fill_model="poisson")])
    with pytest.raises(ValueError, match=r"differ in 'reward' \(\['pnl', 'inventory_penalty'\]\)"):
        stacked_market([a, a.replace(reward="inventory_penalty")])
    with pytest.raises(ValueError, match="at least one asset"):
        stacked_market([])
