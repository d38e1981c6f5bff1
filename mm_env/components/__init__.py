"""Market components: the pieces a market is composed of, registered by name.

See :mod:`mm_env.components.base` for what a component declares and how a market is
composed, :mod:`mm_env.components.kinds` for the hooks of each kind, and
``docs/extending.md`` for registering a new one from user code.
"""

from mm_env.components import features, fills, flow, frictions, mid, shocks, size  # noqa: F401
from mm_env.components.base import (
    KINDS,
    NO_MOVE,
    Component,
    MidMoveExpectation,
    available_components,
    full,
    register_component,
    registered,
    require_rng,
)
from mm_env.components.kinds import (
    FillModel,
    FillShape,
    FlowModel,
    FlowModifier,
    Friction,
    MidProcess,
    ObservationFeature,
    QuoteSize,
    Shock,
)

__all__ = [
    "KINDS",
    "NO_MOVE",
    "Component",
    "FillModel",
    "FillShape",
    "FlowModel",
    "FlowModifier",
    "Friction",
    "MidMoveExpectation",
    "MidProcess",
    "ObservationFeature",
    "QuoteSize",
    "Shock",
    "available_components",
    "full",
    "register_component",
    "registered",
    "require_rng",
]
