"""pandas DataFrames -> the same arrays and partitions the Spark adapter makes.

A features column may hold ``pyspark.ml.linalg`` vectors (what ``toPandas()`` gives), numpy
arrays or lists; a list of column names means one numeric column per feature. Sparse vectors
become CSR, never dense.
"""
from __future__ import annotations


import numpy as np
import pandas as pd
import scipy.sparse as sp

from distml.engine.partition import Partition
from distml.frames.arrow_input import check_finite
from distml.frames.spec import InputSpec, check_columns
from distml.errors import DataError


def pandas_arrays(pdf: pd.DataFrame, spec: InputSpec):
    """(X, y, w, ids) from a pandas DataFrame, checked as the Spark adapter checks."""
    check_columns(list(pdf.columns), spec.columns())
    X = pandas_features(pdf, spec)
    y = w = ids = None
    if spec.label is not None:
        y = _numeric(pdf[spec.label], spec.label)
    if spec.weight is not None:
        w = _numeric(pdf[spec.weight], spec.weight)
        if (w < 0).any():
            raise DataError(f"column '{spec.weight}' has negative weights "
                            f"({int((w < 0).sum())} of {w.size} rows); weights must be >= 0")
    if spec.id is not None:
        ids = pdf[spec.id].to_numpy()
    return X, y, w, ids


def pandas_features(pdf: pd.DataFrame, spec: InputSpec):
    if isinstance(spec.features, str):
        check_columns(list(pdf.columns), [spec.features])
        X = _vector_column(pdf[spec.features], spec.features)
    else:
        cols = list(spec.features)
        check_columns(list(pdf.columns), cols)
        for c in cols:
            if not pd.api.types.is_numeric_dtype(pdf[c]) or pd.api.types.is_bool_dtype(pdf[c]):
                raise DataError(f"column '{c}' has type {pdf[c].dtype}; feature columns must "
                                "be numeric")
            if pdf[c].isna().any():
                raise DataError(f"column '{c}' has {int(pdf[c].isna().sum())} null values")
        X = np.ascontiguousarray(pdf[cols].to_numpy(dtype=np.float64))
    if spec.check_finite:
        check_finite(X, spec.features_name)
    return X


def _numeric(series: pd.Series, name: str) -> np.ndarray:
    if not pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
        raise DataError(f"column '{name}' has type {series.dtype}; it must be numeric")
    values = series.to_numpy(dtype=np.float64, na_value=np.nan)
    if not np.isfinite(values).all():
        raise DataError(f"column '{name}' has {int((~np.isfinite(values)).sum())} null, NaN or "
                        "infinite values")
    return values


def _vector_column(series: pd.Series, name: str):
    from pyspark.ml.linalg import DenseVector, SparseVector  # pure Python, no JVM

    n = len(series)
    if n == 0:
        return np.zeros((0, 0))
    if pd.api.types.is_numeric_dtype(series):
        raise DataError(f"column '{name}' is a single numeric column ({series.dtype}); a "
                        "features column holds vectors or arrays — pass a list of numeric "
                        "column names instead")
    values = series.to_numpy()
    if any(v is None or (isinstance(v, float) and np.isnan(v)) for v in values):
        raise DataError(f"column '{name}' has null values")
    if any(isinstance(v, SparseVector) for v in values):
        sizes = {v.size for v in values}
        if len(sizes) > 1:
            raise DataError(f"column '{name}' holds vectors of different lengths "
                            f"({', '.join(map(str, sorted(sizes)[:2]))})")
        rows = [v if isinstance(v, SparseVector) else SparseVector(v.size, np.flatnonzero(
            v.toArray()), v.toArray()[v.toArray() != 0]) for v in values]
        lengths = np.array([len(r.indices) for r in rows], dtype=np.int64)
        indptr = np.concatenate([[0], np.cumsum(lengths)])
        indices = np.concatenate([r.indices for r in rows]).astype(np.int32)
        data = np.concatenate([r.values for r in rows]).astype(np.float64)
        return sp.csr_matrix((data, indices, indptr), shape=(n, sizes.pop()))
    try:
        arrays = [v.toArray() if isinstance(v, DenseVector) else np.asarray(v, dtype=np.float64)
                  for v in values]
    except (TypeError, ValueError) as e:
        raise DataError(f"column '{name}' holds values that are not numeric vectors: {e}") from e
    lengths = {a.shape for a in arrays}
    if len(lengths) > 1 or next(iter(lengths)) == () or len(next(iter(lengths))) != 1:
        shapes = sorted(str(s[0]) if len(s) == 1 else str(s) for s in lengths)
        raise DataError(f"column '{name}' holds vectors of different lengths "
                        f"({', '.join(shapes[:2])})")
    return np.ascontiguousarray(np.stack(arrays), dtype=np.float64)


def split_rows(X, y, w, ids, num_partitions: int) -> list[Partition]:
    """Contiguous row ranges, as Spark's range partitions would be, keeping row order."""
    bounds = np.linspace(0, X.shape[0], num_partitions + 1).astype(np.int64)
    parts = []
    for i in range(num_partitions):
        rows = slice(int(bounds[i]), int(bounds[i + 1]))
        pick = (lambda a: None if a is None else a[rows])
        Xi = X[rows]
        parts.append(Partition(i, Xi.copy() if isinstance(Xi, np.ndarray) else Xi,
                               pick(y), pick(w), pick(ids)))
    return parts
