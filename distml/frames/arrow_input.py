"""Arrow record batches -> numpy/CSR, vectorized, on the executors (no JVM, no pyspark.sql).

The driver (``frames.spark_input``) selects the input as at most four columns with fixed names:
features as ``array<double>`` (a dense vector's ``values`` field, taken in the JVM from its
struct; shipping the whole struct measured 7x slower) or as the vector UDT's struct
(sparse vectors: its ``indices``/``values`` list buffers become CSR without a per-row loop),
and label, weight and id as doubles/longs.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import scipy.sparse as sp

from distml.engine.memory import IngestBudget, IngestGuard
from distml.engine.partition import Partition, PartitionDigest
from distml.errors import DataError

FEATURES = "__distml_features"
LABEL = "__distml_label"
WEIGHT = "__distml_weight"
ID = "__distml_id"

ARRAY = "array"            # list<double> per row
VECTOR_STRUCT = "vector"   # struct<type, size, indices, values> of pyspark.ml.linalg.VectorUDT


@dataclass(frozen=True)
class InputLayout:
    """How the selected columns are laid out, and the user's names for error messages."""

    features_kind: str
    features_name: str
    label_name: str | None = None
    weight_name: str | None = None
    id_name: str | None = None
    dtype: str = "float64"
    check_finite: bool = True
    fingerprint: bool = False  # hash the rows as they arrive (the fit checkpoints or resumes)
    # Vector structs whose kind is decided per batch (a stream's, which cannot be looked at
    # ahead): a batch of dense vectors becomes the ndarray the array layout would make.
    dense_batches: bool = False


def batches_to_partition(batches: Iterable[pa.RecordBatch], layout: InputLayout,
                         index: int, budget: IngestBudget | None = None) -> Partition:
    """All of one partition's batches -> one Partition, its arrays grown in place.

    Each batch becomes numpy (zero-copy views where Arrow allows), is checked, and is copied
    into arrays that grow as rows arrive (``_GrowingRows``), after which the batch is let go:
    the worker never holds the partition twice (a list of batches and their concatenation
    peaked at 2x; the issue-25 benchmark measures what is left). Checking each batch as it
    arrives also overlaps the work with the JVM producing the next one.

    A batch that fails a check keeps itself and the batches after it for one whole check at the
    end, so the error counts every bad row (the rows before it passed). ``budget`` stops a
    partition that would not fit the worker's memory before it is held (``engine.memory``).
    """
    guard = IngestGuard(budget, index)
    digest = PartitionDigest() if layout.fingerprint else None
    rows = None
    bad: list[pa.RecordBatch] = []
    stream = iter(batches)
    for batch in stream:
        if bad:
            bad.append(batch)
            continue
        if batch.num_rows == 0:
            continue
        try:
            arrays = _table_arrays(pa.Table.from_batches([batch]), layout)
        except DataError:
            bad.append(batch)
            continue
        if digest is not None:
            digest.add(*arrays)
        if rows is None:
            rows = _GrowingRows(arrays, guard.reservable())
        rows.append(arrays, layout.features_name)
        if guard.over(rows.nbytes):
            counted = rows.count + sum(b.num_rows for b in stream)
            raise guard.error(counted, rows.nbytes / rows.count, rows.width)
    if bad:
        _table_arrays(pa.Table.from_batches(bad).combine_chunks(), layout,
                      rows_before=rows.count if rows is not None else 0)
        raise AssertionError("a batch failed a check the whole partition passed")
    part = _empty_partition(layout, index) if rows is None else Partition(index, *rows.finish())
    part.digest = digest.hexdigest() if digest is not None else None
    return part


class _GrowingRows:
    """A partition's arrays, filled as batches arrive.

    Dense rows go into a reservation: arrays sized for as many rows as ``reserve`` bytes hold,
    made with ``np.empty``, whose untouched pages cost no memory (the kernel supplies a page
    when a row is first written to it), trimmed by ``finish`` in place. Past the reservation,
    and for CSR, the arrays grow by ``ndarray.resize``, by an eighth at a time so the unused
    tail stays small. Growing cost 3-6x what filling a reservation does (numpy zero-fills each
    new tail, the C library remaps the pages): the floor under a first fit was 0.07 s lower
    with the reservation (500k x 50, ``local[2]``; design notes).
    """

    GROWTH = 1.125

    def __init__(self, first: tuple, reserve: int = 0) -> None:
        X = first[0]
        self.sparse = sp.issparse(X)
        self.width = int(X.shape[1])
        self.count = 0  # rows held
        self.nnz = 0
        capacity = 0
        if self.sparse:
            self.data = np.empty(0, X.dtype)
            self.indices = np.empty(0, X.indices.dtype)
            self.indptr = np.zeros(1, np.int64)
        else:
            row = self.width * X.itemsize + sum(a.itemsize for a in first[1:] if a is not None)
            capacity = reserve // max(row, 1)
            try:
                self.X = np.empty((capacity, self.width), X.dtype)
            except MemoryError:  # the kernel would not map that much: grow instead
                capacity = 0
                self.X = np.empty((0, self.width), X.dtype)
        self.columns = [None if a is None else np.empty(capacity, a.dtype) for a in first[1:]]

    @property
    def nbytes(self) -> int:
        if self.sparse:
            held = self.nnz * (self.data.itemsize + self.indices.itemsize) + 8 * self.count
        else:
            held = self.count * self.width * self.X.itemsize
        return held + sum(self.count * c.itemsize for c in self.columns if c is not None)

    def append(self, arrays: tuple, name: str) -> None:
        X = arrays[0]
        if int(X.shape[1]) != self.width:
            raise DataError(f"column '{name}' holds vectors of different lengths "
                            f"({min(self.width, X.shape[1])} and {max(self.width, X.shape[1])})")
        n, start = int(X.shape[0]), self.count
        end = start + n
        if self.sparse:
            nnz = int(X.indptr[-1])
            self.data = _room(self.data, self.nnz + nnz)
            self.indices = _room(self.indices, self.nnz + nnz)
            self.indptr = _room(self.indptr, end + 1)
            self.data[self.nnz:self.nnz + nnz] = X.data
            self.indices[self.nnz:self.nnz + nnz] = X.indices
            self.indptr[start + 1:end + 1] = X.indptr[1:] + self.nnz
            self.nnz += nnz
        else:
            self.X = _room(self.X, end)
            self.X[start:end] = X
        for i, column in enumerate(arrays[1:]):
            if column is not None:
                self.columns[i] = _room(self.columns[i], end)
                self.columns[i][start:end] = column
        self.count = end

    def finish(self) -> tuple:
        """(X, y, w, ids), trimmed to the rows held."""
        n = self.count
        if self.sparse:
            indptr = self.indptr[:n + 1]
            if self.nnz < 2**31 and self.indices.dtype == np.int32:
                indptr = indptr.astype(np.int32)
            X = sp.csr_matrix((_trimmed(self.data, self.nnz), _trimmed(self.indices, self.nnz),
                               indptr), shape=(n, self.width))
        else:
            X = _trimmed(self.X, n)
        return (X, *(None if c is None else _trimmed(c, n) for c in self.columns))


def _room(a: np.ndarray, rows: int) -> np.ndarray:
    """``a`` with capacity for ``rows`` leading entries (grown in place, by an eighth)."""
    if a.shape[0] >= rows:
        return a
    grown = max(rows, int(a.shape[0] * _GrowingRows.GROWTH) + 1)
    a.resize((grown, *a.shape[1:]), refcheck=False)
    return a


def _trimmed(a: np.ndarray, rows: int) -> np.ndarray:
    if a.shape[0] != rows:
        a.resize((rows, *a.shape[1:]), refcheck=False)
    return a


def _empty_partition(layout: InputLayout, index: int) -> Partition:
    X = sp.csr_matrix((0, 0)) if layout.features_kind == VECTOR_STRUCT else np.zeros((0, 0))
    empty = (lambda name: None if name is None else np.zeros(0))
    return Partition(index, X, empty(layout.label_name), empty(layout.weight_name),
                     None if layout.id_name is None else np.zeros(0, np.int64))


def _table_arrays(table: pa.Table, layout: InputLayout, rows_before: int = 0) -> tuple:
    """(X, y, w, ids) of a table of at least one row, every value checked (``rows_before``:
    the partition's rows before these, which passed, for the counts in the messages)."""
    X = features_from_arrow(_single(table.column(FEATURES)), layout, rows_before)
    y = w = ids = None
    if layout.label_name is not None:
        y = _doubles(table.column(LABEL), layout.label_name, rows_before)
    if layout.weight_name is not None:
        w = _doubles(table.column(WEIGHT), layout.weight_name, rows_before)
        if (w < 0).any():
            raise DataError(f"column '{layout.weight_name}' has negative weights "
                            f"({int((w < 0).sum())} of {rows_before + w.size} rows); weights "
                            "must be >= 0")
    if layout.id_name is not None:
        ids = _non_null(_single(table.column(ID)), layout.id_name, rows_before).to_numpy()
    return X, y, w, ids


def features_from_arrow(col: pa.Array, layout: InputLayout, rows_before: int = 0):
    """One Arrow column of features -> 2-d ndarray (array layout) or CSR (vector struct)."""
    col = _non_null(col, layout.features_name, rows_before)
    if layout.features_kind == ARRAY:
        X = _dense_from_lists(col, layout.features_name)
    elif layout.features_kind == VECTOR_STRUCT and layout.dense_batches and \
            pc.all(pc.equal(col.field("type"), 1)).as_py():
        X = _dense_from_lists(col.field("values"), layout.features_name)
    elif layout.features_kind == VECTOR_STRUCT:
        X = _csr_from_vector_struct(col, layout.features_name)
    else:
        raise ValueError(f"unknown features layout {layout.features_kind!r}")
    if layout.dtype != "float64":
        X = X.astype(layout.dtype)
    if layout.check_finite:
        check_finite(X, layout.features_name)
    return X


def check_finite(X, name: str) -> None:
    data = X.data if sp.issparse(X) else X
    finite = np.isfinite(data)
    if not finite.all():
        bad = int(data.size - finite.sum())
        raise DataError(f"column '{name}' has {bad} NaN or infinite feature values; "
                        "remove or impute them (distml.Imputer) before fitting")


def _single(chunked) -> pa.Array:
    if isinstance(chunked, pa.ChunkedArray):
        return chunked.combine_chunks() if chunked.num_chunks != 1 else chunked.chunk(0)
    return chunked


def _non_null(col: pa.Array, name: str, rows_before: int = 0) -> pa.Array:
    if col.null_count:
        raise DataError(f"column '{name}' has {col.null_count} null values of "
                        f"{rows_before + len(col)} rows")
    return col


def _doubles(chunked, name: str, rows_before: int = 0) -> np.ndarray:
    col = _non_null(_single(chunked), name, rows_before)
    y = col.to_numpy(zero_copy_only=False).astype(np.float64, copy=False)
    if not np.isfinite(y).all():
        raise DataError(f"column '{name}' has {int((~np.isfinite(y)).sum())} NaN or infinite "
                        "values")
    return y


def _dense_from_lists(col: pa.Array, name: str) -> np.ndarray:
    lengths = pc.list_value_length(col).to_numpy(zero_copy_only=False)
    n = len(col)
    width = int(lengths[0])
    if (lengths != width).any():
        other = int(lengths[lengths != width][0])
        raise DataError(f"column '{name}' holds vectors of different lengths ({width} and "
                        f"{other})")
    values = col.flatten()
    if values.null_count:
        raise DataError(f"column '{name}' has null elements inside its arrays")
    flat = values.to_numpy(zero_copy_only=False)
    # A view of Arrow's buffer where it is one already: the copy is made once, when a
    # partition's batches are concatenated.
    return np.ascontiguousarray(flat.reshape(n, width), dtype=np.float64)


def _csr_from_vector_struct(col: pa.Array, name: str) -> sp.csr_matrix:
    vtype = col.field("type").to_numpy(zero_copy_only=False)
    values = col.field("values")
    indices = col.field("indices")
    is_dense = vtype == 1
    lengths = pc.list_value_length(values).to_numpy(zero_copy_only=False).astype(np.int64)
    sizes = col.field("size").to_numpy(zero_copy_only=False)
    sizes = np.where(is_dense, lengths, np.nan_to_num(sizes.astype(np.float64), nan=-1))
    width = int(sizes[0])
    if (sizes != width).any():
        other = int(sizes[sizes != width][0])
        raise DataError(f"column '{name}' holds vectors of different lengths ({width} and "
                        f"{other})")
    n = len(col)
    data = values.flatten().to_numpy(zero_copy_only=False).astype(np.float64)
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(lengths, out=indptr[1:])
    # Dense rows carry no indices: their column index is the position within the row.
    position = np.arange(indptr[-1], dtype=np.int64) - np.repeat(indptr[:-1], lengths)
    col_idx = position
    if not is_dense.all():
        sparse_idx = indices.flatten().to_numpy(zero_copy_only=False).astype(np.int64)
        in_sparse_row = np.repeat(~is_dense, lengths)
        if sparse_idx.size != int(in_sparse_row.sum()):
            raise DataError(f"column '{name}' has sparse vectors whose indices and values "
                            "differ in length")
        col_idx = position.copy()
        col_idx[in_sparse_row] = sparse_idx
        if sparse_idx.size and (sparse_idx.min() < 0 or sparse_idx.max() >= width):
            raise DataError(f"column '{name}' has sparse vector indices outside 0..{width - 1}")
    index_dtype = np.int32 if width < 2**31 and indptr[-1] < 2**31 else np.int64
    return sp.csr_matrix((data, col_idx.astype(index_dtype), indptr.astype(index_dtype)),
                         shape=(n, width))
