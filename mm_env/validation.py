"""Checks of combinations of :class:`~mm_env.config.MarketConfig` fields.

Each field's own type and range are declared on the field (:mod:`mm_env.config`) and checked
by the generic :func:`mm_env.params.check_fields`; :func:`check_combinations` runs after it, on
values already in their ranges, and checks what no single field can say: the feature
dependencies (the OU mid and ``mu``, replay exclusions, the alpha signal's dependants, counted
arrivals and the poisson fill model) and the bounds of the expressions the step feeds to an
exponential or a logarithm, so that every accepted config keeps its arithmetic finite:

- the fill intensity ``A e^(-k delta) dt`` (``e^(k |min_depth|)`` for quotes through the mid,
  the signal's tilt ``e^(signal_flow a)``) stays below ``e^700``;
- the mid stays inside ``[1e-100, 1e38]`` (gbm) or ``[-1e38, 1e38]`` (abm) over an episode at
  8 standard deviations of every random term, and against any policy's fills;
- ``dt`` is not too small for the averages divided by it, and the tick is not finer than
  float64 resolves at the price.

Each check is a function whose docstring's first line is the rule, listed in
:data:`COMBINATION_RULES` (the docs show them). A failed check raises :class:`ValueError`
naming the fields, their values and what is allowed.

The config is typed ``Any`` here: :mod:`mm_env.config` imports this module, and importing it
back, even only for type checking, would make an import cycle.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from mm_env.component_registry import registered
from mm_env.params import ParamValues, specs
from mm_env.params import format_number as _g
from mm_env.replay import as_price_series

#: Largest expected number of market orders per side and step when arrivals are counted.
MAX_ARRIVALS_PER_STEP = 50.0
#: Largest exponent fed to ``exp`` (``e^700`` is about 1e304, below the float64 maximum).
MAX_EXPONENT = 700.0
#: Standard deviations of every random term that the magnitude checks cover.
SIGMAS = 8.0
#: The mid's range over an episode: ``[MID_MIN, MID_MAX]`` under gbm (a normal float64 whose
#: logarithm is finite), ``[-MID_MAX, MID_MAX]`` under abm; MID_MAX is below the largest
#: float32, 3.4e38, of the mid's observation.
MID_MIN = 1e-100
MID_MAX = 1e38
#: Largest ``signal_flow * signal_std``: the tilt ``e^(signal_flow a)`` stays within
#: ``e^(+-80)`` at 8 standard deviations of the signal ``a``.
MAX_TILT = 10.0
#: Smallest step ``dt`` [sessions]: the flow and volatility averages divide by ``dt``.
MIN_DT = 1e-12
#: Smallest tick relative to the price: below it the grid is finer than float64 resolves.
MIN_RELATIVE_TICK = 1e-15

Check = Callable[[Any], None]


def check_combinations(cfg: Any) -> None:
    """Run every combination check on ``cfg`` (a MarketConfig whose fields are each in
    range), normalising the replayed series in place; ValueError on the first that fails."""
    for check in _CHECKS:
        check(cfg)


# ------------------------------------------------------------------- model rules
def _inventory_limit(cfg: Any) -> None:
    """inventory_limit >= order_size (or inf, no limit)."""
    if not cfg.inventory_limit >= cfg.order_size:
        raise ValueError(
            f"inventory_limit must be >= order_size ({cfg.order_size!r}) or inf for no "
            f"limit, got {cfg.inventory_limit!r}"
        )


def _depth_range(cfg: Any) -> None:
    """max_depth > min_depth."""
    if not cfg.max_depth > cfg.min_depth:
        raise ValueError(
            f"max_depth must be > min_depth ({cfg.min_depth!r}), got {cfg.max_depth!r}"
        )


def _ou(cfg: Any) -> None:
    """With ou_rate > 0: mu = 0, and ou_mean > 0 under gbm; without it, ou_mean is None."""
    if cfg.ou_rate > 0:
        if cfg.mu != 0:
            raise ValueError(
                f"mu must be 0 when ou_rate > 0 (the OU mid reverts to ou_mean), got {cfg.mu!r}"
            )
        if cfg.mid_model == "gbm" and cfg.ou_mean is not None and not cfg.ou_mean > 0:
            raise ValueError(
                f"ou_mean must be > 0 under mid_model='gbm' (log S reverts to log ou_mean), "
                f"got {cfg.ou_mean!r}"
            )
    elif cfg.ou_mean is not None:
        raise ValueError(f"ou_mean needs ou_rate > 0 (the OU mid), got ou_mean={cfg.ou_mean!r}")


def _mid_params(cfg: Any) -> None:
    """mid_params holds exactly the parameters the mid process of mid_model declares
    (own_params), each in its declared range; ou_rate > 0 and replay take mid_model 'gbm' or
    'abm'."""
    if (cfg.ou_rate > 0 or cfg.replay is not None) and cfg.mid_model not in ("gbm", "abm"):
        raise ValueError(
            f"mid_model must be 'gbm' or 'abm' with ou_rate > 0 or a replayed mid, got "
            f"{cfg.mid_model!r}"
        )
    values = cfg.mid_params
    if not isinstance(values, Mapping):
        raise ValueError(f"mid_params must be a mapping of names to numbers, got {values!r}")
    declared = getattr(registered("mid")[cfg.mid_model], "own_params", {})
    unknown = sorted(set(values) - set(declared))
    missing = sorted(set(declared) - set(values))
    if unknown or missing:
        raise ValueError(
            f"mid_params must hold the parameters of mid_model={cfg.mid_model!r}: "
            f"{sorted(declared) or 'none'}; got unknown {unknown}, missing {missing}"
        )
    checked = {name: spec.check(f"mid_params[{name!r}]", values[name])
               for name, spec in declared.items()}
    object.__setattr__(cfg, "mid_params", ParamValues(checked))


def _jumps(cfg: Any) -> None:
    """jump_rate > 0 needs jump_std > 0 or jump_mean != 0."""
    if cfg.jump_rate > 0 and cfg.jump_std == 0 and cfg.jump_mean == 0:
        raise ValueError(
            "jump_rate > 0 needs jump_std > 0 or jump_mean != 0 (jumps of size 0), got "
            f"jump_std={cfg.jump_std!r}, jump_mean={cfg.jump_mean!r}"
        )


def _replay(cfg: Any) -> None:
    """replay: at least n_steps + 1 prices, in [1e-100, the upper bound of S0]; ou_rate,
    jump_rate, adverse_prob, signal_std and mu are 0 (nothing moves a replayed mid)."""
    if cfg.replay is None:
        return
    series = as_price_series(cfg.replay, cfg.replay_column)
    object.__setattr__(cfg, "replay", series)
    if len(series) < cfg.n_steps + 1:
        raise ValueError(
            f"replay series too short for the episode: n_steps + 1 = {cfg.n_steps + 1} "
            f"prices are needed, got {len(series)} ({series!r})"
        )
    s0 = specs(cfg)["S0"]  # the replayed prices obey the declared range of S0
    high, low = float(series.values.max()), float(series.values.min())
    if (s0.high is not None and high > s0.high) or low < MID_MIN:
        raise ValueError(
            f"replay prices must be in [{_g(MID_MIN)}, {_g(s0.high)}] (the range of S0: "
            f"{s0.high_why}), got prices in [{low!r}, {high!r}] ({series!r})"
        )
    for name in ("ou_rate", "jump_rate", "adverse_prob", "signal_std", "mu"):
        if getattr(cfg, name) != 0.0:
            raise ValueError(
                f"{name} must be 0.0 with a replayed mid (the replayed series is the "
                f"mid, nothing can move it), got {getattr(cfg, name)!r}"
            )


def _signal_dependants(cfg: Any) -> None:
    """signal_flow, signal_obs_noise and the 'signal' observation need signal_std > 0."""
    if cfg.signal_std == 0:
        for name in ("signal_flow", "signal_obs_noise"):
            if getattr(cfg, name) != 0:
                raise ValueError(
                    f"{name} needs the alpha signal (signal_std > 0), got {name}="
                    f"{getattr(cfg, name)!r}"
                )
        if "signal" in cfg.obs_extras:
            raise ValueError("obs_extras 'signal' needs the alpha signal (signal_std > 0)")


def _power_fills(cfg: Any) -> None:
    """fill_shape='power': min_depth > -power_tail/k (where the power law is defined)."""
    if cfg.fill_shape == "power" and not cfg.min_depth > -cfg.power_tail / cfg.k:
        raise ValueError(
            f"min_depth must be > -power_tail/k ({-cfg.power_tail / cfg.k!r}) with "
            f"fill_shape='power' (the power law is defined there), got {cfg.min_depth!r}"
        )


def _counted_arrivals(cfg: Any) -> None:
    """Counted arrivals (Hawkes, 'flow_imbalance') need fill_model='poisson' and at most 50
    expected market orders per side and step, A(1+|flow_skew|)/(1-hawkes_branching)*dt."""
    if not cfg.counts_arrivals:
        return
    if cfg.fill_model != "poisson":
        raise ValueError(
            "Hawkes arrivals (hawkes_branching > 0) and the obs_extras feature "
            "'flow_imbalance' simulate market-order counts, which need fill_model='poisson', got "
            f"fill_model={cfg.fill_model!r}"
        )
    rate = cfg.A * (1 + abs(cfg.flow_skew)) / (1 - cfg.hawkes_branching) * cfg.dt
    if rate > MAX_ARRIVALS_PER_STEP:
        raise ValueError(
            f"expected market orders per step A(1+|flow_skew|)/(1-hawkes_branching)*dt "
            f"must be <= {_g(MAX_ARRIVALS_PER_STEP)} when arrivals are counted, got {rate!r} "
            f"(A={cfg.A!r}, flow_skew={cfg.flow_skew!r}, hawkes_branching="
            f"{cfg.hawkes_branching!r}, T={cfg.T!r}, n_steps={cfg.n_steps!r})"
        )


def _size_action(cfg: Any) -> None:
    """size_action=True: max_order_size > order_size."""
    if cfg.size_action and not cfg.max_order_size > cfg.order_size:
        raise ValueError(
            f"max_order_size must be > order_size ({cfg.order_size!r}) with "
            f"size_action=True, got {cfg.max_order_size!r}"
        )


# ------------------------------------------------------------ finite arithmetic
def _step_length(cfg: Any) -> None:
    """dt = T / n_steps >= 1e-12 sessions (averages of the observation divide by dt)."""
    if not cfg.dt >= MIN_DT:
        raise ValueError(
            f"dt = T / n_steps must be >= {_g(MIN_DT)} sessions (the flow and volatility "
            f"averages divide by it), got {cfg.dt!r} (T={cfg.T!r}, n_steps={cfg.n_steps!r})"
        )


def _signal_tilt(cfg: Any) -> None:
    """signal_flow * signal_std <= 10: the tilt e^(signal_flow a) stays within e^(+-80) at 8
    standard deviations of the signal."""
    tilt = cfg.signal_flow * cfg.signal_std
    if tilt > MAX_TILT:
        raise ValueError(
            f"signal_flow * signal_std must be <= {_g(MAX_TILT)} (the order-flow tilt "
            f"e^(signal_flow a) stays within e^(+-{_g(SIGMAS * MAX_TILT)}) at {_g(SIGMAS)} "
            f"standard deviations of the signal), got {tilt!r} (signal_flow="
            f"{cfg.signal_flow!r}, signal_std={cfg.signal_std!r})"
        )


def _reach_exponent(cfg: Any) -> float:
    """``ln h(min_depth)``: the largest log-probability that one market order reaches a
    quote (positive for quotes through the mid)."""
    if cfg.min_depth >= 0:
        return 0.0
    if cfg.fill_shape == "power":
        return -cfg.power_tail * math.log1p(cfg.k * cfg.min_depth / cfg.power_tail)
    return -cfg.k * cfg.min_depth


def _fill_intensity(cfg: Any) -> None:
    """ln(A(1+|flow_skew|) dt) + 8 signal_flow signal_std + ln h(min_depth) <= 700, and
    ln h(min_depth) <= 700 (h = e^(-k d), or the power law): the fill intensity
    A e^(-k delta) dt stays finite for every quote in [min_depth, max_depth]; with
    fill_shape='power', k max(|min_depth|, |max_depth|) / power_tail <= 1e200."""
    if cfg.fill_shape == "power":
        reach = cfg.k * max(abs(cfg.min_depth), abs(cfg.max_depth)) / cfg.power_tail
        if not reach <= 1e200:
            raise ValueError(
                f"k * max(|min_depth|, |max_depth|) / power_tail must be <= 1e200 with "
                f"fill_shape='power' (the power law's argument stays finite), got {reach!r}"
            )
    reach_exp = _reach_exponent(cfg)
    what = (
        "-power_tail ln(1 + k min_depth / power_tail)" if cfg.fill_shape == "power"
        else "k * max(0, -min_depth)"
    )
    if reach_exp > MAX_EXPONENT:
        raise ValueError(
            f"{what} must be <= {_g(MAX_EXPONENT)} (it keeps e^(-k delta) finite for quotes "
            f"through the mid), got {reach_exp!r} (k={cfg.k!r}, min_depth={cfg.min_depth!r})"
        )
    if cfg.counts_arrivals:  # counted arrivals use min(1, h): only h itself must be finite
        return
    rate_dt = cfg.A * (1.0 + abs(cfg.flow_skew)) * cfg.dt
    log_rate = math.log(rate_dt) if rate_dt > 0 else -math.inf
    total = log_rate + SIGMAS * cfg.signal_flow * cfg.signal_std + reach_exp
    if total > MAX_EXPONENT:
        raise ValueError(
            f"ln(A (1+|flow_skew|) dt) + {_g(SIGMAS)} signal_flow signal_std + {what} must be "
            f"<= {_g(MAX_EXPONENT)} (it keeps the fill intensity A e^(-k delta) dt finite), got "
            f"{total!r} (A={cfg.A!r}, dt={cfg.dt!r}, k={cfg.k!r}, min_depth={cfg.min_depth!r})"
        )


def _jump_compensator(cfg: Any) -> None:
    """Under gbm with jumps (no OU): jump_mean + jump_std^2/2 <= 700 (the compensator
    e^(jump_mean + jump_std^2/2) - 1 stays finite)."""
    if cfg.mid_model != "gbm" or cfg.jump_rate == 0 or cfg.ou_rate > 0 or cfg.replay is not None:
        return
    exponent = cfg.jump_mean + 0.5 * cfg.jump_std * cfg.jump_std
    if exponent > MAX_EXPONENT:
        raise ValueError(
            f"jump_mean + jump_std^2/2 must be <= {_g(MAX_EXPONENT)} under mid_model='gbm' "
            f"(the jump compensator e^(jump_mean + jump_std^2/2) stays finite), got "
            f"{exponent!r} (jump_mean={cfg.jump_mean!r}, jump_std={cfg.jump_std!r})"
        )


def episode_move(cfg: Any) -> float:
    """A bound of the mid's move over one episode [mid units], at 8 standard deviations of
    each random term and for any policy's fills.

    The diffusion ``|mu - sigma^2/2| T + 8 sigma sqrt(T)`` (abm: ``|mu| T + ...``; OU: its
    standard deviation at ``T``), the jumps (``N`` jumps at 8 standard deviations of their
    Poisson count, each ``N(jump_mean, jump_std^2)``, and their compensator), the adverse
    jumps (a fill each step: binomial at 8 standard deviations) and the alpha signal's
    drift ``a dt`` summed over the steps (a bound of its standard deviation).
    """
    z = SIGMAS
    T, n = cfg.T, cfg.n_steps
    gbm = cfg.mid_model == "gbm"
    if cfg.ou_rate > 0:
        kappa = cfg.ou_rate
        spread = cfg.sigma * math.sqrt(-math.expm1(-2.0 * kappa * T) / (2.0 * kappa))
        move = z * spread
    else:
        drift = cfg.mu - 0.5 * cfg.sigma * cfg.sigma if gbm else cfg.mu
        move = abs(drift) * T + z * cfg.sigma * math.sqrt(T)
    if cfg.jump_rate > 0:
        lam = cfg.jump_rate * T
        count = lam + z * math.sqrt(lam) + z
        move += count * abs(cfg.jump_mean) + z * cfg.jump_std * math.sqrt(count)
        if gbm and cfg.ou_rate == 0:
            move += lam * abs(math.expm1(cfg.jump_mean + 0.5 * cfg.jump_std * cfg.jump_std))
        else:
            move += lam * abs(cfg.jump_mean)
    if cfg.adverse_prob > 0 and cfg.adverse_jump > 0:
        p = cfg.adverse_prob
        move += cfg.adverse_jump * (n * p + z * math.sqrt(n * p * (1.0 - p)))
    if cfg.signal_std > 0:
        # Var(sum of a_i dt over the episode) / signal_std^2, with the signal's one-step
        # autocorrelation phi = e^(-signal_decay dt): at most n dt^2 (1 + phi) / (1 - phi)
        # (and at most T^2, the fully correlated case)
        dt = cfg.dt
        one_minus_phi = -math.expm1(-cfg.signal_decay * dt)
        var = T * T
        if one_minus_phi > 0:
            var = min(var, n * dt * dt * (2.0 - one_minus_phi) / one_minus_phi)
        move += z * cfg.signal_std * math.sqrt(var)
    return move


def _mid_range(cfg: Any) -> None:
    """The mid over an episode at 8 standard deviations (episode_move) stays within
    [1e-100, 1e38] under gbm (S0 e^(+-move)) and [-1e38, 1e38] under abm (S0 +- move),
    from S0 and from ou_mean."""
    if cfg.replay is not None:
        return
    move = episode_move(cfg)
    levels = (cfg.S0, cfg.ou_level)
    names = ["S0", "ou_mean", "sigma", "mu", "T", "n_steps", "ou_rate", "jump_rate",
             "jump_mean", "jump_std", "adverse_prob", "adverse_jump", "signal_std",
             "signal_decay"]
    terms = ", ".join(f"{name}={getattr(cfg, name)!r}" for name in names)
    if cfg.mid_model == "gbm":
        high = math.log(MID_MAX) - math.log(max(levels))
        low = math.log(min(levels)) - math.log(MID_MIN)
        if not move <= min(high, low):
            raise ValueError(
                f"the log-mid's move over an episode at {_g(SIGMAS)} standard deviations "
                f"(|mu - sigma^2/2| T + {_g(SIGMAS)} sigma sqrt(T) + jumps + adverse jumps + "
                f"signal) must be <= {min(high, low):.4g} under mid_model='gbm' from "
                f"S0 and ou_mean (the mid stays within [{_g(MID_MIN)}, {_g(MID_MAX)}]), got "
                f"{move:.4g} ({terms})"
            )
    elif not max(abs(x) for x in levels) + move <= MID_MAX:
        raise ValueError(
            f"|S0| + the mid's move over an episode at {_g(SIGMAS)} standard deviations "
            f"(|mu| T + {_g(SIGMAS)} sigma sqrt(T) + jumps + adverse jumps + signal) must be "
            f"<= {_g(MID_MAX)} under mid_model='abm', got {max(abs(x) for x in levels) + move:.4g}"
            f" ({terms})"
        )


def _tick(cfg: Any) -> None:
    """tick_size is 0 or >= 1e-15 (S0 + max(|min_depth|, |max_depth|)) (replay: its largest
    price instead of S0): a finer grid is below float64 resolution at the price."""
    if cfg.tick_size == 0:
        return
    price = cfg.S0 if cfg.replay is None else float(cfg.replay.values.max())
    scale = max(abs(price), abs(cfg.ou_level)) + max(abs(cfg.min_depth), abs(cfg.max_depth))
    smallest = MIN_RELATIVE_TICK * scale
    if cfg.tick_size < smallest:
        raise ValueError(
            f"tick_size must be 0 or >= {smallest:.4g} = {_g(MIN_RELATIVE_TICK)} (S0 + "
            f"max(|min_depth|, |max_depth|)) (a finer grid is below float64 resolution at "
            f"the price), got {cfg.tick_size!r}"
        )


_CHECKS: tuple[Check, ...] = (
    _inventory_limit,
    _depth_range,
    _mid_params,
    _ou,
    _jumps,
    _replay,
    _signal_dependants,
    _power_fills,
    _counted_arrivals,
    _size_action,
    _step_length,
    _signal_tilt,
    _fill_intensity,
    _jump_compensator,
    _mid_range,
    _tick,
)

#: The rule of each combination check, in the order they run (for the docs).
COMBINATION_RULES: tuple[str, ...] = tuple(
    " ".join((check.__doc__ or "").split("\n\n")[0].split()) for check in _CHECKS
)

