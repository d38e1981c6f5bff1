"""The multi-asset Monte Carlo harness: common random numbers, chunking, paired statistics and
the score, against the exact lattice values of the same policies."""

from __future__ import annotations

import numpy as np
import pytest

from agents.multi_asset import (
    IndependentAgent,
    MultiAssetDiscreteOptimalAgent,
    evaluate_on_multi_lattice,
)
from tests.train.multi_asset.conftest import small_pair
from train.evaluation.multi_asset import (
    NaiveMultiAssetPolicy,
    evaluate_multi_asset,
    paired,
    score,
)
from train.values import UserError

N = 4000


@pytest.fixture(scope="module")
def runs():
    config = small_pair()
    policies = {
        "naive": NaiveMultiAssetPolicy(config),
        "independent": IndependentAgent(config),
        "optimal": MultiAssetDiscreteOptimalAgent(config),
    }
    evals = {k: evaluate_multi_asset(p, config, N, 7, chunk_size=2000) for k, p in policies.items()}
    exact = {k: evaluate_on_multi_lattice(p, config).initial for k, p in policies.items()}
    return config, policies, evals, exact


def test_monte_carlo_means_match_the_exact_values(runs):
    _, _, evals, exact = runs
    for name, ev in evals.items():
        m = ev.mean_reward
        assert abs(m.value - exact[name]) < 4.5 * m.se, (name, m, exact[name])
        assert ev.total_reward.shape == (N,) and ev.final_inventory.shape == (N, 2)
    # paired differences: the exact gap inside 4.5 paired SEs, which are far below unpaired
    gap = paired(evals["optimal"], evals["independent"])
    assert abs(gap.value - (exact["optimal"] - exact["independent"])) < 4.5 * gap.se
    unpaired = np.hypot(evals["optimal"].mean_reward.se, evals["independent"].mean_reward.se)
    assert gap.se < 0.75 * unpaired


def test_common_random_numbers_and_chunks(runs):
    config, policies, evals, _ = runs
    again = evaluate_multi_asset(policies["naive"], config, N, 7, chunk_size=2000)
    assert np.array_equal(again.total_reward, evals["naive"].total_reward)
    assert np.array_equal(again.final_inventory, evals["naive"].final_inventory)
    # the first chunk of a longer run is the shorter run
    short = evaluate_multi_asset(policies["naive"], config, 2000, 7, chunk_size=2000)
    assert np.array_equal(short.pnl, evals["naive"].pnl[:2000])
    other = evaluate_multi_asset(policies["naive"], config, 2000, 8, chunk_size=2000)
    assert not np.array_equal(other.pnl, short.pnl)
    # same mids for every policy: a policy that never trades has PnL 0, the naive one's PnL
    # minus its inventory's mark-to-market is its spread income, >= 0 on every episode
    never = lambda obs: np.full((obs.shape[0], 4), 10.0)  # noqa: E731 - beyond any fill
    flat = evaluate_multi_asset(never, small_pair(A=1e-3), 50, 1)
    assert np.array_equal(flat.pnl, np.zeros(50))


def test_paired_statistics_and_score(runs):
    _, _, evals, exact = runs
    zero = paired(evals["naive"], evals["naive"])
    assert zero.value == 0.0 and zero.se == 0.0
    assert score(evals["optimal"], evals["naive"], evals["optimal"]).value == pytest.approx(1.0)
    assert score(evals["naive"], evals["naive"], evals["optimal"]).value == 0.0
    s = score(evals["independent"], evals["naive"], evals["optimal"])
    truth = (exact["independent"] - exact["naive"]) / (exact["optimal"] - exact["naive"])
    assert abs(s.value - truth) < 4.5 * s.se and 0 < s.value < 1
    with pytest.raises(ValueError, match="same episodes"):
        paired(
            evals["naive"],
            evaluate_multi_asset(NaiveMultiAssetPolicy(small_pair()), small_pair(), 100, 7),
        )


def test_bad_input_is_refused():
    config = small_pair()
    naive = NaiveMultiAssetPolicy(config)
    with pytest.raises(ValueError, match="n_episodes must be an integer >= 2"):
        evaluate_multi_asset(naive, config, 1, 0)
    with pytest.raises(ValueError, match="seed must be an integer >= 0"):
        evaluate_multi_asset(naive, config, 10, -1)
    with pytest.raises(ValueError, match=r"expected \(10, 4\)"):
        evaluate_multi_asset(lambda obs: np.zeros((obs.shape[0], 2)), config, 10, 0)
    with pytest.raises(ValueError, match="act\\(obs\\) method"):
        evaluate_multi_asset(object(), config, 10, 0)

    class Trained(NaiveMultiAssetPolicy):
        trained_market = small_pair(n_steps=30)

    with pytest.raises(UserError, match="n_steps: trained 30 vs given 20"):
        evaluate_multi_asset(Trained(config), config, 10, 0)
    assert (
        evaluate_multi_asset(Trained(config), config, 10, 0, allow_market_mismatch=True).n_episodes
        == 10
    )
