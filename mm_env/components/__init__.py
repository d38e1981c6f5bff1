"""Market components: the pieces a market is composed of, registered by name.

See :mod:`mm_env.components.base` for what a component declares and how a market is
composed, :mod:`mm_env.components.kinds` for the hooks of each kind, and
``docs/extending.md`` for registering a new one from user code.
"""

from mm_env.component_registry import mid_model_names
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
    unregister_component,
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
from mm_env.params import FieldSpec

__all__ = [
    "KINDS",
    "NO_MOVE",
    "Component",
    "FieldSpec",
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
    "mid_model_names",
    "register_component",
    "registered",
    "require_rng",
    "unregister_component",
]
