"""The simulator against the model's mathematics (DESIGN.md, "The model").

Statistical checks use fixed seeds and a tolerance of 4 standard errors (SE) of the
estimator, so a correct model fails with probability < 1e-4 per check for an unlucky seed,
and the seeds are fixed so the suite is deterministic. Where a wrong formula would be
plausible (Poisson vs Bernoulli fills, mu vs mu - sigma^2/2 drift) we also assert that the
wrong value is rejected at the same tolerance, so each check has power.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from mm_env import (
    MarketConfig,
    MarketDynamics,
    MarketMakingEnv,
    MarketMakingVectorEnv,
    available_presets,
)
from mm_env.state import make_state

EPS = np.finfo(np.float64).eps
Z_TOL = 4.0  # tolerance in standard errors


def run_vector(num_envs, actions, seed, **config):
    """One episode of the vector env (autoreset disabled) under a fixed or per-step action.

    Returns the stacked infos (n_steps + 1 rows, the first being the reset info) and the
    rewards (n_steps rows).
    """
    env = MarketMakingVectorEnv(num_envs, autoreset_mode="Disabled", **config)
    _, info = env.reset(seed=seed)
    infos, rewards, acts = [info], [], []
    n = env.config.n_steps
    for i in range(n):
        a = actions(i) if callable(actions) else actions
        a = np.broadcast_to(np.asarray(a, dtype=np.float64), (num_envs, 2))
        acts.append(a)
        _, reward, term, trunc, info = env.step(a)
        assert not trunc.any()
        assert np.all(term == (i == n - 1))
        infos.append(info)
        rewards.append(reward)
    stacked = {k: np.stack([inf[k] for inf in infos]) for k in infos[0] if not k.startswith("_")}
    return env.config, stacked, np.stack(rewards), np.stack(acts)


def run_scalar(actions, seed, **config):
    """One episode of the scalar env. Returns config, infos (dict of arrays), rewards, actions."""
    env = MarketMakingEnv(**config)
    _, info = env.reset(seed=seed)
    infos, rewards, acts = [info], [], []
    n = env.config.n_steps
    for i in range(n):
        a = np.asarray(actions(i) if callable(actions) else actions, dtype=np.float64)
        acts.append(a)
        _, reward, term, trunc, info = env.step(a)
        assert trunc is False and term is (i == n - 1)
        infos.append(info)
        rewards.append(reward)
    stacked = {k: np.array([inf[k] for inf in infos]) for k in infos[0]}
    return env.config, stacked, np.array(rewards), np.array(acts)


def poisson_p(cfg, d):
    return 1.0 - math.exp(-cfg.A * math.exp(-cfg.k * d) * cfg.dt)


def bernoulli_p(cfg, d):
    return min(1.0, cfg.A * math.exp(-cfg.k * d) * cfg.dt)


def clip(cfg, d):
    return min(max(d, cfg.min_depth), cfg.max_depth)


# ------------------------------------------------------------------ fill probabilities
# (fill_model, requested depth, extra config); A=140, k=1.5, dt=0.005 (the AS 2008 scale).
FILL_CASES = [
    ("poisson", 0.0, {}),
    ("poisson", 0.5, {}),
    ("poisson", 1.0, {}),
    ("poisson", 2.0, {}),
    ("poisson", -1.0, {}),  # clipped up to min_depth = 0
    ("poisson", 5.0, {"max_depth": 1.5}),  # clipped down to max_depth
    ("poisson", 0.0, {"min_depth": 0.4}),  # clipped up to a positive min_depth
    ("poisson", -1.0, {"min_depth": -10.0}),  # through the mid: p < 1 under poisson
    ("bernoulli", 0.0, {}),
    ("bernoulli", 0.5, {}),
    ("bernoulli", 1.0, {}),
    ("bernoulli", 2.0, {}),
    ("bernoulli", 7.0, {"max_depth": 1.0}),
    ("bernoulli", -0.2, {"min_depth": -10.0}),  # 0.7 e^0.3 = 0.945: negative, not yet capped
    ("bernoulli", -0.5, {"min_depth": -10.0}),  # 0.7 e^0.75 > 1: probability capped at 1
    ("bernoulli", -3.0, {"min_depth": -10.0}),
    ("bernoulli", -20.0, {"min_depth": -10.0}),  # clipped to -10, still capped at 1
]


@pytest.mark.parametrize(("fill_model", "depth", "extra"), FILL_CASES)
def test_fill_frequency_matches_formula(fill_model, depth, extra):
    num_envs = 20_000
    cfg, info, _, _ = run_vector(
        num_envs, [depth, depth], seed=100, fill_model=fill_model, T=0.025, n_steps=5,
        A=140.0, k=1.5, **extra,
    )
    assert cfg.dt == pytest.approx(0.005)
    d = clip(cfg, depth)
    expected = (poisson_p if fill_model == "poisson" else bernoulli_p)(cfg, d)
    other = (bernoulli_p if fill_model == "poisson" else poisson_p)(cfg, d)
    assert MarketDynamics(cfg).fill_probability(d) == pytest.approx(expected, rel=1e-12)
    fills = np.concatenate([info["bid_filled"][1:].ravel(), info["ask_filled"][1:].ravel()])
    n = fills.size
    freq = fills.mean()
    if expected == 1.0:
        assert fills.all()  # capped: every quote fills, no randomness
        return
    se = math.sqrt(expected * (1.0 - expected) / n)  # binomial SE of the frequency
    assert abs(freq - expected) < Z_TOL * se, (freq, expected, se)
    se_other = math.sqrt(max(other * (1.0 - other), expected * (1.0 - expected)) / n)
    if abs(other - expected) > 2 * Z_TOL * se_other:
        assert abs(freq - other) > Z_TOL * se_other  # the other formula is rejected
    # quotes are placed at the clipped depth around the pre-step mid
    np.testing.assert_allclose(info["bid"][1:], info["mid"][:-1] - d, rtol=0, atol=1e-12)
    np.testing.assert_allclose(info["ask"][1:], info["mid"][:-1] + d, rtol=0, atol=1e-12)


def test_bid_and_ask_fill_independently():
    """Different depths per side; the joint frequency is the product of the marginals."""
    num_envs = 20_000
    cfg, info, _, _ = run_vector(num_envs, [0.2, 1.0], seed=5, T=0.05, n_steps=10)
    pb, pa = poisson_p(cfg, 0.2), poisson_p(cfg, 1.0)
    b = info["bid_filled"][1:].ravel()
    a = info["ask_filled"][1:].ravel()
    n = b.size
    for freq, p in ((b.mean(), pb), (a.mean(), pa), ((a & b).mean(), pa * pb)):
        assert abs(freq - p) < Z_TOL * math.sqrt(p * (1 - p) / n), (freq, p)


# ------------------------------------------------------------------------- mid-price
def _increments(mid_model, mu, sigma, seed=3):
    num_envs, n_steps = 20_000, 10
    cfg, info, _, _ = run_vector(
        num_envs, [5.0, 5.0], seed=seed, mid_model=mid_model, mu=mu, sigma=sigma, T=1.0,
        n_steps=n_steps,
    )
    mids = info["mid"]
    return cfg, mids


def _mean_var_se(x):
    """Sample mean and variance with their standard errors (iid samples)."""
    n = x.size
    m = x.mean()
    v = x.var(ddof=1)
    se_m = math.sqrt(v / n)
    se_v = float(np.std((x - m) ** 2, ddof=1)) / math.sqrt(n)  # SE of the sample variance
    return m, v, se_m, se_v


def test_gbm_log_returns():
    mu, sigma = 0.3, 0.4
    cfg, mids = _increments("gbm", mu, sigma)
    assert np.all(mids > 0)
    r = np.diff(np.log(mids), axis=0).ravel()  # iid across steps and envs
    m, v, se_m, se_v = _mean_var_se(r)
    dt = cfg.dt
    assert abs(m - (mu - 0.5 * sigma**2) * dt) < Z_TOL * se_m, (m, se_m)
    assert abs(m - mu * dt) > Z_TOL * se_m  # the Ito correction is there (exact log step)
    assert abs(v - sigma**2 * dt) < Z_TOL * se_v, (v, se_v)
    # E[S_{t+dt} / S_t] = exp(mu dt): the relative drift is mu
    g = np.exp(r)
    gm, _, gse, _ = _mean_var_se(g)
    assert abs(gm - math.exp(mu * dt)) < Z_TOL * gse


def test_abm_increments():
    mu, sigma = 2.0, 3.0
    cfg, mids = _increments("abm", mu, sigma)
    dx = np.diff(mids, axis=0).ravel()
    m, v, se_m, se_v = _mean_var_se(dx)
    assert abs(m - mu * cfg.dt) < Z_TOL * se_m, (m, se_m)
    assert abs(v - sigma**2 * cfg.dt) < Z_TOL * se_v, (v, se_v)
    # normal increments: excess kurtosis 0 (SE of kurtosis ~ sqrt(24 / n))
    kurt = float(np.mean((dx - m) ** 4) / v**2 - 3.0)
    assert abs(kurt) < Z_TOL * math.sqrt(24.0 / dx.size)


@pytest.mark.parametrize("mid_model", ["gbm", "abm"])
def test_zero_volatility_mid_is_deterministic(mid_model):
    cfg, info, _, _ = run_vector(8, [1.0, 1.0], seed=0, mid_model=mid_model, mu=0.5,
                                 sigma=0.0, n_steps=10)
    t = np.arange(11) * cfg.dt
    expected = cfg.S0 * np.exp(0.5 * t) if mid_model == "gbm" else cfg.S0 + 0.5 * t
    np.testing.assert_allclose(info["mid"], np.broadcast_to(expected[:, None], (11, 8)),
                               rtol=1e-12)


# ---------------------------------------------------------------- accounting identities
ACCOUNTING_CONFIGS = [
    {"preset": "default"},
    {"preset": "as2008"},
    {"preset": "course"},
    {"preset": "as2008", "order_size": 2.5, "inventory_limit": 5.0, "fill_model": "poisson"},
    {"preset": "default", "mid_model": "abm", "sigma": 3.0, "order_size": 0.3,
     "inventory_limit": 1.0, "reward": "inventory_penalty", "phi": 0.5, "alpha": 1.0},
]


def check_accounting(cfg, info, rewards, acts):
    """Every identity of one step, on stacked infos (rows: reset, step 1, ..., step n)."""
    size = cfg.order_size
    prev = {k: v[:-1] for k, v in info.items()}
    cur = {k: v[1:] for k, v in info.items()}
    bf = cur["bid_filled"].astype(bool)
    af = cur["ask_filled"].astype(bool)
    # mark-to-market wealth
    np.testing.assert_allclose(cur["wealth"], cur["cash"] + cur["inventory"] * cur["mid"],
                               rtol=1e-12, atol=1e-9)
    # fills happen only on quoted sides
    qb, qa = cur["bid_quoted"].astype(bool), cur["ask_quoted"].astype(bool)
    assert not np.any(bf & ~qb)
    assert not np.any(af & ~qa)
    # prices, quoted or not (the would-be quote): pre-step mid -/+ clipped depth
    db = np.clip(acts[..., 0], cfg.min_depth, cfg.max_depth)
    da = np.clip(acts[..., 1], cfg.min_depth, cfg.max_depth)
    np.testing.assert_allclose(cur["bid"], prev["mid"] - db, rtol=0, atol=1e-9)
    np.testing.assert_allclose(cur["ask"], prev["mid"] + da, rtol=0, atol=1e-9)
    # a side is quoted iff its fill keeps |q| within the limit
    np.testing.assert_array_equal(qb, prev["inventory"] + size <= cfg.inventory_limit)
    np.testing.assert_array_equal(qa, prev["inventory"] - size >= -cfg.inventory_limit)
    # cash and inventory changes at the quotes
    bid_px = np.where(bf, cur["bid"], 0.0)
    ask_px = np.where(af, cur["ask"], 0.0)
    np.testing.assert_allclose(cur["cash"] - prev["cash"], -size * bid_px + size * ask_px,
                               rtol=0, atol=1e-9)
    np.testing.assert_allclose(cur["inventory"] - prev["inventory"],
                               size * (bf.astype(float) - af.astype(float)), rtol=0, atol=1e-12)
    assert np.all(np.abs(info["inventory"]) <= cfg.inventory_limit)
    # time
    np.testing.assert_array_equal(cur["step"], prev["step"] + 1)
    # reward
    dw = cur["wealth"] - prev["wealth"]
    q2 = cur["inventory"] ** 2
    last = np.zeros_like(dw)
    last[-1] = 1.0
    expected = dw if cfg.reward == "pnl" else dw - cfg.phi * q2 * cfg.dt - cfg.alpha * q2 * last
    np.testing.assert_allclose(rewards, expected, rtol=1e-9, atol=1e-9)


def _random_actions(cfg_kwargs, num_envs=None, seed=0):
    cfg = MarketConfig.preset(cfg_kwargs.get("preset", "default"),
                              **{k: v for k, v in cfg_kwargs.items() if k != "preset"})
    rng = np.random.default_rng(seed)
    lo, hi = cfg.min_depth - 1.0, min(cfg.max_depth, 4.0) + 1.0  # includes clipped values
    shape = (2,) if num_envs is None else (num_envs, 2)
    return lambda i: rng.uniform(lo, hi, size=shape)


@pytest.mark.parametrize("kw", ACCOUNTING_CONFIGS)
def test_accounting_identities_scalar(kw):
    cfg, info, rewards, acts = run_scalar(_random_actions(kw), seed=1, **kw)
    check_accounting(cfg, info, rewards, acts)
    assert info["bid_filled"].any() and info["ask_filled"].any()  # the test saw fills


@pytest.mark.parametrize("kw", ACCOUNTING_CONFIGS)
def test_accounting_identities_vector(kw):
    num_envs = 64
    cfg, info, rewards, acts = run_vector(num_envs, _random_actions(kw, num_envs), seed=2, **kw)
    check_accounting(cfg, info, rewards, acts)
    assert info["bid_filled"].any() and info["ask_filled"].any()


@pytest.mark.parametrize("preset", available_presets())
def test_pnl_rewards_sum_to_terminal_wealth(preset):
    cfg, info, rewards, _ = run_scalar([0.3, 0.6], seed=4, preset=preset, reward="pnl")
    assert info["wealth"][0] == 0.0
    scale = np.abs(info["cash"]).max() + 1.0
    assert rewards.sum() == pytest.approx(info["wealth"][-1], rel=0, abs=1e-9 * scale * cfg.n_steps)
    assert info["inventory"][1:].any()  # non-trivial path

    cfg, info, rewards, _ = run_vector(32, [0.3, 0.6], seed=4, preset=preset, reward="pnl")
    scale = np.abs(info["cash"]).max() + 1.0
    np.testing.assert_allclose(rewards.sum(axis=0), info["wealth"][-1], rtol=0,
                               atol=1e-9 * scale * cfg.n_steps)


@pytest.mark.parametrize("runner", ["scalar", "vector"])
def test_inventory_penalty_reward_from_infos(runner):
    phi, alpha = 0.3, 2.0
    kw = {"preset": "as2008", "n_steps": 50, "reward": "inventory_penalty", "phi": phi,
          "alpha": alpha}
    action = [0.0, 3.0]  # bid aggressively, ask far away: inventory builds up
    if runner == "scalar":
        cfg, info, rewards, _ = run_scalar(action, seed=6, **kw)
        _, info_pnl, rewards_pnl, _ = run_scalar(action, seed=6, **{**kw, "reward": "pnl"})
    else:
        cfg, info, rewards, _ = run_vector(16, action, seed=6, **kw)
        _, info_pnl, rewards_pnl, _ = run_vector(16, action, seed=6, **{**kw, "reward": "pnl"})
    q = info["inventory"][1:]
    assert np.abs(q[-1]).min() > 0  # the terminal penalty is exercised
    dw = np.diff(info["wealth"], axis=0)
    expected = dw - phi * q**2 * cfg.dt
    expected[-1] -= alpha * q[-1] ** 2
    np.testing.assert_allclose(rewards, expected, rtol=1e-12, atol=1e-9)
    # the reward does not change the market: same seed, same path, pnl = dW
    for key in ("mid", "cash", "inventory", "wealth"):
        np.testing.assert_array_equal(info[key], info_pnl[key])
    np.testing.assert_allclose(rewards_pnl, dw, rtol=1e-12, atol=1e-9)
    penalty = rewards_pnl.sum(axis=0) - rewards.sum(axis=0)
    np.testing.assert_allclose(
        penalty, phi * cfg.dt * (q**2).sum(axis=0) + alpha * q[-1] ** 2, rtol=1e-9
    )


# -------------------------------------------------------------------- inventory limit
@pytest.mark.parametrize("side", ["bid", "ask"])
def test_inventory_limit_blocks_the_side_at_the_limit(side):
    """Bernoulli fills through the mid fill with probability 1: the limit is hit for sure."""
    limit, num_envs, n = 2.0, 50, 20
    aggressive, passive = -5.0, 10.0
    action = [aggressive, passive] if side == "bid" else [passive, aggressive]
    sign = 1.0 if side == "bid" else -1.0
    other = "ask" if side == "bid" else "bid"
    kw = {"preset": "as2008", "inventory_limit": limit, "n_steps": n}
    for _cfg, info, _, _ in (
        run_vector(num_envs, action, seed=0, **kw),
        run_scalar(action, seed=0, **kw),
    ):
        q = info["inventory"]
        assert np.all(np.abs(q) <= limit)
        # the first two steps fill for sure (p = 1), then the limit is reached
        np.testing.assert_array_equal(q[1], sign * 1.0)
        np.testing.assert_array_equal(q[2:], sign * limit)
        # at the limit, the side is not quoted: its flag is False, no fill, and its price is
        # the would-be quote (finite)
        assert not info[f"{side}_quoted"][3:].any()
        assert not info[f"{side}_filled"][3:].any()
        assert np.isfinite(info[side]).all()
        assert info[f"{side}_quoted"][1:3].all()
        # the other side is still quoted (it would reduce |q|)
        assert info[f"{other}_quoted"][1:].all()


def test_inventory_limit_never_breached_fractional_size():
    kw = {"preset": "as2008", "order_size": 0.7, "inventory_limit": 2.0, "n_steps": 60}
    cfg, info, rewards, acts = run_vector(
        200, _random_actions({**kw, "min_depth": -10.0}, 200, seed=3), seed=3, **kw
    )
    assert np.all(np.abs(info["inventory"]) <= cfg.inventory_limit)
    assert np.abs(info["inventory"]).max() == pytest.approx(1.4)  # 3 * 0.7 would breach
    check_accounting(cfg, info, rewards, acts)


# --------------------------------------------------------------------------- clipping
def test_depths_are_clipped_to_the_action_box():
    kw = {"preset": "course", "max_depth": 3.0, "n_steps": 4}
    actions = [[50.0, -7.0], [-1e6, 1e6], [3.0, 0.01], [0.005, 2.999]]
    for _, info, _, _ in (
        run_scalar(lambda i: actions[i], seed=0, **kw),
        run_vector(2, lambda i: actions[i], seed=0, **kw),
    ):
        prev = info["mid"][:-1]
        expected_bid = np.array([3.0, 0.01, 3.0, 0.01])
        expected_ask = np.array([0.01, 3.0, 0.01, 2.999])
        if prev.ndim == 2:
            expected_bid, expected_ask = expected_bid[:, None], expected_ask[:, None]
        np.testing.assert_allclose(prev - info["bid"][1:],
                                   np.broadcast_to(expected_bid, prev.shape), rtol=0, atol=1e-12)
        np.testing.assert_allclose(info["ask"][1:] - prev,
                                   np.broadcast_to(expected_ask, prev.shape), rtol=0, atol=1e-12)


# --------------------------------------------------------- scalar vs vector, in law
def _mean_se(x):
    return x.mean(), x.std(ddof=1) / math.sqrt(x.size)


def test_scalar_and_vector_env_agree_in_distribution():
    """Terminal wealth and inventory under a fixed symmetric quote: two-sample z tests.

    With mu = 0 the GBM mid is a martingale and inventory is held over independent moves,
    so E[W_T] = n_steps * 2 * p(delta) * delta exactly: both envs are also checked against it.
    """
    kw = {"preset": "default", "n_steps": 20}
    delta = 1.0
    n_scalar, n_vector = 800, 20_000
    env = MarketMakingEnv(**kw)
    cfg = env.config
    action = np.array([delta, delta], dtype=np.float32)
    w_s, q_s = np.empty(n_scalar), np.empty(n_scalar)
    env.reset(seed=123)
    for e in range(n_scalar):
        if e:
            env.reset()
        for _ in range(cfg.n_steps):
            _, _, _, _, info = env.step(action)
        w_s[e], q_s[e] = info["wealth"], info["inventory"]
    _, info_v, _, _ = run_vector(n_vector, [delta, delta], seed=321, **kw)
    w_v, q_v = info_v["wealth"][-1], info_v["inventory"][-1]

    for xs, xv in ((w_s, w_v), (q_s, q_v)):
        ms, vs, se_ms, se_vs = _mean_var_se(xs)
        mv, vv, se_mv, se_vv = _mean_var_se(xv)
        assert abs(ms - mv) < Z_TOL * math.hypot(se_ms, se_mv), (ms, mv)
        assert abs(vs - vv) < Z_TOL * math.hypot(se_vs, se_vv), (vs, vv)

    expected_w = cfg.n_steps * 2 * poisson_p(cfg, delta) * delta
    for x in (w_s, w_v):
        m, se = _mean_se(x)
        assert abs(m - expected_w) < Z_TOL * se, (m, expected_w, se)
    # symmetric quotes: inventory is a symmetric random walk with variance n * 2p(1-p)
    p = poisson_p(cfg, delta)
    for q in (q_s, q_v):
        m, v, se_m, se_v = _mean_var_se(q)
        assert abs(m) < Z_TOL * se_m
        assert abs(v - cfg.n_steps * 2 * p * (1 - p)) < Z_TOL * se_v


# ------------------------------------------------- scalar float path vs array path
DYN_CONFIGS = [
    {"preset": "default", "sigma": 0.3, "inventory_limit": 5.0},
    {"preset": "default", "fill_model": "bernoulli", "mu": 0.2, "sigma": 0.3},
    {"preset": "as2008", "inventory_limit": 4.0, "order_size": 2.0},
    {"preset": "as2008", "fill_model": "poisson", "mu": -1.0},
    {"preset": "course", "mid_model": "abm", "sigma": 1.0},
]


def _random_inputs(cfg, rng, n):
    lim = cfg.inventory_limit if math.isfinite(cfg.inventory_limit) else 6.0
    size = cfg.order_size
    q = size * rng.integers(-int(lim / size), int(lim / size) + 1, size=n).astype(float)
    return dict(
        step=rng.integers(0, cfg.n_steps, size=n),
        mid=rng.uniform(50.0, 150.0, size=n),
        cash=rng.normal(0.0, 100.0, size=n),
        inventory=q,
        bid=rng.uniform(cfg.min_depth - 2.0, cfg.max_depth + 2.0, size=n),
        ask=rng.uniform(cfg.min_depth - 2.0, cfg.max_depth + 2.0, size=n),
        z=rng.standard_normal(n),
        ub=rng.random(n),
        ua=rng.random(n),
    )


@pytest.mark.parametrize("kw", DYN_CONFIGS)
def test_scalar_float_path_equals_array_path(kw):
    """MarketDynamics.step on Python floats, on 1-element arrays and on one big batch.

    Every quantity that involves no exponential is bit-identical. The GBM mid (and the
    wealth marked at it) and the fill probability go through ``math.exp`` on the float path
    and ``np.exp`` on the array path; numpy's SIMD exp may differ from libm's by 1 ulp, so
    those are compared to 4 ulp (a fill decision could only differ if a uniform fell within
    1 ulp of p: probability ~1e-16 per draw).
    """
    cfg = MarketConfig.preset(kw["preset"], **{k: v for k, v in kw.items() if k != "preset"})
    dyn = MarketDynamics(cfg)
    rng = np.random.default_rng(42)
    n = 2000
    x = _random_inputs(cfg, rng, n)
    batch = dyn.step(
        make_state(step=x["step"], mid=x["mid"], cash=x["cash"], inventory=x["inventory"],
                    parts={}),
        x["bid"], x["ask"], x["z"], x["ub"], x["ua"],
    )
    assert batch.state.mid.shape == (n,)
    saw_fill = saw_unquoted = False
    for i in range(n):
        fs = make_state(step=int(x["step"][i]), mid=float(x["mid"][i]),
                         cash=float(x["cash"][i]), inventory=float(x["inventory"][i]), parts={})
        args = [float(x[k][i]) for k in ("bid", "ask", "z", "ub", "ua")]
        r = dyn.step(fs, *args)
        # the float path stays in plain Python types (no numpy scalars, no arrays)
        assert type(r.state.mid) is float and type(r.state.cash) is float
        assert type(r.bid_filled) is bool and type(r.terminated) is bool
        assert type(r.state.step) is int
        one = dyn.step(make_state(**{k: np.array([getattr(fs, k)])
                                   for k in ("step", "mid", "cash", "inventory")}),
                       *(np.array([a]) for a in args))
        for arr in (one, batch):
            j = 0 if arr is one else i
            exact = {
                "step": (r.state.step, arr.state.step[j]),
                "cash": (r.state.cash, arr.state.cash[j]),
                "inventory": (r.state.inventory, arr.state.inventory[j]),
                "prev_wealth": (r.prev_wealth, arr.prev_wealth[j]),
                "bid_filled": (r.bid_filled, arr.bid_filled[j]),
                "ask_filled": (r.ask_filled, arr.ask_filled[j]),
                "terminated": (r.terminated, arr.terminated[j]),
            }
            for name, (a, b) in exact.items():
                assert a == b, (name, a, b)
            for name, a, b in (("bid", r.bid, arr.bid[j]), ("ask", r.ask, arr.ask[j]),
                               ("bid_quoted", r.bid_quoted, arr.bid_quoted[j]),
                               ("ask_quoted", r.ask_quoted, arr.ask_quoted[j])):
                assert a == b, (name, a, b)
            mid_tol = 0.0 if cfg.mid_model == "abm" else 4 * EPS * abs(r.state.mid)
            assert abs(r.state.mid - arr.state.mid[j]) <= mid_tol
            w_tol = (4 * EPS * (abs(r.state.cash) + abs(r.state.inventory * r.state.mid))
                     + mid_tol * abs(r.state.inventory))
            assert abs(r.wealth - arr.wealth[j]) <= w_tol
        saw_fill |= r.bid_filled or r.ask_filled
        saw_unquoted |= not (r.bid_quoted and r.ask_quoted)
        d = min(max(args[0], cfg.min_depth), cfg.max_depth)
        assert dyn.fill_probability(d) == pytest.approx(
            float(dyn.fill_probability(np.array([d]))[0]), rel=4 * EPS, abs=1e-300)
    assert saw_fill
    if math.isfinite(cfg.inventory_limit):
        assert saw_unquoted


def test_time_remaining_and_initial_state():
    cfg = MarketConfig.preset("course")
    dyn = MarketDynamics(cfg)
    assert dyn.time_remaining(cfg.n_steps) == 0.0
    assert dyn.time_remaining(0) == pytest.approx(cfg.T, rel=1e-15)
    np.testing.assert_allclose(dyn.time_remaining(np.arange(cfg.n_steps + 1)),
                               cfg.T - np.arange(cfg.n_steps + 1) * cfg.dt, atol=1e-12)
    s = dyn.initial_state()
    assert s == make_state(step=0, mid=cfg.S0, cash=0.0, inventory=0.0)
    sa = dyn.initial_state((3,))
    for field, value in zip(sa[:5], s[:5], strict=True):
        assert field.shape == (3,) and np.all(field == value)
