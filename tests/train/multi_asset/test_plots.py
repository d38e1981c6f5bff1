"""The multi-asset figures are drawn and written; the quote grid is the policy's quotes."""

from __future__ import annotations

import numpy as np
import pytest

from agents.multi_asset import MultiAssetOptimalAgent
from mm_env.multi_asset import MultiAssetConfig
from tests.train.multi_asset.conftest import small_pair
from train.evaluation.multi_asset import NaiveMultiAssetPolicy, evaluate_multi_asset
from train.plots.multi_asset import quote_grid, write_multi_asset_figures


def test_quote_grid_and_figures_are_written(tmp_path):
    config = small_pair()
    optimum = MultiAssetOptimalAgent(config)
    q1, q2, bid, ask = quote_grid(optimum, config, asset=0)
    assert q1.tolist() == q2.tolist() == [-4, -3, -2, -1, 0, 1, 2, 3, 4]
    # the grid entry (i, j) is the policy's quote at (q_1, q_2) = (q1[i], q2[j]), at t = 0
    direct = optimum.act(np.array([config.T, 2.0, -1.0, 100.0, 100.0], np.float32))
    assert bid[6, 3] == pytest.approx(direct[0]) and ask[6, 3] == pytest.approx(direct[1])
    assert np.isnan(bid[-1]).all() and np.isnan(ask[0]).all()  # not quoted at the limits
    # long asset 2 (correlated): the maker sells asset 1 to hedge, a tighter ask
    assert ask[4, 8] < ask[4, 4] < ask[4, 0]
    policies = {"optimum": optimum, "naive": NaiveMultiAssetPolicy(config)}
    evals = {name: evaluate_multi_asset(p, config, 200, 0) for name, p in policies.items()}
    paths = write_multi_asset_figures(tmp_path / "figs", config, policies, evals)
    for path in paths:
        assert path.is_file() and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ValueError, match="n_assets >= 2"):
        quote_grid(optimum, MultiAssetConfig(n_assets=1))
