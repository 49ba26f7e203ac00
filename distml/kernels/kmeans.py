"""k-means: distances to centres, assignments, Lloyd's sums, and k-means++ on a few points.

Squared Euclidean distances come from ||x||^2 - 2 x.c + ||c||^2 (one matrix product, on any
array backend), clipped at 0; the row norms are computed once per fit. Cosine k-means works on
unit rows: its distance is 1 - x.c for unit centres, and a centre is the normalized sum of its
rows (MLlib's definitions).
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from distml.gpu.backend import beside, namespace, to_numpy
from distml.kernels.statistics import weighted_group_sums

EUCLIDEAN, COSINE = "euclidean", "cosine"


def squared_row_norms(X):
    """||x_i||^2 per row (CSR or dense on any backend)."""
    if sp.issparse(X):
        return np.asarray(X.multiply(X).sum(axis=1)).ravel()
    if isinstance(X, np.ndarray):  # without an n x d temporary (issue 25)
        return np.einsum("ij,ij->i", X, X)
    return (X * X).sum(axis=1)


def unit_rows(X):
    """Rows scaled to unit length (numpy or CSR); zero rows are the caller's to refuse."""
    norms = np.sqrt(squared_row_norms(X))
    scale = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
    return sp.diags(scale) @ X if sp.issparse(X) else X * scale[:, None]


def distances(X, row_sq, centers, measure: str):
    """n x k distances (squared Euclidean, or cosine for unit rows and centres)."""
    products = X @ centers.T
    if sp.issparse(X):
        products = np.asarray(products)
    xp = namespace(products)
    if measure == COSINE:
        return xp.maximum(1.0 - products, 0.0)  # rounding can put it a hair below 0
    return xp.maximum(row_sq[:, None] - 2.0 * products + (centers * centers).sum(axis=1), 0.0)


# Rows per block when assigning: the n x k scores of a block stay in cache.
_ASSIGN_ROWS = 8192


def assign(X, row_sq, centers, measure: str) -> tuple[np.ndarray, np.ndarray]:
    """(nearest centre per row, its distance) as numpy.

    The nearest centre minimizes ||c||^2 - 2 x.c (cosine: -x.c), so the n x k scores skip the
    row's own norm, which is added to the winner alone; blocks of rows keep them in cache.
    Measured on 250k x 50 and 41 centres, one thread: 0.13 s against 0.35 s for the full
    distance matrix.
    """
    xp = namespace(centers)
    offset = 1.0 if measure == COSINE else (centers * centers).sum(axis=1)
    scale = -1.0 if measure == COSINE else -2.0
    n = X.shape[0]
    # Written block by block into their final arrays: no list of blocks to concatenate.
    nearest, best = np.empty(n, np.int64), np.empty(n)
    for start in range(0, n, _ASSIGN_ROWS):
        block = X[start:start + _ASSIGN_ROWS]
        scores = block @ centers.T
        scores = np.asarray(scores) if sp.issparse(block) else scores
        scores *= scale
        scores += offset
        index = scores.argmin(axis=1)
        low = xp.take_along_axis(scores, index[:, None], axis=1)[:, 0] if xp is not np else \
            scores[np.arange(scores.shape[0]), index]
        if measure != COSINE:
            low = low + row_sq[start:start + _ASSIGN_ROWS]
        rows = slice(start, start + block.shape[0])
        nearest[rows] = to_numpy(index)
        best[rows] = to_numpy(xp.maximum(low, 0.0))
    return nearest, best


def lloyd_sums(X, row_sq, w, centers, measure: str) -> tuple[np.ndarray, np.ndarray, float]:
    """Per centre, the weight and weighted sum of the rows nearest it, and the weighted cost."""
    k = centers.shape[0]
    nearest, best = assign(X, row_sq, centers, measure)
    w_np = np.asarray(to_numpy(w))
    weights, sums = weighted_group_sums(X, beside(w, nearest), w, k)
    return weights, sums, float(w_np @ best)


def new_centers(weights: np.ndarray, sums: np.ndarray, old: np.ndarray,
                measure: str) -> np.ndarray:
    """Means of the rows assigned to each centre; a centre that got none keeps its place."""
    centers = old.copy()
    filled = weights > 0
    centers[filled] = sums[filled] / weights[filled, None]
    if measure == COSINE:
        norms = np.linalg.norm(centers, axis=1)
        centers[filled & (norms > 0)] /= norms[filled & (norms > 0), None]
    return centers


def kmeans_plus_plus(points: np.ndarray, weights: np.ndarray, k: int, rng,
                     measure: str) -> np.ndarray:
    """k centres from weighted points by greedy k-means++ seeding.

    Each step draws 2 + log(k) candidates by D^2 sampling and keeps the one that lowers the
    weighted cost most (Arthur and Vassilvitskii's greedy variant, scikit-learn's default):
    plain D^2 sampling, MLlib's choice, merged two of six well-separated blobs in one seed of
    five in tests. It runs on the few k-means|| candidates, so the trials cost nothing.
    """
    row_sq = squared_row_norms(points)
    trials = 2 + int(np.log(k))
    first = rng.choice(points.shape[0], p=weights / weights.sum())
    centers = [points[first]]
    cost = distances(points, row_sq, points[first][None, :], measure)[:, 0]
    for _ in range(1, k):
        mass = weights * cost
        if mass.sum() <= 0:  # fewer distinct points than k: repeat one
            centers.append(points[rng.integers(points.shape[0])])
            continue
        picks = rng.choice(points.shape[0], size=trials, p=mass / mass.sum())
        costs = np.minimum(cost[:, None], distances(points, row_sq, points[picks], measure))
        best = int(np.argmin(weights @ costs))
        centers.append(points[picks[best]])
        cost = costs[:, best]
    return np.array(centers)


def local_lloyd(points: np.ndarray, weights: np.ndarray, centers: np.ndarray, max_iter: int,
                measure: str) -> np.ndarray:
    """Lloyd's iterations on a few weighted points (k-means||'s last step, as MLlib's)."""
    row_sq = squared_row_norms(points)
    for _ in range(max_iter):
        cluster_weights, sums, _ = lloyd_sums(points, row_sq, weights, centers, measure)
        updated = new_centers(cluster_weights, sums, centers, measure)
        if np.array_equal(updated, centers):
            break
        centers = updated
    return centers
