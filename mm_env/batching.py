"""The plumbing the batched envs share: the batch size, the autoreset mode, reset masks,
partial resets and Gymnasium's ``SameStep`` layout of the last observations.

Used by :class:`mm_env.batched_vector_env.BatchedVectorEnv`, the base of
:class:`mm_env.MarketMakingVectorEnv` and
:class:`mm_env.multi_asset.MultiAssetMarketMakingVectorEnv`, and (batch size, autoreset mode,
partial resets) by :class:`mm_env.competition.CompetitionVectorEnv`. Only their constructor,
reset and autoreset paths call it; each env's ``step`` keeps its own inline loop.

A batched env keeps ``needs_reset``, a bool array ``(size,)`` of the members whose episode
ended at the last step (under ``NextStep`` they reset at the next step; under ``Disabled`` the
next step is refused until ``reset(options={"reset_mask": mask})`` starts them again).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import numpy as np
from gymnasium.vector import AutoresetMode

__all__ = [
    "autoreset_mode_of",
    "check_count",
    "check_reset_mask",
    "reset_mask_option",
    "reset_rows",
    "same_step_final",
]

_MODES = {m.value: m for m in AutoresetMode}

State = TypeVar("State")


def check_count(name: str, value: object) -> int:
    """``value`` as an int ``>= 1`` (int or numpy integer, not a bool), else ValueError
    naming ``name``: the batch sizes of the vector envs (``num_envs``, ``num_games``)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    return int(value)


def autoreset_mode_of(value: str | AutoresetMode) -> AutoresetMode:
    """The :class:`AutoresetMode` named by ``value`` (its value string or the member), else
    ValueError listing the modes."""
    mode = _MODES.get(value) if isinstance(value, str) else value
    if not isinstance(mode, AutoresetMode):
        raise ValueError(f"autoreset_mode must be one of {sorted(_MODES)}, got {value!r}")
    return mode


def check_reset_mask(mask: Any, size: int) -> np.ndarray:
    """``options["reset_mask"]`` as a bool array of shape ``(size,)``, or ValueError: only
    booleans (a bool array, or a list of Python/numpy bools) are accepted; ints, even 0/1,
    and strings are refused, so that a mask is never guessed from truthiness."""
    arr: np.ndarray | None = None
    try:
        arr = np.asarray(mask)
    except (ValueError, TypeError) as exc:
        problem = f"not an array ({exc})"
    else:
        problem = f"dtype {arr.dtype}" if arr.dtype != bool else ""
    if arr is None or problem:
        raise ValueError(
            f"options['reset_mask'] must be a boolean array of shape ({size},) "
            f"(True: reset that sub-env), got {mask!r}: {problem}"
        )
    if arr.shape != (size,):
        raise ValueError(f"options['reset_mask'] must have shape ({size},), got {arr.shape}")
    return arr


def reset_mask_option(options: Mapping[str, Any] | None, size: int) -> np.ndarray | None:
    """The checked ``options["reset_mask"]`` (:func:`check_reset_mask`) of ``reset``, or None
    (no options, no mask: reset every member)."""
    mask = None if options is None else options.get("reset_mask")
    return None if mask is None else check_reset_mask(mask, size)


def reset_rows(
    mask: np.ndarray | None,
    fresh: State,
    state: State | None,
    needs_reset: np.ndarray,
    where: Callable[[np.ndarray, State, State], State],
) -> State:
    """The state after ``reset``: ``fresh`` for every member (no ``mask``, or no state yet),
    else ``where(mask, fresh, state)``, ``fresh`` on the members of ``mask`` only. The reset
    members' ``needs_reset`` entries are cleared in place."""
    if mask is None or state is None:
        needs_reset[:] = False
        return fresh
    needs_reset[mask] = False
    return where(mask, fresh, state)


def same_step_final(
    obs: np.ndarray, terminated: np.ndarray, info: dict[str, Any]
) -> dict[str, Any]:
    """The entries a ``SameStep`` vector env adds to the info of a step that ended the
    episodes of ``terminated``, as Gymnasium lays them out: their last observations in
    ``"final_obs"`` (an object array, None for the others) and their last info in
    ``"final_info"`` (``info`` with each ``"_key"`` mask replaced by ``terminated``), each
    with its read-only mask ``terminated`` under ``"_final_obs"`` / ``"_final_info"``."""
    final_obs = np.empty(len(terminated), dtype=object)
    for i in np.flatnonzero(terminated):
        final_obs[i] = obs[i]
    mask = terminated.copy()
    mask.flags.writeable = False
    final_info = {key: (mask if key.startswith("_") else value) for key, value in info.items()}
    return {
        "final_obs": final_obs,
        "_final_obs": mask,
        "final_info": final_info,
        "_final_info": mask,
    }
