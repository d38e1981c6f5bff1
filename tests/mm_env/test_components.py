"""The component registry and what a composed market declares: which components a config
selects, their draws, state fields, info keys, observation bounds and scales, expected mid
moves, and the errors of a bad registration."""

from __future__ import annotations

import math

import numpy as np
import pytest

import mm_env
from mm_env import MarketConfig, MarketDynamics
from mm_env.components import (
    KINDS,
    Component,
    MidMoveExpectation,
    Shock,
    available_components,
    register_component,
    registered,
    unregister_component,
)
from tests.mm_env.conftest import EVERYTHING


def _names(config: MarketConfig) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for c in MarketDynamics(config).components:
        out.setdefault(c.kind, []).append(c.name)
    return out


def test_every_built_in_component_is_registered_under_its_kind():
    assert available_components() == {
        "size": ["action", "fixed"],
        "mid": ["replay", "ou", "gbm", "abm"],
        "shock": ["signal", "jumps", "adverse_selection"],
        "flow": ["constant", "skew"],
        "flow_modifier": ["signal_flow", "hawkes"],
        "fill_shape": ["exponential", "power"],
        "fill_model": ["poisson", "bernoulli", "counted"],
        "friction": ["tick", "fees", "liquidation"],
        "feature": ["signal", "flow_imbalance", "realized_vol"],
    }
    for kind in KINDS:
        for name, cls in registered(kind).items():
            assert cls.kind == kind and cls.name == name
            assert all(hasattr(MarketConfig, p) or p in MarketConfig.__dataclass_fields__
                       for p in cls.params), (name, cls.params)


@pytest.mark.parametrize(("preset", "overrides", "expected"), [
    ("default", {}, {"size": ["fixed"], "mid": ["gbm"], "flow": ["constant"],
                     "fill_shape": ["exponential"], "fill_model": ["poisson"]}),
    ("as2008", {}, {"size": ["fixed"], "mid": ["abm"], "flow": ["constant"],
                    "fill_shape": ["exponential"], "fill_model": ["bernoulli"]}),
    ("microstructure", {}, {"size": ["fixed"], "mid": ["abm"], "shock": ["jumps"],
                            "flow": ["constant"], "flow_modifier": ["hawkes"],
                            "fill_shape": ["exponential"], "fill_model": ["counted"],
                            "friction": ["tick", "fees", "liquidation"],
                            "feature": ["flow_imbalance", "realized_vol"]}),
    ("as2008", EVERYTHING, {"size": ["action"], "mid": ["ou"],
                            "shock": ["signal", "jumps", "adverse_selection"],
                            "flow": ["skew"], "flow_modifier": ["signal_flow", "hawkes"],
                            "fill_shape": ["power"], "fill_model": ["counted"],
                            "friction": ["tick", "fees", "liquidation"],
                            "feature": ["signal", "flow_imbalance", "realized_vol"]}),
])
def test_a_config_selects_its_components(preset, overrides, expected):
    assert _names(MarketConfig.preset(preset, **overrides)) == expected


def test_features_follow_the_order_of_obs_extras():
    cfg = MarketConfig.preset("microstructure", obs_extras=("realized_vol", "flow_imbalance"))
    dyn = MarketDynamics(cfg)
    assert [f.name for f in dyn.features] == ["realized_vol", "flow_imbalance"]
    low, high = dyn.observation_bounds()
    assert low[3:] == [0.0, -1.0] and high[3:] == [math.inf, 1.0]


def test_draws_state_and_info_declared_by_the_components():
    dyn = MarketDynamics(MarketConfig.preset("as2008", **EVERYTHING))
    noise = dyn.draw_noise(np.random.default_rng(0), (5,))
    assert list(noise) == ["signal", "signal_obs", "jump", "adverse_bid", "adverse_ask",
                           "arrival_sell", "arrival_buy", "jump_count"]
    assert all(v.shape == (5,) for v in noise.values())
    state = dyn.initial_state((5,), np.random.default_rng(1))
    assert sorted(state.parts) == sorted(
        f for c in dyn.components for f in c.state_fields)
    assert set(dyn.info_keys) == {"size", "signal", "fees", "liquidation_cost",
                                  "arrivals_buy", "arrivals_sell"}
    assert dyn.action_names == ("bid_depth", "ask_depth", "size")


def test_the_number_of_draws_depends_only_on_the_config():
    """Common random numbers: the generator is advanced by the same amount whatever the
    actions, so two policies from one seed face the same market."""
    cfg = MarketConfig.preset("as2008", **EVERYTHING)
    states = []
    for depth in (0.0, 5.0):
        env = mm_env.MarketMakingVectorEnv(4, cfg)
        env.reset(seed=3)
        for _ in range(30):
            env.step(np.tile([depth, depth, 1.5], (4, 1)))
        states.append(env.get_state()["rng"])
    assert states[0] == states[1]


def test_the_base_model_draws_nothing_extra():
    dyn = MarketDynamics(MarketConfig())
    rng = np.random.default_rng(0)
    before = rng.bit_generator.state
    assert dyn.draw_noise(rng, (10,)) == {} and not dyn.needs_noise
    assert rng.bit_generator.state == before


@pytest.mark.parametrize(("kw", "relative", "absolute"), [
    ({"mid_model": "gbm", "mu": 0.5}, math.expm1(0.5 / 200), 0.0),
    ({"mid_model": "abm", "mu": 0.5}, 0.0, 0.5 / 200),
    ({"mid_model": "abm", "mu": 0.5, "jump_rate": 3.0, "jump_mean": 0.2}, 0.0, 0.5 / 200),
])
def test_expected_mid_move_is_the_sum_of_the_declared_ones(kw, relative, absolute):
    e = mm_env.mid_move_expectation(MarketConfig(**kw))
    assert e == MidMoveExpectation(pytest.approx(relative, rel=1e-15), pytest.approx(absolute))


@pytest.mark.parametrize("preset", ["adverse", "alpha"])
def test_expected_mid_move_unknown_names_the_components(preset):
    name = {"adverse": "adverse_selection", "alpha": "signal"}[preset]
    with pytest.raises(ValueError, match=f"components \\['{name}'\\] move the mid"):
        mm_env.mid_move_expectation(MarketConfig.preset(preset))


def test_jumps_are_compensated_in_the_mid_drift():
    base = MarketDynamics(MarketConfig(mid_model="gbm", sigma=0.02))
    jumpy = MarketDynamics(MarketConfig(mid_model="gbm", sigma=0.02, jump_rate=4.0,
                                        jump_mean=0.01, jump_std=0.02))
    dt = 1 / 200
    assert base.mid.drift - jumpy.mid.drift == pytest.approx(
        4.0 * math.expm1(0.01 + 0.5 * 0.02**2) * dt, rel=1e-12)


def test_observation_scales_come_from_the_components():
    scales = mm_env.observation_scales(MarketConfig.preset("alpha"))
    assert list(scales) == ["time_remaining", "inventory", "mid", "signal"]
    assert scales["signal"] == (0.0, 10.0) and scales["mid"] == (100.0, 2.0)


class _Drift(Shock):
    kind = "shock"
    name = "test_drift"

    @classmethod
    def applies(cls, config: MarketConfig) -> bool:
        return config.mu == 0.123

    def __init__(self, config: MarketConfig) -> None:
        super().__init__(config)
        self.uniforms = ("adverse_bid",)  # clashes with the adverse-selection draw

    def term(self, ops, state, noise, bid_filled, ask_filled):
        return 0.0


def test_registration_errors_say_what_is_wrong():
    with pytest.raises(ValueError, match=r"must be a subclass of mm_env\.components\.Component"):
        register_component(object)
    bad_kind = type("BadKind", (Component,), {"kind": "nope", "name": "x"})
    with pytest.raises(ValueError, match=r"BadKind.kind must be one of \['size', 'mid'"):
        register_component(bad_kind)
    no_name = type("NoName", (Shock,), {"name": ""})
    with pytest.raises(ValueError, match=r"NoName\.name must be a non-empty string"):
        register_component(no_name)
    clash = type("Clash", (Shock,), {"name": "jumps"})
    with pytest.raises(ValueError, match="a shock component named 'jumps' is already "
                                         "registered"):
        register_component(clash)
    with pytest.raises(ValueError, match="no shock component named 'missing'"):
        unregister_component("shock", "missing")


def test_components_with_clashing_names_are_refused_at_composition():
    register_component(_Drift)
    try:
        with pytest.raises(ValueError, match="components 'adverse_selection' and 'test_drift' "
                                             "both declare 'adverse_bid'"):
            MarketDynamics(MarketConfig.preset("adverse", mu=0.123))
        assert _names(MarketConfig(mu=0.123))["shock"] == ["test_drift"]
    finally:
        unregister_component("shock", "test_drift")
    assert "test_drift" not in registered("shock")
