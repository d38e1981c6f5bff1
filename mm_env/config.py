"""Market parameters: one frozen, validated dataclass, built from named presets.

Every quantity is expressed in consistent units: time in trading sessions (``T`` is
one session by default), prices in currency units, intensities per session.
Derived values (``dt``) are properties, never stored fields.

"Mid units" below means the units of ``sigma``: relative (log-price) under ``mid_model="gbm"``,
price units under ``"abm"``; "drift units" means the units of ``mu`` (1/session under gbm,
price/session under abm).

The fields after ``alpha`` are the richer market models of issue #6 (adverse selection, alpha
signal, jumps, Ornstein-Uhlenbeck and replayed mids, Hawkes arrivals, power-law fills, ticks,
fees, liquidation cost, a size action, observation extras). Every one of them defaults to
"off", and with all of them off the model, its random draws and its floating-point
operations are exactly those of the base model. :attr:`MarketConfig.features` lists the ones
that are on; their equations are in :mod:`mm_env.rich_dynamics`.

The checks run on construction are in :mod:`mm_env.validation` (with the allowed values,
``OBS_EXTRAS`` among them), the named parameter sets in :mod:`mm_env.presets`; ``PRESETS``,
:func:`available_presets` and those constants remain importable from here.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mm_env.presets import PRESETS
from mm_env.presets import available_presets as available_presets
from mm_env.replay import PriceSeries
from mm_env.validation import FILL_MODELS as FILL_MODELS
from mm_env.validation import FILL_SHAPES as FILL_SHAPES
from mm_env.validation import MAX_ARRIVALS_PER_STEP as MAX_ARRIVALS_PER_STEP
from mm_env.validation import MID_MODELS as MID_MODELS
from mm_env.validation import OBS_EXTRAS as OBS_EXTRAS
from mm_env.validation import validate


@dataclass(frozen=True)
class MarketConfig:
    """Parameters of the market-making model.

    Build one from a named preset with :meth:`MarketConfig.preset` (``"default"``,
    ``"as2008"``, ``"course"``, ``"penalty"``; with richer markets ``"adverse"``, ``"alpha"``,
    ``"microstructure"``) and keyword overrides; every value is validated on construction
    and a bad one raises :class:`ValueError` naming the field, the value and what is allowed.
    The fields after ``alpha`` (issue #6) all default to "off"; :attr:`features` lists those
    that are on.
    """

    mid_model: str = field(
        default="gbm",
        metadata={
            "doc": "mid-price model: 'gbm' (geometric, sigma relative) or 'abm' (arithmetic, sigma in price units); with ou_rate > 0 mean-reverting, with replay set replayed"
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

    # ------------------------------------------------ richer markets (issue #6)
    # mid-price models
    ou_rate: float = field(
        default=0.0,
        metadata={
            "doc": "mean-reversion speed kappa of an Ornstein-Uhlenbeck mid (of log S under gbm) [1/session], >= 0 (half-life ln2/kappa); 0 = off"
        },
    )
    ou_mean: float | None = field(
        default=None,
        metadata={"doc": "level the OU mid reverts to [price units], > 0 under gbm; None = S0"},
    )
    jump_rate: float = field(
        default=0.0,
        metadata={"doc": "rate of exogenous mid-price jumps (compound Poisson) [jumps/session], >= 0; 0 = off"},
    )
    jump_mean: float = field(
        default=0.0,
        metadata={"doc": "mean size of one jump [mid units: log-price under gbm, price units otherwise]"},
    )
    jump_std: float = field(
        default=0.0,
        metadata={"doc": "standard deviation of one jump's size [mid units], >= 0"},
    )
    replay: PriceSeries | None = field(
        default=None,
        metadata={
            "doc": "replay this mid-price series instead of simulating one, one price per step [price units] (a .csv/.npy path, an array or a PriceSeries), at least n_steps + 1 prices; None = off"
        },
    )
    replay_column: str = field(
        default="price", metadata={"doc": "column of the replay CSV file holding the prices"}
    )
    replay_random_start: bool = field(
        default=True,
        metadata={
            "doc": "replay: start each episode at a uniformly random offset of the series (False: offset 0)"
        },
    )
    # adverse selection
    adverse_prob: float = field(
        default=0.0,
        metadata={
            "doc": "probability that a fill is followed by an adverse mid jump (down after a bid fill, up after an ask fill), in [0, 1]; 0 = off"
        },
    )
    adverse_jump: float = field(
        default=0.0,
        metadata={"doc": "size eta of the adverse jump after a fill [mid units], >= 0"},
    )
    signal_std: float = field(
        default=0.0,
        metadata={
            "doc": "stationary std of the alpha signal, an OU drift added to the mid's [drift units], >= 0; 0 = off"
        },
    )
    signal_decay: float = field(
        default=10.0,
        metadata={"doc": "mean-reversion speed of the alpha signal [1/session], > 0"},
    )
    signal_flow: float = field(
        default=0.0,
        metadata={
            "doc": "order-flow tilt by the signal: buy orders arrive at rate x e^(b a), sell orders at x e^(-b a) [1/drift units], >= 0"
        },
    )
    signal_obs_noise: float = field(
        default=0.0,
        metadata={
            "doc": "std of the noise on the observed signal, redrawn each step [drift units], >= 0 (0: observed exactly)"
        },
    )
    # order flow
    hawkes_branching: float = field(
        default=0.0,
        metadata={
            "doc": "branching ratio n of self-exciting (Hawkes) market-order arrivals per side, in [0, 1); 0 = Poisson"
        },
    )
    hawkes_decay: float = field(
        default=50.0,
        metadata={"doc": "decay rate of the Hawkes kernel n*kappa*e^(-kappa s) [1/session], > 0"},
    )
    flow_skew: float = field(
        default=0.0,
        metadata={
            "doc": "asymmetry of the arrival rates: buy orders (lifting the ask) at A(1+rho), sell orders (hitting the bid) at A(1-rho), in (-1, 1)"
        },
    )
    fill_shape: str = field(
        default="exponential",
        metadata={
            "doc": "probability that a market order reaches depth d: 'exponential' e^(-k d) or 'power' (1 + k d / power_tail)^(-power_tail)"
        },
    )
    power_tail: float = field(
        default=3.0,
        metadata={"doc": "tail exponent of fill_shape='power' (dimensionless), > 0"},
    )
    # frictions
    tick_size: float = field(
        default=0.0,
        metadata={
            "doc": "price grid [price units], >= 0; quotes are snapped to it away from the mid (bid down, ask up); 0 = continuous prices"
        },
    )
    maker_fee: float = field(
        default=0.0,
        metadata={
            "doc": "fee paid per share filled [price units/share]; negative = a maker rebate; 0 = off"
        },
    )
    liquidation_impact: float = field(
        default=0.0,
        metadata={
            "doc": "slope lambda of the linear book the terminal inventory is liquidated into [price units/share], >= 0; cost lambda q_T^2 / 2; 0 = off"
        },
    )
    size_action: bool = field(
        default=False,
        metadata={
            "doc": "add a third action component: the quote size [shares] in [order_size, max_order_size], for both sides"
        },
    )
    max_order_size: float = field(
        default=5.0,
        metadata={"doc": "largest quote size of the size action [shares], > order_size"},
    )
    # observation
    obs_extras: tuple[str, ...] = field(
        default=(),
        metadata={
            "doc": "features appended to the observation (tuple or comma-separated string), any of 'signal' (observed alpha), 'flow_imbalance' (in [-1, 1]), 'realized_vol' (mid units/sqrt(session))"
        },
    )
    obs_halflife: float = field(
        default=0.05,
        metadata={"doc": "half-life of the flow-imbalance and realised-volatility averages [sessions], > 0"},
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
        """Names of the issue #6 features that are on (empty: the base model).

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
        validate(self)

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
