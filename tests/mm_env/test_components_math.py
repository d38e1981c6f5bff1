"""The optional market components (mm_env.components) against their mathematics.

Each process is checked against its moments or its known law with fixed seeds and a
tolerance of 4 standard errors (SE), as in ``test_dynamics_math.py``; where a plausible wrong
formula exists (Euler instead of the exact OU step, an uncompensated jump, the untilted flow)
the test also rejects it at the same tolerance, so each check has power.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from mm_env import MarketConfig, MarketDynamics, MarketMakingEnv, MarketMakingVectorEnv
from mm_env.state import make_state
from tests.mm_env.conftest import EVERYTHING

Z_TOL = 4.0
EPS = np.finfo(np.float64).eps


def run_vector(num_envs, actions, seed, **config):
    """One episode of the vector env (autoreset disabled). Returns config, stacked infos
    (n_steps + 1 rows, the first the reset info), stacked observations, rewards."""
    env = MarketMakingVectorEnv(num_envs, autoreset_mode="Disabled", **config)
    obs, info = env.reset(seed=seed)
    infos, observations, rewards = [info], [obs], []
    width = env.single_action_space.shape[0]
    for i in range(env.config.n_steps):
        a = actions(i) if callable(actions) else actions
        a = np.broadcast_to(np.asarray(a, dtype=np.float64), (num_envs, width))
        obs, reward, _, _, info = env.step(a)
        infos.append(info)
        observations.append(obs)
        rewards.append(reward)
    stacked = {k: np.stack([inf[k] for inf in infos]) for k in infos[0] if not k.startswith("_")}
    return env.config, stacked, np.stack(observations), np.stack(rewards)


def mean_se(x):
    x = np.asarray(x, dtype=np.float64).ravel()
    return x.mean(), x.std(ddof=1) / math.sqrt(x.size)


def var_se(x):
    x = np.asarray(x, dtype=np.float64).ravel()
    m = x.mean()
    return x.var(ddof=1), float(np.std((x - m) ** 2, ddof=1)) / math.sqrt(x.size)


FAR = 10.0  # a depth that (almost) never fills: the mid moves on its own


# ------------------------------------------------------- base composition == equations
BASE_CONFIGS = [
    {"preset": "default", "sigma": 0.3, "inventory_limit": 5.0},
    {"preset": "as2008", "inventory_limit": 4.0, "order_size": 2.0},
    {"preset": "as2008", "fill_model": "poisson", "mu": -1.0},
    {"preset": "course"},
    {"preset": "penalty"},
]


def _cfg(kw):
    return MarketConfig.preset(kw.get("preset", "default"),
                               **{k: v for k, v in kw.items() if k != "preset"})


def _reference_step(cfg, step, mid, cash, q, bid, ask, z, ub, ua):
    """The base model's step written inline from its equations (README, DESIGN.md)."""
    dt = cfg.dt
    bid = np.minimum(np.maximum(bid, cfg.min_depth), cfg.max_depth)
    ask = np.minimum(np.maximum(ask, cfg.min_depth), cfg.max_depth)
    lam_b = cfg.A * np.exp(-cfg.k * bid) * dt
    lam_a = cfg.A * np.exp(-cfg.k * ask) * dt
    if cfg.fill_model == "poisson":
        p_b, p_a = -np.expm1(-lam_b), -np.expm1(-lam_a)
    else:
        p_b, p_a = np.minimum(lam_b, 1.0), np.minimum(lam_a, 1.0)
    size = cfg.order_size
    bf = (q + size <= cfg.inventory_limit) & (ub < p_b)
    af = (q - size >= -cfg.inventory_limit) & (ua < p_a)
    cash = cash - size * bf * (mid - bid) + size * af * (mid + ask)
    q = q + size * bf - size * af
    if cfg.mid_model == "gbm":
        new_mid = mid * np.exp((cfg.mu - 0.5 * cfg.sigma**2) * dt + cfg.sigma * np.sqrt(dt) * z)
    else:
        new_mid = mid + (cfg.mu * dt + cfg.sigma * np.sqrt(dt) * z)
    return step + 1, new_mid, cash, q, bf, af


@pytest.mark.parametrize("kw", BASE_CONFIGS)
def test_base_composition_is_the_model_written_inline(kw):
    """With no optional component, the composed step computes the base model's equations:
    fills and inventories exactly, prices and cash to a few ulp; floats and arrays alike."""
    cfg = _cfg(kw)
    assert cfg.features == ()
    dyn = MarketDynamics(cfg)
    assert [c.kind for c in dyn.components] == ["size", "mid", "flow", "fill_shape",
                                                "fill_model"]
    rng = np.random.default_rng(0)
    n = 500
    lim = 6.0 if math.isinf(cfg.inventory_limit) else cfg.inventory_limit
    steps = rng.integers(0, cfg.n_steps, n)
    mid, cash = rng.uniform(50, 150, n), rng.normal(0, 100, n)
    q = cfg.order_size * rng.integers(-int(lim / cfg.order_size),
                                      int(lim / cfg.order_size) + 1, n).astype(float)
    state = make_state(step=steps, mid=mid, cash=cash, inventory=q, parts={})
    args = (rng.uniform(cfg.min_depth - 2, cfg.max_depth + 2, n),
            rng.uniform(cfg.min_depth - 2, cfg.max_depth + 2, n),
            rng.standard_normal(n), rng.random(n), rng.random(n))
    got = dyn.step(state, *args)
    step, new_mid, new_cash, new_q, bf, af = _reference_step(cfg, steps, mid, cash, q, *args)
    np.testing.assert_array_equal(got.bid_filled, bf)
    np.testing.assert_array_equal(got.ask_filled, af)
    np.testing.assert_array_equal(got.state.inventory, new_q)
    np.testing.assert_array_equal(got.state.step, step)
    np.testing.assert_allclose(got.state.mid, new_mid, rtol=4 * EPS)
    np.testing.assert_allclose(got.state.cash, new_cash, rtol=1e-12, atol=1e-9)
    np.testing.assert_array_equal(got.terminated, step >= cfg.n_steps)
    np.testing.assert_array_equal(got.wealth, got.state.cash + got.state.inventory
                                  * got.state.mid)
    for i in range(50):  # the float path gives the array path's numbers
        s = make_state(step=int(steps[i]), mid=float(mid[i]), cash=float(cash[i]),
                        inventory=float(q[i]), parts={})
        r = dyn.step(s, *(float(v[i]) for v in args))
        assert (r.bid_filled, r.ask_filled) == (got.bid_filled[i], got.ask_filled[i])
        assert r.state.inventory == got.state.inventory[i]
        assert r.state.mid == pytest.approx(got.state.mid[i], rel=4 * EPS)


# ------------------------------------------------------ scalar vs array, every component
@pytest.mark.parametrize("overrides", [{}, {"mid_model": "gbm", "sigma": 0.02,
                                             "adverse_jump": 0.003, "jump_std": 0.005,
                                             "jump_mean": 0.0, "ou_rate": 3.0}])
def test_float_path_equals_array_path_with_every_component(overrides):
    """The composed step on Python floats and on arrays: exact where no exp/log/power
    is involved, 8 ulp where libm and numpy may differ in the last bit."""
    cfg = _cfg({"preset": "as2008", **EVERYTHING, "inventory_limit": 6.0, "ou_rate": 0.0,
                **overrides})
    dyn = MarketDynamics(cfg)
    rng = np.random.default_rng(7)
    n = 1500
    gen = np.random.default_rng(8)
    state = dyn.initial_state((n,), gen)
    parts = {
        **state.parts,
        "signal": rng.normal(0, 4, n),
        "buy_excitation": rng.uniform(0, 300, n),
        "sell_excitation": rng.uniform(0, 300, n),
        "buy_rate": rng.uniform(1, 300, n),
        "sell_rate": rng.uniform(1, 300, n),
        "variance": rng.uniform(0, 10, n),
    }
    steps = rng.integers(0, cfg.n_steps + 1, n) % cfg.n_steps
    inventory = rng.integers(-6, 7, n).astype(float)
    cash = rng.normal(0, 50, n)
    steps = np.where(rng.random(n) < 0.1, cfg.n_steps - 1, steps)
    state = make_state(step=steps, mid=state.mid, cash=cash, inventory=inventory, parts=parts)
    noise = dyn.draw_noise(rng, (n,))
    bid = rng.uniform(-1, 3, n)
    ask = rng.uniform(-1, 3, n)
    size = rng.uniform(0, 3, n)
    z, ub, ua = rng.standard_normal(n), rng.random(n), rng.random(n)
    batch = dyn.step(state, bid, ask, z, ub, ua, noise, size)
    seen = {"fill": False, "adverse": False, "jump": False, "liq": False}
    for i in range(n):
        s = make_state(
            step=state.step[i].item(), mid=state.mid[i].item(), cash=state.cash[i].item(),
            inventory=state.inventory[i].item(),
            parts={k: v[i].item() for k, v in state.parts.items()},
        )
        nz = {k: v[i].item() for k, v in noise.items()}
        r = dyn.step(s, bid[i].item(), ask[i].item(), z[i].item(), ub[i].item(), ua[i].item(),
                     nz, size[i].item())
        assert type(r.state.mid) is float and type(r.bid_filled) is bool
        for name in ("bid_filled", "ask_filled", "terminated", "bid", "ask"):
            a, b = getattr(r, name), getattr(batch, name)[i]
            assert (a == b) or (math.isnan(a) and math.isnan(b)), (name, a, b)
        for name in ("arrivals_buy", "arrivals_sell", "size", "fees"):
            assert r.extras[name] == batch.extras[name][i], name
        assert r.state.inventory == batch.state.inventory[i]
        for name, a, b in (("mid", r.state.mid, batch.state.mid[i]),
                           ("cash", r.state.cash, batch.state.cash[i]),
                           ("wealth", r.wealth, batch.wealth[i]),
                           *((name, r.state.parts[name], batch.state.parts[name][i])
                             for name in ("signal", "variance", "buy_excitation"))):
            scale = abs(a) + abs(r.state.inventory * r.state.mid) + 1.0
            assert abs(a - b) <= 8 * EPS * scale, (name, a, b)
        seen["fill"] |= r.bid_filled or r.ask_filled
        seen["adverse"] |= r.bid_filled and nz["adverse_bid"] < cfg.adverse_prob
        seen["jump"] |= nz["jump_count"] > 0
        seen["liq"] |= r.extras["liquidation_cost"] > 0
    assert all(seen.values()), seen


# ------------------------------------------------------------------ Ornstein-Uhlenbeck
@pytest.mark.parametrize("mid_model", ["abm", "gbm"])
def test_ou_exact_transition(mid_model):
    """S' | S is normal with the exact OU mean and variance (dt large: kappa dt = 1.25),
    for S (abm) or ln S (gbm); the Euler step is rejected."""
    kappa, n_steps = 5.0, 4
    if mid_model == "abm":
        kw = {"sigma": 3.0, "ou_mean": 110.0}
        level = 110.0
    else:
        kw = {"sigma": 0.3, "ou_mean": 120.0}
        level = math.log(120.0)
    cfg, info, _, _ = run_vector(
        20_000, [FAR, FAR], seed=11, mid_model=mid_model, ou_rate=kappa, n_steps=n_steps, T=1.0,
        **kw,
    )
    x = info["mid"] if mid_model == "abm" else np.log(info["mid"])
    dt = cfg.dt
    decay = math.exp(-kappa * dt)
    v_exact = cfg.sigma**2 * (1 - math.exp(-2 * kappa * dt)) / (2 * kappa)
    resid = x[1:] - (level + (x[:-1] - level) * decay)
    m, se_m = mean_se(resid)
    v, se_v = var_se(resid)
    assert abs(m) < Z_TOL * se_m
    assert abs(v - v_exact) < Z_TOL * se_v, (v, v_exact)
    assert abs(v - cfg.sigma**2 * dt) > Z_TOL * se_v  # Euler's variance is rejected
    euler = x[1:] - (x[:-1] + kappa * (level - x[:-1]) * dt)
    assert abs(euler.mean()) > Z_TOL * se_m  # Euler's mean too
    # and the law at T from x0: mean xbar + (x0 - xbar) e^(-kappa T), var v(T)
    t = cfg.T
    x0 = x[0, 0]
    mT, se_mT = mean_se(x[-1])
    vT, se_vT = var_se(x[-1])
    assert abs(mT - (level + (x0 - level) * math.exp(-kappa * t))) < Z_TOL * se_mT
    assert abs(vT - cfg.sigma**2 * (1 - math.exp(-2 * kappa * t)) / (2 * kappa)) < Z_TOL * se_vT


def test_ou_defaults_to_reverting_to_s0():
    cfg = MarketConfig(mid_model="abm", sigma=0.0, ou_rate=2.0, S0=100.0)
    assert cfg.ou_level == 100.0
    dyn = MarketDynamics(cfg)
    s = make_state(step=0, mid=104.0, cash=0.0, inventory=0.0)
    r = dyn.step(s, FAR, FAR, 0.0, 0.99, 0.99)
    assert r.state.mid == pytest.approx(100.0 + 4.0 * math.exp(-2.0 * cfg.dt), rel=1e-15)


# ------------------------------------------------------------------------------ jumps
@pytest.mark.parametrize(("jump_mean", "jump_std"), [(0.5, 1.0), (-0.3, 0.0)])
def test_jump_frequency_and_moments_abm(jump_mean, jump_std):
    """sigma = 0: the mid moves only by jumps. P(move) = 1 - e^(-lambda dt); increments have
    mean 0 (compensated) and variance lambda dt (m^2 + s^2)."""
    lam = 20.0
    cfg, info, _, _ = run_vector(
        20_000, [FAR, FAR], seed=12, mid_model="abm", sigma=0.0, jump_rate=lam,
        jump_mean=jump_mean, jump_std=jump_std, n_steps=10, T=0.05,
    )
    dt = cfg.dt
    dx = np.diff(info["mid"], axis=0).ravel()
    comp = -lam * jump_mean * dt
    moved = np.abs(dx - comp) > 1e-9
    p = 1 - math.exp(-lam * dt)
    freq = moved.mean()
    assert abs(freq - p) < Z_TOL * math.sqrt(p * (1 - p) / dx.size), (freq, p)
    m, se_m = mean_se(dx)
    assert abs(m) < Z_TOL * se_m
    if jump_mean != 0:  # without the compensator the mean would be lambda m dt
        assert abs(m - lam * jump_mean * dt) > Z_TOL * se_m
    v, se_v = var_se(dx)
    assert abs(v - lam * dt * (jump_mean**2 + jump_std**2)) < Z_TOL * se_v


def test_jump_diffusion_gbm_keeps_the_expected_return():
    """Under gbm the jumps are compensated so that E[S'/S] = e^(mu dt) still; the log
    increments have the Merton mean and variance."""
    mu, sigma, lam, m, s = 0.5, 0.2, 30.0, -0.02, 0.05
    cfg, info, _, _ = run_vector(
        20_000, [FAR, FAR], seed=13, mu=mu, sigma=sigma, jump_rate=lam, jump_mean=m,
        jump_std=s, n_steps=10, T=0.1,
    )
    dt = cfg.dt
    ratio = (info["mid"][1:] / info["mid"][:-1]).ravel()
    g, se_g = mean_se(ratio)
    assert abs(g - math.exp(mu * dt)) < Z_TOL * se_g
    r = np.log(ratio)
    comp = lam * math.expm1(m + 0.5 * s * s)
    mr, se_r = mean_se(r)
    assert abs(mr - ((mu - 0.5 * sigma**2 - comp) * dt + lam * dt * m)) < Z_TOL * se_r
    vr, se_vr = var_se(r)
    assert abs(vr - (sigma**2 * dt + lam * dt * (m * m + s * s))) < Z_TOL * se_vr


# -------------------------------------------------------------- adverse selection
def test_fill_triggered_adverse_jumps():
    """sigma = 0: after a bid fill the mid falls by eta with probability p, after an ask fill
    it rises by eta with probability p; without a fill it never moves."""
    p, eta = 0.3, 0.7
    cfg, info, _, _ = run_vector(
        20_000, [0.3, 0.3], seed=14, preset="as2008", sigma=0.0, adverse_prob=p,
        adverse_jump=eta, n_steps=5, T=0.025,
    )
    dx = np.diff(info["mid"], axis=0)
    bf, af = info["bid_filled"][1:], info["ask_filled"][1:]
    assert np.all(dx[~bf & ~af] == 0.0)
    np.testing.assert_allclose(np.abs(dx[bf ^ af]) * ((dx[bf ^ af]) != 0),
                               eta * (dx[bf ^ af] != 0), rtol=1e-12)
    only_bid = bf & ~af
    down = dx[only_bid] < 0
    assert not np.any(dx[only_bid] > 0)
    assert abs(down.mean() - p) < Z_TOL * math.sqrt(p * (1 - p) / down.size)
    only_ask = af & ~bf
    up = dx[only_ask] > 0
    assert not np.any(dx[only_ask] < 0)
    assert abs(up.mean() - p) < Z_TOL * math.sqrt(p * (1 - p) / up.size)
    # the fill probabilities themselves are not touched
    pf = 1 - math.exp(-cfg.A * math.exp(-cfg.k * 0.3) * cfg.dt) if cfg.fill_model == "poisson" \
        else min(1.0, cfg.A * math.exp(-cfg.k * 0.3) * cfg.dt)
    assert abs(bf.mean() - pf) < Z_TOL * math.sqrt(pf * (1 - pf) / bf.size)


def test_adverse_selection_costs_p_eta_per_fill():
    """Mark-to-market: a bid filled at S - d is worth d - p eta on average right after."""
    p, eta, d = 0.5, 1.5, 0.5
    _, info, _, rewards = run_vector(
        20_000, [d, d], seed=15, preset="adverse", sigma=0.0, n_steps=1, T=0.005,
    )
    assert (p, eta) == (MarketConfig.preset("adverse").adverse_prob,
                        MarketConfig.preset("adverse").adverse_jump)
    fills = info["bid_filled"][1] ^ info["ask_filled"][1]
    gain = rewards[0][fills]  # one fill: d, minus eta if the adverse jump followed
    m, se = mean_se(gain)
    assert abs(m - (d - p * eta)) < Z_TOL * se


# ------------------------------------------------------------------------ alpha signal
def test_signal_is_a_stationary_ou_that_drives_the_mid():
    s_a, kappa, sigma = 5.0, 10.0, 1.0
    cfg, info, obs, _ = run_vector(
        20_000, [FAR, FAR], seed=16, preset="as2008", sigma=sigma, signal_std=s_a,
        signal_decay=kappa, n_steps=10, T=0.5, obs_extras=("signal",),
    )
    a = info["signal"]
    dt = cfg.dt
    # stationary from the start: N(0, s_a^2) at every step
    for row in (a[0], a[-1]):
        v, se_v = var_se(row)
        assert abs(v - s_a**2) < Z_TOL * se_v
        m, se_m = mean_se(row)
        assert abs(m) < Z_TOL * se_m
    # exact AR(1) coefficient e^(-kappa dt): regression of a' on a
    x, y = a[:-1].ravel(), a[1:].ravel()
    beta = (x * y).sum() / (x * x).sum()
    resid = y - beta * x
    se_beta = math.sqrt(resid.var() / (x * x).sum())
    assert abs(beta - math.exp(-kappa * dt)) < Z_TOL * se_beta
    assert abs(beta - (1 - kappa * dt)) > Z_TOL * se_beta  # the Euler coefficient is rejected
    # the mid drifts by a dt: dS - a dt is N(0, sigma^2 dt), independent of a
    e = (np.diff(info["mid"], axis=0) - a[:-1] * dt).ravel()
    m, se_m = mean_se(e)
    assert abs(m) < Z_TOL * se_m
    v, se_v = var_se(e)
    assert abs(v - sigma**2 * dt) < Z_TOL * se_v
    slope = (e * x).sum() / (x * x).sum()
    assert abs(slope) < Z_TOL * math.sqrt(e.var() / (x * x).sum())
    # observed exactly (signal_obs_noise = 0)
    np.testing.assert_array_equal(obs[:, :, 3], a.astype(np.float32))


def test_signal_observation_noise():
    _, info, obs, _ = run_vector(
        5000, [FAR, FAR], seed=17, preset="alpha", signal_obs_noise=3.0, n_steps=20, T=0.1,
    )
    err = obs[:, :, 3].astype(np.float64) - info["signal"]
    v, se_v = var_se(err)
    assert abs(v - 9.0) < Z_TOL * se_v + 1e-4  # float32 rounding of the observation
    m, se_m = mean_se(err)
    assert abs(m) < Z_TOL * se_m


def test_signal_tilts_the_order_flow():
    """P(ask fill | a) = 1 - exp(-A e^(beta a) e^(-k d) dt), P(bid fill | a) with e^(-beta a):
    the flow goes to the side about to lose. The untilted probability is rejected."""
    beta, d = 0.1, 0.5
    cfg, info, _, _ = run_vector(
        20_000, [d, d], seed=18, preset="as2008", fill_model="poisson", signal_std=8.0,
        signal_flow=beta, n_steps=10, T=0.05,
    )
    a = info["signal"][:-1]
    h = math.exp(-cfg.k * d) * cfg.A * cfg.dt
    for side, sign in (("ask", 1.0), ("bid", -1.0)):
        fills = info[f"{side}_filled"][1:].astype(float)
        for group in (a > 4.0, a < -4.0):
            p = -np.expm1(-h * np.exp(sign * beta * a[group]))
            f = fills[group]
            se = math.sqrt((p * (1 - p)).sum()) / f.size
            assert abs(f.mean() - p.mean()) < Z_TOL * se, (side, f.mean(), p.mean())
            p0 = 1 - math.exp(-h)
            assert abs(f.mean() - p0) > Z_TOL * se  # without the tilt: rejected
    # positive signal: more ask fills (the MM sells before the rise)
    up = a > 0
    assert info["ask_filled"][1:][up].mean() > info["bid_filled"][1:][up].mean()


# ------------------------------------------------------------------- Hawkes and flow
@pytest.mark.parametrize(("n", "rho"), [(0.0, 0.0), (0.6, 0.0), (0.5, 0.3)])
def test_hawkes_mean_intensity(n, rho):
    """Stationary mean arrival rate A (1 +- rho) / (1 - n) per side, from the first step on."""
    num_envs = 4000
    kw = {"preset": "microstructure", "jump_rate": 0.0, "hawkes_branching": n, "flow_skew": rho,
          "hawkes_decay": 40.0, "n_steps": 100, "T": 0.5}
    if n == 0:
        kw["obs_extras"] = ("flow_imbalance",)  # counts without excitation
    cfg, info, _, _ = run_vector(num_envs, [FAR, FAR], seed=19, **kw)
    dt = cfg.dt
    for side, sign in (("buy", 1.0), ("sell", -1.0)):
        counts = info[f"arrivals_{side}"][1:]  # (steps, envs)
        per_env = counts.mean(axis=0) / dt  # independent across envs
        m, se = mean_se(per_env)
        expected = cfg.A * (1 + sign * rho) / (1 - n)
        assert abs(m - expected) < Z_TOL * se, (side, m, expected, se)
        if n > 0:
            assert abs(m - cfg.A * (1 + sign * rho)) > Z_TOL * se  # the Poisson rate: rejected
            # self-excitation: clustered arrivals. Over a window much longer than 1/kappa the
            # count's variance/mean tends to 1/(1-n)^2 (4 and 6.25 here; 1 for Poisson)
            totals = counts.sum(axis=0)
            assert totals.var() / totals.mean() > 2.0
            c = counts.ravel()
            x, y = counts[:-1].ravel() - c.mean(), counts[1:].ravel() - c.mean()
            assert (x * y).mean() / c.var() > 0.05
        else:  # Poisson: mean = variance = A dt
            v, se_v = var_se(counts)
            assert abs(v - cfg.A * dt) < Z_TOL * se_v
        # the first step already has the stationary mean (started at the stationary state)
        first, se_first = mean_se(counts[0])
        assert abs(first - expected * dt) < Z_TOL * se_first


@pytest.mark.parametrize(("shape", "d"), [("exponential", 0.5), ("exponential", 0.0),
                                          ("power", 0.5), ("power", 2.0)])
def test_counted_arrivals_give_the_poisson_fill_law(shape, d):
    """With counted arrivals a quote fills iff one of N ~ Poisson(A dt) orders reaches it:
    P = 1 - (1 - h)^N, whose mean is the poisson model's 1 - exp(-A h dt)."""
    cfg, info, _, _ = run_vector(
        20_000, [d, d], seed=20, preset="as2008", fill_model="poisson", fill_shape=shape,
        min_depth=0.0, obs_extras=("flow_imbalance",), n_steps=5, T=0.025,
    )
    h = math.exp(-cfg.k * d) if shape == "exponential" else (1 + cfg.k * d / 3.0) ** -3.0
    p = 1 - math.exp(-cfg.A * h * cfg.dt)
    fills = np.concatenate([info["bid_filled"][1:].ravel(), info["ask_filled"][1:].ravel()])
    assert abs(fills.mean() - p) < Z_TOL * math.sqrt(p * (1 - p) / fills.size)
    # and never without an arrival on that side
    assert not np.any(info["bid_filled"][1:] & (info["arrivals_sell"][1:] == 0))
    assert not np.any(info["ask_filled"][1:] & (info["arrivals_buy"][1:] == 0))


@pytest.mark.parametrize("fill_model", ["poisson", "bernoulli"])
def test_power_law_fill_probability(fill_model):
    m, d = 2.0, 1.0
    cfg, info, _, _ = run_vector(
        20_000, [d, d], seed=21, preset="as2008", fill_model=fill_model, fill_shape="power",
        power_tail=m, min_depth=0.0, n_steps=5, T=0.025,
    )
    rate_dt = cfg.A * (1 + cfg.k * d / m) ** -m * cfg.dt
    p = 1 - math.exp(-rate_dt) if fill_model == "poisson" else min(1.0, rate_dt)
    wrong = 1 - math.exp(-cfg.A * math.exp(-cfg.k * d) * cfg.dt)
    fills = np.concatenate([info["bid_filled"][1:].ravel(), info["ask_filled"][1:].ravel()])
    se = math.sqrt(p * (1 - p) / fills.size)
    assert abs(fills.mean() - p) < Z_TOL * se
    assert abs(fills.mean() - wrong) > Z_TOL * se  # heavier tail than the exponential
    assert MarketDynamics(cfg).fill_probability(d) == pytest.approx(p, rel=1e-12)


def test_flow_skew_fill_rates():
    rho, d = 0.4, 0.5
    cfg, info, _, _ = run_vector(20_000, [d, d], seed=22, preset="default", flow_skew=rho,
                                 n_steps=5, T=0.025)
    h = cfg.A * math.exp(-cfg.k * d) * cfg.dt
    for side, sign in (("ask", 1.0), ("bid", -1.0)):
        p = 1 - math.exp(-h * (1 + sign * rho))
        f = info[f"{side}_filled"][1:]
        assert abs(f.mean() - p) < Z_TOL * math.sqrt(p * (1 - p) / f.size)


def test_realized_vol_and_flow_imbalance_features():
    """E[r^2 / dt] = sigma^2 for an arithmetic mid without drift, so the average realised
    variance stays at sigma^2 (it starts there); the imbalance lies in [-1, 1] and is
    centred on rho under a flow skew."""
    sigma, rho = 2.0, 0.3
    cfg, info, obs, _ = run_vector(
        5000, [FAR, FAR], seed=23, preset="as2008", sigma=sigma, fill_model="poisson",
        flow_skew=rho, obs_extras=("realized_vol", "flow_imbalance"), n_steps=50, T=0.25,
    )
    rv, imb = obs[:, :, 3].astype(np.float64), obs[:, :, 4].astype(np.float64)
    assert np.all(rv[0] == np.float32(sigma)) and np.all(imb[0] == np.float32(rho))
    m, se = mean_se(rv[-1] ** 2)
    assert abs(m - sigma**2) < Z_TOL * se
    assert np.all(np.abs(imb) <= 1.0)
    m, se = mean_se(imb[-1])
    assert abs(m - rho) < Z_TOL * se
    # the imbalance is the exponential average of the counted order flow
    w = 0.5 ** (cfg.dt / cfg.obs_halflife)
    b = cfg.A * (1 + rho)
    s = cfg.A * (1 - rho)
    for i in range(1, 4):
        b = w * b + (1 - w) / cfg.dt * info["arrivals_buy"][i]
        s = w * s + (1 - w) / cfg.dt * info["arrivals_sell"][i]
    np.testing.assert_allclose(imb[3], (b - s) / (b + s), rtol=1e-6, atol=1e-6)


# ------------------------------------------------------------ common random numbers
def test_exogenous_noise_does_not_depend_on_actions():
    """Two policies, same seed: the same signal path, arrivals, jumps and (without
    fill-triggered jumps) the same mid path, in both envs; fills differ."""
    kw = {"preset": "microstructure", "signal_std": 5.0, "signal_flow": 0.05,
          "signal_obs_noise": 1.0, "obs_extras": ("signal", "flow_imbalance", "realized_vol"),
          "n_steps": 30}
    _, a, obs_a, _ = run_vector(8, [0.2, 0.2], seed=24, **kw)
    _, b, obs_b, _ = run_vector(8, lambda i: [[3.0, 0.1]] * 8 if i % 2 else [[0.0, 2.0]] * 8,
                                seed=24, **kw)
    for key in ("mid", "signal", "arrivals_buy", "arrivals_sell"):
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)
    np.testing.assert_array_equal(obs_a[:, :, 3:], obs_b[:, :, 3:])
    assert not np.array_equal(a["bid_filled"], b["bid_filled"])

    def scalar(policy):
        env = MarketMakingEnv(**kw)
        env.reset(seed=5)
        out = []
        for i in range(30):
            _, _, _, _, info = env.step(policy(i))
            out.append((info["mid"], info["signal"], info["arrivals_buy"]))
        return out

    assert scalar(lambda i: [0.2, 0.2]) == scalar(lambda i: [3.0 * (i % 2), 1.0])


# ------------------------------------------------------------------------ presets
@pytest.mark.parametrize("preset", ["adverse", "alpha"])
def test_as_is_clearly_suboptimal_on_the_new_presets(preset):
    """A simple model-aware heuristic beats Avellaneda-Stoikov at its best gamma (picked on
    the same episodes) by more than 3 paired standard errors, on mean PnL and on Sharpe
    (``benchmarks/heuristics_vs_as.py`` is the full version)."""
    from agents import AvellanedaStoikovAgent
    from train.evaluation.compare import compare

    cfg = MarketConfig.preset(preset)
    gamma = 0.2
    base = AvellanedaStoikovAgent(cfg, gamma)
    if preset == "adverse":
        shift = 0.5 * cfg.adverse_prob * cfg.adverse_jump

        def heuristic(obs):
            return base.act(obs) + shift
    else:
        h = 0.5 / cfg.signal_decay

        def heuristic(obs):
            a = base.act(obs).copy()
            a[:, 0] -= obs[:, 3] * h
            a[:, 1] += obs[:, 3] * h
            return a

    policies = {"heuristic": heuristic}
    policies.update({f"AS {g}": AvellanedaStoikovAgent(cfg, g) for g in (0.05, 0.1, 0.2, 0.5,
                                                                         1.0)})
    est = compare(policies, cfg, n_episodes=2000, seed=3, reference="heuristic").estimates()
    for metric in ("mean_pnl", "sharpe"):
        best = max((k for k in policies if k != "heuristic"), key=lambda k: est[k][metric].value)
        e = est[best][metric]
        assert -e.diff > 3 * e.diff_se, (metric, best, e)
        assert -e.diff > 0.1 * abs(e.value)  # and by more than 10%
