"""Market parameters: one frozen, validated dataclass, built from named presets.

Every quantity is expressed in consistent units: time in trading sessions (``T`` is
one session by default), prices in currency units, intensities per session.
Derived values (``dt``) are properties, never stored fields.

"Mid units" below means the units of ``sigma``: relative (log-price) under ``mid_model="gbm"``,
price units under ``"abm"``; "drift units" means the units of ``mu`` (1/session under gbm,
price/session under abm).

Each field is declared once, with :func:`mm_env.params.param`: its doc, units, type and
allowed range. The generic checker (:func:`mm_env.params.check_fields`), the help texts
(:meth:`MarketConfig.field_docs`) and the reference table ``docs/market_config.md``
(:func:`market_config_markdown`) all read that declaration; the checks of combinations of
fields are in :mod:`mm_env.validation`. The ranges keep the arithmetic of every accepted
config finite: magnitudes are bounded by :data:`MAGNITUDE`, and the combinations that feed an
exponential are bounded in :mod:`mm_env.validation`.

The fields after ``alpha`` are the market components (adverse selection, alpha signal, jumps,
Ornstein-Uhlenbeck and replayed mids, Hawkes arrivals, power-law fills, ticks, fees,
liquidation cost, a size action, observation extras). Every one of them defaults to "off",
and with all of them off the model, its random draws and its floating-point operations are
exactly those of the base model. :attr:`MarketConfig.features` lists the ones that are on.

The named parameter sets are in :mod:`mm_env.presets` (``PRESETS``, :func:`available_presets`).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from mm_env.component_registry import mid_model_names
from mm_env.params import ParamValues, check_fields, markdown_table, param
from mm_env.params import field_docs as _field_docs
from mm_env.presets import PRESETS
from mm_env.presets import available_presets as available_presets
from mm_env.replay import PriceSeries
from mm_env.reward_registry import available_rewards
from mm_env.validation import COMBINATION_RULES, MAX_ARRIVALS_PER_STEP, check_combinations

__all__ = [
    "FILL_MODELS",
    "FILL_SHAPES",
    "MAGNITUDE",
    "MAX_ARRIVALS_PER_STEP",
    "MID_MODELS",
    "OBS_EXTRAS",
    "PRESETS",
    "MarketConfig",
    "UnknownFieldError",
    "available_presets",
    "given_config",
    "market_config_markdown",
    "resolve_config",
]

MID_MODELS = ("gbm", "abm")
FILL_MODELS = ("poisson", "bernoulli")
FILL_SHAPES = ("exponential", "power")
#: Names of the optional observation features (``obs_extras``), appended in the order given.
OBS_EXTRAS = ("signal", "flow_imbalance", "realized_vol")

#: Bound of every magnitude (prices, sizes, rates, penalties, volatilities).
MAGNITUDE = 1e12
_MAGNITUDE_WHY = "it keeps cash, wealth, penalties and the float32 observations finite"
# keyword sets of param(): non-negative, positive and signed magnitudes
_NONNEG: dict[str, Any] = {"low": 0.0, "high": MAGNITUDE, "high_why": _MAGNITUDE_WHY}
_POS: dict[str, Any] = {**_NONNEG, "low_open": True}
_SIGNED: dict[str, Any] = {
    "low": -MAGNITUDE,
    "high": MAGNITUDE,
    "low_why": _MAGNITUDE_WHY,
    "high_why": _MAGNITUDE_WHY,
}


@dataclass(frozen=True)
class MarketConfig:
    """Parameters of the market-making model.

    Build one from a named preset with :meth:`MarketConfig.preset` (``"default"``,
    ``"as2008"``, ``"course"``, ``"penalty"``; with market components ``"adverse"``,
    ``"alpha"``, ``"microstructure"``) and keyword overrides; every value is validated on
    construction and a bad one raises :class:`ValueError` naming the field, the value and what
    is allowed. The fields after ``alpha`` all default to "off"; :attr:`features` lists those
    that are on. ``docs/market_config.md`` lists every field with its units and range.
    """

    mid_model: str = param(
        "gbm",
        choices=mid_model_names,
        doc="mid-price model: 'gbm' (geometric, sigma relative) or 'abm' (arithmetic, sigma in "
        "price units), or a registered mid process (mm_env.register_component); with "
        "ou_rate > 0 mean-reverting, with replay set replayed",
    )
    mid_params: ParamValues = param(  # noqa: RUF009 (param returns a dataclasses.field)
        ParamValues(),
        kind="any",
        doc="parameters of a registered mid process, as its own_params declare (a mapping of "
        "names to numbers); empty for the built-in ones",
        allowed="the names the selected mid process declares, each in its declared range",
    )
    S0: float = param(100.0, doc="initial mid-price", units="price units", **_POS)
    mu: float = param(
        0.0, doc="drift of the mid", units="1/session for gbm, price/session for abm", **_SIGNED
    )
    sigma: float = param(
        0.02,
        doc="volatility of the mid",
        units="1/sqrt(session) relative for gbm, price units/sqrt(session) for abm",
        **_NONNEG,
    )
    T: float = param(
        1.0,
        doc="episode horizon",
        units="sessions",
        low=0.0,
        low_open=True,
        high=1e6,
        high_why="a horizon up to 1e6 sessions keeps the time observation and the "
        "sqrt(T)-scaled moves far inside float32",
    )
    n_steps: int = param(
        200,
        doc="number of decision steps per episode (dt = T / n_steps)",
        low=1,
        high=10**9,
        high_why="step counters stay exact in int64 and float64 arithmetic",
    )
    A: float = param(
        140.0, doc="market-order arrival rate on each side", units="orders/session", **_POS
    )
    k: float = param(
        1.5,
        doc="decay of the fill probability with depth, e^(-k*delta)",
        units="1/price unit",
        **_POS,
    )
    fill_model: str = param(
        "poisson",
        choices=FILL_MODELS,
        doc="per-step fill probability: 'poisson' 1-exp(-A e^(-k d) dt) or 'bernoulli' "
        "min(1, A e^(-k d) dt)",
    )
    order_size: float = param(1.0, doc="quantity of one fill", units="shares", **_POS)
    inventory_limit: float = param(
        math.inf,
        doc="|inventory| bound, >= order_size; a side whose fill would breach it is not quoted",
        units="shares",
        high=MAGNITUDE,
        high_why=_MAGNITUDE_WHY,
        inf_means="no limit",
        allowed=">= order_size and <= 1e12 (MAGNITUDE), or inf (no limit)",
    )
    min_depth: float = param(
        0.0,
        doc="smallest quote depth from the mid; negative quotes through the mid",
        units="price units",
        **_SIGNED,
    )
    max_depth: float = param(
        10.0,
        doc="largest quote depth from the mid, > min_depth",
        units="price units",
        **_SIGNED,
    )
    reward: str = param(
        "pnl",
        choices=available_rewards,
        doc="reward name: 'pnl' or 'inventory_penalty', or one registered with "
        "mm_env.register_reward",
    )
    phi: float = param(
        0.0,
        doc="running inventory penalty of 'inventory_penalty'",
        units="price units/(share^2 session)",
        **_NONNEG,
    )
    alpha: float = param(
        0.0,
        doc="terminal inventory penalty of 'inventory_penalty'",
        units="price units/share^2",
        **_NONNEG,
    )

    # ------------------------------------------------------------ market components
    # mid-price models
    ou_rate: float = param(
        0.0,
        doc="mean-reversion speed kappa of an Ornstein-Uhlenbeck mid (of log S under gbm), "
        "half-life ln2/kappa; 0 = off",
        units="1/session",
        **_NONNEG,
    )
    ou_mean: float | None = param(
        None,
        kind="real",
        doc="level the OU mid reverts to, > 0 under gbm",
        units="price units",
        none_means="S0",
        **_SIGNED,
    )
    jump_rate: float = param(
        0.0,
        doc="rate of exogenous mid-price jumps (compound Poisson); 0 = off",
        units="jumps/session",
        **_NONNEG,
    )
    jump_mean: float = param(
        0.0,
        doc="mean size of one jump",
        units="mid units: log-price under gbm, price units otherwise",
        **_SIGNED,
    )
    jump_std: float = param(
        0.0, doc="standard deviation of one jump's size", units="mid units", **_NONNEG
    )
    replay: PriceSeries | None = param(  # noqa: RUF009 (param returns a dataclasses.field)
        None,
        kind="any",
        doc="replay this mid-price series instead of simulating one, one price per step (a "
        ".csv/.npy path, an array or a PriceSeries); None = off",
        units="price units",
        allowed="None, or a series of at least n_steps + 1 prices in [1e-100, the upper bound "
        "of S0]",
    )
    replay_column: str = param("price", doc="column of the replay CSV file holding the prices")
    replay_random_start: bool = param(
        True,
        doc="replay: start each episode at a uniformly random offset of the series "
        "(False: offset 0)",
    )
    # adverse selection
    adverse_prob: float = param(
        0.0,
        doc="probability that a fill is followed by an adverse mid jump (down after a bid "
        "fill, up after an ask fill); 0 = off",
        low=0.0,
        high=1.0,
    )
    adverse_jump: float = param(
        0.0, doc="size eta of the adverse jump after a fill", units="mid units", **_NONNEG
    )
    # alpha signal
    signal_std: float = param(
        0.0,
        doc="stationary std of the alpha signal, an OU drift added to the mid's; 0 = off",
        units="drift units",
        **_NONNEG,
    )
    signal_decay: float = param(
        10.0, doc="mean-reversion speed of the alpha signal", units="1/session", **_POS
    )
    signal_flow: float = param(
        0.0,
        doc="order-flow tilt by the signal a: buy orders arrive at rate x e^(b a), sell "
        "orders at x e^(-b a)",
        units="1/drift units",
        **_NONNEG,
    )
    signal_obs_noise: float = param(
        0.0,
        doc="std of the noise on the observed signal, redrawn each step (0: observed exactly)",
        units="drift units",
        **_NONNEG,
    )
    # order flow
    hawkes_branching: float = param(
        0.0,
        doc="branching ratio n of self-exciting (Hawkes) market-order arrivals per side; "
        "0 = Poisson",
        low=0.0,
        high=1.0,
        high_open=True,
        note="a stationary Hawkes process",
    )
    hawkes_decay: float = param(
        50.0,
        doc="decay rate of the Hawkes kernel n*kappa*e^(-kappa s)",
        units="1/session",
        **_POS,
    )
    flow_skew: float = param(
        0.0,
        doc="asymmetry of the arrival rates: buy orders (lifting the ask) at A(1+rho), "
        "sell orders (hitting the bid) at A(1-rho)",
        low=-1.0,
        high=1.0,
        low_open=True,
        high_open=True,
    )
    fill_shape: str = param(
        "exponential",
        choices=FILL_SHAPES,
        doc="probability that a market order reaches depth d: 'exponential' e^(-k d) or "
        "'power' (1 + k d / power_tail)^(-power_tail)",
    )
    power_tail: float = param(
        3.0,
        doc="tail exponent of fill_shape='power' (dimensionless)",
        low=0.0,
        low_open=True,
        high=1e6,
        high_why="beyond 1e6 the power law is the exponential to float precision, "
        "and k d / power_tail stays finite",
    )
    # frictions
    tick_size: float = param(
        0.0,
        doc="price grid; quotes are snapped to it away from the mid (bid down, ask up); "
        "0 = continuous prices",
        units="price units",
        **_NONNEG,
    )
    maker_fee: float = param(
        0.0,
        doc="fee paid per share filled; negative = a maker rebate; 0 = off",
        units="price units/share",
        **_SIGNED,
    )
    liquidation_impact: float = param(
        0.0,
        doc="slope lambda of the linear book the terminal inventory is liquidated into, "
        "cost lambda q_T^2 / 2; 0 = off",
        units="price units/share",
        **_NONNEG,
    )
    size_action: bool = param(
        False,
        doc="add a third action component: the quote size in [order_size, "
        "max_order_size] shares, for both sides",
    )
    max_order_size: float = param(
        5.0, doc="largest quote size of the size action, > order_size", units="shares", **_POS
    )
    # observation
    obs_extras: tuple[str, ...] = param(
        (),
        choices=OBS_EXTRAS,
        doc="features appended to the observation: 'signal' (observed alpha), "
        "'flow_imbalance' (in [-1, 1]), 'realized_vol' (mid units/sqrt(session))",
    )
    obs_halflife: float = param(
        0.05,
        doc="half-life of the flow-imbalance and realised-volatility averages",
        units="sessions",
        **_POS,
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

    @property
    def counts_arrivals(self) -> bool:
        """Whether market orders are counted each step (Hawkes arrivals or 'flow_imbalance')."""
        return self.hawkes_branching > 0 or "flow_imbalance" in self.obs_extras

    @property
    def ou_level(self) -> float:
        """The level the OU mid reverts to [price units]: ``ou_mean``, or ``S0`` if None."""
        return self.S0 if self.ou_mean is None else self.ou_mean

    @property
    def features(self) -> tuple[str, ...]:
        """Names of the market components that are on (empty: the base model).

        ``"ou"``, ``"jumps"``, ``"replay"``, ``"adverse_selection"``, ``"signal"``,
        ``"signal_flow"``, ``"hawkes"``, ``"flow_skew"``, ``"power_fills"``, ``"tick"``,
        ``"fees"``, ``"liquidation"``, ``"size_action"``, ``"obs_extras"``.
        """
        on = {
            "ou": self.ou_rate > 0,
            "jumps": self.jump_rate > 0,
            "replay": self.replay is not None,
            "adverse_selection": self.adverse_prob > 0 and self.adverse_jump > 0,
            "signal": self.signal_std > 0,
            "signal_flow": self.signal_flow > 0,
            "hawkes": self.hawkes_branching > 0,
            "flow_skew": self.flow_skew != 0,
            "power_fills": self.fill_shape == "power",
            "tick": self.tick_size > 0,
            "fees": self.maker_fee != 0,
            "liquidation": self.liquidation_impact > 0,
            "size_action": self.size_action,
            "obs_extras": bool(self.obs_extras),
        }
        return tuple(name for name, flag in on.items() if flag)

    # --------------------------------------------------------------- validation
    def __post_init__(self) -> None:
        check_fields(self)  # each field: its declared type and range
        check_combinations(self)  # combinations of fields (mm_env.validation)

    # ------------------------------------------------------------------ presets
    @classmethod
    def preset(cls, name: str = "default", **overrides: Any) -> MarketConfig:
        """The named preset with keyword overrides applied, validated.

        >>> MarketConfig.preset("as2008", sigma=1.0).sigma
        1.0
        """
        if not isinstance(name, str) or name not in PRESETS:
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
        out = dataclasses.asdict(self)
        out["mid_params"] = dict(self.mid_params)
        return out

    @classmethod
    def field_docs(cls) -> dict[str, str]:
        """One line per field for help texts: its doc, units and allowed range."""
        return _field_docs(cls)


def market_config_markdown() -> str:
    """The page ``docs/market_config.md``: every field of :class:`MarketConfig` with its
    default, units, allowed range and doc, then the checks of combinations."""
    return markdown_table(
        MarketConfig,
        title="MarketConfig: every parameter",
        regenerate=REGENERATE_DOCS,
        intro=(
            "Every field of `mm_env.MarketConfig`, read off its declaration in "
            "`mm_env/config.py` (the same declaration the validator and `--help` read). A "
            "value outside its range raises `ValueError` naming the field, the value and the "
            'allowed range. "Mid units" are those of `sigma` (log-price under gbm, price '
            'units under abm), "drift units" those of `mu`. The bounds quoted with a reason '
            "only keep the arithmetic finite; they are far beyond any market of real use."
        ),
        rules=COMBINATION_RULES,
    )


#: The command that rewrites ``docs/market_config.md`` from the declaration.
REGENERATE_DOCS = (
    'python -c "from mm_env.config import market_config_markdown as m; '
    "open('docs/market_config.md', 'w').write(m())\""
)


class _Replaceable(Protocol):
    def replace(self: _Config, **overrides: Any) -> _Config: ...


_Config = TypeVar("_Config", bound=_Replaceable)


def given_config(
    config: _Config | None,
    preset: str | None,
    overrides: Mapping[str, Any],
    config_class: type[_Config],
) -> _Config | None:
    """The ``config`` an env was given, with the keyword ``overrides`` replaced, or None when
    it was given none (it then builds its config from ``preset``). ValueError when both
    ``config`` and ``preset`` are given, or ``config`` is not a ``config_class``: the first
    step of :func:`resolve_config` and of the multi-asset envs' resolution."""
    if config is not None and preset is not None:
        raise ValueError(
            f"give either config or preset, not both (got preset={preset!r}); "
            "pass overrides as keywords instead"
        )
    if config is None:
        return None
    if not isinstance(config, config_class):
        raise ValueError(f"config must be a {config_class.__name__}, got {type(config).__name__}")
    return config.replace(**overrides) if overrides else config


def resolve_config(
    config: MarketConfig | None, preset: str | None, overrides: Mapping[str, Any]
) -> MarketConfig:
    """The config an env is built from: ``config`` or ``preset`` (default ``"default"``), plus overrides."""
    given = given_config(config, preset, overrides, MarketConfig)
    return MarketConfig.preset(preset or "default", **overrides) if given is None else given


class UnknownFieldError(TypeError, ValueError):
    """An override that is not a :class:`MarketConfig` field.

    A ``ValueError`` like every config error, and also the ``TypeError`` Python raises for an
    unexpected keyword argument, so that tools which probe optional keywords (TorchRL's
    ``GymEnv`` passes ``frameskip``) recognise it.
    """


def _check_field_names(values: Mapping[str, Any]) -> None:
    names = {f.name for f in dataclasses.fields(MarketConfig)}
    unknown = sorted(set(values) - names)
    if unknown:
        raise UnknownFieldError(
            f"unknown MarketConfig field(s) {unknown}; valid fields are {sorted(names)} "
            f"(unexpected keyword argument {unknown[0]!r})"
        )
