"""Statistics of Monte Carlo episodes: the metrics, their standard errors, paired differences.

Every metric is a function of per-episode arrays (see :class:`EpisodeArrays`). Its standard
error, and the standard error of the difference between two policies run on the same
episodes (common random numbers), come from one of two methods:

* **Linearisation** (the delta method). A metric ``m`` is approximated by the mean of its
  *influence function* ``psi_i`` over episodes; ``se(m) = std(psi) / sqrt(n)`` and, for two
  policies evaluated on the same seeds, ``se(m_a - m_b) = std(psi_a - psi_b) / sqrt(n)``.
  Pairing removes the market noise the policies share, so the paired SE is usually much
  smaller than ``sqrt(se_a^2 + se_b^2)``. A policy compared with itself has ``psi_a = psi_b``
  and a difference and SE of exactly 0.
* **Paired bootstrap** for the quantiles (their influence function needs a density, which
  a discrete PnL distribution does not have): ``n_boot`` resamples of episode indices, the
  same indices for both policies, drawn from a fixed seed so that reports are reproducible.

Definitions (``x`` = terminal PnL of each episode, ``n`` episodes):

* ``mean_pnl``, ``std_pnl`` (sample std, ``ddof=1``), ``se_pnl = std_pnl / sqrt(n)``.
* ``sharpe``: per-episode Sharpe ratio ``mean_pnl / std_pnl`` (not annualised).
* ``sharpe_annualised``: the course notebook's Sharpe ratio. Within each episode, the mean of
  the per-step PnL ``dW_t`` divided by its standard deviation (``ddof=0``, ``np.std``), times
  ``sqrt(steps per year)``, where a year has :data:`SESSIONS_PER_YEAR` = 252 sessions and a
  session ``n_steps / T`` steps (``sqrt(252 * 390)`` for one-minute steps); the metric is the
  mean of this per-episode figure over the episodes where it is defined (``dW`` not constant).
* ``win_rate``: fraction of episodes with ``pnl > 0``.
* ``pnl_q05``, ``pnl_q95``: 5% and 95% quantiles (numpy's default linear interpolation).
* ``certainty_equivalent``: the CARA certainty equivalent
  ``-1/gamma * log(mean(exp(-gamma * pnl)))`` (price units; ``gamma`` in 1/price units; the
  sure amount a CARA investor with risk aversion ``gamma`` values the PnL lottery at),
  computed with a log-sum-exp so large ``gamma * pnl`` cannot overflow; ``gamma = 0`` gives
  the mean.
* ``mean_abs_inventory``: mean of ``|final inventory|``; ``mean_fills``, ``mean_bid_fills``,
  ``mean_ask_fills``: fills (trades) per episode; ``mean_max_drawdown``: mean of the largest
  fall of mark-to-market wealth from its running peak (the peak starts at the initial
  wealth 0); ``mean_reward``: mean of the env reward's episode total.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

#: Trading sessions per year, used to annualise the per-step Sharpe ratio.
SESSIONS_PER_YEAR = 252.0
#: Bootstrap resamples for the standard errors of the quantiles.
N_BOOT = 200
#: Seed of the bootstrap's index draws (fixed: reports are reproducible).
BOOT_SEED = 20080101


@dataclass(frozen=True, eq=False)
class EpisodeArrays:
    """Per-episode outcomes, arrays of shape ``(n_episodes,)``."""

    pnl: np.ndarray
    """Terminal mark-to-market PnL ``W_T - W_0`` [price units]."""
    final_inventory: np.ndarray
    """Inventory at the horizon [shares]."""
    bid_fills: np.ndarray
    """Number of bid fills (the market maker bought)."""
    ask_fills: np.ndarray
    """Number of ask fills (the market maker sold)."""
    max_drawdown: np.ndarray
    """Largest fall of wealth from its running peak (>= 0) [price units]."""
    total_reward: np.ndarray
    """Sum of the env's rewards over the episode."""
    sharpe_annualised: np.ndarray
    """Per-step Sharpe ratio of the episode, annualised (NaN when ``dW`` is constant)."""

    @property
    def n(self) -> int:
        return int(self.pnl.shape[0])


# ------------------------------------------------------------------ plain statistics
def standard_error(x: np.ndarray) -> float:
    """``std(x, ddof=1) / sqrt(n)`` (0 for fewer than 2 values)."""
    n = x.shape[0]
    return float(np.std(x, ddof=1) / math.sqrt(n)) if n > 1 else 0.0


def sharpe_ratio(x: np.ndarray) -> float:
    """``mean(x) / std(x, ddof=1)``; NaN when the std is 0 or there are fewer than 2 values."""
    if x.shape[0] < 2:
        return math.nan
    s = float(np.std(x, ddof=1))
    return float(np.mean(x)) / s if s > 0 else math.nan


def annualisation_factor(n_steps: int, T: float) -> float:
    """``sqrt(steps per year)`` with :data:`SESSIONS_PER_YEAR` sessions of ``n_steps / T`` steps."""
    return math.sqrt(SESSIONS_PER_YEAR * n_steps / T)


def per_step_sharpe(mean: np.ndarray, m2: np.ndarray, n_steps: int, factor: float) -> np.ndarray:
    """Annualised per-step Sharpe of each episode from Welford's running mean and ``M2``.

    ``mean / sqrt(M2 / n_steps) * factor`` (std with ``ddof=0``); NaN where the per-step PnL
    is constant (``M2 == 0``).
    """
    std = np.sqrt(np.maximum(m2, 0.0) / n_steps)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(std > 0, mean / np.where(std > 0, std, 1.0) * factor, np.nan)
    return np.asarray(out, dtype=np.float64)


def logmeanexp(x: np.ndarray) -> float:
    """``log(mean(exp(x)))`` without overflow."""
    m = float(np.max(x))
    if not math.isfinite(m):
        return m
    return m + math.log(float(np.mean(np.exp(x - m))))


def certainty_equivalent(pnl: np.ndarray, gamma: float) -> float:
    """CARA certainty equivalent ``-1/gamma * log(mean(exp(-gamma * pnl)))`` (mean if gamma=0)."""
    if not gamma >= 0 or not math.isfinite(gamma):
        raise ValueError(f"gamma must be a finite number >= 0, got {gamma!r}")
    if gamma == 0:
        return float(np.mean(pnl))
    return -logmeanexp(-gamma * pnl) / gamma


def max_drawdown(wealth_paths: np.ndarray) -> np.ndarray:
    """Largest fall from the running peak of each row of ``(n_episodes, n_steps)`` wealth.

    The peak starts at the initial wealth 0 (a path that only falls has drawdown ``-min``).
    The evaluation loop computes the same quantity online; this is the reference.
    """
    w = np.concatenate([np.zeros((wealth_paths.shape[0], 1)), wealth_paths], axis=1)
    return np.asarray(np.max(np.maximum.accumulate(w, axis=1) - w, axis=1), dtype=np.float64)


# ------------------------------------------------------------------ metrics
Estimator = Callable[[EpisodeArrays, float], float]
Influence = Callable[[EpisodeArrays, float], np.ndarray]


def _mean_metric(column: Callable[[EpisodeArrays], np.ndarray]) -> tuple[Estimator, Influence]:
    def value(e: EpisodeArrays, gamma: float) -> float:
        return float(np.mean(column(e)))

    def influence(e: EpisodeArrays, gamma: float) -> np.ndarray:
        x = column(e)
        return x - np.mean(x)

    return value, influence


def _nanmean_value(e: EpisodeArrays, gamma: float) -> float:
    x = e.sharpe_annualised
    ok = np.isfinite(x)
    return float(np.mean(x[ok])) if ok.any() else math.nan


def _nanmean_influence(e: EpisodeArrays, gamma: float) -> np.ndarray:
    x = e.sharpe_annualised
    ok = np.isfinite(x)
    if not ok.any():
        return np.zeros_like(x)
    m = float(np.mean(x[ok]))
    return np.where(ok, (np.where(ok, x, m) - m) * (x.shape[0] / ok.sum()), 0.0)


def _std_value(e: EpisodeArrays, gamma: float) -> float:
    return float(np.std(e.pnl, ddof=1)) if e.n > 1 else math.nan


def _std_influence(e: EpisodeArrays, gamma: float) -> np.ndarray:
    x = e.pnl
    d = x - np.mean(x)
    s2 = float(np.var(x, ddof=1)) if e.n > 1 else 0.0
    if s2 <= 0:
        return np.zeros_like(x)
    return (d * d - s2) / (2.0 * math.sqrt(s2))


def _sharpe_value(e: EpisodeArrays, gamma: float) -> float:
    return sharpe_ratio(e.pnl)


def _sharpe_influence(e: EpisodeArrays, gamma: float) -> np.ndarray:
    x = e.pnl
    d = x - np.mean(x)
    s2 = float(np.var(x, ddof=1)) if e.n > 1 else 0.0
    if s2 <= 0:
        return np.zeros_like(x)
    s = math.sqrt(s2)
    return d / s - float(np.mean(x)) / (2.0 * s**3) * (d * d - s2)


def _ce_value(e: EpisodeArrays, gamma: float) -> float:
    return certainty_equivalent(e.pnl, gamma)


def _ce_influence(e: EpisodeArrays, gamma: float) -> np.ndarray:
    if gamma == 0:
        return e.pnl - np.mean(e.pnl)
    # exp(-gamma x_i) / mean(exp(-gamma x)), computed stably
    y = -gamma * e.pnl
    ratio = np.exp(y - logmeanexp(y))
    return -(ratio - 1.0) / gamma


#: Metrics with an influence function: name -> (estimator, influence).
LINEAR_METRICS: dict[str, tuple[Estimator, Influence]] = {
    "mean_pnl": _mean_metric(lambda e: e.pnl),
    "std_pnl": (_std_value, _std_influence),
    "sharpe": (_sharpe_value, _sharpe_influence),
    "sharpe_annualised": (_nanmean_value, _nanmean_influence),
    "win_rate": _mean_metric(lambda e: (e.pnl > 0).astype(np.float64)),
    "certainty_equivalent": (_ce_value, _ce_influence),
    "mean_abs_inventory": _mean_metric(lambda e: np.abs(e.final_inventory)),
    "mean_fills": _mean_metric(lambda e: e.bid_fills + e.ask_fills),
    "mean_bid_fills": _mean_metric(lambda e: e.bid_fills),
    "mean_ask_fills": _mean_metric(lambda e: e.ask_fills),
    "mean_max_drawdown": _mean_metric(lambda e: e.max_drawdown),
    "mean_reward": _mean_metric(lambda e: e.total_reward),
}
#: Quantile metrics (bootstrap SEs): name -> probability.
QUANTILE_METRICS: dict[str, float] = {"pnl_q05": 0.05, "pnl_q95": 0.95}

#: The metrics of every report, in their stable order.
METRICS: tuple[str, ...] = (
    "mean_pnl", "std_pnl", "sharpe", "sharpe_annualised", "win_rate", "pnl_q05", "pnl_q95",
    "certainty_equivalent", "mean_abs_inventory", "mean_fills", "mean_bid_fills",
    "mean_ask_fills", "mean_max_drawdown", "mean_reward",
)


def metric_value(name: str, e: EpisodeArrays, gamma: float) -> float:
    """Point estimate of metric ``name`` (see :data:`METRICS`)."""
    if name in LINEAR_METRICS:
        return LINEAR_METRICS[name][0](e, gamma)
    if name in QUANTILE_METRICS:
        return float(np.quantile(e.pnl, QUANTILE_METRICS[name]))
    raise ValueError(f"metric must be one of {list(METRICS)}, got {name!r}")


def summarise(e: EpisodeArrays, gamma: float) -> dict[str, float]:
    """All of :data:`METRICS` plus ``n_episodes`` and ``se_pnl``, as a flat dict."""
    out: dict[str, float] = {"n_episodes": e.n}
    for name in METRICS:
        out[name] = metric_value(name, e, gamma)
        if name == "mean_pnl":
            out["se_pnl"] = standard_error(e.pnl)
    return out


@dataclass(frozen=True)
class Estimate:
    """A metric's value and standard error, and optionally its paired difference to a reference."""

    value: float
    se: float
    diff: float = 0.0
    diff_se: float = 0.0


def _bootstrap_quantiles(
    a: np.ndarray, b: np.ndarray | None, probs: list[float], n_boot: int
) -> tuple[np.ndarray, np.ndarray]:
    """Bootstrap SEs of quantiles of ``a`` and of their differences ``q(a) - q(b)``."""
    n = a.shape[0]
    rng = np.random.default_rng(BOOT_SEED)
    qa, qd = [], []
    block = max(1, min(n_boot, 2_000_000 // max(n, 1)))
    done = 0
    while done < n_boot:
        m = min(block, n_boot - done)
        idx = rng.integers(0, n, size=(m, n))
        ra = np.quantile(a[idx], probs, axis=1)  # (len(probs), m)
        qa.append(ra)
        if b is not None:
            qd.append(ra - np.quantile(b[idx], probs, axis=1))
        done += m
    se_a = np.std(np.concatenate(qa, axis=1), axis=1, ddof=1)
    se_d = np.std(np.concatenate(qd, axis=1), axis=1, ddof=1) if b is not None else se_a * 0
    return se_a, se_d


def estimates(
    e: EpisodeArrays,
    gamma: float,
    reference: EpisodeArrays | None = None,
    n_boot: int = N_BOOT,
) -> dict[str, Estimate]:
    """Every metric of :data:`METRICS` with its SE, and the paired difference to ``reference``.

    ``reference`` must hold the same episodes (same seeds and count) run by another policy;
    the difference is ``metric(e) - metric(reference)``.
    """
    if reference is not None and reference.n != e.n:
        raise ValueError(
            f"paired differences need the same episodes: got {e.n} and {reference.n} episodes"
        )
    n = e.n
    out: dict[str, Estimate] = {}
    for name, (value_fn, infl_fn) in LINEAR_METRICS.items():
        value = value_fn(e, gamma)
        psi = infl_fn(e, gamma)
        se = float(np.std(psi, ddof=1) / math.sqrt(n)) if n > 1 else math.nan
        if reference is None:
            out[name] = Estimate(value, se)
            continue
        psi_d = psi - infl_fn(reference, gamma)
        diff_se = float(np.std(psi_d, ddof=1) / math.sqrt(n)) if n > 1 else math.nan
        out[name] = Estimate(value, se, value - value_fn(reference, gamma), diff_se)
    probs = list(QUANTILE_METRICS.values())
    ref_pnl = None if reference is None else reference.pnl
    if n > 1:
        se_q, se_dq = _bootstrap_quantiles(e.pnl, ref_pnl, probs, n_boot)
    else:
        se_q = se_dq = np.full(len(probs), math.nan)
    for i, (name, p) in enumerate(QUANTILE_METRICS.items()):
        value = float(np.quantile(e.pnl, p))
        if ref_pnl is None:
            out[name] = Estimate(value, float(se_q[i]))
        else:
            diff = value - float(np.quantile(ref_pnl, p))
            out[name] = Estimate(value, float(se_q[i]), diff, float(se_dq[i]))
    return {name: out[name] for name in METRICS}


def paired_difference(
    a: np.ndarray, b: np.ndarray, metric: str = "mean", gamma: float = 0.0
) -> tuple[float, float]:
    """Difference ``metric(a) - metric(b)`` of two paired samples and its standard error.

    ``metric``: ``"mean"``, ``"std"``, ``"sharpe"`` or ``"certainty_equivalent"`` (with
    ``gamma``), by linearisation. ``a`` and ``b`` are per-episode values of two policies on
    the same episodes.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"a and b must be 1-d arrays of equal length, got {a.shape} and {b.shape}")
    key = {"mean": "mean_pnl", "std": "std_pnl", "sharpe": "sharpe",
           "certainty_equivalent": "certainty_equivalent"}.get(metric)
    if key is None:
        raise ValueError(
            f"metric must be one of ['mean', 'std', 'sharpe', 'certainty_equivalent'], "
            f"got {metric!r}"
        )
    value_fn, infl_fn = LINEAR_METRICS[key]
    ea, eb = _pnl_only(a), _pnl_only(b)
    psi = infl_fn(ea, gamma) - infl_fn(eb, gamma)
    n = a.shape[0]
    se = float(np.std(psi, ddof=1) / math.sqrt(n)) if n > 1 else math.nan
    return value_fn(ea, gamma) - value_fn(eb, gamma), se


def _pnl_only(x: np.ndarray) -> EpisodeArrays:
    z = np.zeros_like(x)
    return EpisodeArrays(x, z, z, z, z, x, z)
