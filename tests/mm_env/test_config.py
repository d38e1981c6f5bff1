"""MarketConfig: presets, overrides, round trips, immutability and every validation path.

Also the constructor errors of the two environments (they share ``resolve_config``).
"""

from __future__ import annotations

import dataclasses
import math
import re

import numpy as np
import pytest

import mm_env
from mm_env import MarketConfig, MarketMakingEnv, MarketMakingVectorEnv
from mm_env.config import PRESETS, available_presets, resolve_config

FLOAT_FIELDS = (
    "S0", "mu", "sigma", "T", "A", "k", "order_size", "inventory_limit",
    "min_depth", "max_depth", "phi", "alpha",
)


# --------------------------------------------------------------------------- presets
def test_default_preset_values():
    c = MarketConfig.preset("default")
    assert c == MarketConfig()
    assert c.mid_model == "gbm"
    assert c.S0 == 100.0
    assert c.mu == 0.0
    assert c.sigma == 0.02
    assert c.T == 1.0
    assert c.n_steps == 200
    assert c.dt == 0.005
    assert c.A == 140.0
    assert c.k == 1.5
    assert c.fill_model == "poisson"
    assert c.order_size == 1.0
    assert c.inventory_limit == math.inf
    assert c.min_depth == 0.0
    assert c.max_depth == 10.0
    assert c.reward == "pnl"
    assert c.phi == 0.0
    assert c.alpha == 0.0
    # sigma is relative under GBM: about 2 price units at S0 = 100
    assert c.price_sigma == pytest.approx(2.0)


def test_as2008_preset_values():
    """Avellaneda & Stoikov (2008), section 4: S0=100, T=1, sigma=2, dt=0.005, A=140, k=1.5."""
    c = MarketConfig.preset("as2008")
    assert c.mid_model == "abm"
    assert c.S0 == 100.0
    assert c.T == 1.0
    assert c.sigma == 2.0
    assert c.price_sigma == 2.0  # sigma already in price units under ABM
    assert c.n_steps == 200
    assert c.dt == 0.005
    assert c.A == 140.0
    assert c.k == 1.5
    assert c.fill_model == "bernoulli"
    assert c.inventory_limit == math.inf
    assert c.min_depth == -10.0
    assert c.max_depth == 10.0
    assert c.reward == "pnl"


def test_course_preset_values():
    c = MarketConfig.preset("course")
    assert c.mid_model == "gbm"
    assert c.sigma == pytest.approx(0.2 / math.sqrt(252.0), rel=1e-15)
    assert c.n_steps == 390
    assert c.dt == pytest.approx(1.0 / 390.0, rel=1e-15)
    assert c.inventory_limit == 10.0
    assert c.min_depth == 0.01
    assert c.max_depth == 10.0
    assert c.fill_model == "poisson"
    assert c.A == 140.0
    assert c.k == 1.5


def test_available_presets_and_registry():
    assert available_presets() == sorted(PRESETS)
    assert {"default", "as2008", "course"} <= set(available_presets())
    assert mm_env.available_presets() == available_presets()
    for name in available_presets():
        assert isinstance(MarketConfig.preset(name), MarketConfig)


def test_preset_overrides_applied_and_validated():
    c = MarketConfig.preset("as2008", sigma=1.0, n_steps=100)
    assert c.sigma == 1.0
    assert c.n_steps == 100
    assert c.dt == 0.01
    # the rest of the preset is kept
    assert c.mid_model == "abm"
    assert c.fill_model == "bernoulli"
    assert c.min_depth == -10.0
    # the preset table itself is not mutated by overrides
    assert PRESETS["as2008"]["sigma"] == 2.0
    assert MarketConfig.preset("as2008").sigma == 2.0
    with pytest.raises(ValueError, match=r"sigma must be >= 0, got -1\.0"):
        MarketConfig.preset("as2008", sigma=-1.0)


def test_preset_default_name():
    assert MarketConfig.preset() == MarketConfig.preset("default")


def test_replace_returns_validated_copy():
    c = MarketConfig.preset("course")
    d = c.replace(A=50.0, reward="inventory_penalty", phi=0.1)
    assert d.A == 50.0 and d.reward == "inventory_penalty" and d.phi == 0.1
    assert c.A == 140.0 and c.reward == "pnl"  # original untouched
    assert d.n_steps == c.n_steps and d.inventory_limit == c.inventory_limit
    with pytest.raises(ValueError, match=r"A must be > 0, got 0\.0"):
        c.replace(A=0.0)
    with pytest.raises(ValueError, match=r"unknown MarketConfig field\(s\) \['bogus'\]"):
        c.replace(bogus=1)


@pytest.mark.parametrize("name", ["default", "as2008", "course"])
def test_to_dict_from_dict_round_trip(name):
    c = MarketConfig.preset(name, phi=0.25, alpha=0.5, reward="inventory_penalty")
    d = c.to_dict()
    assert isinstance(d, dict)
    assert set(d) == {f.name for f in dataclasses.fields(MarketConfig)}
    assert d["phi"] == 0.25 and d["reward"] == "inventory_penalty"
    back = MarketConfig.from_dict(d)
    assert back == c
    assert back.to_dict() == d
    assert hash(back) == hash(c)


def test_from_dict_unknown_field():
    with pytest.raises(
        ValueError, match=r"unknown MarketConfig field\(s\) \['nope'\]; valid fields"
    ):
        MarketConfig.from_dict({"sigma": 1.0, "nope": 3})


def test_frozen():
    c = MarketConfig()
    with pytest.raises(dataclasses.FrozenInstanceError):
        c.sigma = 1.0  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        c.n_steps = 3  # type: ignore[misc]
    assert c.sigma == 0.02


def test_numbers_are_normalised_to_float():
    c = MarketConfig(S0=100, sigma=1, A=140, k=2, max_depth=5, inventory_limit=7)
    for name in FLOAT_FIELDS:
        assert type(getattr(c, name)) is float, name
    assert type(c.n_steps) is int


def test_field_docs_cover_every_field():
    docs = MarketConfig.field_docs()
    assert set(docs) == {f.name for f in dataclasses.fields(MarketConfig)}
    assert all(isinstance(v, str) and v for v in docs.values())


def test_inventory_limit_inf_is_allowed():
    assert MarketConfig(inventory_limit=math.inf).inventory_limit == math.inf


def test_negative_depths_allowed_when_range_valid():
    c = MarketConfig(min_depth=-3.0, max_depth=-1.0)
    assert c.min_depth == -3.0 and c.max_depth == -1.0


# ------------------------------------------------------------------ validation errors
@pytest.mark.parametrize("value", [-1.0, -1e-12])
def test_negative_sigma(value):
    with pytest.raises(ValueError, match=rf"sigma must be >= 0, got {re.escape(repr(value))}"):
        MarketConfig(sigma=value)


def test_zero_sigma_allowed():
    assert MarketConfig(sigma=0.0).sigma == 0.0


@pytest.mark.parametrize("name", ["phi", "alpha"])
def test_negative_penalties(name):
    with pytest.raises(ValueError, match=rf"{name} must be >= 0, got -0\.5"):
        MarketConfig(**{name: -0.5})


@pytest.mark.parametrize("value", [0, -1, -200])
def test_n_steps_below_one(value):
    with pytest.raises(ValueError, match=rf"n_steps must be an integer >= 1, got {value}"):
        MarketConfig(n_steps=value)


@pytest.mark.parametrize("value", [2.5, 200.0, "200", None])
def test_n_steps_not_an_int(value):
    with pytest.raises(
        ValueError, match=rf"n_steps must be an integer >= 1, got {re.escape(repr(value))}"
    ):
        MarketConfig(n_steps=value)  # type: ignore[arg-type]


@pytest.mark.parametrize("value", [True, False])
def test_n_steps_bool(value):
    with pytest.raises(ValueError, match=rf"n_steps must be an integer >= 1, got {value}"):
        MarketConfig(n_steps=value)


# BUG (mm_env/config.py, MarketConfig.__post_init__): numpy integer/float scalars are
# rejected. ``isinstance(np.int64(50), int)`` is False, so ``n_steps=np.int64(50)`` fails
# with "n_steps must be an integer >= 1, got np.int64(50)" -- the message contradicts
# itself -- and ``sigma=np.float32(0.5)`` / ``A=np.int64(100)`` fail with "must be a real
# number". Values from numpy sweeps (np.arange, np.linspace(...).astype) hit this; the vector
# env already accepts ``np.integer`` for num_envs. Proposed fix: check
# ``isinstance(v, numbers.Integral)`` / ``numbers.Real`` (still rejecting bool) and store
# ``int(...)`` / ``float(...)`` so the config holds plain Python numbers.
def test_numpy_scalars_accepted_and_normalised():
    c = MarketConfig(n_steps=np.int64(50), sigma=np.float32(0.5), A=np.int64(100))
    assert c.n_steps == 50 and type(c.n_steps) is int
    assert c.sigma == 0.5 and type(c.sigma) is float
    assert c.A == 100.0 and type(c.A) is float


@pytest.mark.parametrize("name", ["A", "k", "S0", "T", "order_size"])
@pytest.mark.parametrize("value", [0.0, -1.0])
def test_strictly_positive_fields(name, value):
    with pytest.raises(ValueError, match=rf"^{name} must be > 0, got {re.escape(repr(value))}$"):
        MarketConfig(**{name: value})


@pytest.mark.parametrize(("lo", "hi"), [(0.0, 0.0), (1.0, 0.5), (-1.0, -2.0)])
def test_max_depth_not_above_min_depth(lo, hi):
    with pytest.raises(
        ValueError,
        match=(
            rf"max_depth must be > min_depth \({re.escape(repr(lo))}\), "
            rf"got {re.escape(repr(hi))}"
        ),
    ):
        MarketConfig(min_depth=lo, max_depth=hi)


@pytest.mark.parametrize(("size", "limit"), [(1.0, 0.5), (2.0, 1.999), (1.0, -math.inf)])
def test_inventory_limit_below_order_size(size, limit):
    with pytest.raises(
        ValueError,
        match=(
            rf"inventory_limit must be >= order_size \({re.escape(repr(size))}\) or inf for no "
            rf"limit, got {re.escape(repr(limit))}"
        ),
    ):
        MarketConfig(order_size=size, inventory_limit=limit)


def test_inventory_limit_equal_to_order_size_ok():
    assert MarketConfig(order_size=2.0, inventory_limit=2.0).inventory_limit == 2.0


@pytest.mark.parametrize("name", [f for f in FLOAT_FIELDS if f != "inventory_limit"])
def test_nan_rejected_in_every_float_field(name):
    with pytest.raises(ValueError, match=rf"^{name} must be finite, got nan$"):
        MarketConfig(**{name: math.nan})


def test_nan_inventory_limit_message_says_inf_is_allowed():
    with pytest.raises(
        ValueError, match=r"^inventory_limit must be a number or inf \(no limit\), got nan$"
    ):
        MarketConfig(inventory_limit=math.nan)


@pytest.mark.parametrize("name", [f for f in FLOAT_FIELDS if f != "inventory_limit"])
@pytest.mark.parametrize("value", [math.inf, -math.inf])
def test_inf_rejected_except_inventory_limit(name, value):
    with pytest.raises(ValueError, match=rf"^{name} must be finite, got {re.escape(repr(value))}$"):
        MarketConfig(**{name: value})


@pytest.mark.parametrize("name", FLOAT_FIELDS)
@pytest.mark.parametrize("value", ["1.0", None, True, [1.0]])
def test_non_number_rejected_in_float_fields(name, value):
    with pytest.raises(
        ValueError, match=rf"^{name} must be a real number, got {re.escape(repr(value))}$"
    ):
        MarketConfig(**{name: value})


@pytest.mark.parametrize(
    ("name", "allowed"),
    [
        ("mid_model", "['gbm', 'abm']"),
        ("fill_model", "['poisson', 'bernoulli']"),
        ("reward", "['inventory_penalty', 'pnl']"),
    ],
)
def test_unknown_choice(name, allowed):
    with pytest.raises(
        ValueError, match=rf"^{name} must be one of {re.escape(allowed)}, got 'bogus'$"
    ):
        MarketConfig(**{name: "bogus"})


def test_unknown_preset_name():
    listed = re.escape(str(sorted(PRESETS)))  # e.g. ['as2008', 'course', 'default', ...]
    with pytest.raises(ValueError, match=rf"^preset must be one of {listed}, got 'nope'$"):
        MarketConfig.preset("nope")


def test_unknown_override_field():
    with pytest.raises(ValueError, match=r"unknown MarketConfig field\(s\) \['a', 'volatility'\]"):
        MarketConfig.preset("default", volatility=1.0, a=2.0)


# --------------------------------------------------------------------- resolve_config
def test_resolve_config_paths():
    base = MarketConfig.preset("as2008")
    assert resolve_config(None, None, {}) == MarketConfig()
    assert resolve_config(None, "course", {}) == MarketConfig.preset("course")
    assert resolve_config(base, None, {}) is base
    assert resolve_config(base, None, {"sigma": 0.5}) == base.replace(sigma=0.5)
    with pytest.raises(ValueError, match=r"^config must be a MarketConfig, got dict$"):
        resolve_config({"sigma": 1.0}, None, {})  # type: ignore[arg-type]


# ------------------------------------------------------------------ env constructors
@pytest.mark.parametrize("make", [MarketMakingEnv, lambda **kw: MarketMakingVectorEnv(2, **kw)])
def test_env_config_and_preset_both_given(make):
    with pytest.raises(
        ValueError, match=r"give either config or preset, not both \(got preset='as2008'\)"
    ):
        make(config=MarketConfig(), preset="as2008")


@pytest.mark.parametrize("make", [MarketMakingEnv, lambda **kw: MarketMakingVectorEnv(2, **kw)])
def test_env_forwards_config_preset_and_overrides(make):
    env = make(config=MarketConfig.preset("course"), A=60.0)
    assert env.config == MarketConfig.preset("course", A=60.0)
    env = make(preset="as2008", sigma=0.5)
    assert env.config == MarketConfig.preset("as2008", sigma=0.5)
    env = make()
    assert env.config == MarketConfig()
    with pytest.raises(ValueError, match=r"unknown MarketConfig field\(s\) \['bogus'\]"):
        make(bogus=1.0)
    with pytest.raises(ValueError, match=r"preset must be one of"):
        make(preset="nope")
    with pytest.raises(ValueError, match=r"k must be > 0, got -1\.0"):
        make(k=-1.0)


@pytest.mark.parametrize("mode", ["human", "ANSI", "", "rgb"])
def test_scalar_env_invalid_render_mode(mode):
    modes = re.escape(str(MarketMakingEnv.metadata["render_modes"]))
    with pytest.raises(
        ValueError,
        match=rf"^render_mode must be None or one of {modes}, got {re.escape(repr(mode))}$",
    ):
        MarketMakingEnv(render_mode=mode)


def test_scalar_env_valid_render_modes():
    assert "ansi" in MarketMakingEnv.metadata["render_modes"]
    assert MarketMakingEnv(render_mode=None).render_mode is None
    for mode in MarketMakingEnv.metadata["render_modes"]:
        assert MarketMakingEnv(render_mode=mode).render_mode == mode


def test_vector_env_render_mode_must_be_none():
    with pytest.raises(
        ValueError, match=r"^render_mode must be None for the vector env, got 'ansi'$"
    ):
        MarketMakingVectorEnv(2, render_mode="ansi")


@pytest.mark.parametrize("n", [0, -3, 2.0, 1.5, True, "4", None])
def test_vector_env_invalid_num_envs(n):
    with pytest.raises(
        ValueError, match=rf"^num_envs must be an integer >= 1, got {re.escape(repr(n))}$"
    ):
        MarketMakingVectorEnv(n)


def test_vector_env_numpy_int_num_envs():
    env = MarketMakingVectorEnv(np.int64(3))
    assert env.num_envs == 3 and type(env.num_envs) is int


@pytest.mark.parametrize("mode", ["nextstep", "Bogus", 3, None])
def test_vector_env_bad_autoreset_mode(mode):
    with pytest.raises(
        ValueError,
        match=(
            r"^autoreset_mode must be one of \['Disabled', 'NextStep', 'SameStep'\], "
            rf"got {re.escape(repr(mode))}$"
        ),
    ):
        MarketMakingVectorEnv(2, autoreset_mode=mode)


@pytest.mark.parametrize("seed", [[1, 2], (1, 2), 1.5, "3"])
def test_vector_env_reset_rejects_non_int_seed(seed):
    env = MarketMakingVectorEnv(2)
    with pytest.raises(ValueError, match=r"^seed must be an int or None for the native vector env"):
        env.reset(seed=seed)


def test_unknown_field_is_also_the_type_error_of_an_unexpected_keyword():
    from mm_env.config import UnknownFieldError

    with pytest.raises(TypeError, match=r"unexpected keyword argument 'frameskip'") as info:
        MarketConfig.preset("default", frameskip=1)
    assert isinstance(info.value, UnknownFieldError) and isinstance(info.value, ValueError)


# ------------------------------------------------------------------ the declaration
def test_every_field_is_declared_once_with_its_spec():
    from mm_env.params import FieldSpec, specs

    declared = specs(MarketConfig)
    assert list(declared) == [f.name for f in dataclasses.fields(MarketConfig)]
    for name, spec in declared.items():
        assert isinstance(spec, FieldSpec) and spec.doc, name
        default = next(f.default for f in dataclasses.fields(MarketConfig) if f.name == name)
        assert spec.check(name, default) == default, name  # defaults are inside their range


def test_field_docs_carry_the_units_and_the_allowed_range():
    docs = MarketConfig.field_docs()
    assert docs["sigma"].startswith("volatility of the mid [1/sqrt(session) relative for gbm")
    assert docs["sigma"].endswith("; allowed: [0, 1e12]")
    assert docs["n_steps"].endswith("; allowed: integer in [1, 1e9]")
    assert docs["A"].endswith("[orders/session]; allowed: (0, 1e12]")
    assert docs["hawkes_branching"].endswith("allowed: [0, 1) (a stationary Hawkes process)")
    assert docs["mid_model"].endswith("allowed: one of 'gbm', 'abm'")
    assert docs["reward"].endswith("allowed: one of 'inventory_penalty', 'pnl'")
    for f in dataclasses.fields(MarketConfig):
        assert f.metadata["doc"] == docs[f.name]  # generic dataclass tools read this


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"A": 1e13}, r"^A must be <= 1e12 \(it keeps cash, wealth, penalties and the float32 "
                      r"observations finite\), got 10000000000000\.0$"),
        ({"mu": -1e13}, r"^mu must be >= -1e12 \(it keeps .*\), got -10000000000000\.0$"),
        ({"T": 2e6}, r"^T must be <= 1e6 \(a horizon up to 1e6 sessions .*\), got 2000000\.0$"),
        ({"n_steps": 10**9 + 1}, r"^n_steps must be an integer <= 1e9 \(.*\), got 1000000001$"),
        ({"inventory_limit": 2e12}, r"^inventory_limit must be <= 1e12 \(.*\) or inf \(no "
                                    r"limit\), got 2000000000000\.0$"),
        ({"power_tail": 2e6}, r"^power_tail must be <= 1e6 \(beyond 1e6 the power law"),
        ({"mid_model": ["gbm"]}, r"^mid_model must be one of \['gbm', 'abm'\], got \['gbm'\]$"),
        ({"obs_extras": (1,)}, r"^obs_extras must be distinct names from .*got \[1\]$"),
    ],
)
def test_range_errors_name_the_bound_crossed_and_why(kw, message):
    with pytest.raises(ValueError, match=message):
        MarketConfig(**kw)


def test_docs_page_is_generated_from_the_declaration():
    from pathlib import Path

    from mm_env.config import REGENERATE_DOCS, market_config_markdown

    page = Path(__file__).resolve().parents[2] / "docs" / "market_config.md"
    assert page.read_text() == market_config_markdown(), (
        f"docs/market_config.md is out of date; regenerate it with: {REGENERATE_DOCS}"
    )


MODULES_OF_THE_CONFIG = (
    "mm_env.config", "mm_env.validation", "mm_env.params", "mm_env.presets",
    "mm_env.replay", "mm_env.reward_registry", "mm_env.rewards",
)


@pytest.mark.parametrize("module", MODULES_OF_THE_CONFIG)
def test_each_config_module_imports_alone(module):
    import subprocess
    import sys

    subprocess.run([sys.executable, "-c", f"import {module}"], check=True)


def test_no_import_cycle_through_the_config():
    """No module the config depends on imports the config back (type-checking imports
    included), so config, validation, params and the reward registry form no cycle."""
    grimp = pytest.importorskip("grimp")
    graph = grimp.build_graph("mm_env")
    below = graph.find_upstream_modules("mm_env.config")
    assert {"mm_env.validation", "mm_env.params", "mm_env.reward_registry"} <= below
    cycles = {m: graph.find_shortest_chain(importer=m, imported="mm_env.config")
              for m in below if m != "mm_env"}
    assert not {m: c for m, c in cycles.items() if c}, cycles
