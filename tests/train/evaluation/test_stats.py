"""Statistics of the episode arrays: drawdown, the certainty equivalent."""

from __future__ import annotations

import math

import numpy as np
import pytest

from train.evaluation import stats


def test_max_drawdown_reference():
    w = np.array([[1.0, 3.0, 2.0, 5.0, 1.0], [-1.0, -2.0, 0.0, 0.5, 0.2]])
    np.testing.assert_allclose(stats.max_drawdown(w), [4.0, 2.0])

def test_certainty_equivalent_is_stable_and_has_the_right_limits():
    x = np.array([1e5, 2e5, 3e5])
    assert math.isfinite(stats.certainty_equivalent(x, 1.0))
    assert stats.certainty_equivalent(x, 1.0) == pytest.approx(1e5 + math.log(3), rel=1e-12)
    assert stats.certainty_equivalent(np.full(5, 7.0), 3.0) == pytest.approx(7.0)
    y = np.random.default_rng(0).normal(2.0, 1.0, 1000)
    assert stats.certainty_equivalent(y, 0.0) == pytest.approx(y.mean())
    assert stats.certainty_equivalent(y, 1e-8) == pytest.approx(y.mean(), rel=1e-6)
    assert stats.certainty_equivalent(y, 1.0) < y.mean()
    with pytest.raises(ValueError, match="gamma"):
        stats.certainty_equivalent(y, -1.0)
