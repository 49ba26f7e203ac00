"""Weighted least squares from sufficient statistics: the sums one pass over the rows gives,
and the penalized solve on them (LinearRegression's normal equations).

The sums are uncentred (sum w z z^T over z = [x, y]), as MLlib's WeightedLeastSquares keeps
them: partitions add them in any grouping, and the driver centres them once.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from numba import njit

from distml.gpu.backend import namespace, to_numpy

_BLOCK_ROWS = 65536  # rows per dense block: bounds the weighted copy
_RESIDUAL_BLOCK_BYTES = 2 ** 21  # residual_loss_grad's dense blocks: in cache for 2 products


def weighted_gram(X, y, w) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """([rows, sum w, sum w^2], sum w z, sum w z z^T) for z = [x, y] over the rows of X
    (dense numpy or ``mxnet.numpy``, or CSR); (d + 1)-sized, the label last, as numpy.
    ``w`` None means every weight is 1 (a fit without a weight column)."""
    n, d = X.shape
    if w is None and not sp.issparse(X):
        return _unit_weight_gram(X, y)
    if w is None:
        w = np.ones(n)
    sums, gram = np.zeros(d + 1), np.zeros((d + 1, d + 1))
    if sp.issparse(X):
        Z = sp.hstack([X, sp.csr_matrix(y[:, None])]).tocsr()
        weighted = Z.multiply(w[:, None]).tocsr()
        sums += np.asarray(weighted.sum(axis=0)).ravel()
        gram += (Z.T @ weighted).toarray()
    else:
        xp = namespace(X)  # the products run where the rows are (a GPU with MXNet)
        for start in range(0, n, _BLOCK_ROWS):
            block = slice(start, start + _BLOCK_ROWS)
            Z = xp.concatenate([X[block], y[block][:, None]], axis=1)
            weighted = Z * w[block][:, None]
            sums += to_numpy(weighted.sum(axis=0))
            gram += to_numpy(Z.T @ weighted)
    return (np.array([float(n), float(to_numpy(w.sum())), float(to_numpy((w * w).sum()))]),
            sums, gram)


def _unit_weight_gram(X, y) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``weighted_gram`` with every weight 1, from X's own memory: X^T X, X^T y and y^T y as
    three products, where stacking [x, y] and weighting it copied the rows twice (at 250k x 50
    a rank: 50 ms against 70-235 ms)."""
    n, d = X.shape
    sums, gram = np.empty(d + 1), np.empty((d + 1, d + 1))
    sums[:d], sums[d] = to_numpy(X.sum(axis=0)), float(to_numpy(y.sum()))
    gram[:d, :d] = to_numpy(X.T @ X)
    gram[:d, d] = gram[d, :d] = to_numpy(X.T @ y)
    gram[d, d] = float(to_numpy(y @ y))
    return np.array([float(n), float(n), float(n)]), sums, gram


def elastic_net_descent(C: np.ndarray, c: np.ndarray, l1: float, l2: float,
                        max_sweeps: int = 100_000, tol: float = 1e-13) -> tuple[np.ndarray, int]:
    """argmin_u 1/2 u^T C u - c^T u + l2/2 |u|^2 + l1 |u|_1 by cyclic coordinate descent (as
    glmnet and scikit-learn's ElasticNet): exact to ``tol`` (the largest step, relative to the
    largest coefficient), and the sweeps it took. Written here, not scipy's: scipy has no
    L1 solver, and a sweep on the d x d statistics costs no pass over the data."""
    u = np.zeros(c.size)
    sweeps = _descend(np.ascontiguousarray(C), np.ascontiguousarray(c), float(l1), float(l2),
                      u, int(max_sweeps), float(tol))
    return u, sweeps


@njit(cache=True, nogil=True)
def _descend(C, c, l1, l2, u, max_sweeps, tol):
    d = c.size
    gradient = -c.copy()  # C u - c, kept up to date
    for sweep in range(1, max_sweeps + 1):
        largest_step, largest = 0.0, 0.0
        for j in range(d):
            if C[j, j] + l2 <= 0.0:
                continue
            z = C[j, j] * u[j] - gradient[j]
            new = np.sign(z) * max(abs(z) - l1, 0.0) / (C[j, j] + l2)
            step = new - u[j]
            if step != 0.0:
                for k in range(d):
                    gradient[k] += C[k, j] * step
                u[j] = new
            largest_step = max(largest_step, abs(step))
            largest = max(largest, abs(new))
        if largest_step <= tol * max(largest, 1e-300):
            return sweep
    return max_sweeps


def weighted_moments(X, y, w) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """([rows, sum w, sum w^2, sum w y, sum w y^2], sum w x, sum w x^2): what the iterative
    path standardizes by, in O(d) memory where ``weighted_gram`` needs O(d^2)."""
    if sp.issparse(X):
        wx = np.asarray(X.multiply(w[:, None]).sum(axis=0)).ravel()
        wx2 = np.asarray(X.multiply(X).multiply(w[:, None]).sum(axis=0)).ravel()
    else:
        wx, wx2 = w @ X, w @ (X * X)
    return (np.array([float(X.shape[0]), w.sum(), w @ w, w @ y, w @ (y * y)]), wx, wx2)


def residual_loss_grad(X, y, w, u: np.ndarray, offset: float, loss: str, epsilon: float,
                       sigma: float) -> tuple[float, np.ndarray, float, float]:
    """One pass of the loss on residuals r = X u + offset - y (dense or CSR X): the weighted
    sum of the loss, and its gradients in u, in the offset and in the scale ``sigma``. ``w``
    None means every weight is 1.

    "squared": r^2 / 2. "huber" (MLlib's, after Owen's robust regression, the scale estimated
    jointly): (sigma + r^2 / sigma) / 2 where |r| <= epsilon sigma, else
    (sigma + 2 epsilon |r| - epsilon^2 sigma) / 2.

    Dense rows go in blocks of ~2 MB, each read from memory once for both X_b u and
    X_b^T dr (it is still in cache for the second): the unblocked pass reads X twice, and at
    250k x 50 a rank's evaluation took 27 ms against ~12 ms blocked (docs/design-notes.md).
    """
    if sp.issparse(X):
        return _residual_terms(X, y, w, u, offset, loss, epsilon, sigma)
    rows = max(64, _RESIDUAL_BLOCK_BYTES // (8 * max(X.shape[1], 1)))
    value, grad_u, grad_offset, grad_sigma = 0.0, np.zeros(X.shape[1]), 0.0, 0.0
    for start in range(0, X.shape[0], rows):
        block = slice(start, start + rows)
        v, g, g_offset, g_sigma = _residual_terms(X[block], y[block],
                                                  None if w is None else w[block], u, offset,
                                                  loss, epsilon, sigma)
        value, grad_offset, grad_sigma = value + v, grad_offset + g_offset, grad_sigma + g_sigma
        grad_u += g
    return value, grad_u, grad_offset, grad_sigma


def _residual_terms(X, y, w, u, offset, loss, epsilon, sigma):
    """``residual_loss_grad`` over the rows of X at once (the reference the blocks sum)."""
    r = np.asarray(X @ u).ravel() + offset - y
    if loss == "squared":
        dr = r if w is None else w * r
        return 0.5 * float(dr @ r), np.asarray(X.T @ dr).ravel(), float(dr.sum()), 0.0
    inside = np.abs(r) <= epsilon * sigma
    rr = r * r
    values = np.where(inside, sigma + rr / sigma, sigma + 2 * epsilon * np.abs(r)
                      - epsilon * epsilon * sigma)
    dr = np.where(inside, r / sigma, epsilon * np.sign(r))
    dsigma = np.where(inside, 1.0 - rr / (sigma * sigma), 1.0 - epsilon * epsilon)
    if w is None:
        return (0.5 * float(values.sum()), np.asarray(X.T @ dr).ravel(), float(dr.sum()),
                0.5 * float(dsigma.sum()))
    dr *= w
    return (0.5 * float(w @ values), np.asarray(X.T @ dr).ravel(), float(dr.sum()),
            0.5 * float(w @ dsigma))
