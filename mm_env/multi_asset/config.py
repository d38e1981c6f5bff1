"""Parameters of the multi-asset market: one frozen, validated dataclass.

``n_assets`` correlated mids, one market maker quoting a bid and an ask on each. The shared
scalars (horizon, steps, mid and fill models, reward) are those of
:class:`mm_env.MarketConfig`; every per-asset field is a tuple of ``n_assets`` floats (a
scalar given is broadcast to every asset) whose entries obey the declaration of the
single-asset field of the same name; the correlation ``rho`` and the penalty matrices ``phi``
and ``alpha`` are ``n_assets x n_assets`` tuples of tuples.

Validation reuses the single-asset rules: each entry is checked against the
:class:`~mm_env.MarketConfig` field's declared range (:mod:`mm_env.params`), then the market
of each asset, :meth:`MultiAssetConfig.asset`, is built, which runs every combination check
of :mod:`mm_env.validation` on it (depth range, inventory limit, finite fill intensity, the
mid's range over an episode, the tick); an error names the field (and the asset). The
matrices must be finite, symmetric and positive semi-definite, ``rho`` with a unit diagonal.

``n_assets = 1`` is the single-asset model: :meth:`MultiAssetConfig.from_market` and
:meth:`MultiAssetConfig.asset` go back and forth, ``asset(0)`` of ``from_market(cfg)``
equals ``cfg``.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from mm_env.config import FILL_MODELS, MAGNITUDE, MarketConfig, UnknownFieldError
from mm_env.params import FieldSpec, check_fields, markdown_table, param, specs
from mm_env.params import field_docs as _field_docs

__all__ = [
    "MAX_ASSETS",
    "PER_ASSET_FIELDS",
    "REWARDS",
    "MultiAssetConfig",
    "mean_variance_penalty",
]

#: Largest number of assets (the step's cost and the penalty's n^2 terms stay small).
MAX_ASSETS = 16
#: The per-asset fields: tuples of ``n_assets`` floats, each entry in the range of the
#: :class:`~mm_env.MarketConfig` field of the same name.
PER_ASSET_FIELDS = (
    "S0",
    "mu",
    "sigma",
    "A",
    "k",
    "order_size",
    "inventory_limit",
    "min_depth",
    "max_depth",
    "tick_size",
)
#: The rewards of the multi-asset market.
REWARDS = ("pnl", "inventory_penalty")
MID_MODELS = ("gbm", "abm")
#: Tolerance of the symmetry, unit-diagonal and PSD checks, relative to the largest entry.
MATRIX_TOL = 1e-10

_MARKET = specs(MarketConfig)


def _per_asset(name: str) -> Any:
    """A per-asset field declared like the MarketConfig field ``name`` (default: its
    default, broadcast)."""
    spec = _MARKET[name]
    default = dataclasses.fields(MarketConfig)[_index(name)].default
    return param(
        default,
        kind="any",
        doc=spec.doc + " (per asset)",
        units=spec.units,
        allowed=f"a number or a tuple of n_assets numbers, each {spec.range_text()}",
    )


def _index(name: str) -> int:
    return [f.name for f in dataclasses.fields(MarketConfig)].index(name)


def _shared(name: str, **changes: Any) -> Any:
    """A shared scalar declared exactly as the MarketConfig field ``name``."""
    spec = _MARKET[name]
    values = {f.name: getattr(spec, f.name) for f in dataclasses.fields(FieldSpec)}
    values.update(changes)
    default = values.pop("default", dataclasses.fields(MarketConfig)[_index(name)].default)
    return param(default, **values)


_MATRIX_ALLOWED = (
    "an n_assets x n_assets symmetric positive semi-definite matrix of finite numbers with "
    "entries in [-1e12, 1e12] (a tuple of tuples or an array), or a number c >= 0 meaning c "
    "times the identity"
)


@dataclass(frozen=True)
class MultiAssetConfig:
    """Parameters of the multi-asset market-making model.

    Build one from a preset with :meth:`MultiAssetConfig.preset` (``"pair"``, ``"basket"``)
    and keyword overrides, from a single-asset market with :meth:`from_market`, or directly;
    every value is validated on construction and a bad one raises :class:`ValueError` naming
    the field, the value and what is allowed. Per-asset fields are stored as tuples of
    ``n_assets`` floats, matrices as tuples of tuples.
    """

    n_assets: int = param(
        2,
        doc="number of assets",
        low=1,
        high=MAX_ASSETS,
        high_why="the step's cost and the penalty's n^2 terms stay small",
    )
    S0: tuple[float, ...] = _per_asset("S0")
    mu: tuple[float, ...] = _per_asset("mu")
    sigma: tuple[float, ...] = _per_asset("sigma")
    A: tuple[float, ...] = _per_asset("A")
    k: tuple[float, ...] = _per_asset("k")
    order_size: tuple[float, ...] = _per_asset("order_size")
    inventory_limit: tuple[float, ...] = _per_asset("inventory_limit")
    min_depth: tuple[float, ...] = _per_asset("min_depth")
    max_depth: tuple[float, ...] = _per_asset("max_depth")
    tick_size: tuple[float, ...] = _per_asset("tick_size")
    rho: tuple[tuple[float, ...], ...] | None = param(
        None,
        kind="any",
        doc="correlation matrix of the mids' Brownian motions",
        none_means="the identity",
        allowed="None (the identity), or an n_assets x n_assets symmetric positive "
        "semi-definite matrix with unit diagonal and entries in [-1, 1]",
    )
    phi: tuple[tuple[float, ...], ...] = param(
        0.0,
        kind="any",
        doc="running inventory penalty matrix Phi of 'inventory_penalty' (q' Phi q dt per step)",
        units="price units/(share^2 session)",
        allowed=_MATRIX_ALLOWED,
    )
    alpha: tuple[tuple[float, ...], ...] = param(
        0.0,
        kind="any",
        doc="terminal inventory penalty matrix Psi of 'inventory_penalty' "
        "(q_T' Psi q_T at the end)",
        units="price units/share^2",
        allowed=_MATRIX_ALLOWED,
    )
    T: float = _shared("T")
    n_steps: int = _shared("n_steps")
    mid_model: str = _shared(
        "mid_model",
        choices=MID_MODELS,
        doc="mid-price model of every asset: 'gbm' (sigma relative) or 'abm' (sigma in price "
        "units)",
    )
    fill_model: str = _shared("fill_model", choices=FILL_MODELS)
    reward: str = _shared(
        "reward",
        choices=REWARDS,
        doc="reward name: 'pnl' (the change of W = X + sum q_i S_i) or 'inventory_penalty'",
    )

    # ------------------------------------------------------------ validation
    def __post_init__(self) -> None:
        check_fields(self)  # n_assets and the shared scalars: their declared types and ranges
        n = self.n_assets
        for name in PER_ASSET_FIELDS:
            object.__setattr__(self, name, _per_asset_values(name, getattr(self, name), n))
        rho = _matrix("rho", np.eye(n) if self.rho is None else self.rho, n, identity_ok=False)
        _check_correlation(rho)
        object.__setattr__(self, "rho", _as_tuples(rho))
        for name in ("phi", "alpha"):
            object.__setattr__(
                self, name, _as_tuples(_matrix(name, getattr(self, name), n, identity_ok=True))
            )
        ticks = [t > 0 for t in self.tick_size]
        if any(ticks) and not all(ticks):
            raise ValueError(
                f"tick_size must be 0 for every asset or > 0 for every asset (the tick is a "
                f"component of all the assets' quotes or of none), got {self.tick_size!r}"
            )
        for i in range(n):
            self.asset(i)  # each asset's market: the single-asset combination checks

    # ------------------------------------------------------------ derived
    @property
    def dt(self) -> float:
        """Length of one step [sessions]: ``T / n_steps``."""
        return self.T / self.n_steps

    @property
    def rho_matrix(self) -> np.ndarray:
        """The correlation matrix (a new ``(n, n)`` array)."""
        return np.array(self.rho, dtype=np.float64)

    @property
    def phi_matrix(self) -> np.ndarray:
        """The running penalty matrix Phi (a new ``(n, n)`` array)."""
        return np.array(self.phi, dtype=np.float64)

    @property
    def alpha_matrix(self) -> np.ndarray:
        """The terminal penalty matrix Psi (a new ``(n, n)`` array)."""
        return np.array(self.alpha, dtype=np.float64)

    @property
    def price_sigma(self) -> np.ndarray:
        """Absolute volatility of each mid at ``S0`` [price units/sqrt(session)]: ``sigma_i``
        under abm, ``sigma_i S0_i`` under gbm."""
        sigma = np.array(self.sigma)
        return sigma * np.array(self.S0) if self.mid_model == "gbm" else sigma

    @property
    def covariance(self) -> np.ndarray:
        """Covariance of the mids' moves per session at ``S0`` [price units^2/session]:
        ``Sigma_ij = rho_ij s_i s_j`` with ``s`` = :attr:`price_sigma`."""
        s = self.price_sigma
        return self.rho_matrix * np.outer(s, s)

    def asset(self, i: int) -> MarketConfig:
        """The single-asset market of asset ``i``: its per-asset fields, the shared scalars,
        ``phi = phi_ii`` and ``alpha = alpha_ii`` (ValueError naming the asset if that market
        is not valid)."""
        if isinstance(i, bool) or not isinstance(i, numbers.Integral) or not 0 <= i < self.n_assets:
            raise ValueError(f"asset index must be an integer in [0, {self.n_assets}), got {i!r}")
        i = int(i)
        values: dict[str, Any] = {name: getattr(self, name)[i] for name in PER_ASSET_FIELDS}
        try:
            return MarketConfig(
                mid_model=self.mid_model,
                T=self.T,
                n_steps=self.n_steps,
                fill_model=self.fill_model,
                reward=self.reward,
                phi=self.phi[i][i],
                alpha=self.alpha[i][i],
                **values,
            )
        except ValueError as exc:
            raise ValueError(f"asset {i}: {exc}") from None

    def assets(self) -> tuple[MarketConfig, ...]:
        """The single-asset market of every asset (:meth:`asset`)."""
        return tuple(self.asset(i) for i in range(self.n_assets))

    # ------------------------------------------------------------ building
    @classmethod
    def from_market(cls, config: MarketConfig) -> MultiAssetConfig:
        """The one-asset config of a single-asset market (its ``asset(0)`` equals ``config``).

        Only the base model and the tick are multi-asset: a market with another component on,
        another mid model or reward is refused (ValueError naming it).
        """
        if not isinstance(config, MarketConfig):
            raise ValueError(f"config must be a MarketConfig, got {type(config).__name__}")
        other = [f for f in config.features if f != "tick"]
        if other:
            raise ValueError(
                f"the multi-asset market has no market components but the tick; this config "
                f"has {other} on"
            )
        for name, allowed in (("mid_model", MID_MODELS), ("reward", REWARDS)):
            if getattr(config, name) not in allowed:
                raise ValueError(
                    f"{name} must be one of {list(allowed)} for the multi-asset market, got "
                    f"{getattr(config, name)!r}"
                )
        return cls(
            n_assets=1,
            **{name: (getattr(config, name),) for name in PER_ASSET_FIELDS},
            phi=((config.phi,),),
            alpha=((config.alpha,),),
            T=config.T,
            n_steps=config.n_steps,
            mid_model=config.mid_model,
            fill_model=config.fill_model,
            reward=config.reward,
        )

    @classmethod
    def preset(cls, name: str, **overrides: Any) -> MultiAssetConfig:
        """The named preset (:func:`available_presets`) with keyword overrides, validated."""
        from mm_env.multi_asset.presets import PRESETS

        if not isinstance(name, str) or name not in PRESETS:
            raise ValueError(f"preset must be one of {sorted(PRESETS)}, got {name!r}")
        return cls.from_dict({**PRESETS[name], **overrides})

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> MultiAssetConfig:
        """Build a config from a mapping of field names (unknown names are an error)."""
        _check_field_names(values)
        return cls(**values)

    def replace(self, **overrides: Any) -> MultiAssetConfig:
        """A copy with some fields changed, validated like a new config."""
        _check_field_names(overrides)
        return dataclasses.replace(self, **overrides)

    def to_dict(self) -> dict[str, Any]:
        """The fields as a plain dict (round-trips through :meth:`from_dict`)."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    @classmethod
    def field_docs(cls) -> dict[str, str]:
        """One line per field for help texts: its doc, units and allowed range."""
        return _field_docs(cls)


def mean_variance_penalty(covariance: Any, gamma: float) -> tuple[tuple[float, ...], ...]:
    """The mean-variance running penalty ``Phi = (gamma / 2) Sigma`` of a covariance matrix
    ``Sigma`` [price units^2/session] and a risk aversion ``gamma >= 0`` [1/price unit], as a
    tuple of tuples for ``MultiAssetConfig(phi=...)``."""
    if (
        isinstance(gamma, bool)
        or not isinstance(gamma, numbers.Real)
        or not (math.isfinite(gamma) and gamma >= 0)
    ):
        raise ValueError(f"gamma must be a finite number >= 0, got {gamma!r}")
    cov = np.asarray(covariance, dtype=np.float64)
    if cov.ndim != 2 or cov.shape[0] != cov.shape[1]:
        raise ValueError(f"covariance must be a square matrix, got shape {cov.shape}")
    return _as_tuples(_matrix("covariance", cov, cov.shape[0], identity_ok=False) * (gamma / 2))


def available_presets() -> list[str]:
    """Names accepted by :meth:`MultiAssetConfig.preset`."""
    from mm_env.multi_asset.presets import PRESETS

    return sorted(PRESETS)


# ---------------------------------------------------------------------- helpers
def _per_asset_values(name: str, value: Any, n: int) -> tuple[float, ...]:
    """``value`` as a tuple of ``n`` floats, each in the range of MarketConfig's ``name``."""
    spec = _MARKET[name]
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value.item()
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        entries: list[Any] = [value] * n
    elif isinstance(value, (tuple, list, np.ndarray)):
        entries = list(value)
        if len(entries) != n:
            raise ValueError(
                f"{name} must be a number or a tuple of n_assets = {n} numbers, got "
                f"{len(entries)} values {value!r}"
            )
    else:
        raise ValueError(f"{name} must be a number or a tuple of {n} numbers, got {value!r}")
    out = []
    for i, entry in enumerate(entries):
        if isinstance(entry, np.generic):
            entry = entry.item()
        out.append(float(spec.check(f"{name}[{i}]", entry)))
    return tuple(out)


def _matrix(name: str, value: Any, n: int, *, identity_ok: bool) -> np.ndarray:
    """``value`` as a finite, symmetric, PSD ``(n, n)`` float array (symmetrised), or
    ValueError naming ``name``; with ``identity_ok`` a number ``c >= 0`` means ``c I``."""
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value.item()
    if identity_ok and isinstance(value, numbers.Real) and not isinstance(value, bool):
        c = float(value)
        if not (math.isfinite(c) and 0 <= c <= MAGNITUDE):
            raise ValueError(
                f"{name} must be a number in [0, 1e12] (times the identity) or a matrix, got "
                f"{value!r}"
            )
        return np.eye(n) * c
    try:
        arr = np.array(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"{name} must be an {n} x {n} matrix of numbers, got {value!r} ({exc})"
        ) from None
    if arr.shape != (n, n) or any(
        isinstance(x, bool) for x in np.ravel(np.array(value, dtype=object))
    ):
        raise ValueError(
            f"{name} must be an n_assets x n_assets = {n} x {n} matrix of numbers, got shape "
            f"{arr.shape}: {value!r}"
        )
    if not np.isfinite(arr).all() or np.abs(arr).max() > MAGNITUDE:
        raise ValueError(f"{name} must have finite entries in [-1e12, 1e12], got {value!r}")
    scale = max(1.0, float(np.abs(arr).max()))
    if np.abs(arr - arr.T).max() > MATRIX_TOL * scale:
        raise ValueError(f"{name} must be symmetric, got {value!r}")
    arr = (arr + arr.T) / 2
    low = float(np.linalg.eigvalsh(arr).min())
    if low < -MATRIX_TOL * scale:
        raise ValueError(
            f"{name} must be positive semi-definite, got {value!r} (smallest eigenvalue {low:.6g})"
        )
    return arr


def _check_correlation(rho: np.ndarray) -> None:
    diag = np.diag(rho)
    if np.abs(diag - 1.0).max() > MATRIX_TOL:
        raise ValueError(
            f"rho must have a unit diagonal (a correlation matrix), got diagonal {diag.tolist()}"
        )
    np.fill_diagonal(rho, 1.0)
    if np.abs(rho).max() > 1.0 + MATRIX_TOL:
        raise ValueError(f"rho must have entries in [-1, 1], got {rho.tolist()}")
    np.clip(rho, -1.0, 1.0, out=rho)


def _as_tuples(arr: np.ndarray) -> tuple[tuple[float, ...], ...]:
    return tuple(tuple(float(x) for x in row) for row in arr)


def _check_field_names(values: Mapping[str, Any]) -> None:
    names = {f.name for f in dataclasses.fields(MultiAssetConfig)}
    unknown = sorted(set(values) - names)
    if unknown:
        raise UnknownFieldError(
            f"unknown MultiAssetConfig field(s) {unknown}; valid fields are {sorted(names)} "
            f"(unexpected keyword argument {unknown[0]!r})"
        )


#: The checks of combinations, after every field is in its range (for the docs).
COMBINATION_RULES = (
    "each per-asset field has n_assets entries (a number is broadcast), each in the range of "
    "the MarketConfig field of the same name;",
    "rho is symmetric, positive semi-definite, with a unit diagonal (within 1e-10; stored "
    "symmetrised); phi and alpha are symmetric positive semi-definite;",
    "tick_size is 0 for every asset or > 0 for every asset;",
    "the market of each asset, asset(i), passes every MarketConfig combination check "
    "(docs/market_config.md): max_depth > min_depth, inventory_limit >= order_size, a finite "
    "fill intensity, the mid's range over an episode, the tick's resolution.",
)


def multi_asset_config_markdown(level: int = 1) -> str:
    """The reference table of every field of :class:`MultiAssetConfig`, then the checks of
    combinations, its title a heading of ``level`` (``docs/multi_asset.md`` holds it at
    level 2)."""
    page = markdown_table(
        MultiAssetConfig,
        title="MultiAssetConfig: every parameter",
        intro=(
            "Per-asset fields take a number (broadcast to every asset) or a tuple of n_assets "
            "numbers; the matrices a tuple of tuples or an array. Generated from the "
            "declarations in `mm_env/multi_asset/config.py`."
        ),
        rules=COMBINATION_RULES,
    )
    shift = "#" * (level - 1)
    return "\n".join(shift + line if line.startswith("#") else line for line in page.split("\n"))
