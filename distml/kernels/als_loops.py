"""ALS's per-row least squares on the CPU, compiled with numba.

Why numba here: every row (a user, or an item) has its own k x k system, built from its own
ratings' factor rows. numpy can only batch that by padding rows to a common length (the
MXNet path does, ``kernels.als``) or by materializing an outer product per rating (nnz x k^2
floats); a compiled loop accumulates each system in a k x k buffer that stays in cache and
solves it there, one pass over the ratings. Imported lazily, as ``tree_loops``.

A row's system is MLlib's (Hu, Koren and Volinsky's for implicit feedback, with MLlib's
extension to negative values: confidence 1 + alpha |r|, preference r > 0):

    explicit: A = sum_j f_j f_j^T,                       b = sum_j r_j f_j
    implicit: A = F^T F + sum_j alpha |r_j| f_j f_j^T,   b = sum_{j: r_j > 0} (1 + alpha r_j) f_j

plus ``reg`` times the row's number of ratings (implicit: of positive ones) on the diagonal.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from distml.kernels.als import PIVOT_TOLERANCE


@njit(cache=True, nogil=True, inline="always")
def _accumulate(indptr, cols, ratings, F, base, reg, implicit, alpha, row, A, b):
    """The lower triangle of ``row``'s regularized A, and its b, into the buffers."""
    k = F.shape[1]
    for a in range(k):
        b[a] = 0.0
        for c in range(a + 1):
            A[a, c] = base[a, c]
    count = 0
    for p in range(indptr[row], indptr[row + 1]):
        j = cols[p]
        r = ratings[p]
        if implicit:
            weight = alpha * abs(r)
            target = 1.0 + weight if r > 0.0 else 0.0
            count += r > 0.0
        else:
            weight = 1.0
            target = r
            count += 1
        for a in range(k):
            fa = F[j, a]
            wa = weight * fa
            for c in range(a + 1):
                A[a, c] += wa * F[j, c]
            b[a] += target * fa
    for a in range(k):
        A[a, a] += reg * count


@njit(cache=True, nogil=True)
def solve_rows(indptr, cols, ratings, F, base, reg, implicit, alpha, out):
    """out[row] = the solution of each row's system, by Cholesky in place.

    Returns a mask of the rows whose A was singular (regParam 0 and fewer ratings than the
    rank, or factors that span fewer dimensions): the caller solves those by least squares.
    """
    n = indptr.size - 1
    k = F.shape[1]
    A = np.empty((k, k))
    b = np.empty(k)
    failed = np.zeros(n, dtype=np.bool_)
    for row in range(n):
        _accumulate(indptr, cols, ratings, F, base, reg, implicit, alpha, row, A, b)
        # Cholesky-Banachiewicz on the lower triangle: A = L L^T, L overwriting A.
        ok = True
        for a in range(k):
            for c in range(a + 1):
                s = A[a, c]
                for m in range(c):
                    s -= A[a, m] * A[c, m]
                if a == c:
                    if s <= PIVOT_TOLERANCE * A[a, a]:
                        ok = False
                        break
                    A[a, a] = np.sqrt(s)
                else:
                    A[a, c] = s / A[c, c]
            if not ok:
                break
        if not ok:
            failed[row] = True
            continue
        for a in range(k):  # L z = b
            s = b[a]
            for m in range(a):
                s -= A[a, m] * b[m]
            b[a] = s / A[a, a]
        for a in range(k - 1, -1, -1):  # L^T x = z
            s = b[a]
            for m in range(a + 1, k):
                s -= A[m, a] * b[m]
            b[a] = s / A[a, a]
        for a in range(k):
            out[row, a] = b[a]
    return failed


@njit(cache=True, nogil=True)
def normal_equations(indptr, cols, ratings, F, base, reg, implicit, alpha, rows, A_out, b_out):
    """The full (symmetric) regularized systems of ``rows``, for the solvers numba has not:
    nonnegative least squares, and least squares of singular systems."""
    k = F.shape[1]
    for i in range(rows.size):
        _accumulate(indptr, cols, ratings, F, base, reg, implicit, alpha, rows[i], A_out[i],
                    b_out[i])
        for a in range(k):
            for c in range(a):
                A_out[i, c, a] = A_out[i, a, c]
