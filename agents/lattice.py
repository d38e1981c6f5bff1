"""Exact expected reward of a policy in the discrete-time env, by backward recursion.

When the mid is a martingale up to a drift that does not depend on the price (arithmetic
Brownian motion with any ``mu``, or GBM with ``mu = 0``), the expected reward of a step of the
env depends on the state only through the step index ``i`` and the inventory ``q``: the
mark-to-market term ``q' (S_(i+1) - S_i)`` has mean ``q' mu dt`` (ABM) or 0, the fills earn
their depths, and the penalties are functions of ``q'``. For a policy whose depths depend
only on ``(time remaining, inventory)``, the expected sum of the remaining rewards is then the
solution of a recursion on the lattice ``(i, q_j)``, computed here exactly (no Monte Carlo):

    V_n(q) = 0,
    V_i(q) = Delta (p_b delta_b + p_a delta_a) + sum_(q') P(q' | q) [U_(i+1)(q') + V_(i+1)(q')],
    U_(i+1)(q') = mu_abs dt q' - phi dt q'^2 - alpha q'^2 [i = n - 1]   ("inventory_penalty"),
    U_(i+1)(q') = mu_abs dt q'                                          ("pnl"),

with ``q' = q + Delta`` with probability ``p_b (1 - p_a)``, ``q - Delta`` with ``p_a (1 - p_b)``
and ``q`` otherwise (both sides fill independently; a side that would cross the inventory
limit is not quoted). ``p`` is the env's own fill probability of the clipped depth
(:meth:`mm_env.dynamics.MarketDynamics.fill_probability`, bernoulli or poisson), and the
policy is queried with float32 observations ``[T - i dt, q_j, S0]`` exactly as the env
builds them. This is the quantity a Monte Carlo of the env estimates, without the noise:
use it to compare policies exactly and to measure the time-discretisation gap of the
continuous-time optima of :mod:`agents.optimal`.

Limits: policies that read the mid (AS and GLFT under GBM use ``sigma * S``) are evaluated
with the mid frozen at ``S0`` (an approximation for them); stochastic policies (RandomAgent)
are evaluated on one draw per lattice node, which is not their expectation. With no
inventory limit, :func:`evaluate_on_lattice` uses ``q_max = n_steps * order_size`` (exact:
the inventory cannot go further in one episode); a smaller ``q_max`` (and the discrete
optimum's default, :func:`agents.optimal.default_q_max`) truncates the lattice: the bid is
not filled at ``+q_max`` (nor the ask at ``-q_max``), an approximation of the unbounded env.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from agents.base import check_real
from agents.optimal import default_q_max
from mm_env.config import MarketConfig
from mm_env.dynamics import MarketDynamics


class Horizon(Protocol):
    """The episode clock of a market config (single- or multi-asset): ``T``, ``dt``, ``n_steps``."""

    @property
    def T(self) -> float: ...

    @property
    def dt(self) -> float: ...

    @property
    def n_steps(self) -> int: ...


def nearest_steps(config: Horizon, tau: np.ndarray) -> np.ndarray:
    """The decision step nearest to each time remaining ``tau``: ``round((T - tau) / dt)``
    clipped into ``[0, n_steps - 1]`` (``np.intp``), the row of a policy table to act on."""
    steps = np.rint((config.T - tau) / config.dt).astype(np.intp)
    return np.clip(steps, 0, config.n_steps - 1)


def decision_steps(config: Horizon, t: Any) -> np.ndarray:
    """The step indices ``i`` of decision times ``t = i dt`` (``0 <= i <= n_steps``, arrays
    broadcast) as ``np.intp``; ValueError naming the first ``t`` that is not one."""
    t_arr = np.asarray(t, dtype=np.float64)
    steps = np.rint(t_arr / config.dt)
    ok = np.isfinite(t_arr) & (np.abs(t_arr - steps * config.dt) <= 1e-9 * config.T)
    ok &= (steps >= 0) & (steps <= config.n_steps)
    if not ok.all():
        raise ValueError(
            f"t must be a decision time i * dt in [0, T] (dt = {config.dt:g}), got "
            f"{float(t_arr[~ok].ravel()[0])!r}"
        )
    return steps.astype(np.intp)


def continuation_value(
    running: np.ndarray, terminal: np.ndarray, next_values: np.ndarray, last_step: bool
) -> np.ndarray:
    """``U(q') + V_(step+1)(q')``: what landing on ``q'`` is worth after a step, ``U`` the
    running reward of holding ``q'`` plus, after the last step, the terminal one."""
    u = running + next_values
    if last_step:
        u = u + terminal
    return u


def check_acts(policy: Any, name: str = "policy", kind: str = "an agents.Agent") -> None:
    """ValueError unless ``policy`` has an ``act(obs)`` method (the message names the
    argument ``name`` and the ``kind`` of object expected)."""
    if not callable(getattr(policy, "act", None)):
        raise ValueError(
            f"{name} must have an act(obs) method ({kind}), got {type(policy).__name__}"
        )


def lattice_actions(
    policy: Any, obs: np.ndarray, width: int, name: str = "policy", expected: str = "(n, 2)"
) -> np.ndarray:
    """``policy.act(obs)`` on a batch of lattice observations, float64 ``(len(obs), width)``;
    ValueError (naming ``name``, the shape and the ``expected`` one) when the actions have
    another shape or are not finite."""
    act = np.asarray(policy.act(obs), dtype=np.float64)
    if act.shape != (obs.shape[0], width) or not np.isfinite(act).all():
        raise ValueError(
            f"{name} returned {act.shape} actions (finite needed) for a batch of "
            f"{obs.shape[0]} observations; expected {expected}"
        )
    return act


@dataclass(frozen=True)
class LatticeValue:
    """Expected sum of the remaining rewards on the lattice ``(step, inventory)``."""

    config: MarketConfig
    inventories: np.ndarray
    """Inventory grid ``q_j = j Delta``, ``j = -N..N``."""
    values: np.ndarray
    """``values[i, j]``: expected sum of the rewards of steps ``i..n-1`` from inventory ``q_j``."""
    bid_depths: np.ndarray
    """``(n_steps, 2N+1)`` clipped bid depths the policy quoted (NaN where not quoted)."""
    ask_depths: np.ndarray
    """``(n_steps, 2N+1)`` clipped ask depths the policy quoted (NaN where not quoted)."""

    @property
    def initial(self) -> float:
        """The expected episode return from the env's starting state (step 0, inventory 0)."""
        return float(self.values[0, (self.inventories.size - 1) // 2])

    def at(self, step: Any, q: Any) -> np.ndarray:
        """``values`` at step indices and inventories on the grid (broadcast)."""
        size = self.config.order_size
        j = np.rint(np.asarray(q, dtype=np.float64) / size).astype(np.intp)
        half = (self.inventories.size - 1) // 2
        if (np.abs(j) > half).any():
            raise ValueError(f"q must be in [-{half * size:g}, {half * size:g}], got {q!r}")
        return np.asarray(self.values[np.asarray(step, dtype=np.intp), j + half])


class LatticeModel:
    """The env's per-step transition on the ``(step, inventory)`` lattice.

    Shared by :func:`evaluate_on_lattice` and :mod:`agents.discrete_optimal`; validates that
    the expected reward is a function of ``(step, q)`` only (see the module docstring).
    """

    def __init__(self, config: MarketConfig, q_max: float | None = None) -> None:
        if not isinstance(config, MarketConfig):
            raise ValueError(f"config must be a mm_env.MarketConfig, got {type(config).__name__}")
        if config.reward not in ("pnl", "inventory_penalty"):
            raise ValueError(
                f"config.reward must be 'pnl' or 'inventory_penalty' for a lattice "
                f"evaluation, got {config.reward!r}"
            )
        if config.mid_model == "gbm" and config.mu != 0:
            raise ValueError(
                f"a lattice evaluation needs an arithmetic mid or a driftless GBM (mu = 0): "
                f"the expected PnL of holding inventory would depend on the price; got "
                f"mu={config.mu!r} with mid_model='gbm'"
            )
        self.config = config
        size = config.order_size
        limit = config.inventory_limit
        if q_max is None:
            q_max = limit if math.isfinite(limit) else default_q_max(config)
        else:
            q_max = check_real("q_max", q_max, low=size, high=limit)
        self.n_grid = math.floor(q_max / size + 1e-9)
        self.inventories = size * np.arange(-self.n_grid, self.n_grid + 1, dtype=np.float64)
        q = self.inventories
        self.dynamics = MarketDynamics(config)
        # A side is quoted when its fill keeps |q| within the env's limit and the lattice.
        self.bid_quoted = (q + size <= limit) & (np.arange(q.size) < q.size - 1)
        self.ask_quoted = (q - size >= -limit) & (np.arange(q.size) > 0)
        drift = config.mu if config.mid_model == "abm" else 0.0
        penalty = config.reward == "inventory_penalty"
        phi = config.phi if penalty else 0.0
        alpha = config.alpha if penalty else 0.0
        dt = config.dt
        self.running = drift * dt * q - phi * dt * q * q
        """Expected reward of holding ``q'`` over one step, besides the fills' earnings."""
        self.terminal = -alpha * q * q
        """Extra reward of ending the episode with ``q'`` (the terminal penalty)."""

    def observations(self, step: int) -> np.ndarray:
        """The float32 observations ``[T - step dt, q_j, S0]`` of every lattice node."""
        c = self.config
        obs = np.empty((self.inventories.size, 3), dtype=np.float32)
        obs[:, 0] = self.dynamics.time_remaining(step)
        obs[:, 1] = self.inventories
        obs[:, 2] = c.S0
        return obs

    def continuation(self, step: int, next_values: np.ndarray) -> np.ndarray:
        """``U(q') + V_(step+1)(q')``: what landing on ``q'`` is worth after step ``step``."""
        last = step == self.config.n_steps - 1
        return continuation_value(self.running, self.terminal, next_values, last)

    def clip(self, depth: np.ndarray) -> np.ndarray:
        """Depths as the env clips them."""
        return np.minimum(np.maximum(depth, self.config.min_depth), self.config.max_depth)

    def fill_probabilities(self, bid: np.ndarray, ask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per-step fill probabilities of clipped depths, zero on sides not quoted."""
        pb = np.where(self.bid_quoted, self.dynamics.fill_probability(bid), 0.0)
        pa = np.where(self.ask_quoted, self.dynamics.fill_probability(ask), 0.0)
        return pb, pa

    def outcomes(
        self, bid: np.ndarray, ask: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Probabilities, earnings and landing indices of the four fill outcomes of a step.

        Rows: both sides fill (``q' = q``), bid only (``q + Delta``), ask only (``q - Delta``),
        none (``q``); shape ``(4, 2N+1)`` each, landing indices clipped into the grid (the
        clipped ones have probability 0).
        """
        pb, pa = self.fill_probabilities(bid, ask)
        size = self.config.order_size
        earn_b = size * np.where(self.bid_quoted, bid, 0.0)
        earn_a = size * np.where(self.ask_quoted, ask, 0.0)
        probs = np.stack([pb * pa, pb * (1.0 - pa), (1.0 - pb) * pa, (1.0 - pb) * (1.0 - pa)])
        gains = np.stack([earn_b + earn_a, earn_b, earn_a, np.zeros_like(earn_b)])
        j = np.arange(self.inventories.size)
        top = self.inventories.size - 1
        land = np.stack([j, np.minimum(j + 1, top), np.maximum(j - 1, 0), j])
        return probs, gains, land

    def empty_tables(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(values, bid_depths, ask_depths)`` of a backward recursion: ``values`` zeros
        ``(n_steps + 1, 2N+1)`` (``V_n = 0``), the depth tables uninitialised
        ``(n_steps, 2N+1)`` (filled step by step by :meth:`store_depths`)."""
        n, size = self.config.n_steps, self.inventories.size
        return np.zeros((n + 1, size)), np.empty((n, size)), np.empty((n, size))

    def store_depths(
        self,
        step: int,
        bid: np.ndarray,
        ask: np.ndarray,
        bid_depths: np.ndarray,
        ask_depths: np.ndarray,
    ) -> None:
        """Write the depths of ``step`` into the tables of :meth:`empty_tables`, NaN on the
        sides not quoted."""
        bid_depths[step] = np.where(self.bid_quoted, bid, np.nan)
        ask_depths[step] = np.where(self.ask_quoted, ask, np.nan)

    def expected(self, bid: np.ndarray, ask: np.ndarray, cont: np.ndarray) -> np.ndarray:
        """Expected value of one step with clipped depths and continuation ``cont``."""
        probs, gains, land = self.outcomes(bid, ask)
        return np.sum(probs * (gains + cont[land]), axis=0)

    def certainty_equivalent(
        self, bid: np.ndarray, ask: np.ndarray, cont: np.ndarray, gamma: float
    ) -> np.ndarray:
        """``-(1/gamma) log E[exp(-gamma (earnings + cont(q')))]`` over the fill outcomes."""
        probs, gains, land = self.outcomes(bid, ask)
        expo = np.where(probs > 0, -gamma * (gains + cont[land]), -np.inf)
        mx = np.max(expo, axis=0)
        return -(mx + np.log(np.sum(probs * np.exp(expo - mx), axis=0))) / gamma


def evaluate_on_lattice(
    policy: Any,
    config: MarketConfig,
    q_max: float | None = None,
    *,
    cara_gamma: float | None = None,
) -> LatticeValue:
    """Exact expected episode reward of ``policy`` (anything with ``act(obs)``) in the env.

    See the module docstring for the recursion and its conditions; ``q_max`` truncates the
    lattice (default: the config's inventory limit, or with no limit ``n_steps * order_size``,
    the furthest the inventory can go in an episode, so that the default is exact).

    With ``cara_gamma`` (``> 0``, arithmetic mid only) the values are instead the certainty
    equivalents ``-(1/gamma) log E[exp(-gamma R)]`` of the remaining reward ``R``: the price
    move of a step given ``q'`` is Gaussian, ``E[exp(-gamma q' dS)] =
    exp(-gamma mu dt q' + gamma^2 sigma^2 dt q'^2 / 2)``, so the recursion stays on the lattice
    (``U`` gets ``- gamma sigma^2 dt q'^2 / 2`` and the expectation becomes a log-sum-exp).
    """
    check_acts(policy)
    if q_max is None and not math.isfinite(config.inventory_limit):
        # |q| moves by at most one order size a step: this lattice is exact, not a truncation
        q_max = config.n_steps * config.order_size
    model = LatticeModel(config, q_max)
    risk = np.zeros_like(model.inventories)
    if cara_gamma is not None:
        gamma = check_real("cara_gamma", cara_gamma, low=0.0, low_open=True)
        if config.mid_model != "abm":
            raise ValueError(
                f"cara_gamma needs an arithmetic mid (mid_model='abm'): under GBM the price "
                f"risk of an inventory depends on the price; got {config.mid_model!r}"
            )
        risk = -0.5 * gamma * config.sigma**2 * config.dt * model.inventories**2
    values, bids, asks = model.empty_tables()
    for i in range(config.n_steps - 1, -1, -1):
        act = lattice_actions(policy, model.observations(i), 2)
        bid, ask = model.clip(act[:, 0]), model.clip(act[:, 1])
        cont = model.continuation(i, values[i + 1])
        if cara_gamma is None:
            values[i] = model.expected(bid, ask, cont)
        else:
            values[i] = model.certainty_equivalent(bid, ask, cont + risk, gamma)
        model.store_depths(i, bid, ask, bids, asks)
    return LatticeValue(config, model.inventories, values, bids, asks)
