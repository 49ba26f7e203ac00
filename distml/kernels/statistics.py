"""Column statistics of a (weighted) block of rows, combined across partitions.

Variance never comes from sum(x^2) - n*mean^2, which cancels for data with large means: either
in two passes that combine by sums (``first_moments``, then ``centered_sq_sum`` about the
exact global mean), or in one pass of block-wise centred sums merged by Chan et al.'s update
(``weighted_moments`` / ``merge_moments``), which saves a round where a round is a Spark job.
Rows of zero weight are left out, as MLlib's Summarizer leaves them out.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from distml.gpu.backend import arange, to_numpy, zeros


def _active(X, w):
    if w is None:
        return X, np.ones(X.shape[0])
    keep = w > 0
    if keep.all():
        return X, w
    return X[keep], w[keep]


_BLOCK_ROWS = 4096  # temporaries of one block stay in cache; whole-array ones page-fault


def _row_blocks(n: int):
    for start in range(0, n, _BLOCK_ROWS):
        yield slice(start, min(start + _BLOCK_ROWS, n))


def _csr_column_weights(X: sp.csr_matrix, row_values: np.ndarray) -> np.ndarray:
    """The row value repeated for each stored entry: what a CSR row scaling needs."""
    return np.repeat(row_values, np.diff(X.indptr))


# Classifiers take labels 0..K-1. A label this large is not a class index (a raw id, a
# year...), and per-class arrays (K, or K x d) sized from it would exhaust memory.
MAX_CLASSES = 1 << 16


def count_bad_labels(y: np.ndarray, num_classes: int = MAX_CLASSES) -> int:
    """How many labels are not integers in 0..num_classes-1 (NaN counts as bad)."""
    return int(y.size - np.count_nonzero((y == np.floor(y)) & (y >= 0) & (y < num_classes)))


def weighted_group_sums(X, groups, w, num_groups: int) -> tuple[np.ndarray, np.ndarray]:
    """(weight per group, G x d weighted row sums per group) as numpy; ``groups`` holds
    integers 0..G-1 (class labels, cluster assignments).

    One product with the weighted one-hot group matrix: a single read of X, on any backend
    (and CSR stays sparse: the product of a dense G x n with CSR is computed as (X^T Y)^T).
    """
    if isinstance(w, np.ndarray):
        # A sparse one-hot matrix: three row-length arrays, not an n x G dense one (issue 25).
        n = w.shape[0]
        index = np.int32 if n < 2**31 else np.int64  # what scipy would cast them to anyway
        Y = sp.csr_matrix((w, groups.astype(index), np.arange(n + 1, dtype=index)),
                          shape=(n, num_groups))
        sums = (X.T @ Y).T if sp.issparse(X) else (Y.T @ X)
        return np.asarray(Y.sum(axis=0)).ravel(), np.asarray(sums.toarray()
                                                             if sp.issparse(sums) else sums)
    Y = zeros(w, (w.shape[0], num_groups))
    Y[arange(w, w.shape[0]), groups.astype("int64")] = w
    sums = (X.T @ Y).T if sp.issparse(X) else Y.T @ X
    return to_numpy(Y.sum(axis=0)), np.asarray(to_numpy(sums))


def weighted_moments(X, w=None) -> dict:
    """Row count, weight sums, weighted column means and centred sums of squares, one pass.

    M2_j = sum_i w_i (x_ij - mean_j)^2. Dense rows are taken a block at a time, each block
    centred on its own mean and merged by Chan et al.'s pairwise update, so the variance does
    not cancel for data with large means and the rows are read from memory once. Partitions'
    results merge with ``merge_moments`` (in a fixed order, so every engine gets the same bits).
    """
    X, w = _active(X, w)
    d = X.shape[1]
    moments = {"count": np.float64(X.shape[0]), "weight_sum": np.float64(w.sum()),
               "weight_sq_sum": np.float64(w @ w), "mean": np.zeros(d), "m2": np.zeros(d)}
    if moments["weight_sum"] == 0:
        return moments
    if sp.issparse(X):
        ew = _csr_column_weights(X, w)
        mean = np.bincount(X.indices, weights=ew * X.data, minlength=d) / moments["weight_sum"]
        moments.update(mean=mean, m2=centered_sq_sum(X, w, mean))
        return moments
    total, mean, m2 = 0.0, moments["mean"], moments["m2"]
    for rows in _row_blocks(X.shape[0]):
        block, wb = X[rows], w[rows]
        block_weight = float(wb.sum())
        if block_weight == 0:
            continue
        block_mean = (wb @ block) / block_weight
        dev = block - block_mean
        total, mean, m2 = _chan_update(total, mean, m2, block_weight, block_mean,
                                       wb @ (dev * dev))
    moments.update(mean=mean, m2=m2)
    return moments


def merge_moments(parts: list[dict]) -> dict:
    """``weighted_moments`` of the union of the parts' rows, merged in list order."""
    total, mean, m2 = 0.0, np.zeros_like(parts[0]["mean"]), np.zeros_like(parts[0]["m2"])
    for part in parts:
        if part["weight_sum"] > 0:
            total, mean, m2 = _chan_update(total, mean, m2, float(part["weight_sum"]),
                                           part["mean"], part["m2"])
    return {"count": np.float64(sum(float(p["count"]) for p in parts)),
            "weight_sum": np.float64(total),
            "weight_sq_sum": np.float64(sum(float(p["weight_sq_sum"]) for p in parts)),
            "mean": mean, "m2": m2}


def _chan_update(weight_a, mean_a, m2_a, weight_b, mean_b, m2_b):
    total = weight_a + weight_b
    delta = mean_b - mean_a
    mean = mean_a + delta * (weight_b / total)
    m2 = m2_a + m2_b + delta * delta * (weight_a * weight_b / total)
    return total, mean, m2


def first_moments(X, w=None) -> dict:
    """Sums that combine across partitions by addition (weighted where MLlib weights them)."""
    X, w = _active(X, w)
    d = X.shape[1]
    if sp.issparse(X):
        ew = _csr_column_weights(X, w)
        cols, vals = X.indices, X.data
        weighted_sum = np.bincount(cols, weights=ew * vals, minlength=d)
        sq_sum = np.bincount(cols, weights=ew * vals * vals, minlength=d)
        abs_sum = np.bincount(cols, weights=ew * np.abs(vals), minlength=d)
        nnz = np.bincount(cols[vals != 0], minlength=d).astype(np.float64)
    else:
        weighted_sum, sq_sum, abs_sum, nnz = (np.zeros(d) for _ in range(4))
        for rows in _row_blocks(X.shape[0]):
            block, wb = X[rows], w[rows]
            weighted_sum += wb @ block
            sq_sum += wb @ (block * block)
            abs_sum += wb @ np.abs(block)
            nnz += np.count_nonzero(block, axis=0)
    return {
        "count": np.float64(X.shape[0]),
        "weight_sum": np.float64(w.sum()),
        "weight_sq_sum": np.float64(w @ w),
        "weighted_sum": weighted_sum,
        "sq_sum": sq_sum,
        "abs_sum": abs_sum,
        "nnz": nnz,
    }


def extremes(X, w=None) -> tuple[np.ndarray, np.ndarray]:
    """Column minima and maxima (+inf/-inf for no rows); sparse counts its implicit zeros."""
    X, _ = _active(X, w)
    d = X.shape[1]
    if X.shape[0] == 0:
        return np.full(d, np.inf), np.full(d, -np.inf)
    if sp.issparse(X):
        return (X.min(axis=0).toarray().ravel().astype(np.float64),
                X.max(axis=0).toarray().ravel().astype(np.float64))
    return X.min(axis=0).astype(np.float64), X.max(axis=0).astype(np.float64)


def centered_sq_sum(X, w, mean: np.ndarray) -> np.ndarray:
    """sum_i w_i (x_ij - mean_j)^2 per column, without densifying sparse input."""
    X, w = _active(X, w)
    d = X.shape[1]
    if sp.issparse(X):
        ew = _csr_column_weights(X, w)
        cols = X.indices
        dev = X.data - mean[cols]
        stored = np.bincount(cols, weights=ew * dev * dev, minlength=d)
        stored_weight = np.bincount(cols, weights=ew, minlength=d)
        # Rows with no stored entry in column j hold 0, each contributing w * mean_j^2. Where
        # every row stores column j that weight is 0 exactly: the difference of the two sums
        # would leave rounding noise, times mean_j^2 (ruinous for columns with large means).
        all_stored = np.bincount(cols, minlength=d) == X.shape[0]
        missing_weight = np.where(all_stored, 0.0, w.sum() - stored_weight)
        return stored + missing_weight * mean * mean
    out = np.zeros(d)
    for rows in _row_blocks(X.shape[0]):
        dev = X[rows] - mean
        out += w[rows] @ (dev * dev)
    return out


def standardize(X, mean: np.ndarray, std: np.ndarray, with_mean: bool, with_std: bool):
    """MLlib StandardScalerModel.transform: zero-variance columns map to 0, sparse stays sparse
    unless centring is asked for (centring makes it dense, as in MLlib)."""
    scale = np.zeros_like(std)
    np.divide(1.0, std, out=scale, where=std != 0)
    if sp.issparse(X):
        if with_mean:
            X = X.toarray()
        else:
            out = X.astype(np.float64, copy=True)
            if with_std:
                out.data *= scale[out.indices]
            return out
    out = np.array(X, dtype=np.float64, copy=True)
    if with_mean:
        out -= mean
    if with_std:
        out *= scale
    return out
