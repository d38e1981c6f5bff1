"""MultiAssetConfig: presets, broadcasting, the n = 1 reduction and every refusal."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from mm_env import MarketConfig
from mm_env.multi_asset import MultiAssetConfig, available_presets, mean_variance_penalty
from mm_env.multi_asset.config import PER_ASSET_FIELDS


# --------------------------------------------------------------------------- presets
def test_available_presets():
    assert available_presets() == ["basket", "pair"]


def test_pair_preset_is_the_as2008_scale_with_a_mean_variance_penalty():
    c = MultiAssetConfig.preset("pair")
    assert c.n_assets == 2 and c.mid_model == "abm" and c.reward == "inventory_penalty"
    assert c.S0 == (100.0, 100.0) and c.sigma == (2.0, 2.0)
    assert c.A == (140.0, 140.0) and c.k == (1.5, 1.5)
    assert c.T == 1.0 and c.n_steps == 200 and c.dt == 0.005
    assert c.rho == ((1.0, 0.9), (0.9, 1.0))
    np.testing.assert_allclose(c.covariance, [[4.0, 3.6], [3.6, 4.0]])
    np.testing.assert_allclose(c.phi_matrix, 0.5 * c.covariance)
    np.testing.assert_allclose(c.alpha_matrix, c.phi_matrix)
    # the limit is a whole number of order sizes (the exact solvers' grid)
    assert all(
        (lim / s).is_integer() for lim, s in zip(c.inventory_limit, c.order_size, strict=True)
    )


def test_basket_preset_has_mixed_correlations():
    c = MultiAssetConfig.preset("basket")
    assert c.n_assets == 3
    rho = c.rho_matrix
    off = rho[~np.eye(3, dtype=bool)]
    assert (off > 0).any() and (off < 0).any()
    assert np.linalg.eigvalsh(rho).min() > 0
    np.testing.assert_allclose(c.phi_matrix, 0.5 * c.covariance)


def test_preset_overrides_and_unknown_preset():
    c = MultiAssetConfig.preset("pair", rho=[[1, 0.5], [0.5, 1]], A=(100.0, 120.0))
    assert c.rho == ((1.0, 0.5), (0.5, 1.0)) and c.A == (100.0, 120.0)
    with pytest.raises(ValueError, match=r"preset must be one of \['basket', 'pair'\]"):
        MultiAssetConfig.preset("nope")


# ----------------------------------------------------------------- broadcasting, forms
def test_scalars_broadcast_and_defaults():
    c = MultiAssetConfig(n_assets=3, sigma=0.01, A=np.float32(100.0), phi=0.5)
    assert c.sigma == (0.01,) * 3 and c.A == (100.0,) * 3
    assert c.rho == ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0))
    assert c.phi == ((0.5, 0.0, 0.0), (0.0, 0.5, 0.0), (0.0, 0.0, 0.5))
    assert c.alpha == ((0.0,) * 3,) * 3
    assert all(type(x) is float for name in PER_ASSET_FIELDS for x in getattr(c, name))


def test_arrays_and_lists_are_stored_as_tuples_and_config_is_hashable():
    c = MultiAssetConfig(n_assets=2, S0=np.array([10.0, 20.0]), rho=np.array([[1, -1], [-1, 1]]))
    assert c.S0 == (10.0, 20.0) and c.rho == ((1.0, -1.0), (-1.0, 1.0))
    assert hash(c) == hash(MultiAssetConfig(n_assets=2, S0=(10, 20), rho=((1, -1), (-1, 1))))
    with pytest.raises(dataclasses.FrozenInstanceError):
        c.n_assets = 3  # type: ignore[misc]


def test_matrix_copies_are_fresh_arrays():
    c = MultiAssetConfig.preset("pair")
    m = c.rho_matrix
    m[0, 1] = 0.0
    assert c.rho_matrix[0, 1] == 0.9


def test_round_trips():
    c = MultiAssetConfig.preset("basket")
    assert MultiAssetConfig.from_dict(c.to_dict()) == c
    assert c.replace(n_steps=50).n_steps == 50
    assert c.replace(n_steps=50).rho == c.rho


def test_covariance_under_gbm_uses_sigma_times_s0():
    c = MultiAssetConfig(
        n_assets=2, S0=(100.0, 50.0), sigma=(0.02, 0.04), rho=[[1, 0.3], [0.3, 1]], mid_model="gbm"
    )
    np.testing.assert_allclose(c.price_sigma, [2.0, 2.0])
    np.testing.assert_allclose(c.covariance, [[4.0, 1.2], [1.2, 4.0]])
    abm = c.replace(mid_model="abm")
    np.testing.assert_allclose(abm.covariance, [[4e-4, 0.3 * 8e-4], [0.3 * 8e-4, 1.6e-3]])


def test_mean_variance_penalty():
    cov = [[4.0, 1.0], [1.0, 9.0]]
    assert mean_variance_penalty(cov, 0.2) == ((0.4, 0.1), (0.1, 0.9))
    for bad in (-1.0, math.nan, True):
        with pytest.raises(ValueError, match="gamma must be a finite number >= 0"):
            mean_variance_penalty(cov, bad)
    with pytest.raises(ValueError, match="covariance must be symmetric"):
        mean_variance_penalty([[1.0, 0.5], [0.0, 1.0]], 1.0)
    with pytest.raises(ValueError, match="covariance must be a square matrix"):
        mean_variance_penalty([1.0, 2.0], 1.0)


# ------------------------------------------------------------------- n = 1 reduction
@pytest.mark.parametrize("preset", ["as2008", "penalty", "default", "course"])
def test_from_market_then_asset_is_the_market(preset):
    market = MarketConfig.preset(preset)
    c = MultiAssetConfig.from_market(market)
    assert c.n_assets == 1
    assert c.asset(0) == market
    assert c.assets() == (market,)


def test_from_market_with_a_tick():
    market = MarketConfig.preset("as2008", tick_size=0.1, reward="inventory_penalty", phi=0.3)
    c = MultiAssetConfig.from_market(market)
    assert c.asset(0) == market and c.phi == ((0.3,),)


def test_asset_of_a_pair_takes_the_diagonal_of_the_penalties():
    c = MultiAssetConfig.preset("pair", S0=(100.0, 40.0))
    a1 = c.asset(1)
    assert a1.S0 == 40.0 and a1.phi == c.phi[1][1] and a1.alpha == c.alpha[1][1]
    assert a1.mid_model == "abm" and a1.fill_model == "bernoulli" and a1.n_steps == 200
    for bad in (2, -1, 0.5, True):
        with pytest.raises(ValueError, match=r"asset index must be an integer in \[0, 2\)"):
            c.asset(bad)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"preset": "adverse"},
            r"no market components but the tick; this config has "
            r"\['adverse_selection'\]",
        ),
        ({"preset": "microstructure"}, "no market components but the tick"),
        (
            {"preset": "default", "reward": "inventory_penalty", "ou_rate": 1.0, "mu": 0.0},
            r"\['ou'\]",
        ),
    ],
)
def test_from_market_refuses_markets_with_components(overrides, message):
    preset = overrides.pop("preset")
    with pytest.raises(ValueError, match=message):
        MultiAssetConfig.from_market(MarketConfig.preset(preset, **overrides))


def test_from_market_refuses_a_non_config():
    with pytest.raises(ValueError, match="config must be a MarketConfig, got dict"):
        MultiAssetConfig.from_market({})  # type: ignore[arg-type]


# ------------------------------------------------------------------------ refusals
@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"n_assets": 0}, r"n_assets must be an integer >= 1, got 0"),
        ({"n_assets": 17}, r"n_assets must be an integer <= 16 \(.*\), got 17"),
        ({"n_assets": 2.0}, r"n_assets must be an integer"),
        (
            {"S0": (100.0, 100.0, 1.0)},
            r"S0 must be a number or a tuple of n_assets = 2 numbers, "
            r"got 3 values",
        ),
        ({"sigma": (0.1,)}, r"sigma must be a number or a tuple of n_assets = 2 numbers, got 1"),
        ({"A": "140"}, r"A must be a number or a tuple of 2 numbers, got '140'"),
        ({"S0": (100.0, math.nan)}, r"S0\[1\] must be finite, got nan"),
        ({"mu": (math.inf, 0.0)}, r"mu\[0\] must be finite, got inf"),
        ({"k": (1.5, -1.0)}, r"k\[1\] must be > 0"),
        ({"sigma": (-0.1, 0.1)}, r"sigma\[0\] must be >= 0"),
        ({"A": (1e13, 1.0)}, r"A\[0\] must be <= 1e12"),
        ({"order_size": (1.0, True)}, r"order_size\[1\] must be a real number, got True"),
        ({"inventory_limit": (0.5, 10.0)}, r"asset 0: inventory_limit must be >= order_size"),
        ({"min_depth": (0.0, 5.0), "max_depth": 5.0}, r"asset 1: max_depth must be > min_depth"),
        ({"tick_size": (0.1, 0.0)}, r"tick_size must be 0 for every asset or > 0 for every asset"),
        ({"T": 0.0}, r"T must be > 0"),
        ({"n_steps": 0}, r"n_steps must be an integer >= 1"),
        ({"mid_model": "ou"}, r"mid_model must be one of \['gbm', 'abm'\], got 'ou'"),
        ({"fill_model": "x"}, r"fill_model must be one of \['poisson', 'bernoulli'\]"),
        ({"reward": "spread"}, r"reward must be one of \['pnl', 'inventory_penalty'\]"),
        ({"sigma": (0.02, 50.0)}, r"asset 1: the log-mid's move over an episode"),
    ],
)
def test_bad_fields_are_refused_naming_the_field(overrides, message):
    with pytest.raises(ValueError, match=message):
        MultiAssetConfig(n_assets=overrides.pop("n_assets", 2), **overrides)


@pytest.mark.parametrize(
    ("rho", "message"),
    [
        ([[1.0, 0.5], [0.4, 1.0]], "rho must be symmetric"),
        ([[1.0, 0.5], [0.5, 0.9]], r"rho must have a unit diagonal .* got diagonal \[1.0, 0.9\]"),
        ([[1.0, 1.5], [1.5, 1.0]], r"rho must be positive semi-definite"),
        ([[1.0, math.nan], [math.nan, 1.0]], "rho must have finite entries"),
        (
            [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]],
            r"rho must be an n_assets x n_assets"
            r" = 2 x 2 matrix of numbers, got "
            r"shape \(3, 3\)",
        ),
        ([1.0, 0.0], r"rho must be an n_assets x n_assets = 2 x 2 matrix"),
        (0.5, r"rho must be an n_assets x n_assets = 2 x 2 matrix"),
        ([["a", "b"], ["c", "d"]], r"rho must be an 2 x 2 matrix of numbers"),
        (
            [[True, False], [False, True]],
            r"rho must be an n_assets x n_assets = 2 x 2 matrix of "
            r"numbers",
        ),
    ],
)
def test_bad_correlations_are_refused(rho, message):
    with pytest.raises(ValueError, match=message):
        MultiAssetConfig(n_assets=2, rho=rho)


def test_a_correlation_matrix_of_valid_pairs_that_is_not_psd_is_refused():
    rho = [[1.0, 0.9, 0.9], [0.9, 1.0, -0.9], [0.9, -0.9, 1.0]]  # every 2 x 2 block is PSD
    with pytest.raises(
        ValueError,
        match=r"rho must be positive semi-definite, .* \(smallest "
        r"eigenvalue -",
    ):
        MultiAssetConfig(n_assets=3, rho=rho)


@pytest.mark.parametrize("name", ["phi", "alpha"])
@pytest.mark.parametrize(
    ("value", "message"),
    [
        (-0.1, r"must be a number in \[0, 1e12\] \(times the identity\)"),
        (math.inf, r"must be a number in \[0, 1e12\]"),
        ([[1.0, 0.2], [0.0, 1.0]], "must be symmetric"),
        ([[1.0, 2.0], [2.0, 1.0]], "must be positive semi-definite"),
        ([[-1.0, 0.0], [0.0, 1.0]], "must be positive semi-definite"),
        ([[1.0, math.inf], [math.inf, 1.0]], "must have finite entries"),
        ([[1e13, 0.0], [0.0, 1.0]], r"must have finite entries in \[-1e12, 1e12\]"),
        ([[1.0]], r"must be an n_assets x n_assets = 2 x 2 matrix"),
    ],
)
def test_bad_penalty_matrices_are_refused(name, value, message):
    with pytest.raises(ValueError, match=f"{name} {message}"):
        MultiAssetConfig(n_assets=2, **{name: value})


def test_singular_correlations_and_penalties_are_accepted():
    c = MultiAssetConfig(n_assets=2, rho=[[1, 1], [1, 1]], phi=[[1, 1], [1, 1]])
    assert c.rho == ((1.0, 1.0), (1.0, 1.0)) and c.phi == ((1.0, 1.0), (1.0, 1.0))
    # within the tolerance: symmetrised, the diagonal set to exactly 1
    d = MultiAssetConfig(n_assets=2, rho=[[1 + 1e-13, 0.5 + 1e-13], [0.5, 1.0]])
    assert d.rho == ((1.0, 0.5 + 5e-14), (0.5 + 5e-14, 1.0))


def test_unknown_fields_are_refused():
    with pytest.raises(ValueError, match=r"unknown MultiAssetConfig field\(s\) \['gamma'\]"):
        MultiAssetConfig.preset("pair", gamma=0.1)
    with pytest.raises(TypeError, match="unexpected keyword argument 'phi_matrix'"):
        MultiAssetConfig.preset("pair").replace(phi_matrix=1.0)


def test_field_docs_name_units_and_ranges():
    docs = MultiAssetConfig.field_docs()
    assert set(docs) == {f.name for f in dataclasses.fields(MultiAssetConfig)}
    assert "(0, 1e12]" in docs["k"] and "1/price unit" in docs["k"]
    assert "unit diagonal" in docs["rho"]
