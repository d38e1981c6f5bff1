"""Adverse selection: after a bid fill, with probability ``p`` the mid's state variable jumps
down by ``eta``; after an ask fill, up by ``eta`` (information the fill carried)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mm_env.components.kinds import Shock

if TYPE_CHECKING:
    from mm_env.config import MarketConfig
    from mm_env.state import MarketState


class AdverseSelection(Shock):
    """Fill-triggered mid jumps against the market maker (``adverse_prob, adverse_jump > 0``)."""

    name = "adverse_selection"
    params = ("adverse_prob", "adverse_jump")

    @classmethod
    def applies(cls, config: MarketConfig) -> bool:
        return config.adverse_prob > 0 and config.adverse_jump > 0

    def __init__(self, config: MarketConfig) -> None:
        super().__init__(config)
        self.prob = config.adverse_prob
        self.eta = config.adverse_jump
        self.uniforms = ("adverse_bid", "adverse_ask")

    def term(self, ops: Any, state: MarketState, noise: dict[str, Any],
             bid_filled: Any, ask_filled: Any) -> Any:
        up = ask_filled & (noise["adverse_ask"] < self.prob)
        down = bid_filled & (noise["adverse_bid"] < self.prob)
        return self.eta * up - self.eta * down

    def expected_move(self) -> None:
        return None  # depends on the fills, hence on the quotes
