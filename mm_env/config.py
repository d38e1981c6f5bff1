"""Market parameters: one frozen, validated dataclass and the named presets.

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
that are on; their equations are in :mod:`mm_env.dynamics`.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mm_env.replay import PriceSeries, as_price_series

MID_MODELS = ("gbm", "abm")
FILL_MODELS = ("poisson", "bernoulli")
FILL_SHAPES = ("exponential", "power")
#: Names of the optional observation features (``obs_extras``), appended in the order given.
OBS_EXTRAS = ("signal", "flow_imbalance", "realized_vol")
#: Largest expected number of market orders per side and step when arrivals are counted.
MAX_ARRIVALS_PER_STEP = 50.0


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
        self._validate_extensions()

    def _validate_extensions(self) -> None:
        """Validation of the issue #6 fields (all off by default)."""
        _check_choice("fill_shape", self.fill_shape, FILL_SHAPES)
        for name in _EXT_FLOAT_FIELDS:
            object.__setattr__(self, name, _real(name, getattr(self, name)))
        if self.ou_mean is not None:
            object.__setattr__(self, "ou_mean", _real("ou_mean", self.ou_mean))
        for name in ("replay_random_start", "size_action"):
            if not isinstance(getattr(self, name), (bool, np.bool_)):
                raise ValueError(f"{name} must be True or False, got {getattr(self, name)!r}")
            object.__setattr__(self, name, bool(getattr(self, name)))
        for name in ("ou_rate", "jump_rate", "jump_std", "adverse_jump", "signal_std",
                     "signal_flow", "signal_obs_noise", "tick_size", "liquidation_impact"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)!r}")
        for name in ("signal_decay", "hawkes_decay", "power_tail", "obs_halflife",
                     "max_order_size"):
            _check_positive(name, getattr(self, name))
        if not 0.0 <= self.adverse_prob <= 1.0:
            raise ValueError(f"adverse_prob must be in [0, 1], got {self.adverse_prob!r}")
        if not 0.0 <= self.hawkes_branching < 1.0:
            raise ValueError(
                f"hawkes_branching must be in [0, 1) (a stationary Hawkes process), "
                f"got {self.hawkes_branching!r}"
            )
        if not -1.0 < self.flow_skew < 1.0:
            raise ValueError(f"flow_skew must be in (-1, 1), got {self.flow_skew!r}")
        # mid-price models
        if self.ou_rate > 0:
            if self.mu != 0:
                raise ValueError(
                    f"mu must be 0 when ou_rate > 0 (the OU mid reverts to ou_mean), got {self.mu!r}"
                )
            if self.mid_model == "gbm" and self.ou_mean is not None and not self.ou_mean > 0:
                raise ValueError(
                    f"ou_mean must be > 0 under mid_model='gbm' (log S reverts to log ou_mean), "
                    f"got {self.ou_mean!r}"
                )
        elif self.ou_mean is not None:
            raise ValueError(f"ou_mean needs ou_rate > 0 (the OU mid), got ou_mean={self.ou_mean!r}")
        if self.jump_rate > 0 and self.jump_std == 0 and self.jump_mean == 0:
            raise ValueError(
                "jump_rate > 0 needs jump_std > 0 or jump_mean != 0 (jumps of size 0), got "
                f"jump_std={self.jump_std!r}, jump_mean={self.jump_mean!r}"
            )
        if not isinstance(self.replay_column, str) or not self.replay_column:
            raise ValueError(f"replay_column must be a non-empty string, got {self.replay_column!r}")
        if self.replay is not None:
            series = as_price_series(self.replay, self.replay_column)
            object.__setattr__(self, "replay", series)
            if len(series) < self.n_steps + 1:
                raise ValueError(
                    f"replay series too short for the episode: n_steps + 1 = {self.n_steps + 1} "
                    f"prices are needed, got {len(series)} ({series!r})"
                )
            for name, off in (("ou_rate", 0.0), ("jump_rate", 0.0), ("adverse_prob", 0.0),
                              ("signal_std", 0.0), ("mu", 0.0)):
                if getattr(self, name) != off:
                    raise ValueError(
                        f"{name} must be {off} with a replayed mid (the replayed series is the "
                        f"mid, nothing can move it), got {getattr(self, name)!r}"
                    )
        # alpha signal
        if self.signal_std == 0:
            for name in ("signal_flow", "signal_obs_noise"):
                if getattr(self, name) != 0:
                    raise ValueError(
                        f"{name} needs the alpha signal (signal_std > 0), got {name}="
                        f"{getattr(self, name)!r}"
                    )
        # order flow
        if self.fill_shape == "power" and not self.min_depth > -self.power_tail / self.k:
            raise ValueError(
                f"min_depth must be > -power_tail/k ({-self.power_tail / self.k!r}) with "
                f"fill_shape='power' (the power law is defined there), got {self.min_depth!r}"
            )
        extras = self.obs_extras
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
        object.__setattr__(self, "obs_extras", extras)
        if "signal" in extras and self.signal_std == 0:
            raise ValueError("obs_extras 'signal' needs the alpha signal (signal_std > 0)")
        if self.counts_arrivals:
            if self.fill_model != "poisson":
                raise ValueError(
                    "Hawkes arrivals and the 'flow_imbalance' feature simulate market-order "
                    "counts, which need fill_model='poisson', got "
                    f"fill_model={self.fill_model!r}"
                )
            rate = self.A * (1 + abs(self.flow_skew)) / (1 - self.hawkes_branching) * self.dt
            if rate > MAX_ARRIVALS_PER_STEP:
                raise ValueError(
                    f"expected market orders per step A(1+|flow_skew|)/(1-hawkes_branching)*dt "
                    f"must be <= {MAX_ARRIVALS_PER_STEP:g} when arrivals are counted, got {rate!r}"
                )
        if self.size_action and not self.max_order_size > self.order_size:
            raise ValueError(
                f"max_order_size must be > order_size ({self.order_size!r}) with "
                f"size_action=True, got {self.max_order_size!r}"
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


# The common base of the issue #6 presets: the AS 2008 market with poisson fills, no quotes
# through the mid, a bounded inventory and the PnL reward.
_AS_SCALE: dict[str, Any] = {
    "mid_model": "abm",
    "sigma": 2.0,
    "n_steps": 200,
    "fill_model": "poisson",
    "inventory_limit": 20.0,
    "min_depth": 0.0,
    "max_depth": 10.0,
}

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
    # ----- richer markets (issue #6), all on the AS 2008 scale: arithmetic mid, sigma = 2,
    # dt = 0.005, A = 140, k = 1.5, poisson fills, depths in [0, 10], inventory limit 20, pnl.
    # Toxic flow: half of the fills are followed by an adverse mid jump of 1.5, an expected
    # adverse move of 0.75 per fill, about the risk-neutral half-spread 1/k. AS (any gamma)
    # quotes too tight; the model-aware depth is about 1/k + p*eta.
    "adverse": {
        **_AS_SCALE,
        "adverse_prob": 0.5,
        "adverse_jump": 1.5,
    },
    # A short-term alpha: an OU drift a (stationary std 10 price/session, decay 10/session, so
    # E[remaining move] = a/10, std 1 price unit) moves the mid and tilts the order flow
    # (buyers at A e^(0.05 a), sellers at A e^(-0.05 a)); the agent observes a exactly as the
    # 4th observation component. AS ignores it; centring the quotes on S + a*h does not.
    "alpha": {
        **_AS_SCALE,
        "signal_std": 10.0,
        "signal_decay": 10.0,
        "signal_flow": 0.05,
        "obs_extras": ("signal",),
    },
    # Market microstructure without information: self-exciting order flow (Hawkes, branching
    # ratio 0.5, kernel decay 50/session), rare exogenous jumps (2/session, std 1.5), a tick of
    # 0.1, a maker rebate of 0.02 per share, a liquidation cost 0.05 q^2/2 at the end; the
    # order-flow imbalance and realised volatility are observed.
    "microstructure": {
        **_AS_SCALE,
        "hawkes_branching": 0.5,
        "hawkes_decay": 50.0,
        "jump_rate": 2.0,
        "jump_std": 1.5,
        "tick_size": 0.1,
        "maker_fee": -0.02,
        "liquidation_impact": 0.05,
        "obs_extras": ("flow_imbalance", "realized_vol"),
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
