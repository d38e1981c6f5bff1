"""The joint-grid solvers: LogGridExp (linear ODE) and GridHJB (nonlinear ODE)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.linalg

from agents.linear_ode import LogTridiagonalExp
from agents.multi_asset import GridHJB, InventoryGrid, LogGridExp
from agents.multi_asset.grid import grid_levels

K, A = 1.5, 140.0


def dense_generator(grid: InventoryGrid, diag: np.ndarray, off: list[float]) -> np.ndarray:
    """The matrix M of the linear ODE, built entry by entry (independent of the solver)."""
    idx = np.arange(grid.size).reshape(grid.shape)
    m = np.diag(diag.ravel())
    for i, a in enumerate(off):
        for j in np.ndindex(*grid.shape):
            if j[i] + 1 < grid.shape[i]:
                nb = tuple(x + (1 if b == i else 0) for b, x in enumerate(j))
                m[idx[j], idx[nb]] += a
                m[idx[nb], idx[j]] += a
    return m


@pytest.mark.parametrize("alpha", [0.1, 1.0, 5.0])
@pytest.mark.parametrize("force_log", [False, True])
def test_one_asset_equals_the_tridiagonal_solver(alpha, force_log):
    grid = InventoryGrid([20])
    q = grid.inventories[..., 0]
    diag, log_z = K * (0.3 * q - 0.1 * q * q), -alpha * K * q * q
    ref = LogTridiagonalExp(diag, A / math.e).log_solution_grid(log_z, 0.005, 200)
    ode = LogGridExp(grid, diag, [A / math.e], force_log_series=force_log)
    np.testing.assert_allclose(ode.solution_grid(log_z, 0.005, 200), ref, atol=2e-12, rtol=0)


@pytest.mark.parametrize("force_log", [False, True])
def test_two_correlated_assets_against_a_dense_matrix_exponential(force_log):
    grid = InventoryGrid([4, 3], order_size=[1.0, 2.0])
    phi = np.array([[0.2, 0.18], [0.18, 0.2]])
    diag = K * (grid.linear_form([0.3, -0.2]) - grid.quadratic_form(phi))
    log_z = -K * grid.quadratic_form(phi)
    off = [A / math.e, 50.0]
    m = dense_generator(grid, diag, off)
    ode = LogGridExp(grid, diag, off, force_log_series=force_log)
    for tau in (0.005, 0.37):
        exact = np.log(scipy.linalg.expm(m * tau) @ np.exp(log_z.ravel())).reshape(grid.shape)
        np.testing.assert_allclose(ode.propagate(log_z, tau), exact, atol=1e-12, rtol=0)


def test_separable_problem_is_the_sum_of_one_dimensional_solutions():
    grid = InventoryGrid([20, 20])
    phi, psi = np.diag([0.1, 0.05]), np.diag([0.1, 0.2])
    diag, log_z = -K * grid.quadratic_form(phi), -K * grid.quadratic_form(psi)
    got = LogGridExp(grid, diag, [A / math.e] * 2).solution_grid(log_z, 0.005, 200)
    q = np.arange(-20.0, 21.0)
    r1 = LogTridiagonalExp(-K * 0.1 * q * q, A / math.e).log_solution_grid(
        -K * 0.1 * q * q, 0.005, 200
    )
    r2 = LogTridiagonalExp(-K * 0.05 * q * q, A / math.e).log_solution_grid(
        -K * 0.2 * q * q, 0.005, 200
    )
    np.testing.assert_allclose(got, r1[:, :, None] + r2[:, None, :], atol=2e-12, rtol=0)


def test_no_underflow_with_a_huge_terminal_penalty_on_three_assets():
    grid = InventoryGrid([6, 6, 6])
    log_z = -K * 5.0 * grid.quadratic_form(np.eye(3))  # e^-810 at a corner
    ode = LogGridExp(grid, -K * 0.1 * grid.quadratic_form(np.eye(3)), [A / math.e] * 3)
    out = ode.solution_grid(log_z, 0.005, 3)
    assert np.isfinite(out).all()
    # one asset's exact solution along an axis is unaffected by the others only through z: the
    # corner keeps its relative accuracy, compared with the separable product of 1-d solutions
    q = np.arange(-6.0, 7.0)
    one = LogTridiagonalExp(-K * 0.1 * q * q, A / math.e).log_solution_grid(
        -K * 5 * q * q, 0.005, 3
    )
    sep = one[:, :, None, None] + one[:, None, :, None] + one[:, None, None, :]
    np.testing.assert_allclose(out, sep, atol=1e-10, rtol=0)


def test_nonlinear_solver_agrees_with_the_linear_one_where_both_apply():
    grid = InventoryGrid([6, 5])
    phi = np.array([[0.2, 0.18], [0.18, 0.2]])
    running = grid.linear_form([0.2, 0.0]) - grid.quadratic_form(phi)
    terminal = -grid.quadratic_form(phi)
    linear = LogGridExp(grid, K * running, [A / math.e, 90 / math.e])
    h_lin = linear.solution_grid(K * terminal, 0.005, 200) / K
    hjb = GridHJB(grid, running, [A / (math.e * K), 90 / (math.e * K)], [K, K])
    h_non = hjb.solve(terminal, 0.005, 200)
    np.testing.assert_allclose(h_non, h_lin, atol=2e-7, rtol=0)


def test_nonlinear_jacobian_is_the_derivative_of_the_rhs():
    grid = InventoryGrid([2, 3], order_size=[1.0, 2.0])
    rng = np.random.default_rng(0)
    hjb = GridHJB(grid, rng.normal(size=grid.shape), [20.0, 10.0], [1.5, 0.75])
    h = rng.normal(size=grid.size)
    jac = hjb.jacobian(0.0, h).toarray()
    eps = 1e-6
    for col in range(grid.size):
        e = np.zeros(grid.size)
        e[col] = eps
        fd = (hjb.rhs(0.0, h + e) - hjb.rhs(0.0, h - e)) / (2 * eps)
        np.testing.assert_allclose(jac[:, col], fd, rtol=1e-6, atol=1e-6)


def test_grid_geometry_and_errors():
    grid = InventoryGrid([2, 1], order_size=[0.5, 2.0])
    assert grid.shape == (5, 3) and grid.size == 15 and grid.centre == (2, 1)
    np.testing.assert_array_equal(grid.inventories[0, 0], [-1.0, -2.0])
    assert grid.index(np.array([0.5, -2.0])) == (3, 0)
    assert grid.index(np.array([9.0, 9.0])) == (4, 2)  # clipped into the grid
    with pytest.raises(ValueError, match="q must be an inventory vector on the grid"):
        grid.index(np.array([0.25, 0.0]), clip=False)
    with pytest.raises(ValueError, match="last axis of n_assets = 2"):
        grid.index(np.zeros(3))
    with pytest.raises(ValueError, match="levels must be"):
        InventoryGrid([0])
    with pytest.raises(ValueError, match="more than"):
        InventoryGrid([100, 100, 100])
    assert grid_levels([10.0, 4.0], [1.0, 0.5], "x") == (10, 8)
    with pytest.raises(ValueError, match=r"x needs a finite inventory limit.*asset 1"):
        grid_levels([10.0, math.inf], [1.0, 1.0], "x")
    with pytest.raises(ValueError, match="whole number of order sizes"):
        grid_levels([10.0, 3.0], [1.0, 2.0], "x")
    with pytest.raises(ValueError, match="diag must be finite"):
        LogGridExp(grid, np.zeros(3), [1.0, 1.0])
    with pytest.raises(ValueError, match="off must be 2 finite numbers > 0"):
        LogGridExp(grid, np.zeros(grid.shape), [1.0, 0.0])
    with pytest.raises(ValueError, match="tau must be"):
        LogGridExp(grid, np.zeros(grid.shape), [1.0, 1.0]).propagate(np.zeros(grid.shape), -1)
