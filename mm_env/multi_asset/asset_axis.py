"""The asset axis: one single-asset market whose parameters are per-asset arrays.

:class:`mm_env.dynamics.MarketDynamics` and its components are elementwise in the state's
arrays, and every per-asset parameter they use in a step is either a float attribute of the
market or of a component (``drift`` and ``vol`` of the mid, ``neg_k`` of the fill shape, the
market's depth bounds, inventory limit and arrival rates) or a field of the component's
``config`` (``order_size`` of the fixed size, ``tick_size`` of the tick). So the markets of
``n`` assets, composed each from its own :class:`~mm_env.MarketConfig`, become one market
with an asset axis by replacing each such float by the array of the ``n`` assets' values
(shape ``(n,)``, kept a float where every asset has the same value) and each ``config`` by
an :class:`AssetAxisConfig` of the same arrays. Its :meth:`~mm_env.dynamics.MarketDynamics.step`
then runs on states of shape ``(..., n)``: the parameters broadcast against the trailing asset
axis, and every asset's numbers are exactly those its own market computes on arrays.

:func:`stacked_market` refuses markets that do not compose this way: different components,
or an attribute other than a float, a config, a component or a hook that differs between
the assets (a component added later that keeps a per-asset parameter in another form).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np

from mm_env.components import Component
from mm_env.config import MarketConfig
from mm_env.dynamics import MarketDynamics, StepHooks

__all__ = ["AssetAxisConfig", "stacked_market"]


class AssetAxisConfig:
    """The fields of several assets' :class:`~mm_env.MarketConfig` side by side: a field is
    the common value where every asset has the same, else the ``(n,)`` array of the assets'
    values (floats only). Only the fields and ``dt`` are there (no other property): the
    components read it in their step hooks, which use fields alone."""

    def __init__(self, configs: Sequence[MarketConfig]) -> None:
        self.configs = tuple(configs)
        for f in dataclasses.fields(MarketConfig):
            values = [getattr(c, f.name) for c in configs]
            first = values[0]
            if all(_same(v, first) for v in values[1:]):
                setattr(self, f.name, first)
            elif all(type(v) is float for v in values):
                setattr(self, f.name, np.array(values))
            else:
                raise ValueError(
                    f"the assets' markets differ in {f.name!r} ({values!r}), which cannot "
                    "carry an asset axis (only real-valued fields can)"
                )
        self.dt = configs[0].dt

    def __repr__(self) -> str:
        return f"AssetAxisConfig({len(self.configs)} assets)"


def stacked_market(configs: Sequence[MarketConfig]) -> MarketDynamics:
    """The market of ``configs`` (one per asset) with an asset axis (module doc).

    Its step takes states whose ``mid``, ``cash`` and ``inventory`` are arrays of shape
    ``(..., n)`` (``n = len(configs)``) and depths, normals and uniforms of that shape, and
    returns per-asset arrays of that shape (``wealth`` per asset: sum it over the last axis).
    """
    if not configs:
        raise ValueError("stacked_market needs the config of at least one asset")
    markets = [MarketDynamics(c) for c in configs]
    target = MarketDynamics(configs[0])  # a fresh one, whose attributes are replaced
    kinds = [tuple(type(c) for c in m.components) for m in markets]
    if any(k != kinds[0] for k in kinds[1:]):
        names = [[c.name for c in m.components] for m in markets]
        raise ValueError(
            f"the assets' markets are composed of different components ({names}); an asset "
            "axis needs the same components for every asset"
        )
    _stack(target, markets, "the market")
    for j, component in enumerate(target.components):
        _stack(component, [m.components[j] for m in markets], f"component {component.name!r}")
    return target


def _stack(target: Any, objects: Sequence[Any], what: str) -> None:
    """Replace each float attribute of ``target`` that differs between ``objects`` by their
    array, and its config by their :class:`AssetAxisConfig`."""
    for name, value in list(vars(target).items()):
        values = [vars(o)[name] for o in objects]
        if isinstance(value, MarketConfig):
            setattr(target, name, AssetAxisConfig(values))
        elif _is_hook(value):
            continue  # components and bound hooks: the target's own, stacked in their turn
        elif all(_same(v, values[0]) for v in values[1:]):
            continue
        elif all(type(v) is float for v in values):
            setattr(target, name, np.array(values))
        else:
            raise ValueError(
                f"{what} keeps {name!r} = {values!r}, which differs between the assets and is "
                "not a float: it cannot carry an asset axis"
            )


def _is_hook(value: Any) -> bool:
    if isinstance(value, StepHooks):
        return True  # the market's selected hooks: its own components', stacked in their turn
    if isinstance(value, tuple) and value:
        return all(_is_hook(v) for v in value)
    return isinstance(value, Component) or callable(value)


def _same(a: Any, b: Any) -> bool:
    try:
        return bool(a == b)
    except (ValueError, TypeError):  # arrays: compare them whole
        return isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and np.array_equal(a, b)
