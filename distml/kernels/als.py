"""ALS's least-squares kernels: the factors of a block of rows given the other side's factors.

A block is one rank's users (or items) with their ratings as CSR: ``indptr`` over the block's
rows, ``cols`` the positions of the rated items (users) in the other side's factor matrix,
``ratings`` the values. Each row's system is MLlib's (see ``als_loops``).

Two ways to build and solve the systems, giving the same factors to rounding:
- ``solve_rows`` (numba, ``als_loops``): the CPU path, one compiled pass over the ratings.
- ``padded_systems`` + a batched solve: rows grouped by rating count and padded to the
  longest in their group, every system built by one batched matrix product. Written once
  for numpy and ``mxnet.numpy``; it is the MXNet backend's path and the readable reference
  the compiled loop is tested against.
Nonnegative factors (``nonnegative=True``) come from scipy's NNLS on each row's Cholesky
factor, on either backend; rows whose system is singular (regParam 0) take numpy's
least-squares solution of minimum norm.
"""
from __future__ import annotations

import sys
from typing import Any, NamedTuple

import numpy as np
import scipy.linalg
import scipy.optimize

from distml.gpu.backend import NUMPY, beside, namespace, to_numpy, zeros
from distml.kernels.padding import gathered, padded_rows

# A pivot below this fraction of its diagonal entry means A is singular to working precision
# (rounding leaves pivots of ~1e-16 relative where the exact one is 0): such a row is solved
# by least squares instead of from a meaningless factorization.
PIVOT_TOLERANCE = 1e-12
PADDED_SLOTS = 1 << 18  # ratings (real and padding) per batched product on the padded path
SYSTEMS_PER_BLOCK = 4096  # k x k systems held at once on the nonnegative path


class RatingBlock(NamedTuple):
    """One side's rows owned by a rank, with their ratings (CSR)."""

    rows: np.ndarray     # positions of the block's rows in their side's factor matrix
    indptr: np.ndarray
    cols: np.ndarray     # positions in the other side's factor matrix
    ratings: np.ndarray


def implicit_base(F: Any, implicit: bool) -> Any:
    """What every row's A starts from: F^T F for implicit feedback (each row's unobserved
    entries count with confidence 1), zeros for explicit."""
    return namespace(F).matmul(F.T, F) if implicit else zeros(F, (F.shape[1], F.shape[1]))


def solve_factors(block: RatingBlock, F: np.ndarray, reg: float, implicit: bool,
                  alpha: float, nonnegative: bool, backend: Any = NUMPY,
                  placed: list | None = None) -> np.ndarray:
    """The factors of ``block``'s rows (numpy, rows in block order) given the other side's
    factors ``F`` (numpy). On a backend other than numpy, ``placed`` is
    ``place_chunks(block, backend)``, kept by the caller across rounds."""
    if backend is NUMPY:
        return _solve_numpy(block, np.ascontiguousarray(F), reg, implicit, alpha, nonnegative)
    if placed is None:
        placed = place_chunks(block, backend)
    return _solve_padded(block.indptr.size - 1, backend.asarray(F), placed, reg, implicit,
                         alpha, nonnegative)


def place_chunks(block: RatingBlock, backend: Any) -> list[tuple]:
    """``padded_chunks`` of the block, their arrays copied to the backend's device."""
    return [(c.rows, [backend.asarray(a) for a in c[1:]]) for c in padded_chunks(block)]


def _solve_numpy(block, F, reg, implicit, alpha, nonnegative):
    from distml.kernels.als_loops import normal_equations, solve_rows  # numba: imported late

    base = implicit_base(F, implicit)
    n, k = block.indptr.size - 1, F.shape[1]
    out = np.zeros((n, k))
    if nonnegative:
        todo = np.arange(n)
    else:
        todo = np.flatnonzero(solve_rows(block.indptr, block.cols, block.ratings, F, base,
                                         reg, implicit, alpha, out))
    for start in range(0, todo.size, SYSTEMS_PER_BLOCK):
        rows = todo[start:start + SYSTEMS_PER_BLOCK]
        A, b = np.empty((rows.size, k, k)), np.empty((rows.size, k))
        normal_equations(block.indptr, block.cols, block.ratings, F, base, reg, implicit,
                         alpha, rows, A, b)
        out[rows] = nonnegative_least_squares(A, b) if nonnegative else least_squares(A, b)
    return out


def _solve_padded(num_rows, F, placed, reg, implicit, alpha, nonnegative):
    xp = namespace(F)
    out = np.zeros((num_rows, F.shape[1]))
    base = implicit_base(F, implicit)
    for rows, arrays in placed:
        A, b = padded_systems(F, base, arrays, reg, implicit, alpha)
        if nonnegative:
            out[rows] = nonnegative_least_squares(to_numpy(A), to_numpy(b))
            continue
        try:
            x = to_numpy(xp.linalg.solve(A, b[..., None])[..., 0])
            # The device reports no singular system short of an exactly zero pivot, which
            # fails the whole batch: Cholesky's pivots tell, with the compiled loop's rule.
            pivots = to_numpy(xp.diagonal(xp.linalg.cholesky(A), axis1=1, axis2=2)) ** 2
            diagonal = to_numpy(xp.diagonal(A, axis1=1, axis2=2))
            good = np.isfinite(x).all(axis=1) & (pivots > PIVOT_TOLERANCE * diagonal).all(axis=1)
        except sys.modules["mxnet"].base.MXNetError:
            x, good = np.zeros((rows.size, F.shape[1])), np.zeros(rows.size, dtype=bool)
        if not good.all():
            x[~good] = least_squares(to_numpy(A)[~good], to_numpy(b)[~good])
        out[rows] = x
    return out


class PaddedChunk(NamedTuple):
    rows: np.ndarray      # block rows in the chunk
    cols: np.ndarray      # (rows, L) positions in F, 0 where padded
    ratings: np.ndarray   # (rows, L), 0 where padded
    mask: np.ndarray      # (rows, L) 1.0 for a real rating, 0.0 for padding
    counts: np.ndarray    # (rows,) ratings counted by the regularization


def padded_chunks(block: RatingBlock, max_slots: int = PADDED_SLOTS) -> list[PaddedChunk]:
    """The block's rows in padded chunks (``padding.padded_rows``)."""
    counts = np.diff(block.indptr)
    return [PaddedChunk(c.rows, gathered(block.cols, c).astype(np.int64),
                        gathered(block.ratings, c, 0.0), c.real.astype(float),
                        counts[c.rows].astype(float))
            for c in padded_rows(block.indptr, max_slots)]


def padded_systems(F: Any, base: Any, chunk: list, reg: float, implicit: bool,
                   alpha: float) -> tuple[Any, Any]:
    """Every row's (A, b) of one padded chunk, as batched products on F's backend.

    ``chunk`` is (cols, ratings, mask, counts) on that backend; ``counts`` is replaced by the
    implicit rule's (positive ratings only) here.
    """
    xp = namespace(F)
    cols, ratings, mask, counts = chunk
    G = F[cols]                                        # (rows, L, k)
    if implicit:
        weight = alpha * xp.abs(ratings) * mask
        positive = (ratings > 0) * mask
        target = positive * (1.0 + weight)
        counts = positive.sum(axis=1)
    else:
        weight, target = mask, ratings * mask
    A = xp.matmul(xp.swapaxes(G * weight[..., None], 1, 2), G) + base
    b = xp.matmul(xp.swapaxes(G, 1, 2), target[..., None])[..., 0]
    k = F.shape[1]
    eye = beside(F, np.eye(k))
    return A + (reg * counts)[:, None, None] * eye, b


def least_squares(A: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Each (singular) system's least-squares solution of minimum norm: for A = Y^T Y and
    b = Y^T r, that of Y x = r."""
    return np.stack([np.linalg.lstsq(a, v, rcond=PIVOT_TOLERANCE)[0] for a, v in zip(A, b)])


def nonnegative_least_squares(A: np.ndarray, b: np.ndarray) -> np.ndarray:
    """argmin_{x >= 0} x^T A x / 2 - b^T x for each system, by scipy's NNLS on A's square
    root: with A = R^T R and R^T d = b, ||R x - d||^2 differs from twice it by a constant."""
    out = np.empty_like(b)
    for i, (a, v) in enumerate(zip(A, b)):
        try:
            R = scipy.linalg.cholesky(a, lower=False)
            d = scipy.linalg.solve_triangular(R, v, trans="T", lower=False)
        except np.linalg.LinAlgError:  # singular (regParam 0): a square root by eigenvalues
            values, vectors = np.linalg.eigh(a)
            keep = values > values.max() * 1e-12
            R = np.sqrt(values[keep])[:, None] * vectors[:, keep].T
            d = (vectors[:, keep].T @ v) / np.sqrt(values[keep])
        out[i] = scipy.optimize.nnls(R, d)[0]
    return out


def top_k(queries: np.ndarray, targets: np.ndarray, k: int,
          block_rows: int = 1024) -> tuple[np.ndarray, np.ndarray]:
    """For each query row, the ``k`` targets with the highest dot product: (positions,
    scores), best first (equal scores among the k by position). Scored ``block_rows``
    queries at a time, so memory stays at block_rows x targets scores."""
    k = min(k, targets.shape[0])
    positions = np.empty((queries.shape[0], k), dtype=np.int64)
    scores = np.empty((queries.shape[0], k))
    for start in range(0, queries.shape[0], block_rows):
        block = queries[start:start + block_rows] @ targets.T
        best = np.argpartition(-block, k - 1, axis=1)[:, :k] if k < targets.shape[0] else \
            np.broadcast_to(np.arange(targets.shape[0]), block.shape)
        picked = np.take_along_axis(block, best, axis=1)
        order = np.lexsort((best, -picked), axis=1)
        positions[start:start + block_rows] = np.take_along_axis(best, order, axis=1)
        scores[start:start + block_rows] = np.take_along_axis(picked, order, axis=1)
    return positions, scores
