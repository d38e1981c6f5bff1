"""The parameters of the competition game: ``n_makers`` market makers on one market.

A :class:`CompetitionConfig` is the single-asset :class:`~mm_env.config.MarketConfig` (the mid,
the order flow, the fill probability, the frictions and the reward, exactly as for one market
maker) plus what is per maker: the inventory limits and the reward names (one value for all
makers, or a tuple of one per maker), and the ``full_information`` flag of the observation.
Every value is validated on construction; a bad one raises ``ValueError`` naming the field, the
value and what is allowed.

Every market component of the single-asset model is supported except the size action
(``size_action``: a quote size per maker would need a size-priority rule the law does not
have), which is refused. The market components see the market as one market maker would: the
same mid, flow and fill probability at the best quote; a component's hook that reads the
market maker's cash or inventory gets the makers' totals (with one maker, exactly the
single-asset value).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from mm_env.config import MarketConfig, resolve_config
from mm_env.params import check_fields, param
from mm_env.reward_registry import available_rewards

__all__ = ["MAX_MAKERS", "CompetitionConfig", "build_config"]

#: Most market makers in one game (the maker axis of every array is this long at most).
MAX_MAKERS = 64

_NO_DEFAULT = MarketConfig()


@dataclass(frozen=True)
class CompetitionConfig:
    """``n_makers`` competing market makers on the market of ``market``.

    Build one with :func:`build_config` (a preset name and keyword overrides, as the envs take
    them) or directly. ``inventory_limits`` and ``rewards`` are per maker (a tuple of
    ``n_makers`` values) or None: every maker then has ``market.inventory_limit`` and
    ``market.reward``.
    """

    n_makers: int = param(
        2,
        doc="number of competing market makers",
        low=1,
        high=MAX_MAKERS,
        high_why="the maker axis of the batched arrays stays small",
    )
    market: MarketConfig = param(  # noqa: RUF009 (param returns a dataclasses.field)
        _NO_DEFAULT,
        kind="any",
        doc="the single-asset market the makers quote on",
        allowed="a MarketConfig without size_action",
    )
    inventory_limits: tuple[float, ...] | None = param(
        None,
        kind="any",
        doc="|inventory| bound of each maker (None: market.inventory_limit for every maker)",
        units="shares",
        allowed="None or n_makers values, each an allowed inventory_limit",
    )
    rewards: tuple[str, ...] | None = param(
        None,
        kind="any",
        doc="reward name of each maker (None: market.reward for every maker)",
        allowed="None or n_makers registered reward names",
    )
    full_information: bool = param(
        False,
        doc="append the other makers' inventories and last quoted depths to each "
        "maker's observation",
    )

    def __post_init__(self) -> None:
        check_fields(self)
        if not isinstance(self.market, MarketConfig):
            raise ValueError(f"market must be a MarketConfig, got {type(self.market).__name__}")
        if self.market.size_action:
            raise ValueError(
                "size_action=True is not supported by the competition env (every maker quotes "
                "order_size; the law has no size priority): use size_action=False"
            )
        if self.inventory_limits is not None:
            limits = self._per_maker("inventory_limits", self.inventory_limits)
            checked = tuple(self._check_limit(j, x) for j, x in enumerate(limits))
            object.__setattr__(self, "inventory_limits", checked)
        if self.rewards is not None:
            names = self._per_maker("rewards", self.rewards)
            allowed = available_rewards()
            for j, name in enumerate(names):
                if not isinstance(name, str) or name not in allowed:
                    raise ValueError(f"rewards[{j}] must be one of {allowed}, got {name!r}")
            object.__setattr__(self, "rewards", tuple(str(n) for n in names))

    def _per_maker(self, field: str, values: Any) -> tuple[Any, ...]:
        if isinstance(values, (str, bytes)) or not isinstance(values, Sequence | np.ndarray):
            raise ValueError(
                f"{field} must be None or a sequence of n_makers={self.n_makers} values, got "
                f"{values!r}"
            )
        values = tuple(values)
        if len(values) != self.n_makers:
            raise ValueError(
                f"{field} must have one value per maker (n_makers={self.n_makers}), got "
                f"{len(values)} values: {values!r}"
            )
        return values

    def _check_limit(self, j: int, value: Any) -> float:
        try:
            return self.market.replace(inventory_limit=value).inventory_limit
        except ValueError as exc:
            raise ValueError(f"inventory_limits[{j}]: {exc}") from None

    # ------------------------------------------------------------------ derived
    @property
    def limits(self) -> tuple[float, ...]:
        """The inventory limit of each maker [shares] (``inf``: none)."""
        if self.inventory_limits is None:
            return (self.market.inventory_limit,) * self.n_makers
        return self.inventory_limits

    @property
    def reward_names(self) -> tuple[str, ...]:
        """The reward name of each maker."""
        return (self.market.reward,) * self.n_makers if self.rewards is None else self.rewards

    @property
    def agents(self) -> tuple[str, ...]:
        """The agent names ``"maker_0"``, ..., ``"maker_{n_makers-1}"``, in maker order."""
        return tuple(f"maker_{j}" for j in range(self.n_makers))


def build_config(
    config: CompetitionConfig | MarketConfig | None = None,
    *,
    n_makers: int | None = None,
    preset: str | None = None,
    full_information: bool | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> CompetitionConfig:
    """The config an env is built from.

    ``config``: a :class:`CompetitionConfig` (then ``n_makers``/``full_information`` and the
    overrides replace its values) or a :class:`MarketConfig`; otherwise the market is
    ``preset`` (default ``"default"``) with ``overrides``. ``inventory_limit`` and ``reward``
    among the overrides may be a tuple/list of one value per maker (or a scalar for all).
    """
    overrides = dict(overrides or {})
    base: CompetitionConfig | None = None
    market_config: MarketConfig | None = None
    if isinstance(config, CompetitionConfig):
        if preset is not None:
            raise ValueError(
                f"give either config or preset, not both (got preset={preset!r}); "
                "pass overrides as keywords instead"
            )
        base, market_config = config, config.market
    elif isinstance(config, MarketConfig):
        market_config = config
    elif config is not None:
        raise ValueError(
            "config must be a CompetitionConfig, a MarketConfig or None, got "
            f"{type(config).__name__}"
        )
    limits = _take_per_maker(overrides, "inventory_limit")
    rewards = _take_per_maker(overrides, "reward")
    market = resolve_config(market_config, None if base else preset, overrides)
    values: dict[str, Any] = {
        "n_makers": base.n_makers if base else 2,
        "inventory_limits": base.inventory_limits if base else None,
        "rewards": base.rewards if base else None,
        "full_information": base.full_information if base else False,
    }
    if n_makers is not None:
        values["n_makers"] = n_makers
    if full_information is not None:
        values["full_information"] = full_information
    if limits is not None:
        values["inventory_limits"] = limits
    elif "inventory_limit" in overrides:
        values["inventory_limits"] = None
    if rewards is not None:
        values["rewards"] = rewards
    elif "reward" in overrides:
        values["rewards"] = None
    return CompetitionConfig(market=market, **values)


def _take_per_maker(overrides: dict[str, Any], name: str) -> tuple[Any, ...] | None:
    """Remove and return a per-maker tuple/list override ``name`` (scalars stay)."""
    value = overrides.get(name)
    if isinstance(value, (tuple, list, np.ndarray)):
        del overrides[name]
        return tuple(value)
    return None
