"""What each maker observes, and the spaces of the competition envs.

Maker ``j`` observes (float32, raw units, as the single-asset env)::

    [time_remaining, q_j, S, *obs_extras]                               (3 + len(obs_extras))

and with ``full_information=True`` then, for each other maker ``k`` in maker order (``k = 0,
..., N-1``, skipping ``j``), ``[q_k, bid_depth_k, ask_depth_k]``: its inventory and the depths
it quoted at the last step (after clipping and the tick; the would-be depth of a side it did
not quote; ``max_depth`` at reset). With one maker and no full information this is the
single-asset observation exactly.
"""

from __future__ import annotations

import numpy as np
from gymnasium import spaces

from mm_env.competition.config import CompetitionConfig
from mm_env.competition.dynamics import CompetitionDynamics, CompetitionState
from mm_env.spaces import action_space, observation_names

__all__ = ["CompetitionObserver", "competition_observation_names"]


def competition_observation_names(config: CompetitionConfig) -> tuple[str, ...]:
    """The names of a maker's observation components: the single-asset ones, then (full
    information) ``other{i}_inventory``, ``other{i}_bid_depth``, ``other{i}_ask_depth`` for
    the ``i``-th other maker in maker order."""
    names = observation_names(config.market)
    if config.full_information:
        for i in range(config.n_makers - 1):
            names += (f"other{i}_inventory", f"other{i}_bid_depth", f"other{i}_ask_depth")
    return names


class CompetitionObserver:
    """Builds the ``(games, N, obs_dim)`` observations and each maker's spaces."""

    def __init__(self, dynamics: CompetitionDynamics) -> None:
        config = dynamics.config
        self.dynamics = dynamics
        self.full_information = config.full_information
        n = config.n_makers
        market = dynamics.market
        c = config.market
        base_low, base_high = market.observation_bounds()
        self.base_width = len(base_low)
        self.width = self.base_width + (3 * (n - 1) if self.full_information else 0)
        self._observers = market.observers
        # others[j]: the other makers of maker j, in maker order
        self.others = np.array(
            [[k for k in range(n) if k != j] for j in range(n)], dtype=np.int64
        ).reshape(n, n - 1)
        tick = c.tick_size
        self._depth_lo = c.min_depth - tick
        self._depth_hi = c.max_depth + 2.0 * tick
        limits = dynamics.limits
        low = np.empty((n, self.width))
        high = np.empty((n, self.width))
        b = self.base_width
        low[:, :b] = base_low
        high[:, :b] = base_high
        low[:, 1], high[:, 1] = -limits, limits
        if self.full_information:
            low[:, b::3], high[:, b::3] = -limits[self.others], limits[self.others]
            low[:, b + 1 :: 3] = low[:, b + 2 :: 3] = self._depth_lo
            high[:, b + 1 :: 3] = high[:, b + 2 :: 3] = self._depth_hi
        self.low = low.astype(np.float32)
        """Lower bounds, ``(N, obs_dim)``."""
        self.high = high.astype(np.float32)
        """Upper bounds, ``(N, obs_dim)``."""
        self.observation_spaces = [
            spaces.Box(low=self.low[j], high=self.high[j], dtype=np.float32) for j in range(n)
        ]
        """Each maker's observation space."""
        self.action_space = action_space(c)
        """Every maker's action space: the single-asset ``[bid_depth, ask_depth]`` box."""

    def shared_observation_space(self) -> spaces.Box:
        """One box that holds every maker's observation (the elementwise widest bounds): the
        space of a row when games and makers are flattened into one batch."""
        return spaces.Box(low=self.low.min(axis=0), high=self.high.max(axis=0), dtype=np.float32)

    def observe(self, state: CompetitionState) -> np.ndarray:
        """The observations of every maker of every game, ``(games, N, obs_dim)`` float32."""
        games, n = state.inventory.shape
        obs = np.empty((games, n, self.width), dtype=np.float32)
        obs[:, :, 0] = self.dynamics.time_remaining(state.step)[:, None]
        obs[:, :, 1] = state.inventory
        obs[:, :, 2] = state.mid[:, None]
        if self._observers:
            view = self.dynamics.market_view(state)
            for col, observe in enumerate(self._observers, start=3):
                obs[:, :, col] = np.asarray(observe(view))[:, None]
        if self.full_information and n > 1:
            b, others = self.base_width, self.others
            lo, hi = self._depth_lo, self._depth_hi
            obs[:, :, b::3] = state.inventory[:, others]
            obs[:, :, b + 1 :: 3] = np.minimum(np.maximum(state.bid_depth, lo), hi)[:, others]
            obs[:, :, b + 2 :: 3] = np.minimum(np.maximum(state.ask_depth, lo), hi)[:, others]
        return obs
