"""docs/extending.md runs as written: its blocks register a Heston mid from user code, run
it in the scalar env, the vector env and the evaluation harness; then the process's moments
are checked against their exact discrete-time values, and its parameters are validated."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest

import mm_env
from mm_env.components import registered, unregister_component

DOC = Path(__file__).resolve().parents[2] / "docs" / "extending.md"
BLOCK = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)
Z = 4.0  # tolerance in standard errors


@pytest.fixture(scope="module")
def doc():
    """The namespace after every block of the page has run (the registration undone after)."""
    namespace: dict = {"__name__": "extending_doc"}
    blocks = BLOCK.findall(DOC.read_text(encoding="utf-8"))
    assert len(blocks) == 3
    try:
        for code in blocks:
            exec(compile(code, str(DOC), "exec"), namespace)
        yield namespace
    finally:
        if "heston" in registered("mid"):
            unregister_component("mid", "heston")


def test_the_page_registers_a_process_used_by_both_envs_and_the_harness(doc):
    assert "heston" in mm_env.components.mid_model_names()
    market = doc["market"]
    assert type(doc["env"].dynamics.mid).__name__ == "HestonMid"
    # the geometric mid's bounds and log increments come from MidProcess
    assert doc["env"].observation_space.low[2] == 0.0
    mid = doc["env"].dynamics.mid
    assert mid.increment(mm_env.ops.ScalarOps, 100.0, 110.0) == math.log(1.1)
    assert doc["final"].step.tolist() == [market.n_steps] * 2000
    assert np.isfinite(doc["table"].count("\n")) and "as" in doc["table"]
    # one new class and one registration: no file of the package names it
    package = Path(mm_env.__file__).parent
    assert not [p for p in package.rglob("*.py") if "HestonMid" in p.read_text()]


def test_martingale_and_exact_mean_variance(doc):
    """E[S_n] = S0 e^(mu t) (mu = 0 here) and E[v_n] = theta + (v0 - theta)(1 - kappa dt)^n,
    both exact in discrete time; the harness's paths start at S0."""
    market, final = doc["market"], doc["final"]
    p = market.mid_params
    assert np.all(doc["start"] == market.S0)
    s = final.mid
    assert abs(s.mean() - market.S0) < Z * s.std(ddof=1) / math.sqrt(s.size)
    v = final.parts["heston_variance"]
    exact = p["theta"] + (p["v0"] - p["theta"]) * (1 - p["kappa"] * market.dt) ** market.n_steps
    assert abs(v.mean() - exact) < Z * v.std(ddof=1) / math.sqrt(v.size)
    assert abs(v.mean() - p["v0"]) > Z * v.std(ddof=1) / math.sqrt(v.size)  # it did move


def test_conditional_variance_and_correlation_of_the_shocks(doc):
    """Per step, given v: E[(r + v+ dt/2)^2] = v+ dt and E[(r + v+ dt/2) dv_shock] =
    rho xi v+ dt, with r the log-return and dv_shock = v' - v - kappa (theta - v) dt."""
    market = doc["market"]
    p, dt = market.mid_params, market.dt
    n = 4000
    env = mm_env.MarketMakingVectorEnv(n, market)
    env.reset(seed=3)
    qv, cov = np.zeros(n), np.zeros(n)
    for _ in range(50):
        before = env.get_state()["market"]
        v = before.parts["heston_variance"]
        env.step(np.full((n, 2), 10.0))
        after = env.get_state()["market"]
        v_plus = np.maximum(v, 0.0)
        r = np.log(after.mid / before.mid) - market.mu * dt + 0.5 * v_plus * dt
        dv = after.parts["heston_variance"] - v - p["kappa"] * (p["theta"] - v) * dt
        qv += r * r - v_plus * dt
        cov += r * dv - p["rho"] * p["xi"] * v_plus * dt
    for x in (qv, cov):
        assert abs(x.mean()) < Z * x.std(ddof=1) / math.sqrt(n)


def test_scalar_env_is_reproducible_and_its_draws_fixed(doc):
    market = doc["market"]
    runs = []
    for _ in range(2):
        env = mm_env.MarketMakingEnv(market)
        env.reset(seed=11)
        runs.append([env.step(np.array([0.5, 0.5]))[1] for _ in range(market.n_steps)])
    assert runs[0] == runs[1]
    dynamics = mm_env.MarketDynamics(market)
    assert dynamics.draw_noise(np.random.default_rng(0), (7,))["heston_variance_shock"].shape \
        == (7,)


@pytest.mark.parametrize(("params", "message"), [
    ({"kappa": 4.0, "theta": 0.04, "xi": 0.3, "rho": -0.5}, r"missing \['v0'\]"),
    ({"kappa": 4.0, "theta": 0.04, "xi": 0.3, "rho": -0.5, "v0": 0.1, "eta": 1.0},
     r"unknown \['eta'\]"),
    ({"kappa": 4.0, "theta": 0.04, "xi": 0.3, "rho": -1.5, "v0": 0.1},
     r"mid_params\['rho'\] must be"),
    ({"kappa": 0.0, "theta": 0.04, "xi": 0.3, "rho": 0.0, "v0": 0.1},
     r"mid_params\['kappa'\] must be"),
])
def test_bad_parameters_name_the_entry(doc, params, message):
    with pytest.raises(ValueError, match=message):
        mm_env.MarketConfig(mid_model="heston", mid_params=params)


def test_built_in_mids_take_no_parameters_and_unknown_models_are_refused(doc):
    with pytest.raises(ValueError, match=r"mid_params must hold the parameters of "
                                         r"mid_model='gbm': none; got unknown \['kappa'\]"):
        mm_env.MarketConfig(mid_params={"kappa": 1.0})
    with pytest.raises(ValueError, match=r"mid_model must be one of \['gbm', 'abm', 'heston'\]"):
        mm_env.MarketConfig(mid_model="cev")
    with pytest.raises(ValueError, match="mid_model must be 'gbm' or 'abm' with ou_rate > 0"):
        mm_env.MarketConfig(mid_model="heston", ou_rate=1.0, mid_params=doc["market"].mid_params)
