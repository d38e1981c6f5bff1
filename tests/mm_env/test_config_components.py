"""MarketConfig's market-component fields: defaults (all off), presets, validation messages."""

from __future__ import annotations

import dataclasses
import math
import re

import numpy as np
import pytest

from mm_env import OBS_EXTRAS, MarketConfig, MarketMakingEnv, available_presets
from mm_env.config import PRESETS

NEW_FIELDS = (
    "ou_rate", "ou_mean", "jump_rate", "jump_mean", "jump_std", "replay", "replay_column",
    "replay_random_start", "adverse_prob", "adverse_jump", "signal_std", "signal_decay",
    "signal_flow", "signal_obs_noise", "hawkes_branching", "hawkes_decay", "flow_skew",
    "fill_shape", "power_tail", "tick_size", "maker_fee", "liquidation_impact", "size_action",
    "max_order_size", "obs_extras", "obs_halflife",
)
FLOATS = (
    "ou_rate", "jump_rate", "jump_mean", "jump_std", "adverse_prob", "adverse_jump",
    "signal_std", "signal_decay", "signal_flow", "signal_obs_noise", "hawkes_branching",
    "hawkes_decay", "flow_skew", "power_tail", "tick_size", "maker_fee", "liquidation_impact",
    "max_order_size", "obs_halflife",
)


def test_every_new_field_exists_is_documented_and_off_by_default():
    names = {f.name for f in dataclasses.fields(MarketConfig)}
    assert set(NEW_FIELDS) <= names
    docs = MarketConfig.field_docs()
    for name in NEW_FIELDS:
        assert docs[name], name
    assert MarketConfig().features == ()
    for name in ("default", "as2008", "course", "penalty"):
        assert MarketConfig.preset(name).features == (), name


def test_units_are_documented():
    docs = MarketConfig.field_docs()
    for name in ("ou_rate", "jump_rate", "jump_mean", "adverse_jump", "signal_std",
                 "signal_decay", "hawkes_decay", "tick_size", "maker_fee", "liquidation_impact",
                 "max_order_size", "obs_halflife"):
        assert "[" in docs[name] and "]" in docs[name], (name, docs[name])


def test_new_presets():
    assert {"adverse", "alpha", "microstructure"} <= set(available_presets())
    adverse = MarketConfig.preset("adverse")
    assert adverse.features == ("adverse_selection",)
    assert (adverse.adverse_prob, adverse.adverse_jump) == (0.5, 1.5)
    alpha = MarketConfig.preset("alpha")
    assert set(alpha.features) == {"signal", "signal_flow", "obs_extras"}
    assert alpha.obs_extras == ("signal",) and alpha.signal_obs_noise == 0.0
    for cfg in (adverse, alpha, MarketConfig.preset("microstructure")):
        assert cfg.mid_model == "abm" and cfg.sigma == 2.0 and cfg.dt == 0.005
        assert cfg.A == 140.0 and cfg.k == 1.5 and cfg.fill_model == "poisson"
        assert cfg.inventory_limit == 20.0 and cfg.min_depth == 0.0 and cfg.reward == "pnl"
        assert MarketConfig.from_dict(cfg.to_dict()) == cfg
        assert hash(MarketConfig.from_dict(cfg.to_dict())) == hash(cfg)
    assert PRESETS["alpha"]["obs_extras"] == ("signal",)


def test_features_names():
    cfg = MarketConfig(
        mid_model="abm", ou_rate=1.0, jump_rate=1.0, jump_std=1.0, adverse_prob=0.5,
        adverse_jump=1.0, signal_std=1.0, signal_flow=0.1, hawkes_branching=0.5, flow_skew=0.1,
        fill_shape="power", tick_size=0.01, maker_fee=0.01, liquidation_impact=0.1,
        size_action=True, obs_extras=("signal",),
    )
    assert cfg.features == ("ou", "jumps", "adverse_selection", "signal", "signal_flow",
                            "hawkes", "flow_skew", "power_fills", "tick", "fees", "liquidation",
                            "size_action", "obs_extras")
    assert MarketConfig(adverse_prob=0.5).features == ()  # a jump of size 0 is no feature
    assert MarketConfig(replay=np.full(201, 50.0)).features == ("replay",)


def test_obs_extras_accepts_a_list_and_keeps_the_order():
    cfg = MarketConfig(signal_std=1.0, obs_extras=["realized_vol", "signal"])
    assert cfg.obs_extras == ("realized_vol", "signal")
    assert MarketConfig(signal_std=1.0, obs_extras=" realized_vol,signal").obs_extras == (
        "realized_vol", "signal")
    assert MarketConfig(obs_extras="").obs_extras == ()
    assert set(OBS_EXTRAS) == {"signal", "flow_imbalance", "realized_vol"}


def test_numbers_normalised():
    cfg = MarketConfig(tick_size=np.float32(0.5), hawkes_branching=np.float64(0.25),
                       jump_rate=3, jump_std=1, ou_rate=np.int64(2), ou_mean=101)
    for name in ("tick_size", "hawkes_branching", "jump_rate", "jump_std", "ou_rate", "ou_mean"):
        assert type(getattr(cfg, name)) is float, name
    assert MarketConfig(size_action=np.bool_(True)).size_action is True


# ---------------------------------------------------------------------- validation
@pytest.mark.parametrize("name", FLOATS)
@pytest.mark.parametrize("value", ["1", None, True])
def test_non_numbers_rejected(name, value):
    with pytest.raises(ValueError, match=rf"^{name} must be a real number, got "
                                         rf"{re.escape(repr(value))}$"):
        MarketConfig(**{name: value})


@pytest.mark.parametrize("name", FLOATS)
@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_non_finite_rejected(name, value):
    with pytest.raises(ValueError, match=rf"^{name} must be finite, got {re.escape(repr(value))}$"):
        MarketConfig(**{name: value})


@pytest.mark.parametrize("name", ["ou_rate", "jump_rate", "jump_std", "adverse_jump",
                                  "signal_std", "signal_flow", "signal_obs_noise", "tick_size",
                                  "liquidation_impact"])
def test_non_negative_fields(name):
    with pytest.raises(ValueError, match=rf"^{name} must be >= 0, got -0\.5$"):
        MarketConfig(**{name: -0.5})


@pytest.mark.parametrize("name", ["signal_decay", "hawkes_decay", "power_tail", "obs_halflife",
                                  "max_order_size"])
@pytest.mark.parametrize("value", [0.0, -1.0])
def test_positive_fields(name, value):
    with pytest.raises(ValueError, match=rf"^{name} must be > 0, got {re.escape(repr(value))}$"):
        MarketConfig(**{name: value})


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"adverse_prob": 1.5}, r"^adverse_prob must be in \[0, 1\], got 1\.5$"),
        ({"adverse_prob": -0.1}, r"^adverse_prob must be in \[0, 1\], got -0\.1$"),
        ({"hawkes_branching": 1.0}, r"^hawkes_branching must be in \[0, 1\) \(a stationary "
                                    r"Hawkes process\), got 1\.0$"),
        ({"hawkes_branching": -0.1}, r"hawkes_branching must be in \[0, 1\)"),
        ({"flow_skew": 1.0}, r"^flow_skew must be in \(-1, 1\), got 1\.0$"),
        ({"flow_skew": -1.0}, r"^flow_skew must be in \(-1, 1\), got -1\.0$"),
        ({"fill_shape": "gauss"}, r"^fill_shape must be one of \['exponential', 'power'\], "
                                  r"got 'gauss'$"),
        ({"ou_rate": 1.0, "mu": 0.1}, r"^mu must be 0 when ou_rate > 0"),
        ({"ou_mean": 90.0}, r"^ou_mean needs ou_rate > 0 \(the OU mid\), got ou_mean=90\.0$"),
        ({"ou_rate": 1.0, "ou_mean": -5.0}, r"^ou_mean must be > 0 under mid_model='gbm'"),
        ({"ou_rate": 1.0, "ou_mean": math.nan}, r"^ou_mean must be finite, got nan$"),
        ({"jump_rate": 1.0}, r"^jump_rate > 0 needs jump_std > 0 or jump_mean != 0"),
        ({"signal_flow": 0.1}, r"^signal_flow needs the alpha signal \(signal_std > 0\), "
                               r"got signal_flow=0\.1$"),
        ({"signal_obs_noise": 1.0}, r"^signal_obs_noise needs the alpha signal"),
        ({"obs_extras": ("signal",)}, r"^obs_extras 'signal' needs the alpha signal"),
        ({"obs_extras": ("volume",)}, r"^obs_extras must be distinct names from \['signal', "
                                      r"'flow_imbalance', 'realized_vol'\], got \['volume'\]$"),
        ({"obs_extras": ("realized_vol", "realized_vol")}, r"^obs_extras must be distinct"),
        ({"obs_extras": 3}, r"^obs_extras must be a tuple of names .*got 3$"),
        ({"obs_extras": "signal, volume"}, r"^obs_extras must be distinct names"),
        ({"hawkes_branching": 0.5, "fill_model": "bernoulli"},
         r"need fill_model='poisson', got fill_model='bernoulli'$"),
        ({"obs_extras": ("flow_imbalance",), "fill_model": "bernoulli"},
         r"need fill_model='poisson'"),
        ({"hawkes_branching": 0.9, "T": 10.0}, r"^expected market orders per step .* must be "
                                               r"<= 50 when arrivals are counted, got 70\.0"),
        ({"fill_shape": "power", "min_depth": -2.0},
         r"^min_depth must be > -power_tail/k \(-2\.0\) with fill_shape='power'.*got -2\.0$"),
        ({"size_action": True, "max_order_size": 1.0},
         r"^max_order_size must be > order_size \(1\.0\) with size_action=True, got 1\.0$"),
        ({"size_action": 1}, r"^size_action must be True or False, got 1$"),
        ({"replay_random_start": "yes"}, r"^replay_random_start must be True or False"),
        ({"replay_column": ""}, r"^replay_column must be a non-empty string, got ''$"),
    ],
)
def test_invalid_combinations(kw, message):
    with pytest.raises(ValueError, match=message):
        MarketConfig(**kw)


def test_env_constructor_reports_config_errors():
    with pytest.raises(ValueError, match=r"adverse_prob must be in \[0, 1\]"):
        MarketMakingEnv(preset="adverse", adverse_prob=2.0)


def test_preset_overrides_on_new_presets():
    cfg = MarketConfig.preset("alpha", signal_obs_noise=2.0, obs_extras=("signal", "realized_vol"))
    assert cfg.signal_obs_noise == 2.0 and cfg.obs_extras == ("signal", "realized_vol")
    assert cfg.signal_std == 10.0
