"""The multi-asset market: ``n`` correlated assets, one market maker quoting a bid and an
ask on each (``mm_env/MultiAssetMarketMaking-v0``).

- :class:`MultiAssetConfig` (:mod:`.config`), its presets (:mod:`.presets`);
"""

from __future__ import annotations

from mm_env.multi_asset.config import MultiAssetConfig, available_presets, mean_variance_penalty

__all__ = ["MultiAssetConfig", "available_presets", "mean_variance_penalty"]
