"""Figures of the model itself: mid-price paths, Avellaneda-Stoikov quotes and spread, arrival
rate and fill probability, the optimal quotes, and one simulated session.

Each function draws one figure of the course notebook from a :class:`mm_env.MarketConfig`
(and a policy for :func:`session`), returns the :class:`matplotlib.figure.Figure` and, given
``path``, also writes it as a PNG (atomically, see :mod:`train.plots.utils`). One-panel
figures take an optional ``ax`` to draw into; multi-panel ones an optional ``fig`` (a
figure or sub-figure) to fill. Volatilities in the AS formulas are in price units:
``config.price_sigma`` (``sigma * S0`` under GBM), as the agents use them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from gymnasium.spaces import Box
from matplotlib.axes import Axes
from matplotlib.figure import Figure, FigureBase

from agents.avellaneda_stoikov import (
    DEFAULT_GAMMA,
    as_depths,
    as_quotes,
    as_reservation_price,
    as_spread,
)
from agents.optimal import CARAOptimalAgent, OptimalAgent
from mm_env import MarketConfig, MarketMakingEnv, MarketMakingVectorEnv
from train.evaluation.compare import DEFAULT_GAMMAS
from train.evaluation.policy_adapter import as_policy
from train.plots.utils import (
    ASK,
    BID,
    INVENTORY,
    MID,
    PNL,
    RESERVATION,
    SPREAD,
    finish,
    grid_axes,
    single_axes,
)

PathLike = str | Path


# ------------------------------------------------------------------ mid-price
def mid_price_paths(
    config: MarketConfig,
    n_paths: int = 20,
    rng: np.random.Generator | None = None,
    *,
    ax: Axes | None = None,
    path: PathLike | None = None,
) -> Figure:
    """``n_paths`` simulated mid-price paths over one episode with the model's 95% band.

    The paths come from the vector env quoting at the widest depths, seeded from ``rng`` (a
    fresh generator if None). In a market with market components (``config.features``) the
    band is left out; for the base model it is exact:
    ``S0 exp((mu - sigma^2/2) t +- 1.96 sigma sqrt(t))`` under GBM,
    ``S0 + mu t +- 1.96 sigma sqrt(t)`` under arithmetic Brownian motion.
    """
    if isinstance(n_paths, bool) or not isinstance(n_paths, int) or n_paths < 1:
        raise ValueError(f"n_paths must be an integer >= 1, got {n_paths!r}")
    if rng is None:
        rng = np.random.default_rng()
    paths = np.empty((config.n_steps + 1, n_paths))
    env = MarketMakingVectorEnv(n_paths, config, autoreset_mode="Disabled")
    _, info = env.reset(seed=int(rng.integers(2**63)))
    paths[0] = info["mid"]
    space = env.single_action_space
    assert isinstance(space, Box)
    far = np.tile(space.high, (n_paths, 1))  # widest quotes (and the largest size)
    for i in range(config.n_steps):
        _, _, _, _, info = env.step(far)
        paths[i + 1] = info["mid"]
    t = np.arange(config.n_steps + 1) * config.dt

    fig, ax = single_axes(ax)
    ax.plot(t, paths, color=MID, lw=0.7, alpha=0.35)
    if config.features:  # the band below is the base model's
        ax.set_xlabel("time t [sessions]")
        ax.set_ylabel("mid-price S")
        ax.set_title(f"{n_paths} mid-price paths ({', '.join(config.features)})")
        ax.grid(alpha=0.3)
        return finish(fig, path)
    half = 1.96 * config.sigma * np.sqrt(t)
    if config.mid_model == "gbm":
        centre = (config.mu - 0.5 * config.sigma**2) * t
        lo, hi = config.S0 * np.exp(centre - half), config.S0 * np.exp(centre + half)
        mean = config.S0 * np.exp(config.mu * t)
    else:
        lo, hi = config.S0 + config.mu * t - half, config.S0 + config.mu * t + half
        mean = config.S0 + config.mu * t
    ax.plot(t, mean, color="tab:blue", lw=1.5, label="expected mid")
    ax.plot(t, lo, color="tab:blue", lw=1.2, ls="--", label="95% band")
    ax.plot(t, hi, color="tab:blue", lw=1.2, ls="--")
    ax.set_xlabel("time t [sessions]")
    ax.set_ylabel("mid-price S")
    ax.set_title(f"{n_paths} mid-price paths ({config.mid_model}, sigma={config.sigma:g})")
    ax.legend(loc="upper left")
    ax.grid(alpha=0.3)
    return finish(fig, path)


# ------------------------------------------------------------------ AS quotes
def as_quotes_vs_inventory(
    config: MarketConfig,
    gamma: float = DEFAULT_GAMMA,
    inventories: Sequence[float] | None = None,
    time_to_go: float | None = None,
    *,
    ax: Axes | None = None,
    path: PathLike | None = None,
) -> Figure:
    """Avellaneda-Stoikov bid, ask and reservation price against inventory at mid ``S0``.

    ``inventories`` default to ``-10..10`` order sizes (within the inventory limit);
    ``time_to_go`` defaults to the whole horizon ``T``.
    """
    q = _inventory_axis(config, inventories)
    tau = config.T if time_to_go is None else float(time_to_go)
    sigma = config.price_sigma
    bid, ask = as_quotes(config.S0, q, tau, gamma, sigma, config.k)
    r = as_reservation_price(config.S0, q, tau, gamma, sigma)
    fig, ax = single_axes(ax)
    ax.plot(q, ask, "v-", color=ASK, ms=4, label="ask")
    ax.plot(q, r, ".-", color=RESERVATION, label="reservation price r")
    ax.plot(q, bid, "^-", color=BID, ms=4, label="bid")
    ax.axhline(config.S0, color=MID, lw=1.0, ls=":", label=f"mid S0 = {config.S0:g}")
    ax.axvline(0.0, color="0.7", lw=0.8)
    ax.set_xlabel("inventory q [shares]")
    ax.set_ylabel("price")
    ax.set_title(f"AS quotes vs inventory (gamma={gamma:g}, T-t={tau:g}, "
                 f"sigma={sigma:g} price units)")
    ax.legend()
    ax.grid(alpha=0.3)
    return finish(fig, path)


def spread_vs_time(
    config: MarketConfig,
    gammas: Sequence[float] = DEFAULT_GAMMAS,
    *,
    ax: Axes | None = None,
    path: PathLike | None = None,
) -> Figure:
    """The AS total spread ``gamma sigma^2 (T-t) + (2/gamma) ln(1 + gamma/k)`` against time
    to go, one line per risk aversion, with the risk-neutral limit ``2/k``."""
    if len(gammas) == 0:
        raise ValueError("gammas must hold at least one risk aversion")
    tau = np.linspace(0.0, config.T, 101)
    fig, ax = single_axes(ax)
    colors = _colors(len(gammas))
    for gamma, color in zip(gammas, colors, strict=True):
        spread = as_spread(tau, gamma, config.price_sigma, config.k)
        ax.plot(tau, spread, color=color, label=f"gamma = {gamma:g}")
    ax.axhline(2.0 / config.k, color="0.3", ls=":", label="2/k (risk neutral)")
    ax.set_xlabel("time to go T - t [sessions]")
    ax.set_ylabel("AS spread (ask - bid)")
    ax.set_title(f"AS spread vs time to go (sigma={config.price_sigma:g}, k={config.k:g})")
    ax.legend(fontsize="small")
    ax.grid(alpha=0.3)
    return finish(fig, path)


# ------------------------------------------------------------------ fills
def arrival_rate_and_fill_probability(
    config: MarketConfig,
    depths: Sequence[float] | None = None,
    *,
    fig: FigureBase | None = None,
    path: PathLike | None = None,
) -> Figure:
    """Two panels against the quote's depth: the fill intensity ``A e^(-k delta)`` and the
    probability of a fill within one step under both fill models (the config's marked)."""
    if depths is None:
        lo = max(config.min_depth, -1.0 / config.k)
        d = np.linspace(lo, min(config.max_depth, 6.0 / config.k), 200)
    else:
        d = np.asarray(depths, dtype=np.float64)
    rate = config.A * np.exp(-config.k * d)
    poisson = -np.expm1(-rate * config.dt)
    bernoulli = np.minimum(rate * config.dt, 1.0)
    root, axes = grid_axes(fig, 1, 2, 11.0, 4.2)
    ax = axes[0]
    ax.plot(d, rate, color="tab:blue")
    ax.set_ylabel("fill intensity A e^(-k d) [fills/session]")
    ax.set_title(f"Arrival rate (A={config.A:g}, k={config.k:g})")
    ax = axes[1]
    for name, values, style in (("poisson", poisson, "-"), ("bernoulli", bernoulli, "--")):
        mark = " (config)" if name == config.fill_model else ""
        formula = "1 - exp(-A e^(-kd) dt)" if name == "poisson" else "min(1, A e^(-kd) dt)"
        ax.plot(d, values, style, lw=2.0 if mark else 1.2, label=f"{name}: {formula}{mark}")
    ax.set_ylabel("P(fill within one step)")
    ax.set_title(f"Fill probability per step (dt={config.dt:g})")
    ax.legend(fontsize="small")
    for ax in axes:
        ax.axvline(1.0 / config.k, color="0.5", ls=":", lw=1.0)
        ax.set_xlabel("depth d [price units] (dotted: 1/k)")
        ax.grid(alpha=0.3)
    return finish(root, path, "Arrival rate and fill probability vs depth")


# ------------------------------------------------------------------ optimal quotes
def optimal_quotes(
    config: MarketConfig,
    agent: OptimalAgent | CARAOptimalAgent | None = None,
    times: Sequence[float] | None = None,
    inventories: Sequence[float] | None = None,
    *,
    fig: FigureBase | None = None,
    path: PathLike | None = None,
) -> Figure:
    """Optimal bid and ask depths against inventory at several times (two panels).

    ``agent`` defaults to :class:`agents.OptimalAgent` when the market has an inventory penalty
    (``reward="inventory_penalty"``, ``phi`` or ``alpha`` > 0), else to
    :class:`agents.CARAOptimalAgent` with ``gamma = 0.1`` (the exact problem AS approximates;
    its AS approximation at ``t = 0`` is drawn dashed). ``times`` (in ``[0, T]``) default to
    ``0, T/2, 0.8 T, 0.95 T``; ``inventories`` to the grid within ``+-10`` order sizes.
    """
    if agent is None:
        penalised = config.reward == "inventory_penalty" or config.phi > 0 or config.alpha > 0
        agent = OptimalAgent(config) if penalised else CARAOptimalAgent(config)
    ts = [f * config.T for f in (0.0, 0.5, 0.8, 0.95)] if times is None else list(times)
    if inventories is None:
        n = min(agent.n_grid, 10)
        q = config.order_size * np.arange(-n, n + 1, dtype=np.float64)
    else:
        q = np.asarray(inventories, dtype=np.float64)
    root, axes = grid_axes(fig, 1, 2, 11.0, 4.5, sharey=True)
    colors = _colors(len(ts))
    for t, color in zip(ts, colors, strict=True):
        bid, ask = agent.depths(t, q)
        axes[0].plot(q, bid, ".-", color=color, label=f"t = {t:.3g}")
        axes[1].plot(q, ask, ".-", color=color, label=f"t = {t:.3g}")
    if isinstance(agent, CARAOptimalAgent):
        as_bid, as_ask = as_depths(q, config.T, agent.gamma, agent.sigma, config.k)
        axes[0].plot(q, as_bid, "--", color="0.4", label="AS approximation, t = 0")
        axes[1].plot(q, as_ask, "--", color="0.4", label="AS approximation, t = 0")
    for ax, side in zip(axes, ("bid", "ask"), strict=True):
        ax.axhline(1.0 / config.k, color="0.6", ls=":", lw=1.0)
        ax.set_xlabel("inventory q [shares]")
        ax.set_title(f"optimal {side} depth")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("depth from the mid [price units] (dotted: 1/k)")
    axes[1].legend(fontsize="small")
    return finish(root, path, f"Optimal quotes: {agent!r}")


# ------------------------------------------------------------------ one session
@dataclass(frozen=True, eq=False)
class Session:
    """One simulated episode (from :func:`simulate_session`); ``n = n_steps``."""

    policy: str
    time: np.ndarray
    """``t_i = i dt``, ``(n + 1,)``."""
    mid: np.ndarray
    """Mid-price at ``t_i``, ``(n + 1,)``."""
    inventory: np.ndarray
    """Inventory at ``t_i``, ``(n + 1,)``."""
    pnl: np.ndarray
    """Mark-to-market wealth minus the initial wealth at ``t_i``, ``(n + 1,)``."""
    cumulative_reward: np.ndarray
    """Sum of the env's rewards up to ``t_i``, ``(n + 1,)``."""
    bid: np.ndarray
    """Bid price quoted during step ``i`` (from ``t_i``), NaN if not quoted, ``(n,)``."""
    ask: np.ndarray
    """Ask price quoted during step ``i``, NaN if not quoted, ``(n,)``."""
    bid_filled: np.ndarray
    """Whether the bid of step ``i`` filled, ``(n,)``."""
    ask_filled: np.ndarray
    """Whether the ask of step ``i`` filled, ``(n,)``."""


def simulate_session(config: MarketConfig, policy: object, seed: int | None = 0) -> Session:
    """Run one episode of :class:`mm_env.MarketMakingEnv` under ``policy`` (anything
    :func:`train.evaluation.policy_adapter.as_policy` accepts) and record its infos."""
    fn = as_policy(policy, config)
    env = MarketMakingEnv(config)
    obs, info = env.reset(seed=seed)
    n = config.n_steps
    mid, inv, wealth, rew = (np.empty(n + 1) for _ in range(4))
    bid, ask = np.empty(n), np.empty(n)
    bid_filled, ask_filled = np.zeros(n, bool), np.zeros(n, bool)
    mid[0], inv[0], wealth[0], rew[0] = info["mid"], info["inventory"], info["wealth"], 0.0
    for i in range(n):
        obs, reward, terminated, truncated, info = env.step(fn(obs[None, :])[0])
        mid[i + 1], inv[i + 1], wealth[i + 1] = info["mid"], info["inventory"], info["wealth"]
        rew[i + 1] = rew[i] + reward
        # a side not quoted is a gap in the plot (info holds its would-be price)
        bid[i] = info["bid"] if info["bid_quoted"] else np.nan
        ask[i] = info["ask"] if info["ask_quoted"] else np.nan
        bid_filled[i], ask_filled[i] = info["bid_filled"], info["ask_filled"]
        if terminated or truncated:  # pragma: no cover - the env ends exactly at n_steps
            break
    env.close()
    return Session(fn.name, np.arange(n + 1) * config.dt, mid, inv, wealth - wealth[0], rew,
                   bid, ask, bid_filled, ask_filled)


def session(
    config: MarketConfig,
    policy: object,
    seed: int | None = 0,
    *,
    fig: FigureBase | None = None,
    path: PathLike | None = None,
) -> Figure:
    """One simulated session in four panels sharing the time axis: the mid with the bid and
    ask quotes and the fills, the inventory, the PnL (and the cumulative reward when the
    reward is not the PnL) and the quoted spread."""
    s = simulate_session(config, policy, seed)
    root, axes = grid_axes(fig, 4, 1, 10.0, 10.0, sharex=True)
    t_quote = s.time[:-1]
    ax = axes[0]
    ax.plot(s.time, s.mid, color=MID, lw=1.2, label="mid")
    ax.step(t_quote, s.ask, where="post", color=ASK, lw=0.8, label="ask")
    ax.step(t_quote, s.bid, where="post", color=BID, lw=0.8, label="bid")
    ax.plot(t_quote[s.ask_filled], s.ask[s.ask_filled], "v", color=ASK, ms=5,
            label=f"ask filled ({int(s.ask_filled.sum())})")
    ax.plot(t_quote[s.bid_filled], s.bid[s.bid_filled], "^", color=BID, ms=5,
            label=f"bid filled ({int(s.bid_filled.sum())})")
    ax.set_ylabel("price")
    ax.legend(fontsize="small", ncols=3)
    ax = axes[1]
    ax.step(s.time, s.inventory, where="post", color=INVENTORY)
    ax.axhline(0.0, color="0.6", lw=0.8)
    ax.set_ylabel("inventory q")
    ax = axes[2]
    ax.plot(s.time, s.pnl, color=PNL, label="PnL (mark to market)")
    if config.reward != "pnl":
        ax.plot(s.time, s.cumulative_reward, color="tab:gray", ls="--",
                label=f"cumulative reward ({config.reward})")
        ax.legend(fontsize="small")
    ax.axhline(0.0, color="0.6", lw=0.8)
    ax.set_ylabel("PnL")
    ax = axes[3]
    ax.step(t_quote, s.ask - s.bid, where="post", color=SPREAD, label="quoted spread")
    ax.axhline(2.0 / config.k, color="0.5", ls=":", label="2/k")
    ax.set_ylabel("spread (ask - bid)")
    ax.set_xlabel("time t [sessions]")
    ax.legend(fontsize="small")
    for ax in axes:
        ax.grid(alpha=0.3)
    title = f"One session: {s.policy} (seed {seed}, final PnL {s.pnl[-1]:.3g})"
    return finish(root, path, title)


# ------------------------------------------------------------------ helpers
def _inventory_axis(config: MarketConfig, inventories: Sequence[float] | None) -> np.ndarray:
    if inventories is not None:
        return np.asarray(inventories, dtype=np.float64)
    n = 10
    if math.isfinite(config.inventory_limit):
        n = min(n, math.floor(config.inventory_limit / config.order_size + 1e-9))
    return config.order_size * np.arange(-n, n + 1, dtype=np.float64)


def _colors(n: int) -> list[tuple[float, float, float, float]]:
    """``n`` colours of the viridis map (dark to light), for families of lines."""
    from matplotlib import colormaps

    cmap = colormaps["viridis"]
    return [cmap(x) for x in np.linspace(0.0, 0.85, max(n, 1))][:n]


def policy_vs_optimal_quotes(
    config: MarketConfig,
    policy: object,
    optimal: object,
    times: Sequence[float] | None = None,
    inventories: Sequence[float] | None = None,
    *,
    name: str = "PPO",
    fig: FigureBase | None = None,
    path: PathLike | None = None,
) -> Figure:
    """A policy's bid and ask depths against inventory at several times (solid), next to
    the optimal policy's (dashed). Both are queried with env observations ``[T - t, q, S0]``
    through ``act(obs)``."""
    ts = [f * config.T for f in (0.0, 0.5, 0.8, 0.95)] if times is None else list(times)
    if inventories is None:
        q = config.order_size * np.arange(-10, 11, dtype=np.float64)
        q = q[np.abs(q) <= config.inventory_limit]
    else:
        q = np.asarray(inventories, dtype=np.float64)
    root, axes = grid_axes(fig, 1, 2, 11.0, 4.5, sharey=True)
    colors = _colors(len(ts))
    for t, color in zip(ts, colors, strict=True):
        obs = np.stack([np.full(q.size, config.T - t), q, np.full(q.size, config.S0)], axis=1)
        mine = np.asarray(policy.act(obs.astype(np.float32)))  # type: ignore[attr-defined]
        best = np.asarray(optimal.act(obs.astype(np.float32)))  # type: ignore[attr-defined]
        for side, ax in enumerate(axes):
            ax.plot(q, mine[:, side], color=color, label=f"{name}, t = {t:g}")
            ax.plot(q, best[:, side], color=color, linestyle="--", label=f"optimal, t = {t:g}")
    for ax, label in zip(axes, ("bid", "ask"), strict=True):
        ax.set_xlabel("inventory q [shares]")
        ax.set_title(f"{label} depth")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("depth [price units]")
    axes[1].legend(fontsize=7, ncol=2)
    return finish(root, path, f"{name} (solid) vs optimal (dashed) quotes")
