"""Market parameters: one frozen, validated dataclass and the named presets.

Every quantity is expressed in consistent units: time in trading sessions (``T`` is
one session by default), prices in currency units, intensities per session.
Derived values (``dt``) are properties, never stored fields.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

MID_MODELS = ("gbm", "abm")
FILL_MODELS = ("poisson", "bernoulli")


@dataclass(frozen=True)
class MarketConfig:
    """Parameters of the market-making model.

    Build one from a named preset with :meth:`MarketConfig.preset` (``"default"``,
    ``"as2008"``, ``"course"``, ...) and keyword overrides; every value is validated
    on construction and a bad one raises :class:`ValueError` naming the field, the
    value and what is allowed.
    """

    mid_model: str = field(
        default="gbm",
        metadata={
            "doc": "mid-price model: 'gbm' (geometric, sigma relative) or 'abm' (arithmetic, sigma in price units)"
        },
    )
    S0: float = field(default=100.0, metadata={"doc": "initial mid-price [price units], > 0"})
    mu: float = field(
        default=0.0,
        metadata={"doc": "drift per session [1/session for gbm, price/session for abm]"},
    )
    sigma: float = field(
        default=0.02,
        metadata={
            "doc": "volatility per sqrt(session) [relative for gbm, price units for abm], >= 0"
        },
    )
    T: float = field(default=1.0, metadata={"doc": "episode horizon [sessions], > 0"})
    n_steps: int = field(
        default=200,
        metadata={"doc": "number of decision steps per episode, >= 1 (dt = T / n_steps)"},
    )
    A: float = field(
        default=140.0,
        metadata={"doc": "market-order arrival rate on each side [orders/session], > 0"},
    )
    k: float = field(
        default=1.5,
        metadata={
            "doc": "decay of the fill probability with depth, e^(-k*delta) [1/price unit], > 0"
        },
    )
    fill_model: str = field(
        default="poisson",
        metadata={
            "doc": "per-step fill probability: 'poisson' 1-exp(-A e^(-k d) dt) or 'bernoulli' min(1, A e^(-k d) dt)"
        },
    )
    order_size: float = field(default=1.0, metadata={"doc": "quantity of one fill [shares], > 0"})
    inventory_limit: float = field(
        default=math.inf,
        metadata={
            "doc": "|inventory| bound [shares], >= order_size; a side whose fill would breach it is not quoted; inf = unbounded"
        },
    )
    min_depth: float = field(
        default=0.0,
        metadata={
            "doc": "smallest quote depth from the mid [price units]; negative quotes through the mid"
        },
    )
    max_depth: float = field(
        default=10.0,
        metadata={"doc": "largest quote depth from the mid [price units], > min_depth"},
    )
    reward: str = field(
        default="pnl",
        metadata={"doc": "reward name: 'pnl' or 'inventory_penalty' (see mm_env.rewards)"},
    )
    phi: float = field(
        default=0.0,
        metadata={
            "doc": "running inventory penalty of 'inventory_penalty' [price units/(share^2 session)], >= 0"
        },
    )
    alpha: float = field(
        default=0.0,
        metadata={
            "doc": "terminal inventory penalty of 'inventory_penalty' [price units/share^2], >= 0"
        },
    )

    # ------------------------------------------------------------------ derived
    @property
    def dt(self) -> float:
        """Length of one step [sessions]: ``T / n_steps``."""
        return self.T / self.n_steps

    @property
    def price_sigma(self) -> float:
        """Absolute volatility at the initial price [price units / sqrt(session)].

        ``sigma * S0`` under GBM, ``sigma`` under arithmetic Brownian motion.
        """
        return self.sigma * self.S0 if self.mid_model == "gbm" else self.sigma

    # --------------------------------------------------------------- validation
    def __post_init__(self) -> None:
        _check_choice("mid_model", self.mid_model, MID_MODELS)
        _check_choice("fill_model", self.fill_model, FILL_MODELS)
        from mm_env.rewards import available_rewards  # local: rewards imports config

        _check_choice("reward", self.reward, available_rewards())
        if (
            isinstance(self.n_steps, bool)
            or not isinstance(self.n_steps, numbers.Integral)
            or self.n_steps < 1
        ):
            raise ValueError(f"n_steps must be an integer >= 1, got {self.n_steps!r}")
        object.__setattr__(self, "n_steps", int(self.n_steps))
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
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, numbers.Real):
                raise ValueError(f"{name} must be a real number, got {value!r}")
            value = float(value)
            if name == "inventory_limit" and math.isnan(value):
                raise ValueError(
                    f"inventory_limit must be a number or inf (no limit), got {value!r}"
                )
            if math.isnan(value) or (math.isinf(value) and name != "inventory_limit"):
                raise ValueError(f"{name} must be finite, got {value!r}")
            object.__setattr__(self, name, float(value))
        _check_positive("S0", self.S0)
        _check_positive("T", self.T)
        _check_positive("A", self.A)
        _check_positive("k", self.k)
        _check_positive("order_size", self.order_size)
        for name in ("sigma", "phi", "alpha"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)!r}")
        if not self.inventory_limit >= self.order_size:
            raise ValueError(
                f"inventory_limit must be >= order_size ({self.order_size!r}) or inf for no "
                f"limit, got {self.inventory_limit!r}"
            )
        if not self.max_depth > self.min_depth:
            raise ValueError(
                f"max_depth must be > min_depth ({self.min_depth!r}), got {self.max_depth!r}"
            )

    # ------------------------------------------------------------------ presets
    @classmethod
    def preset(cls, name: str = "default", **overrides: Any) -> MarketConfig:
        """The named preset with keyword overrides applied, validated.

        >>> MarketConfig.preset("as2008", sigma=1.0).sigma
        1.0
        """
        if name not in PRESETS:
            raise ValueError(f"preset must be one of {sorted(PRESETS)}, got {name!r}")
        return cls.from_dict({**PRESETS[name], **overrides})

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> MarketConfig:
        """Build a config from a mapping of field names (unknown names are an error)."""
        _check_field_names(values)
        return cls(**values)

    def replace(self, **overrides: Any) -> MarketConfig:
        """A copy with some fields changed, validated like a new config."""
        _check_field_names(overrides)
        return dataclasses.replace(self, **overrides)

    def to_dict(self) -> dict[str, Any]:
        """The fields as a plain dict (round-trips through :meth:`from_dict`)."""
        return dataclasses.asdict(self)

    @classmethod
    def field_docs(cls) -> dict[str, str]:
        """One line of documentation (with units) per field, for help texts."""
        return {f.name: f.metadata.get("doc", "") for f in dataclasses.fields(cls)}


#: Named parameter sets. Each is a dict of field overrides on the class defaults.
PRESETS: dict[str, dict[str, Any]] = {
    # GBM with sigma = 2% per session, i.e. about 2 price units at S0 = 100: the AS 2008
    # scale with a geometric mid and the course notebook's Poisson fill formula.
    "default": {},
    # Avellaneda & Stoikov (2008), section 4: S0 = 100, T = 1, sigma = 2, dt = 0.005,
    # A = 140, k = 1.5, arithmetic Brownian mid, fill probability A e^(-k d) dt,
    # unbounded inventory, quotes allowed through the mid.
    "as2008": {
        "mid_model": "abm",
        "sigma": 2.0,
        "n_steps": 200,
        "fill_model": "bernoulli",
        "inventory_limit": math.inf,
        "min_depth": -10.0,
        "max_depth": 10.0,
    },
    # The training task: the AS 2008 market (arithmetic mid, sigma = 2, dt = 0.005, A = 140,
    # k = 1.5, bernoulli fills) with the Cartea-Jaimungal inventory penalty phi = alpha = 0.1
    # and inventory limit 20, where the optimal and the naive (1/k) policy clearly differ.
    "penalty": {
        "mid_model": "abm",
        "sigma": 2.0,
        "n_steps": 200,
        "fill_model": "bernoulli",
        "inventory_limit": 20.0,
        "min_depth": -10.0,
        "max_depth": 10.0,
        "reward": "inventory_penalty",
        "phi": 0.1,
        "alpha": 0.1,
    },
    # The course notebook made consistent: one-minute steps over a 390-minute session,
    # a 20% annual volatility expressed per session (0.2 / sqrt(252)), inventory limit 10,
    # quotes never closer than 0.01 to the mid.
    "course": {
        "sigma": 0.2 / math.sqrt(252.0),
        "n_steps": 390,
        "inventory_limit": 10.0,
        "min_depth": 0.01,
    },
}


def available_presets() -> list[str]:
    """Names accepted by :meth:`MarketConfig.preset`."""
    return sorted(PRESETS)


def resolve_config(
    config: MarketConfig | None, preset: str | None, overrides: Mapping[str, Any]
) -> MarketConfig:
    """The config an env is built from: ``config`` or ``preset`` (default ``"default"``), plus overrides."""
    if config is not None and preset is not None:
        raise ValueError(
            f"give either config or preset, not both (got preset={preset!r}); "
            "pass overrides as keywords instead"
        )
    if config is not None:
        if not isinstance(config, MarketConfig):
            raise ValueError(f"config must be a MarketConfig, got {type(config).__name__}")
        return config.replace(**overrides) if overrides else config
    return MarketConfig.preset(preset or "default", **overrides)


def _check_field_names(values: Mapping[str, Any]) -> None:
    names = {f.name for f in dataclasses.fields(MarketConfig)}
    unknown = sorted(set(values) - names)
    if unknown:
        raise ValueError(
            f"unknown MarketConfig field(s) {unknown}; valid fields are {sorted(names)}"
        )


def _check_choice(name: str, value: object, allowed: tuple[str, ...] | list[str]) -> None:
    if value not in allowed:
        raise ValueError(f"{name} must be one of {list(allowed)}, got {value!r}")


def _check_positive(name: str, value: float) -> None:
    if not value > 0:
        raise ValueError(f"{name} must be > 0, got {value!r}")
