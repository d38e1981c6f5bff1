"""Order flow tilted by the alpha signal ``a``: buy orders at ``x e^(beta a)``, sell orders at
``x e^(-beta a)`` (``beta = signal_flow``): a positive signal, a price about to rise, brings
buyers, so the flow leans towards the market maker's side that is about to lose."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mm_env.components.kinds import FlowModifier

if TYPE_CHECKING:
    from mm_env.config import MarketConfig
    from mm_env.state import MarketState


class SignalTilt(FlowModifier):
    """Arrival rates tilted by the alpha signal (``signal_flow > 0``)."""

    name = "signal_flow"
    params = ("signal_flow",)

    @classmethod
    def applies(cls, config: MarketConfig) -> bool:
        return config.signal_flow > 0

    def modify(self, ops: Any, state: MarketState, sell: Any, buy: Any) -> tuple[Any, Any]:
        tilt = ops.exp(self.config.signal_flow * state.parts["signal"])
        return sell / tilt, buy * tilt
