"""Validation of :class:`~mm_env.config.MarketConfig`: the allowed values of every field.

:func:`validate` runs on construction (``MarketConfig.__post_init__``): it checks each field's
type and range, normalises the accepted forms in place (ints and numpy scalars to float, the
replay source to a :class:`~mm_env.replay.PriceSeries`, a comma-separated ``obs_extras`` string
to a tuple) and checks the combinations of the richer market models (issue #6). A bad value
raises :class:`ValueError` naming the field, the value and what is allowed.
"""

from __future__ import annotations

import math
import numbers
from typing import TYPE_CHECKING

import numpy as np

from mm_env.replay import as_price_series

if TYPE_CHECKING:
    from mm_env.config import MarketConfig

MID_MODELS = ("gbm", "abm")
FILL_MODELS = ("poisson", "bernoulli")
FILL_SHAPES = ("exponential", "power")
#: Names of the optional observation features (``obs_extras``), appended in the order given.
OBS_EXTRAS = ("signal", "flow_imbalance", "realized_vol")
#: Largest expected number of market orders per side and step when arrivals are counted.
MAX_ARRIVALS_PER_STEP = 50.0


def validate(cfg: MarketConfig) -> None:
    """Check every field of ``cfg`` and normalise it in place (``cfg`` is frozen: the
    normalised values are set with ``object.__setattr__``); ValueError on a bad value."""
    _check_choice("mid_model", cfg.mid_model, MID_MODELS)
    _check_choice("fill_model", cfg.fill_model, FILL_MODELS)
    from mm_env.rewards import available_rewards  # local: rewards imports config

    _check_choice("reward", cfg.reward, available_rewards())
    if (
        isinstance(cfg.n_steps, bool)
        or not isinstance(cfg.n_steps, numbers.Integral)
        or cfg.n_steps < 1
    ):
        raise ValueError(f"n_steps must be an integer >= 1, got {cfg.n_steps!r}")
    object.__setattr__(cfg, "n_steps", int(cfg.n_steps))
    for name in (
        "S0",
        "mu",
        "sigma",
        "T",
        "A",
        "k",
        "order_size",
        "inventory_limit",
        "min_depth",
        "max_depth",
        "phi",
        "alpha",
    ):
        value = getattr(cfg, name)
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise ValueError(f"{name} must be a real number, got {value!r}")
        value = float(value)
        if name == "inventory_limit" and math.isnan(value):
            raise ValueError(
                f"inventory_limit must be a number or inf (no limit), got {value!r}"
            )
        if math.isnan(value) or (math.isinf(value) and name != "inventory_limit"):
            raise ValueError(f"{name} must be finite, got {value!r}")
        object.__setattr__(cfg, name, float(value))
    _check_positive("S0", cfg.S0)
    _check_positive("T", cfg.T)
    _check_positive("A", cfg.A)
    _check_positive("k", cfg.k)
    _check_positive("order_size", cfg.order_size)
    for name in ("sigma", "phi", "alpha"):
        if getattr(cfg, name) < 0:
            raise ValueError(f"{name} must be >= 0, got {getattr(cfg, name)!r}")
    if not cfg.inventory_limit >= cfg.order_size:
        raise ValueError(
            f"inventory_limit must be >= order_size ({cfg.order_size!r}) or inf for no "
            f"limit, got {cfg.inventory_limit!r}"
        )
    if not cfg.max_depth > cfg.min_depth:
        raise ValueError(
            f"max_depth must be > min_depth ({cfg.min_depth!r}), got {cfg.max_depth!r}"
        )
    _validate_extensions(cfg)


def _validate_extensions(cfg: MarketConfig) -> None:
    """Validation of the issue #6 fields (all off by default)."""
    _check_choice("fill_shape", cfg.fill_shape, FILL_SHAPES)
    for name in _EXT_FLOAT_FIELDS:
        object.__setattr__(cfg, name, _real(name, getattr(cfg, name)))
    if cfg.ou_mean is not None:
        object.__setattr__(cfg, "ou_mean", _real("ou_mean", cfg.ou_mean))
    for name in ("replay_random_start", "size_action"):
        if not isinstance(getattr(cfg, name), (bool, np.bool_)):
            raise ValueError(f"{name} must be True or False, got {getattr(cfg, name)!r}")
        object.__setattr__(cfg, name, bool(getattr(cfg, name)))
    for name in ("ou_rate", "jump_rate", "jump_std", "adverse_jump", "signal_std",
                 "signal_flow", "signal_obs_noise", "tick_size", "liquidation_impact"):
        if getattr(cfg, name) < 0:
            raise ValueError(f"{name} must be >= 0, got {getattr(cfg, name)!r}")
    for name in ("signal_decay", "hawkes_decay", "power_tail", "obs_halflife",
                 "max_order_size"):
        _check_positive(name, getattr(cfg, name))
    if not 0.0 <= cfg.adverse_prob <= 1.0:
        raise ValueError(f"adverse_prob must be in [0, 1], got {cfg.adverse_prob!r}")
    if not 0.0 <= cfg.hawkes_branching < 1.0:
        raise ValueError(
            f"hawkes_branching must be in [0, 1) (a stationary Hawkes process), "
            f"got {cfg.hawkes_branching!r}"
        )
    if not -1.0 < cfg.flow_skew < 1.0:
        raise ValueError(f"flow_skew must be in (-1, 1), got {cfg.flow_skew!r}")
    # mid-price models
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
    if cfg.jump_rate > 0 and cfg.jump_std == 0 and cfg.jump_mean == 0:
        raise ValueError(
            "jump_rate > 0 needs jump_std > 0 or jump_mean != 0 (jumps of size 0), got "
            f"jump_std={cfg.jump_std!r}, jump_mean={cfg.jump_mean!r}"
        )
    if not isinstance(cfg.replay_column, str) or not cfg.replay_column:
        raise ValueError(f"replay_column must be a non-empty string, got {cfg.replay_column!r}")
    if cfg.replay is not None:
        series = as_price_series(cfg.replay, cfg.replay_column)
        object.__setattr__(cfg, "replay", series)
        if len(series) < cfg.n_steps + 1:
            raise ValueError(
                f"replay series too short for the episode: n_steps + 1 = {cfg.n_steps + 1} "
                f"prices are needed, got {len(series)} ({series!r})"
            )
        for name, off in (("ou_rate", 0.0), ("jump_rate", 0.0), ("adverse_prob", 0.0),
                          ("signal_std", 0.0), ("mu", 0.0)):
            if getattr(cfg, name) != off:
                raise ValueError(
                    f"{name} must be {off} with a replayed mid (the replayed series is the "
                    f"mid, nothing can move it), got {getattr(cfg, name)!r}"
                )
    # alpha signal
    if cfg.signal_std == 0:
        for name in ("signal_flow", "signal_obs_noise"):
            if getattr(cfg, name) != 0:
                raise ValueError(
                    f"{name} needs the alpha signal (signal_std > 0), got {name}="
                    f"{getattr(cfg, name)!r}"
                )
    # order flow
    if cfg.fill_shape == "power" and not cfg.min_depth > -cfg.power_tail / cfg.k:
        raise ValueError(
            f"min_depth must be > -power_tail/k ({-cfg.power_tail / cfg.k!r}) with "
            f"fill_shape='power' (the power law is defined there), got {cfg.min_depth!r}"
        )
    extras = cfg.obs_extras
    if isinstance(extras, str):  # "signal,realized_vol" (command lines, TOML)
        extras = tuple(e.strip() for e in extras.split(",") if e.strip())
    if not isinstance(extras, (tuple, list)):
        raise ValueError(
            f"obs_extras must be a tuple of names from {list(OBS_EXTRAS)} (or a "
            f"comma-separated string), got {extras!r}"
        )
    extras = tuple(extras)
    unknown = [e for e in extras if e not in OBS_EXTRAS]
    if unknown or len(set(extras)) != len(extras):
        raise ValueError(
            f"obs_extras must be distinct names from {list(OBS_EXTRAS)}, got {list(extras)!r}"
        )
    object.__setattr__(cfg, "obs_extras", extras)
    if "signal" in extras and cfg.signal_std == 0:
        raise ValueError("obs_extras 'signal' needs the alpha signal (signal_std > 0)")
    if cfg.counts_arrivals:
        if cfg.fill_model != "poisson":
            raise ValueError(
                "Hawkes arrivals and the 'flow_imbalance' feature simulate market-order "
                "counts, which need fill_model='poisson', got "
                f"fill_model={cfg.fill_model!r}"
            )
        rate = cfg.A * (1 + abs(cfg.flow_skew)) / (1 - cfg.hawkes_branching) * cfg.dt
        if rate > MAX_ARRIVALS_PER_STEP:
            raise ValueError(
                f"expected market orders per step A(1+|flow_skew|)/(1-hawkes_branching)*dt "
                f"must be <= {MAX_ARRIVALS_PER_STEP:g} when arrivals are counted, got {rate!r}"
            )
    if cfg.size_action and not cfg.max_order_size > cfg.order_size:
        raise ValueError(
            f"max_order_size must be > order_size ({cfg.order_size!r}) with "
            f"size_action=True, got {cfg.max_order_size!r}"
        )


_EXT_FLOAT_FIELDS = (
    "ou_rate", "jump_rate", "jump_mean", "jump_std", "adverse_prob", "adverse_jump",
    "signal_std", "signal_decay", "signal_flow", "signal_obs_noise", "hawkes_branching",
    "hawkes_decay", "flow_skew", "power_tail", "tick_size", "maker_fee", "liquidation_impact",
    "max_order_size", "obs_halflife",
)


def _real(name: str, value: object) -> float:
    """``value`` as a finite float, or ValueError naming the field."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a real number, got {value!r}")
    x = float(value)
    if not math.isfinite(x):
        raise ValueError(f"{name} must be finite, got {x!r}")
    return x


def _check_choice(name: str, value: object, allowed: tuple[str, ...] | list[str]) -> None:
    if value not in allowed:
        raise ValueError(f"{name} must be one of {list(allowed)}, got {value!r}")


def _check_positive(name: str, value: float) -> None:
    if not value > 0:
        raise ValueError(f"{name} must be > 0, got {value!r}")
