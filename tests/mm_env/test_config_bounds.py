"""Every accepted MarketConfig keeps the arithmetic finite; every other one is a ValueError.

Hypothesis starts from a random preset and overrides a few fields with values drawn from wide
strategies (typical values, extreme magnitudes, non-finite numbers, wrong types). Either the
config is refused with a ValueError that names one of the overridden fields, or a short
episode in the scalar env and in the vector env (2 sub-envs, through an autoreset), with
actions drawn inside the action space (edges included), gives finite observations, rewards and
info values and raises no floating-point warning (overflow, invalid, divide by zero; numpy
ignores underflow by default, and so does this test). ``info["bid"]``/``info["ask"]`` (and
``"size"`` at reset) are NaN for a side not quoted, by the envs' documented info convention,
so they are the only entries allowed to be NaN.

Also the reproducers of accepted-then-failed configs, each now refused with a ValueError.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from mm_env import MarketConfig, MarketMakingEnv, MarketMakingVectorEnv, available_presets

EXTREMES = (0.0, 5e-324, 1e-300, 1e-12, 1e-6, 1e6, 1e11, 1e12, 1.1e12, 1e15, 3.5e38, 1e39,
            2e154, 1e300, 1.7e308)
BAD = (math.nan, math.inf, -math.inf, "1.0", None, [1.0], True)
def magnitudes(signed: bool = True, lo: float = -10.0, hi: float = 10.0) -> st.SearchStrategy:
    """Typical values, extreme magnitudes and, rarely, non-numbers."""
    extremes = st.sampled_from(EXTREMES)
    if signed:
        extremes = st.one_of(extremes, extremes.map(lambda x: -x))
    return st.one_of(
        st.floats(lo, hi),
        extremes,
        st.floats(allow_nan=False, allow_infinity=False),
        st.sampled_from(BAD),
        st.floats(lo, hi).map(np.float32),
    )


def positive(hi: float = 10.0) -> st.SearchStrategy:
    return magnitudes(signed=False, lo=0.0, hi=hi)


def unit(lo: float = -1.0) -> st.SearchStrategy:
    return st.one_of(st.floats(lo, 1.0), st.sampled_from((0.0, 1.0, 0.999999, -0.5, 1.5)))


def choice(*valid: str) -> st.SearchStrategy:
    return st.sampled_from((*valid, "bogus", np.array([valid[0]]), np.str_(valid[-1]), 3, None))


FIELDS: dict[str, st.SearchStrategy] = {
    "mid_model": choice("gbm", "abm"),
    "S0": positive(1000.0),
    "mu": magnitudes(),
    "sigma": st.one_of(positive(5.0), st.sampled_from((39.0, 40.0, 100.0))),
    "T": positive(10.0),
    "n_steps": st.one_of(
        st.integers(1, 20),
        st.sampled_from((0, -1, 10**9, 10**9 + 1, 2**63, 10**400, 2.0, "3", np.int64(4))),
    ),
    "A": positive(1000.0),
    "k": st.one_of(positive(10.0), st.sampled_from((70.0, 71.0, 100.0))),
    "fill_model": choice("poisson", "bernoulli"),
    "order_size": positive(5.0),
    "inventory_limit": st.one_of(positive(50.0), st.just(math.inf)),
    "min_depth": magnitudes(lo=-20.0, hi=5.0),
    "max_depth": magnitudes(lo=-5.0, hi=20.0),
    "reward": choice("pnl", "inventory_penalty"),
    "phi": positive(),
    "alpha": positive(),
    "ou_rate": positive(),
    "ou_mean": st.one_of(st.none(), magnitudes(lo=-200.0, hi=200.0)),
    "jump_rate": positive(),
    "jump_mean": st.one_of(magnitudes(lo=-2.0, hi=2.0), st.sampled_from((709.0, 710.0))),
    "jump_std": positive(2.0),
    "replay": st.one_of(
        st.none(),
        st.lists(st.floats(1e-3, 1e3), min_size=2, max_size=40).map(np.array),
        st.sampled_from(([100.0, 1e39, 100.0], [100.0, 5e-324, 100.0], [1.0, 2.0])),
    ),
    "replay_random_start": st.sampled_from((True, False, np.bool_(True), 1, "yes")),
    "adverse_prob": unit(0.0),
    "adverse_jump": positive(3.0),
    "signal_std": positive(20.0),
    "signal_decay": positive(20.0),
    "signal_flow": st.one_of(positive(0.2), st.sampled_from((100.0,))),
    "signal_obs_noise": positive(),
    "hawkes_branching": unit(0.0),
    "hawkes_decay": positive(100.0),
    "flow_skew": unit(),
    "fill_shape": choice("exponential", "power"),
    "power_tail": positive(10.0),
    "tick_size": st.one_of(positive(1.0), st.sampled_from((1e-307, 1e-13))),
    "maker_fee": magnitudes(lo=-0.1, hi=0.1),
    "liquidation_impact": positive(1.0),
    "size_action": st.sampled_from((True, False, np.bool_(False), 0)),
    "max_order_size": positive(10.0),
    "obs_extras": st.one_of(
        st.lists(st.sampled_from(("signal", "flow_imbalance", "realized_vol")), unique=True)
        .map(tuple),
        st.sampled_from(("realized_vol,flow_imbalance", ("volume",), 3, np.array(["signal"]))),
    ),
    "obs_halflife": positive(1.0),
}


@st.composite
def configs(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    preset = draw(st.sampled_from(available_presets()))
    names = draw(st.lists(st.sampled_from(sorted(FIELDS)), max_size=5, unique=True))
    overrides = {name: draw(FIELDS[name]) for name in names}
    if draw(st.booleans()):  # short episodes reach the terminal step and the autoreset
        overrides["n_steps"] = draw(st.integers(1, 4))
    return preset, overrides


def _actions(rng: np.random.Generator, low: np.ndarray, high: np.ndarray, n: int) -> np.ndarray:
    """``n`` actions inside ``[low, high]``, a third of the components on an edge."""
    u = rng.random((n, low.size))
    inside = low + u * (high.astype(np.float64) - low)
    edge = np.where(rng.random((n, low.size)) < 0.5, low, high)
    out = np.where(rng.random((n, low.size)) < 1 / 3, edge, inside).astype(np.float32)
    return np.clip(out, low, high)


def _check_finite(where: str, obs: Any, reward: Any, info: dict[str, Any]) -> None:
    assert np.isfinite(np.asarray(obs, dtype=np.float64)).all(), (where, obs)
    assert np.isfinite(np.asarray(reward, dtype=np.float64)).all(), (where, reward)
    for key, value in info.items():
        if key.startswith("_"):
            continue
        arr = np.asarray(value, dtype=np.float64)
        assert np.isfinite(arr).all(), (where, key, value)


def _run_episode(cfg: MarketConfig, seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = min(cfg.n_steps + 1, 6)
    env = MarketMakingEnv(config=cfg)
    low, high = env.action_space.low, env.action_space.high
    obs, info = env.reset(seed=seed)
    _check_finite("scalar reset", obs, 0.0, info)
    for i, action in enumerate(_actions(rng, low, high, n)):
        obs, reward, terminated, _, info = env.step(action)
        _check_finite(f"scalar step {i}", obs, reward, info)
        assert env.observation_space.contains(obs) or not np.isfinite(obs).all()
        if terminated:
            break
    venv = MarketMakingVectorEnv(2, config=cfg)
    obs, info = venv.reset(seed=seed)
    _check_finite("vector reset", obs, 0.0, info)
    for i in range(n):
        obs, reward, _, _, info = venv.step(np.stack([_actions(rng, low, high, 1)[0]] * 2))
        _check_finite(f"vector step {i}", obs, reward, info)


@settings(max_examples=250, derandomize=True, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(drawn=configs(), seed=st.integers(0, 2**32 - 1))
def test_every_config_is_refused_or_runs_finite(drawn: tuple[str, dict[str, Any]], seed: int):
    preset, overrides = drawn
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            cfg = MarketConfig.preset(preset, **overrides)
        except ValueError as exc:
            event("refused")
            message = str(exc)
            assert any(name in message for name in overrides), (overrides, message)
            return
        event("ran")
        with np.errstate(over="raise", divide="raise", invalid="raise", under="ignore"):
            _run_episode(cfg, seed)


# --------------------------------------------------------------- reproducers
@pytest.mark.parametrize(
    ("preset", "overrides", "message"),
    [
        ("penalty", {"k": 100.0}, r"k \* max\(0, -min_depth\) must be <= 700"),
        ("as2008", {"k": 71.0}, r"k \* max\(0, -min_depth\) must be <= 700"),
        ("default", {"sigma": 2e154}, r"^sigma must be <= 1e12 \("),
        ("default", {"n_steps": 10**400}, r"^n_steps must be an integer <= 1e9 .*401 digits"),
        ("default", {"n_steps": 2**63}, r"^n_steps must be an integer <= 1e9 "),
        ("default", {"tick_size": 1e-307}, r"^tick_size must be 0 or >= 1\.1e-13"),
        ("default", {"jump_rate": 1e30, "jump_std": 1.0}, r"^jump_rate must be <= 1e12"),
        ("default", {"jump_rate": 1.0, "jump_mean": 710.0},
         r"^jump_mean \+ jump_std\^2/2 must be <= 700 under mid_model='gbm'"),
        ("default", {"S0": 3.5e38}, r"^S0 must be <= 1e12"),
        ("default", {"T": 1e39}, r"^T must be <= 1e6"),
        ("default", {"inventory_limit": 1e39}, r"^inventory_limit must be <= 1e12 .* or inf"),
        ("default", {"order_size": 1e39}, r"^order_size must be <= 1e12"),
        ("default", {"max_depth": 1e39}, r"^max_depth must be <= 1e12"),
        ("default", {"maker_fee": 1e308}, r"^maker_fee must be <= 1e12"),
        ("default", {"liquidation_impact": 1e308}, r"^liquidation_impact must be <= 1e12"),
        ("default", {"phi": 1e308}, r"^phi must be <= 1e12"),
        ("default", {"alpha": 1e308}, r"^alpha must be <= 1e12"),
        ("default", {"signal_std": 1e308}, r"^signal_std must be <= 1e12"),
        ("alpha", {"signal_flow": 100.0}, r"^signal_flow \* signal_std must be <= 10 "),
        ("alpha", {"signal_std": 1e4}, r"^signal_flow \* signal_std must be <= 10 "),
        ("default", {"sigma": 40.0, "obs_extras": ("realized_vol",)},
         r"^the log-mid's move over an episode at 8 standard deviations .* must be <= "
         r"82\.89 under mid_model='gbm'.*got 1120"),
        ("default", {"mid_model": np.array(["gbm"])}, r"^mid_model must be one of"),
        ("default", {"n_steps": 100, "T": 1e-11}, r"^dt = T / n_steps must be >= 1e-12"),
        ("default", {"replay": [100.0, 1e39, 100.0], "n_steps": 2},
         r"^replay prices must be in \[1e-100, 1e12\]"),
    ],
)
def test_reproducers_are_refused(preset: str, overrides: dict[str, Any], message: str):
    with pytest.raises(ValueError, match=message):
        MarketConfig.preset(preset, **overrides)


def test_replay_series_of_exactly_n_steps_plus_one_prices_autoresets():
    venv = MarketMakingVectorEnv(2, config=MarketConfig.preset("as2008", replay=[1.0, 1.0],
                                                               n_steps=1))
    venv.reset(seed=0)
    *_, info = venv.step(np.ones((2, 2)))
    assert info["step"].tolist() == [1, 1]
    obs, reward, terminated, _, info = venv.step(np.ones((2, 2)))  # the autoreset step
    assert info["step"].tolist() == [0, 0] and not terminated.any()
    assert reward.tolist() == [0.0, 0.0] and obs[:, 2].tolist() == [1.0, 1.0]


@pytest.mark.parametrize("name", [["default"], ("default",), None, 3])
def test_preset_name_must_be_a_string(name: Any):
    with pytest.raises(ValueError, match=r"^preset must be one of \[.*\], got "):
        MarketConfig.preset(name)


def test_numpy_strings_are_normalised():
    cfg = MarketConfig(mid_model=np.str_("abm"), obs_extras=(np.str_("realized_vol"),))
    assert type(cfg.mid_model) is str and type(cfg.obs_extras[0]) is str
    assert hash(cfg) == hash(MarketConfig(mid_model="abm", obs_extras=("realized_vol",)))


@pytest.mark.parametrize("name", available_presets())
def test_presets_and_their_limits_are_accepted(name: str):
    """Every preset is accepted, and so is each at the largest sigma its mid allows."""
    cfg = MarketConfig.preset(name)
    assert MarketConfig.from_dict(cfg.to_dict()) == cfg
