"""numpy arrays as the ``pyspark.ml.linalg`` values a pyspark.ml model hands out, in MLlib's
layouts: a matrix row-major or column-major as the JVM built it, and ``compressed`` (dense or
sparse, whichever MLlib's size rule finds smaller) where MLlib compresses.

``isTransposed`` is given as 0 or 1, as pyspark.ml's JVM-backed models give it (the JVM's
serializer writes an int), so a matrix prints as MLlib's does.
"""
from __future__ import annotations

import numpy as np
from pyspark.ml.linalg import DenseMatrix, DenseVector, SparseMatrix, SparseVector

# MLlib's Matrices.getDenseSize/getSparseSize: a JVM array header is 12 bytes; a matrix also
# holds two ints and a boolean (9 bytes).
_ARRAY_HEADER = 12
_MATRIX_FIELDS = 9


def dense_matrix(a: np.ndarray, row_major: bool = True) -> DenseMatrix:
    """``a`` as a DenseMatrix, its values stored by rows (``isTransposed``) or by columns."""
    rows, cols = a.shape
    values = np.asarray(a, dtype=np.float64).ravel(order="C" if row_major else "F")
    return DenseMatrix(rows, cols, values.tolist(), int(row_major))


def compressed_matrix(a: np.ndarray) -> DenseMatrix | SparseMatrix:
    """MLlib's ``Matrix.compressed``: dense unless a sparse layout takes fewer bytes, then the
    smaller of column-major (preferred on a tie) and row-major."""
    a = np.asarray(a, dtype=np.float64)
    rows, cols = a.shape
    nnz = int(np.count_nonzero(a))
    dense = 8 * rows * cols + _ARRAY_HEADER + _MATRIX_FIELDS
    by_cols, by_rows = (12 * nnz + 4 * (n + 1) + 3 * _ARRAY_HEADER + _MATRIX_FIELDS
                        for n in (cols, rows))
    if dense <= min(by_cols, by_rows):
        return dense_matrix(a, row_major=True)
    row_major = by_rows < by_cols
    outer = a if row_major else a.T
    pointers = np.concatenate([[0], np.cumsum(np.count_nonzero(outer, axis=1))])
    inner, = np.nonzero(outer.ravel())
    return SparseMatrix(rows, cols, pointers.tolist(), (inner % outer.shape[1]).tolist(),
                        outer.ravel()[inner].tolist(), int(row_major))


def compressed_vector(v: np.ndarray) -> DenseVector | SparseVector:
    """MLlib's ``Vector.compressed``: sparse when 1.5 * (nonzeros + 1) is below the size."""
    v = np.asarray(v, dtype=np.float64)
    nonzero, = np.nonzero(v)
    if 1.5 * (len(nonzero) + 1.0) < len(v):
        return SparseVector(len(v), nonzero.tolist(), v[nonzero].tolist())
    return DenseVector(v)
