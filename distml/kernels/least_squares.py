"""Weighted least squares from sufficient statistics: the sums one pass over the rows gives,
and the penalized solve on them (LinearRegression's normal equations).

The sums are uncentred (sum w z z^T over z = [x, y]), as MLlib's WeightedLeastSquares keeps
them: partitions add them in any grouping, and the driver centres them once.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from numba import njit

_BLOCK_ROWS = 65536  # rows per dense block: bounds the weighted copy


def weighted_gram(X, y: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """([rows, sum w, sum w^2], sum w z, sum w z z^T) for z = [x, y] over the rows of X
    (dense or CSR); (d + 1)-sized, the label last."""
    n, d = X.shape
    sums, gram = np.zeros(d + 1), np.zeros((d + 1, d + 1))
    if sp.issparse(X):
        Z = sp.hstack([X, sp.csr_matrix(y[:, None])]).tocsr()
        weighted = Z.multiply(w[:, None]).tocsr()
        sums += np.asarray(weighted.sum(axis=0)).ravel()
        gram += (Z.T @ weighted).toarray()
    else:
        for start in range(0, n, _BLOCK_ROWS):
            block = slice(start, start + _BLOCK_ROWS)
            Z = np.column_stack([np.asarray(X[block], dtype=np.float64), y[block]])
            weighted = Z * w[block, None]
            sums += weighted.sum(axis=0)
            gram += Z.T @ weighted
    return np.array([float(n), float(w.sum()), float(w @ w)]), sums, gram


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
