"""Baseline profiles for N competing makers: every maker plays the same single-asset agent.

Each function returns a list of ``n_makers`` agents with the ``act(obs)`` protocol on the
per-maker observation ``[time_remaining, own inventory, mid]`` (extra full-information columns
are ignored), built from the single-asset market each maker faces (``config`` with the
maker's inventory limit, when per-maker limits are given):

- :func:`avellaneda_stoikov_profile`: :class:`agents.AvellanedaStoikovAgent` (risk aversion
  ``gamma``) for every maker;
- :func:`monopolist_profile`: the single-maker exact optimum
  :class:`agents.DiscreteOptimalAgent` for every maker (what each would play alone);
- :func:`fixed_spread_profile`: :class:`agents.FixedSpreadAgent` (default ``1/k`` each side).

For N = 2 turn them into tables with :func:`agents.competition.tables.table_from_agent`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from agents.avellaneda_stoikov import DEFAULT_GAMMA, AvellanedaStoikovAgent
from agents.base import Agent
from agents.discrete_optimal import DiscreteOptimalAgent
from agents.simple import FixedSpreadAgent
from mm_env.config import MarketConfig


def maker_configs(
    config: MarketConfig, n_makers: int, inventory_limits: Any = None
) -> list[MarketConfig]:
    """The single-asset market of each maker: ``config`` with the maker's inventory limit."""
    if not isinstance(config, MarketConfig):
        raise ValueError(f"config must be a mm_env.MarketConfig, got {type(config).__name__}")
    if isinstance(n_makers, bool) or not isinstance(n_makers, int) or not 1 <= n_makers <= 64:
        raise ValueError(f"n_makers must be an int in [1, 64], got {n_makers!r}")
    if inventory_limits is None:
        return [config] * n_makers
    if isinstance(inventory_limits, (int, float)) and not isinstance(inventory_limits, bool):
        limits: tuple[Any, ...] = (inventory_limits,) * n_makers
    elif isinstance(inventory_limits, (tuple, list)):
        limits = tuple(inventory_limits)
    else:
        raise ValueError(
            f"inventory_limits must be a number or a tuple of n_makers numbers, "
            f"got {inventory_limits!r}"
        )
    if len(limits) != n_makers:
        raise ValueError(
            f"inventory_limits must have n_makers = {n_makers} entries, got "
            f"{len(limits)}: {limits!r}"
        )
    return [config.replace(inventory_limit=x) for x in limits]


def _profile(
    build: Callable[[MarketConfig], Agent],
    config: MarketConfig,
    n_makers: int,
    inventory_limits: Any,
) -> list[Agent]:
    cache: dict[float, Agent] = {}  # one agent per distinct limit (the optimum is a solve)
    out = []
    for cfg in maker_configs(config, n_makers, inventory_limits):
        if cfg.inventory_limit not in cache:
            cache[cfg.inventory_limit] = build(cfg)
        out.append(cache[cfg.inventory_limit])
    return out


def avellaneda_stoikov_profile(
    config: MarketConfig,
    n_makers: int,
    *,
    gamma: float = DEFAULT_GAMMA,
    sigma: float | None = None,
    inventory_limits: Any = None,
) -> list[Agent]:
    """Every maker plays Avellaneda-Stoikov with risk aversion ``gamma``.

    ``sigma`` (price units) overrides the config's volatility in the AS formula, e.g. to keep
    AS's inventory skew ``q gamma sigma^2 (T - t)`` on a market whose mid is held still.
    """
    return _profile(
        lambda c: AvellanedaStoikovAgent(c, gamma=gamma, sigma=sigma),
        config,
        n_makers,
        inventory_limits,
    )


def monopolist_profile(
    config: MarketConfig, n_makers: int, *, inventory_limits: Any = None
) -> list[Agent]:
    """Every maker plays the single-maker optimum of its market (DiscreteOptimalAgent)."""
    return _profile(DiscreteOptimalAgent, config, n_makers, inventory_limits)


def fixed_spread_profile(
    config: MarketConfig,
    n_makers: int,
    *,
    bid_depth: float | None = None,
    ask_depth: float | None = None,
    inventory_limits: Any = None,
) -> list[Agent]:
    """Every maker quotes constant depths (default ``1/k`` on both sides)."""
    return _profile(
        lambda c: FixedSpreadAgent(c, bid_depth, ask_depth), config, n_makers, inventory_limits
    )
