"""Gram matrices, covariances and QR factors of row blocks: what PCA and SVD sum over ranks.

``centered_gram`` gives a block's weight, mean and centred Gram matrix sum_i (x_i - m)(x_i - m)^T,
each row block centred on its own mean and merged by the matrix form of Chan et al.'s update
(``merge_centered_grams``), so covariances of data with large means do not cancel. Dense blocks
run on any array backend. ``tall_skinny_r`` is the R factor of a block's QR, for TSQR.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from distml.gpu.backend import to_numpy

# Rows per block for the centred Gram: a block's centred copy stays in cache-friendly sizes.
_BLOCK_ROWS = 16384


def centered_gram(X) -> dict:
    """{"count", "mean", "gram"} of the rows of X (dense on any backend, or CSR), as numpy."""
    n, d = X.shape
    part = {"count": 0.0, "mean": np.zeros(d), "gram": np.zeros((d, d))}
    if n == 0:
        return part
    if sp.issparse(X):
        # X^T X - n m m^T: sparse rows cannot be centred without densifying them.
        mean = np.asarray(X.mean(axis=0)).ravel()
        gram = (X.T @ X).toarray() - n * np.outer(mean, mean)
        return {"count": float(n), "mean": mean, "gram": gram}
    for start in range(0, n, _BLOCK_ROWS):
        block = X[start:start + _BLOCK_ROWS]
        mean = block.mean(axis=0)
        centred = block - mean
        part = _chan_merge(part, {"count": float(block.shape[0]), "mean": to_numpy(mean),
                                  "gram": to_numpy(centred.T @ centred)})
    return part


def merge_centered_grams(parts: list[dict]) -> dict:
    """The ``centered_gram`` of the union of the parts' rows, merged in list order."""
    total = {"count": 0.0, "mean": np.zeros_like(parts[0]["mean"]),
             "gram": np.zeros_like(parts[0]["gram"])}
    for part in parts:
        total = _chan_merge(total, part)
    return total


def _chan_merge(a: dict, b: dict) -> dict:
    if b["count"] == 0:
        return a
    if a["count"] == 0:
        return dict(b)
    count = a["count"] + b["count"]
    delta = b["mean"] - a["mean"]
    return {"count": count, "mean": a["mean"] + delta * (b["count"] / count),
            "gram": a["gram"] + b["gram"] + np.outer(delta, delta) * (a["count"] * b["count"]
                                                                       / count)}


def tall_skinny_r(X) -> np.ndarray:
    """R (min(n, d) x d) of X = QR, numpy: ``mxnet.numpy``'s ``linalg.qr`` fails in 1.9.1."""
    X = X.toarray() if sp.issparse(X) else np.asarray(to_numpy(X))
    if X.shape[0] == 0:
        return np.zeros((0, X.shape[1]))
    return np.linalg.qr(X, mode="r")


def stacked_r(blocks: list[np.ndarray]) -> np.ndarray:
    """R of the QR of the row blocks stacked in order: TSQR's reduction step."""
    return np.linalg.qr(np.vstack(blocks), mode="r")
