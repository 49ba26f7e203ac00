"""Logistic and softmax losses, gradients and predictions for a block of rows.

Sums, not means: partitions add their sums and the program divides once by the total weight.
X may be dense or CSR; nothing here densifies it.
"""
from __future__ import annotations

import numpy as np
from scipy.special import expit, logsumexp


# Dense blocks of this many rows are read from memory once for both X @ beta and X.T @ r
# (the second product finds the block in cache): a pass costs ~2/3 of two whole-array products.
_FUSED_ROWS = 8192
_BLOCK_ROWS = 4096  # rows per X^T V X product: the weighted copy of a block stays in cache


def _binary_terms(X, y, w, beta, intercept):
    m = np.asarray(X @ beta).ravel() + intercept
    p = expit(m)
    return float(w @ (np.logaddexp(0.0, m) - y * m)), p, w * (p - y)


def binary_logistic_loss_grad(X, y: np.ndarray, w: np.ndarray, beta: np.ndarray,
                              intercept: float) -> tuple[float, np.ndarray, float]:
    """sum_i w_i [log(1 + e^m_i) - y_i m_i] with m = X beta + intercept, and its gradient."""
    if hasattr(X, "tocsr"):
        loss, _, r = _binary_terms(X, y, w, beta, intercept)
        return loss, X.T @ r, float(r.sum())
    loss, grad, r_sum = 0.0, np.zeros(X.shape[1]), 0.0
    for start in range(0, X.shape[0], _FUSED_ROWS):
        rows = slice(start, start + _FUSED_ROWS)
        block_loss, _, r = _binary_terms(X[rows], y[rows], w[rows], beta, intercept)
        loss += block_loss
        grad += X[rows].T @ r
        r_sum += float(r.sum())
    return loss, grad, r_sum


def multinomial_loss_grad(X, y: np.ndarray, w: np.ndarray, B: np.ndarray,
                          b: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """sum_i w_i [logsumexp(M_i) - M_i,y_i] with M = X B^T + b, and gradients (K x d, K)."""
    labels = y.astype(np.intp)
    M = np.asarray(X @ B.T) + b
    lse = logsumexp(M, axis=1)
    rows = np.arange(M.shape[0])
    loss = float(w @ (lse - M[rows, labels]))
    R = np.exp(M - lse[:, None])
    R[rows, labels] -= 1.0
    R *= w[:, None]
    return loss, np.asarray(X.T @ R).T, R.sum(axis=0)


def binary_margin(X, beta: np.ndarray, intercept: float) -> np.ndarray:
    return np.asarray(X @ beta).ravel() + intercept


def multinomial_margins(X, B: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.asarray(X @ B.T) + b


def softmax(M: np.ndarray) -> np.ndarray:
    return np.exp(M - logsumexp(M, axis=1, keepdims=True))


def binary_logistic_loss_grad_hess(X, y: np.ndarray, w: np.ndarray, beta: np.ndarray,
                                   intercept: float, hessian_stride: int = 1):
    """Loss and gradient as ``binary_logistic_loss_grad``, plus the Hessian with respect to
    (beta, intercept): the (d+1) x (d+1) matrix sum_i w_i p_i (1 - p_i) [x_i, 1][x_i, 1]^T.

    With ``hessian_stride`` k > 1 the Hessian sums every k-th row only, times k: an estimate
    at 1/k of the cost (the n*d^2 term dominates a pass). Loss and gradient stay exact.
    """
    loss, gradient, r_sum = binary_logistic_loss_grad(X, y, w, beta, intercept)
    if hessian_stride > 1:
        X, y, w = X[::hessian_stride], y[::hessian_stride], w[::hessian_stride]
    p = expit(np.asarray(X @ beta).ravel() + intercept)
    v = w * p * (1.0 - p)
    if hessian_stride > 1:
        v *= hessian_stride
    d = X.shape[1]
    H = np.empty((d + 1, d + 1))
    if hasattr(X, "tocsr"):
        Xv = X.multiply(v[:, None]).tocsr()
        H[:d, :d] = (Xv.T @ X).toarray()
        H[:d, d] = np.asarray(Xv.sum(axis=0)).ravel()
    else:
        H[:d, :d] = 0.0
        H[:d, d] = 0.0
        for start in range(0, X.shape[0], _BLOCK_ROWS):
            block = X[start:start + _BLOCK_ROWS]
            weighted = block * v[start:start + _BLOCK_ROWS, None]
            H[:d, :d] += block.T @ weighted
            H[:d, d] += weighted.sum(axis=0)
    H[d, :d] = H[:d, d]
    H[d, d] = v.sum()
    return loss, gradient, r_sum, H
