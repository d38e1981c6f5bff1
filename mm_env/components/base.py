"""The parts a market is composed of, their protocol and their registry.

A market (:class:`mm_env.dynamics.MarketDynamics`) is one component of each of the kinds
``size``, ``mid``, ``flow``, ``fill_shape`` and ``fill_model``, plus any number of ``shock``,
``flow_modifier``, ``friction`` and ``feature`` components. Each component is a class in its
own module, registered under its kind and name with :func:`register_component`; the
composition picks, per kind, the registered classes whose :meth:`Component.applies` is true
for the config (the first one for the single kinds, every one in registration order for the
others; observation features in the order of ``config.obs_extras``).

Every component declares, as class or instance attributes:

- ``params``: the :class:`~mm_env.config.MarketConfig` fields it reads (their docs, units and
  allowed ranges are declared once, on the config);
- ``normals``/``uniforms``: the names of its standard normal and uniform draws per step,
  and :meth:`Component.draw` for any other draw; their number depends only on the config, so
  every policy run from one seed faces the same market (common random numbers);
- ``state_fields``: its slice of the state, named fields with their docs, kept in
  ``state.parts`` (one flat dict; field names are unique across a market's components),
  set by :meth:`Component.initial` and advanced by :meth:`Component.advance`;
- ``info_keys``: the ``info`` entries it adds;
- observation features: their bounds and fixed scaling; mid processes and shocks: their
  expected mid move (:meth:`Component.expected_move`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple

import numpy as np

from mm_env.component_registry import (
    KINDS,
    SINGLE_KINDS,
    available_components,
    register_component,
    registered,
    unregister_component,
)

__all__ = [
    "KINDS",
    "NO_MOVE",
    "SINGLE_KINDS",
    "Component",
    "MidMoveExpectation",
    "available_components",
    "full",
    "register_component",
    "registered",
    "require_rng",
    "unregister_component",
]

if TYPE_CHECKING:
    from mm_env.config import MarketConfig
    from mm_env.state import MarketState

class MidMoveExpectation(NamedTuple):
    """``E[S' - S | S] = relative * S + absolute`` for one step."""

    relative: float
    absolute: float

    def of(self, mid: Any) -> Any:
        """The expected move from ``mid`` (float or array)."""
        return self.relative * mid + self.absolute


#: A component that does not move the mid in expectation.
NO_MOVE = MidMoveExpectation(0.0, 0.0)


class Component:
    """Base of every market component (see the module doc for what each declares)."""

    kind: ClassVar[str] = ""
    name: ClassVar[str] = ""
    params: ClassVar[tuple[str, ...]] = ()
    state_fields: ClassVar[dict[str, str]] = {}
    info_keys: ClassVar[tuple[str, ...]] = ()

    def __init__(self, config: MarketConfig) -> None:
        self.config = config
        self.normals: tuple[str, ...] = ()
        self.uniforms: tuple[str, ...] = ()

    @classmethod
    def applies(cls, config: MarketConfig) -> bool:
        """Whether a market with ``config`` has this component."""
        return False

    def bind(self, market: Any) -> None:
        """Called once the market (:class:`mm_env.dynamics.MarketDynamics`) is composed: a
        component that works with another one (the fill model with the fill shape, a feature
        with the mid process) takes it from ``market`` here."""

    # ------------------------------------------------------------ randomness
    def draw(self, rng: np.random.Generator, shape: tuple[int, ...]) -> dict[str, Any]:
        """Draws other than standard normals and uniforms, after those of every component."""
        return {}

    # ------------------------------------------------------------ state
    def initial(
        self, shape: tuple[int, ...] | None, rng: np.random.Generator | None
    ) -> dict[str, Any]:
        """This component's :attr:`state_fields` at t = 0 (floats, or arrays of ``shape``)."""
        return {}

    def advance(self, ops: Any, before: MarketState, after: dict[str, Any], mid: Any, z: Any,
                noise: dict[str, Any], arrivals_sell: Any, arrivals_buy: Any) -> None:
        """Write this component's :attr:`state_fields` after the step into ``after``.

        ``before``: the state before the step; ``mid``: the mid after it; ``z``: the mid's
        standard normal draw; ``noise``: the components' draws; ``arrivals_sell`` and
        ``arrivals_buy``: the step's market orders (0 when arrivals are not counted).
        """

    def state_info(self, state: MarketState) -> dict[str, Any]:
        """The :attr:`info_keys` entries read off a state (at reset and after each step)."""
        return {}

    def reset_info(self) -> dict[str, Any]:
        """The values at reset of the :attr:`info_keys` entries a step writes (``extras``)."""
        return {}

    # ------------------------------------------------------------ read-outs
    def expected_move(self) -> MidMoveExpectation | None:
        """This component's part of ``E[S' - S | S]`` (None: it depends on more than S)."""
        return NO_MOVE


def full(shape: tuple[int, ...] | None, value: float) -> Any:
    """``value`` as a float (``shape`` None) or an array of ``shape``."""
    return float(value) if shape is None else np.full(shape, float(value))


def require_rng(rng: np.random.Generator | None, component: Component) -> np.random.Generator:
    """``rng``, or ValueError saying that ``component`` starts from a random state."""
    if rng is None:
        raise ValueError(
            f"initial_state needs rng (a numpy Generator) for this config: its "
            f"{component.kind} component {component.name!r} starts from a random state"
        )
    return rng
