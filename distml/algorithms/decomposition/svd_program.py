"""The training program of SVD: a truncated SVD of the row-partitioned matrix X (n x d).

"exact" is TSQR: every rank takes the R factor of its rows' QR, the R's are gathered (one
round), the QR of their stack gives R with X = QR, and the SVD of that small d x d matrix gives
X's singular values and right singular vectors. Why TSQR rather than eigenvectors of X^T X: the
Gram matrix squares the condition number, so singular values below sqrt(eps) times the largest
lose every digit; TSQR is backward stable, and it costs one round like the Gram. Its limit is
the d x d R every rank sends (8 d^2 bytes), hence "auto" uses it up to EXACT_MAX_FEATURES.

"randomized" is Halko, Martinsson and Tropp's range finder with power iterations on the
rows: Z (d x l, l = k + oversampling) starts Gaussian; each power iteration replaces it by an
orthonormal basis of X^T X Z (two rounds: the R of XZ, then X^T XZ R^+); finally B^T = X^T Q
with Q an orthonormal basis of XZ, and the SVD of the small B gives the top k. Cost per round:
one product of X with a d x l matrix, so it suits wide X or a k far below d.
"""
from __future__ import annotations

import numpy as np

from distml.errors import DataError, ParamError
from distml.gpu.backend import partition_rows, to_numpy
from distml.kernels.decomposition import stacked_r, tall_skinny_r

EXACT_MAX_FEATURES = 1024
OVERSAMPLING = 10
# Directions of XZ with a singular value below this fraction of the largest are dropped.
RANK_TOLERANCE = 1e-12


def _r_factor(part):
    return tall_skinny_r(part.X)


def _r_of_product(part, Z, backend):
    X, _, _, on = partition_rows(part, backend)
    return tall_skinny_r(X @ on.asarray(Z))


def _gram_product(part, Z, M, backend):
    """X^T (X Z M) for this partition's rows: X^T Q when Q = X Z M is orthonormal."""
    X, _, _, on = partition_rows(part, backend)
    Y = X @ on.asarray(Z @ M)
    return np.asarray(to_numpy(X.T @ Y))


def _orthonormalizer(R: np.ndarray) -> np.ndarray:
    """M with Y M orthonormal when Y = QR; directions Y does not span are dropped, so a
    rank-deficient product (l above the rank of X) does not divide by zero."""
    _, s, Wt = np.linalg.svd(R, full_matrices=False)
    keep = s > s[0] * RANK_TOLERANCE if s.size and s[0] > 0 else np.zeros(s.size, bool)
    return Wt[keep].T / s[keep]


def singular_value_decomposition(ctx, params: dict) -> dict:
    k, d, backend = params["k"], ctx.input.num_features, params["backend"]
    n = ctx.input.num_rows
    if k > min(n, d):
        raise ParamError(f"k ({k}) must be at most min(rows, features) of column "
                         f"'{params['inputCol']}' ({n} rows, {d} features)")
    algorithm = params["algorithm"]
    if algorithm == "auto":
        algorithm = "exact" if d <= EXACT_MAX_FEATURES else "randomized"
    if algorithm == "exact":
        _, s, Vt = np.linalg.svd(stacked_r(ctx.map_collect(_r_factor)), full_matrices=False)
    else:
        rng = np.random.default_rng(params["seed"] % (1 << 63))
        Z = rng.standard_normal((d, min(d, k + OVERSAMPLING)))
        for _ in range(params["powerIterations"]):
            M = _orthonormalizer(stacked_r(ctx.map_collect(_r_of_product, Z, backend)))
            Z = np.linalg.qr(ctx.map_reduce(_gram_product, Z, M, backend))[0]
        M = _orthonormalizer(stacked_r(ctx.map_collect(_r_of_product, Z, backend)))
        Bt = ctx.map_reduce(_gram_product, Z, M, backend)  # X^T Q, d x l
        _, s, Vt = np.linalg.svd(Bt.T, full_matrices=False)
    if not np.all(np.isfinite(s)):
        raise DataError(f"column '{params['inputCol']}' gave non-finite singular values")
    V = Vt[:k].T
    largest = np.abs(V).argmax(axis=0)  # a fixed sign per vector: largest entry positive
    V = V * np.sign(V[largest, np.arange(V.shape[1])])
    return {"singularValues": s[:k], "V": V, "algorithm": np.array(algorithm)}
