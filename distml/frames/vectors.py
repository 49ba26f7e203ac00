"""pyspark.ml.linalg vectors to and from numpy: what a pandas frame holds (``toPandas()``'s
vectors), the VectorUDT's Arrow struct a Spark transform writes, and one vector as a row."""
from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import scipy.sparse as sp

from distml.errors import DataError


def to_vectors(values) -> list:
    """Rows of a 2-d array or CSR as ``pyspark.ml.linalg`` vectors (what toPandas() gives)."""
    from pyspark.ml.linalg import DenseVector, SparseVector

    if sp.issparse(values):
        csr = values.tocsr()
        return [SparseVector(csr.shape[1], csr.indices[a:b], csr.data[a:b])
                for a, b in zip(csr.indptr[:-1], csr.indptr[1:])]
    return [DenseVector(row) for row in np.asarray(values)]


def vector_arrow(values) -> pa.StructArray:
    """A 2-d array or CSR as the VectorUDT's Arrow struct (dense rows: type 1, sparse: 0)."""
    if sp.issparse(values):
        csr = values.tocsr()
        n = csr.shape[0]
        offsets = pa.array(csr.indptr.astype(np.int32))
        vtype = np.zeros(n, np.int8)
        size = pa.array(np.full(n, csr.shape[1], np.int32))
        indices = pa.ListArray.from_arrays(offsets, pa.array(csr.indices.astype(np.int32)))
        vals = pa.ListArray.from_arrays(offsets, pa.array(csr.data.astype(np.float64)))
    else:
        dense = np.ascontiguousarray(values, dtype=np.float64)
        n, d = dense.shape
        offsets = pa.array(np.arange(0, (n + 1) * d, d, dtype=np.int32)) if d else \
            pa.array(np.zeros(n + 1, np.int32))
        vtype = np.ones(n, np.int8)
        size = pa.nulls(n, pa.int32())
        indices = pa.nulls(n, pa.list_(pa.field("element", pa.int32(), nullable=False)))
        vals = pa.ListArray.from_arrays(offsets, pa.array(dense.ravel()))
    vals = vals.cast(pa.list_(pa.field("element", pa.float64(), nullable=False)))
    if sp.issparse(values):
        indices = indices.cast(pa.list_(pa.field("element", pa.int32(), nullable=False)))
    return pa.StructArray.from_arrays(
        [pa.array(vtype), size, indices, vals],
        fields=[pa.field("type", pa.int8(), nullable=False), pa.field("size", pa.int32()),
                pa.field("indices", indices.type), pa.field("values", vals.type)])


def vector_rows(features: Any, num_features: int):
    """One vector (pyspark.ml.linalg or array-like) as a 1-row matrix, checked for width."""
    from pyspark.ml.linalg import DenseVector, SparseVector  # pure Python, no JVM

    if isinstance(features, SparseVector):
        X = sp.csr_matrix((features.values, features.indices, [0, len(features.indices)]),
                          shape=(1, features.size))
    elif isinstance(features, DenseVector):
        X = features.toArray()[None, :]
    else:
        X = np.asarray(features, dtype=np.float64).reshape(1, -1)
    if X.shape[1] != num_features:
        raise DataError(f"the model expects {num_features} features, got a vector of "
                        f"{X.shape[1]}")
    return X
