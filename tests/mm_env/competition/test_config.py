"""The competition config: per-maker settings, presets and overrides, clear errors."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from mm_env import MarketConfig
from mm_env.competition import (
    MAX_MAKERS,
    CompetitionConfig,
    CompetitionVectorEnv,
    build_config,
    competition_observation_names,
)


def test_build_from_preset_and_overrides() -> None:
    config = build_config(n_makers=3, preset="as2008", overrides={"sigma": 1.0})
    assert config.n_makers == 3
    assert config.market == MarketConfig.preset("as2008", sigma=1.0)
    assert config.limits == (math.inf,) * 3
    assert config.reward_names == ("pnl",) * 3
    assert config.agents == ("maker_0", "maker_1", "maker_2")


def test_scalar_and_per_maker_settings() -> None:
    scalar = build_config(
        n_makers=2,
        preset="as2008",
        overrides={"inventory_limit": 5.0, "reward": "inventory_penalty"},
    )
    assert scalar.limits == (5.0, 5.0)
    assert scalar.reward_names == ("inventory_penalty",) * 2
    per_maker = build_config(
        n_makers=2,
        preset="penalty",
        overrides={"inventory_limit": [3, np.float64(7.5)], "reward": ("pnl", "inventory_penalty")},
    )
    assert per_maker.limits == (3.0, 7.5)
    assert all(type(x) is float for x in per_maker.limits)
    assert per_maker.reward_names == ("pnl", "inventory_penalty")


def test_config_objects_are_accepted() -> None:
    base = build_config(n_makers=2, preset="as2008", full_information=True)
    again = build_config(base, overrides={"sigma": 0.5})
    assert again.full_information and again.n_makers == 2 and again.market.sigma == 0.5
    from_market = build_config(MarketConfig.preset("course"), n_makers=4)
    assert from_market.market == MarketConfig.preset("course") and from_market.n_makers == 4
    with pytest.raises(ValueError, match="either config or preset"):
        build_config(base, preset="as2008")
    with pytest.raises(ValueError, match="config must be a CompetitionConfig, a MarketConfig"):
        build_config("as2008")  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [0, -1, MAX_MAKERS + 1, True, 2.0, "2", 1.5])
def test_bad_n_makers(bad: object) -> None:
    message = rf"n_makers must be an integer .*got {re.escape(repr(bad))}$"
    with pytest.raises(ValueError, match=message):
        CompetitionConfig(n_makers=bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=message):
        CompetitionVectorEnv(2, bad)  # type: ignore[arg-type]


def test_n_makers_bounds_are_named() -> None:
    with pytest.raises(ValueError, match=r"n_makers must be an integer >= 1, got 0"):
        CompetitionConfig(n_makers=0)
    with pytest.raises(ValueError, match=rf"n_makers must be an integer <= {MAX_MAKERS}"):
        CompetitionConfig(n_makers=MAX_MAKERS + 1)
    assert CompetitionConfig(n_makers=MAX_MAKERS).n_makers == MAX_MAKERS


def test_mismatched_per_maker_settings() -> None:
    with pytest.raises(
        ValueError,
        match=r"inventory_limits must have one value per maker "
        r"\(n_makers=3\), got 2 values: \(1.0, 2.0\)",
    ):
        build_config(n_makers=3, overrides={"inventory_limit": (1.0, 2.0)})
    with pytest.raises(ValueError, match=r"rewards must have one value per maker \(n_makers=2\)"):
        build_config(n_makers=2, overrides={"reward": ["pnl"]})
    with pytest.raises(ValueError, match=r"inventory_limits must be None or a sequence"):
        CompetitionConfig(n_makers=2, inventory_limits="12")  # type: ignore[arg-type]


def test_bad_per_maker_values_name_the_maker() -> None:
    with pytest.raises(ValueError, match=r"inventory_limits\[1\]: inventory_limit must be"):
        build_config(n_makers=2, overrides={"inventory_limit": (5.0, -1.0)})
    with pytest.raises(
        ValueError,
        match=r"inventory_limits\[0\]: inventory_limit must be >= "
        r"order_size",
    ):
        build_config(n_makers=2, overrides={"inventory_limit": (0.5, 5.0)})
    with pytest.raises(ValueError, match=r"rewards\[1\] must be one of .*got 'sharpe'"):
        build_config(n_makers=2, overrides={"reward": ("pnl", "sharpe")})
    with pytest.raises(ValueError, match="full_information must be True or False, got 1"):
        build_config(n_makers=2, full_information=1)  # type: ignore[arg-type]


def test_market_errors_still_name_the_field() -> None:
    with pytest.raises(ValueError, match="sigma must be"):
        build_config(n_makers=2, overrides={"sigma": -1.0})
    with pytest.raises(ValueError, match="unknown MarketConfig field"):
        build_config(n_makers=2, overrides={"n_maker": 2})


def test_size_action_is_refused() -> None:
    with pytest.raises(ValueError, match="size_action=True is not supported by the competition"):
        build_config(n_makers=2, overrides={"size_action": True})


def test_observation_names() -> None:
    config = build_config(n_makers=3, preset="alpha", full_information=True)
    assert competition_observation_names(config) == (
        "time_remaining",
        "inventory",
        "mid",
        "signal",
        "other0_inventory",
        "other0_bid_depth",
        "other0_ask_depth",
        "other1_inventory",
        "other1_bid_depth",
        "other1_ask_depth",
    )
    plain = build_config(n_makers=3, preset="as2008")
    assert competition_observation_names(plain) == ("time_remaining", "inventory", "mid")
