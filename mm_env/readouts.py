"""Read-outs of a market for training code: the expected mid move and observation scales,
each declared by the market's components."""

from __future__ import annotations

from mm_env.components import MidMoveExpectation
from mm_env.config import MarketConfig
from mm_env.dynamics import MarketDynamics

__all__ = ["MidMoveExpectation", "mid_move_expectation", "observation_scales"]


def mid_move_expectation(config: MarketConfig) -> MidMoveExpectation:
    """The one-step expected mid move given the mid alone (the mid process's and the shocks'
    declared expectations), or ValueError naming the market components under which it depends
    on more than the mid (they move it predictably)."""
    return MarketDynamics(config).expected_mid_move()


def observation_scales(config: MarketConfig) -> dict[str, tuple[float, float]]:
    """``(offset, scale)`` per observation component, fixed by the config, so that
    ``(x - offset) / scale`` is O(1): time / T, inventory / min(limit, 10 sizes), the mid as
    declared by the mid process (``(S - S0) / (sigma_abs sqrt(T))`` for the built-in ones),
    each observation feature as it declares (the signal / its stationary std, the flow
    imbalance as is, the realised volatility around sigma)."""
    return MarketDynamics(config).observation_scales()
