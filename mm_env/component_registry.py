"""The registry of market components, by kind and name.

It imports nothing from the package, so that the config (which validates ``mid_model``
against it) and the components (which register themselves in it) form no import cycle.
The component classes and their protocol are in :mod:`mm_env.components`.
"""

from __future__ import annotations

from typing import Any

#: The kinds of component, in the order their draws are made and their state is built.
KINDS = ("size", "mid", "shock", "flow", "flow_modifier", "fill_shape", "fill_model",
         "friction", "feature")
#: Kinds of which a market has exactly one component.
SINGLE_KINDS = ("size", "mid", "flow", "fill_shape", "fill_model")

_REGISTRY: dict[str, dict[str, Any]] = {kind: {} for kind in KINDS}


def register_component(cls: Any, *, replace: bool = False) -> Any:
    """Register ``cls`` under its ``kind`` and ``name`` (usable as a class decorator).

    Later registrations of a kind come after the earlier ones in the composition (for the
    single kinds they are consulted after them). ``replace=True`` swaps a registered class.
    """
    if not (isinstance(cls, type) and callable(getattr(cls, "applies", None))):
        raise ValueError(
            f"a component must be a subclass of mm_env.components.Component, got {cls!r}"
        )
    kind, name = getattr(cls, "kind", None), getattr(cls, "name", None)
    if kind not in _REGISTRY:
        raise ValueError(f"{cls.__name__}.kind must be one of {list(KINDS)}, got {kind!r}")
    if not isinstance(name, str) or not name:
        raise ValueError(f"{cls.__name__}.name must be a non-empty string, got {name!r}")
    table = _REGISTRY[kind]
    if name in table and table[name] is not cls and not replace:
        raise ValueError(
            f"a {kind} component named {name!r} is already registered "
            f"({table[name].__name__}); pass replace=True to replace it"
        )
    table[name] = cls
    return cls


def unregister_component(kind: str, name: str) -> None:
    """Remove a registered component (ValueError if there is none of that kind and name)."""
    table = _REGISTRY.get(kind)
    if table is None or name not in table:
        raise ValueError(f"no {kind} component named {name!r} is registered")
    del table[name]


def registered(kind: str) -> dict[str, Any]:
    """The registered classes of ``kind`` by name, in registration order."""
    if kind not in _REGISTRY:
        raise ValueError(f"kind must be one of {list(KINDS)}, got {kind!r}")
    return dict(_REGISTRY[kind])


def available_components() -> dict[str, list[str]]:
    """Names of the registered components, by kind."""
    return {kind: list(table) for kind, table in _REGISTRY.items()}


def mid_model_names() -> list[str]:
    """The values ``config.mid_model`` accepts: the registered mid processes that
    ``mid_model`` selects (the built-in ``gbm`` and ``abm``, and any registered one)."""
    return [name for name, cls in _REGISTRY["mid"].items()
            if getattr(cls, "selected_by_mid_model", False)]
