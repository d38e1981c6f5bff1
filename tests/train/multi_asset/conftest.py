"""Small multi-asset markets shared by these tests (short episodes, so everything stays fast)."""

from __future__ import annotations

from typing import Any

from mm_env.multi_asset import MultiAssetConfig

#: The pair preset in 20 steps with ``A dt = 1`` and |q_i| <= 4: fills every step or two.
SMALL_PAIR: dict[str, Any] = {"n_steps": 20, "A": 20.0, "inventory_limit": 4.0}


def small_pair(**changes: Any) -> MultiAssetConfig:
    """The ``pair`` preset with :data:`SMALL_PAIR` and ``changes`` on top."""
    return MultiAssetConfig.preset("pair", **{**SMALL_PAIR, **changes})
