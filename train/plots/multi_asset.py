"""Figures of the multi-asset market: quotes over the joint inventory grid, terminal inventories.

- :func:`quote_heatmaps`: one asset's bid and ask depth over the ``(q_1, q_2)`` grid at one
  time, one row per policy (e.g. the exact optimum, then PPO) with a shared colour scale per
  side, so a trained policy reads directly against the optimum. Sides the env does not quote
  (a fill would cross the inventory limit) are blank.
- :func:`terminal_inventory_scatter`: the joint inventory ``(q_1, q_2)`` at the horizon of
  Monte Carlo episodes (:class:`train.evaluation.multi_asset.MultiAssetEvaluation`), one panel
  per policy, each inventory pair a disc of area proportional to its frequency. A joint maker
  ends on the anti-diagonal ``q_1 = -q_2`` (cheap to hold for correlated assets).
- :func:`write_multi_asset_figures`: both into one directory.

Observations fed to the policies are the env's: ``[time_remaining, q_1..q_n, S0_1..S0_n]`` with
assets beyond the first two held flat.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from mm_env.multi_asset import MultiAssetConfig
from train.evaluation.multi_asset import MultiAssetEvaluation
from train.plots.utils import finish, grid_axes

#: File names of :func:`write_multi_asset_figures`.
HEATMAP_FILE = "quote_heatmaps.png"
SCATTER_FILE = "terminal_inventory.png"


def inventory_axis(config: MultiAssetConfig, asset: int, span: float = 10.0) -> np.ndarray:
    """The inventories of ``asset`` drawn: its order-size grid up to ``min(limit, span sizes)``."""
    size = float(config.order_size[asset])
    limit = min(float(config.inventory_limit[asset]), span * size)
    levels = int(np.floor(limit / size + 1e-9))
    return size * np.arange(-levels, levels + 1, dtype=np.float64)


def quote_grid(
    policy: Any, config: MultiAssetConfig, asset: int = 0, time_remaining: float | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(q_1 values, q_2 values, bid, ask)``: depths of ``asset`` (``(len(q_1), len(q_2))``
    arrays, NaN where the side is not quoted) over the grid of the first two inventories at
    ``time_remaining`` (default ``T``, the start)."""
    if config.n_assets < 2:
        raise ValueError(f"the heatmaps need n_assets >= 2, got {config.n_assets}")
    if not 0 <= asset < config.n_assets:
        raise ValueError(f"asset must be in [0, {config.n_assets - 1}], got {asset!r}")
    tau = config.T if time_remaining is None else float(time_remaining)
    if not 0.0 <= tau <= config.T:
        raise ValueError(f"time_remaining must be in [0, T={config.T}], got {time_remaining!r}")
    n = config.n_assets
    q1, q2 = inventory_axis(config, 0), inventory_axis(config, 1)
    g1, g2 = np.meshgrid(q1, q2, indexing="ij")
    obs = np.zeros((g1.size, 1 + 2 * n), dtype=np.float32)
    obs[:, 0] = tau
    obs[:, 1], obs[:, 2] = g1.ravel(), g2.ravel()
    obs[:, 1 + n :] = np.asarray(config.S0, dtype=np.float32)
    act = np.asarray(policy.act(obs), dtype=np.float64).reshape(*g1.shape, 2 * n)
    bid, ask = act[..., 2 * asset].copy(), act[..., 2 * asset + 1].copy()
    q_own = obs[:, 1 + asset].reshape(g1.shape)
    size, limit = float(config.order_size[asset]), float(config.inventory_limit[asset])
    bid[q_own + size > limit + 1e-9] = np.nan
    ask[q_own - size < -limit - 1e-9] = np.nan
    lo, hi = float(config.min_depth[asset]), float(config.max_depth[asset])
    return q1, q2, np.clip(bid, lo, hi), np.clip(ask, lo, hi)


def quote_heatmaps(
    policies: Mapping[str, Any],
    config: MultiAssetConfig,
    asset: int = 0,
    time_remaining: float | None = None,
    path: str | Path | None = None,
) -> Any:
    """Bid and ask depth of ``asset`` over ``(q_1, q_2)``, one row per policy (module doc)."""
    if not policies:
        raise ValueError("policies must name at least one policy")
    grids = {name: quote_grid(p, config, asset, time_remaining) for name, p in policies.items()}
    fig, axes = grid_axes(None, len(grids), 2, 9.0, 3.6 * len(grids) + 0.6)
    for side, column in (("bid", 2), ("ask", 3)):
        values = np.concatenate([g[column].ravel() for g in grids.values()])
        values = values[np.isfinite(values)]
        vmin, vmax = (float(values.min()), float(values.max())) if values.size else (0.0, 1.0)
        for row, (name, g) in enumerate(grids.items()):
            ax = axes[2 * row + column - 2]
            q1, q2 = g[0], g[1]
            image = ax.imshow(
                g[column].T,
                origin="lower",
                aspect="auto",
                cmap="viridis",
                vmin=vmin,
                vmax=vmax,
                extent=(q1[0] - 0.5, q1[-1] + 0.5, q2[0] - 0.5, q2[-1] + 0.5),
            )
            ax.set_title(f"{name}: {side} depth of asset {asset + 1}")
            ax.set_xlabel("inventory q_1 [shares]")
            ax.set_ylabel("inventory q_2 [shares]")
            fig.colorbar(image, ax=ax, label="depth [price units]")
    tau = config.T if time_remaining is None else time_remaining
    return finish(fig, path, f"Quotes over the joint inventory, time remaining {tau:g}")


def terminal_inventory_scatter(
    evaluations: Mapping[str, MultiAssetEvaluation], path: str | Path | None = None
) -> Any:
    """Joint terminal inventories ``(q_1, q_2)``, one panel per evaluation (module doc)."""
    if not evaluations:
        raise ValueError("evaluations must name at least one evaluation")
    fig, axes = grid_axes(
        None, 1, len(evaluations), 4.6 * len(evaluations), 4.6, sharex=True, sharey=True
    )
    for ax, (name, ev) in zip(axes, evaluations.items(), strict=True):
        q = np.asarray(ev.final_inventory, dtype=np.float64)
        if q.ndim != 2 or q.shape[1] < 2:
            raise ValueError(f"{name}: terminal inventories of >= 2 assets needed, got {q.shape}")
        pairs, counts = np.unique(q[:, :2], axis=0, return_counts=True)
        share = counts / counts.sum()
        ax.scatter(pairs[:, 0], pairs[:, 1], s=2000.0 * share, alpha=0.6, color="tab:purple")
        lim = float(np.abs(q[:, :2]).max()) + 1.0
        ax.plot([-lim, lim], [lim, -lim], color="0.6", lw=0.8, ls="--", label="q_1 = -q_2")
        corr = float(np.corrcoef(q[:, 0], q[:, 1])[0, 1]) if q[:, :2].std(axis=0).min() else 0.0
        ax.set_title(f"{name} ({ev.n_episodes} episodes, corr {corr:+.2f})")
        ax.set_xlabel("q_1 at T [shares]")
        ax.set_ylabel("q_2 at T [shares]")
        ax.set_xlim(-lim, lim)
        ax.set_ylim(-lim, lim)
        ax.legend(loc="upper right", fontsize="small")
    return finish(fig, path, "Joint inventory at the horizon")


def write_multi_asset_figures(
    out_dir: str | Path,
    config: MultiAssetConfig,
    policies: Mapping[str, Any],
    evaluations: Mapping[str, MultiAssetEvaluation],
    asset: int = 0,
) -> list[Path]:
    """:func:`quote_heatmaps` (at the start) and :func:`terminal_inventory_scatter` into
    ``out_dir``; the paths written."""
    out = Path(out_dir)
    heatmap, scatter = out / HEATMAP_FILE, out / SCATTER_FILE
    quote_heatmaps(policies, config, asset, path=heatmap)
    terminal_inventory_scatter(evaluations, path=scatter)
    return [heatmap, scatter]
