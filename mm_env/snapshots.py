"""The ``get_state()`` / ``set_state()`` snapshots of the envs: their checks, and the
snapshot of the batched envs.

A snapshot is a plain, deep-copied dict of Python/numpy values (picklable), with at least
``"config"`` (the env's config, compared on restore) and ``"market"`` (the market state); each
env adds what its next steps depend on (the generator's state under ``"rng"``, its pending
resets, its noise block...). ``set_state`` on an env built from the same config continues
exactly as the env that took the snapshot would; a snapshot of another market raises
ValueError (:func:`check_snapshot`).

The batched envs (:class:`mm_env.MarketMakingVectorEnv`,
:class:`mm_env.multi_asset.MultiAssetMarketMakingVectorEnv`,
:class:`mm_env.competition.CompetitionVectorEnv`) share one layout,
``{"config", <batch size>, "market", "needs_reset", "rng"}``:
:func:`batch_snapshot` takes it, :func:`restore_batch_snapshot` checks it and returns what
the env restores.
"""

from __future__ import annotations

import copy
from typing import Any, NamedTuple

import numpy as np

__all__ = ["BatchName", "batch_snapshot", "check_snapshot", "restore_batch_snapshot"]


def check_snapshot(state: Any, config: Any, kind: str = "market") -> None:
    """ValueError unless ``state`` is a ``get_state()`` snapshot (a dict with ``"config"`` and
    ``"market"``) of a ``kind`` (``"market"``, ``"game"``) with ``config``."""
    if not isinstance(state, dict) or "config" not in state or "market" not in state:
        raise ValueError(
            f"state must be a dict returned by get_state(), got {type(state).__name__}"
        )
    if state["config"] != config:
        raise ValueError(
            f"state is a snapshot of another {kind} (its config differs from this env's); "
            "build the env from the config the snapshot was taken with"
        )


class BatchName(NamedTuple):
    """How a batched env names its batch in its snapshots and their errors."""

    size: str
    """The batch size's key in the snapshot and its argument name (``"num_envs"``)."""
    units: str
    """What the batch holds, plural (``"sub-envs"``, ``"games"``)."""
    env: str
    """How the error names the env (``"this vector env"``)."""
    kind: str = "market"
    """What a snapshot of another config is of (:func:`check_snapshot`)."""


def batch_snapshot(
    config: Any,
    batch: BatchName,
    size: int,
    market: Any,
    needs_reset: np.ndarray,
    rng: np.random.Generator,
) -> dict[str, Any]:
    """A batched env's snapshot: ``config``, the batch ``size`` (under ``batch.size``), the
    ``market`` state of every member, which of them reset at the next step
    (``needs_reset``) and the generator's state, deep-copied."""
    return copy.deepcopy(
        {
            "config": config,
            batch.size: size,
            "market": market,
            "needs_reset": needs_reset,
            "rng": rng.bit_generator.state,
        }
    )


def restore_batch_snapshot(
    state: Any, config: Any, batch: BatchName, size: int
) -> tuple[Any, np.ndarray, dict[str, Any]]:
    """Check a :func:`batch_snapshot` against the env (``config`` and batch ``size``, else
    ValueError) and return deep copies of its market state, its ``needs_reset`` and its
    generator state, in the order the env restores them::

        self._state, self._needs_reset, self.np_random.bit_generator.state = (
            restore_batch_snapshot(state, self.config, BATCH, self.num_envs)
        )
    """
    check_snapshot(state, config, batch.kind)
    if state.get(batch.size) != size:
        raise ValueError(
            f"state is a snapshot of {state.get(batch.size)!r} {batch.units}, {batch.env} "
            f"has {batch.size}={size}"
        )
    state = copy.deepcopy(state)
    return state["market"], state["needs_reset"], state["rng"]
