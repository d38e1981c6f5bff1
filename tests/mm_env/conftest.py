"""Markets shared by the mm_env tests."""

from __future__ import annotations

from typing import Any

#: Every optional market component at once (the size action too) on the AS 2008 scale
#: (apply to the "as2008" preset); the replayed mid excludes the other mid models.
EVERYTHING: dict[str, Any] = {
    "fill_model": "poisson", "inventory_limit": 8.0, "min_depth": -0.5,
    "signal_std": 4.0, "signal_flow": 0.1, "signal_obs_noise": 1.0, "adverse_prob": 0.4,
    "adverse_jump": 0.3, "jump_rate": 20.0, "jump_mean": 0.1, "jump_std": 0.5,
    "hawkes_branching": 0.6, "flow_skew": 0.2, "fill_shape": "power", "tick_size": 0.05,
    "maker_fee": 0.01, "liquidation_impact": 0.2, "size_action": True, "max_order_size": 2.0,
    "obs_extras": ("signal", "flow_imbalance", "realized_vol"), "ou_rate": 2.0,
}
#: The same sizes in log-price units, for a geometric mid (apply on top of EVERYTHING).
GBM_SCALE: dict[str, Any] = {
    "sigma": 0.02, "adverse_jump": 0.003, "jump_mean": 0.001, "jump_std": 0.005,
    "signal_std": 0.04, "signal_obs_noise": 0.01, "signal_flow": 10.0,
}
