"""Every preset's trajectories (and two all-features markets') are pinned.

``tests/fixtures/trajectories.npz`` holds observations, rewards and every info entry of
3 seeds x every market of :func:`tests.fixtures.regression.markets` x {scalar env, vector env
with an autoreset}, recorded before the market was rebuilt from components. Fills, inventories
and steps must match exactly; prices, cash and rewards to 1e-12 relative (they pass through
``exp``, whose last bit may differ between CPUs and libms; on one machine they are identical,
which ``MM_ENV_REGRESSION_EXACT=1`` asserts).
"""

from __future__ import annotations

import os

import numpy as np
import pytest

from tests.fixtures.regression import FIXTURE, record

EXACT = os.environ.get("MM_ENV_REGRESSION_EXACT") == "1"


@pytest.fixture(scope="module")
def pinned() -> dict[str, np.ndarray]:
    with np.load(FIXTURE) as data:
        return {k: data[k] for k in data.files}


@pytest.fixture(scope="module")
def replayed() -> dict[str, np.ndarray]:
    return record()


def test_same_runs_as_the_fixture(pinned, replayed):
    assert sorted(replayed) == sorted(pinned)


@pytest.mark.parametrize("what", ["obs", "reward", "info"])
def test_trajectories_match_the_fixture(pinned, replayed, what):
    keys = [k for k in pinned if k.split("/")[3] == what]
    assert keys
    for key in keys:
        got, want = replayed[key], pinned[key]
        assert got.shape == want.shape, key
        discrete = key.rsplit("/", 1)[-1] in ("inventory", "bid_filled", "ask_filled", "step")
        if EXACT or discrete:
            np.testing.assert_array_equal(got, want, err_msg=key)
        else:
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12, err_msg=key)
