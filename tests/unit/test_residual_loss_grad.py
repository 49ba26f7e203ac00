"""``kernels.least_squares.residual_loss_grad``, the per-rank pass of LinearRegression's
l-bfgs path: its sums are the documented loss summed row by row in plain Python (the
reference), its gradients the loss's finite differences, whatever the rows' blocking."""
import numpy as np
import pytest
import scipy.sparse as sp

from distml.kernels import least_squares
from distml.kernels.least_squares import residual_loss_grad

EPSILON = 1.35


def _row_loss(r, loss, sigma):
    if loss == "squared":
        return r * r / 2
    if abs(r) <= EPSILON * sigma:
        return (sigma + r * r / sigma) / 2
    return (sigma + 2 * EPSILON * abs(r) - EPSILON * EPSILON * sigma) / 2


def _loss_by_rows(X, y, w, u, offset, loss, sigma):
    weights = np.ones(len(y)) if w is None else w
    return sum(weights[i] * _row_loss(float(X[i] @ u) + offset - y[i], loss, sigma)
               for i in range(len(y)))


@pytest.fixture
def problem():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(1000, 7))
    y = X @ rng.normal(size=7) + rng.standard_t(2, size=1000)  # heavy tails: both huber pieces
    return X, y, rng.uniform(0.1, 3.0, size=1000), rng.normal(size=7) * 0.8


@pytest.mark.parametrize("loss", ["squared", "huber"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("layout", ["dense", "dense in blocks of 64 rows", "csr"])
def test_sums_are_the_loss_row_by_row_and_gradients_its_derivatives(monkeypatch, problem, loss,
                                                                    weighted, layout):
    X, y, w, u = problem
    w = w if weighted else None
    if layout == "dense in blocks of 64 rows":  # 1000 rows: 15 full blocks and a short one
        monkeypatch.setattr(least_squares, "_RESIDUAL_BLOCK_BYTES", 64 * 8 * X.shape[1])
    data = sp.csr_matrix(X) if layout == "csr" else X
    offset, sigma = 0.3, 1.7
    value, grad_u, grad_offset, grad_sigma = residual_loss_grad(data, y, w, u, offset, loss,
                                                                EPSILON, sigma)
    assert value == pytest.approx(_loss_by_rows(X, y, w, u, offset, loss, sigma), rel=1e-12)

    def f(theta):  # the loss as a function of (u, offset, sigma), for central differences
        return _loss_by_rows(X, y, w, theta[:-2], theta[-2], loss, theta[-1])

    theta, h = np.concatenate([u, [offset, sigma]]), 1e-6
    numeric = np.array([(f(theta + h * e) - f(theta - h * e)) / (2 * h)
                        for e in np.eye(theta.size)])
    analytic = np.concatenate([grad_u, [grad_offset, grad_sigma if loss == "huber" else 0.0]])
    np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-6 * np.abs(numeric).max())


def test_a_rank_without_rows_adds_nothing():
    value, grad_u, grad_offset, grad_sigma = residual_loss_grad(
        np.zeros((0, 4)), np.zeros(0), None, np.ones(4), 0.5, "huber", EPSILON, 1.0)
    assert (value, grad_offset, grad_sigma) == (0.0, 0.0, 0.0)
    np.testing.assert_array_equal(grad_u, np.zeros(4))
