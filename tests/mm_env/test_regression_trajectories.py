"""Every preset's trajectories (and two all-features markets') are pinned.

``tests/fixtures/trajectories.npz`` holds observations, rewards and every info entry of
3 seeds x every market of :func:`tests.fixtures.regression.markets` x {scalar env, vector env
with an autoreset}, recorded before the market was rebuilt from components. Fills, inventories
and steps must match exactly; prices, cash and rewards to 1e-12 relative (they pass through
``exp``, whose last bit may differ between CPUs and libms; on one machine they are identical,
which ``MM_ENV_REGRESSION_EXACT=1`` asserts).

The fixture predates the ``bid_quoted``/``ask_quoted`` info flags, when a side not quoted (and
both sides at reset) had a NaN price: where the pinned ``bid``/``ask`` is NaN the replayed flag
must be False (the price is then the would-be quote, or the mid at reset, and is not compared);
everywhere else the flag must be True and the price must match as before. Likewise the
quoted ``size`` (with ``size_action``) was NaN at reset and is now ``order_size`` there.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

from tests.fixtures.regression import FIXTURE, markets, record

EXACT = os.environ.get("MM_ENV_REGRESSION_EXACT") == "1"


@pytest.fixture(scope="module")
def pinned() -> dict[str, np.ndarray]:
    with np.load(FIXTURE) as data:
        return {k: data[k] for k in data.files}


@pytest.fixture(scope="module")
def replayed() -> dict[str, np.ndarray]:
    return record()


QUOTED = {"bid": "bid_quoted", "ask": "ask_quoted"}



def _is_flag(key: str) -> bool:
    return key.rsplit("/", 1)[-1] in QUOTED.values()


def test_same_runs_as_the_fixture(pinned, replayed):
    assert sorted(k for k in replayed if not _is_flag(k)) == sorted(pinned)
    flags = sorted(k for k in replayed if _is_flag(k))
    prices = sorted(k.rsplit("/", 1)[0] + "/" + QUOTED[k.rsplit("/", 1)[1]]
                    for k in pinned if k.rsplit("/", 1)[-1] in QUOTED)
    assert flags == prices


@pytest.mark.parametrize("what", ["obs", "reward", "info"])
def test_trajectories_match_the_fixture(pinned, replayed, what):
    keys = [k for k in pinned if k.split("/")[3] == what]
    assert keys
    for key in keys:
        got, want = replayed[key], pinned[key]
        assert got.shape == want.shape, key
        head, name = key.rsplit("/", 1)
        if name in QUOTED:
            quoted = replayed[f"{head}/{QUOTED[name]}"]
            assert quoted.shape == want.shape, key
            not_quoted = np.isnan(want)
            np.testing.assert_array_equal(quoted, (~not_quoted).astype(float), err_msg=key)
            assert np.isfinite(got).all(), key
            got, want = got[~not_quoted], want[~not_quoted]
        if name == "size":
            at_reset = np.isnan(want)
            assert np.isfinite(got).all(), key
            order_size = markets()[key.split("/")[0]].order_size
            np.testing.assert_array_equal(got[at_reset], order_size, err_msg=key)
            got, want = got[~at_reset], want[~at_reset]
        discrete = name in ("inventory", "bid_filled", "ask_filled", "step")
        if EXACT or discrete:
            np.testing.assert_array_equal(got, want, err_msg=key)
        else:
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12, err_msg=key)
