"""pandas DataFrames -> the same arrays the Spark adapter makes (for LocalEngine and transform).

A features column may hold ``pyspark.ml.linalg`` vectors (what ``toPandas()`` gives), numpy
arrays or lists; a list of column names means one numeric column per feature. Sparse vectors
become CSR, never dense.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp

from distml.engine.arrow_input import check_finite
from distml.errors import DataError


@dataclass(frozen=True)
class InputSpec:
    """Which columns a fit or transform reads, by the user's names."""

    features: str | tuple
    label: str | None = None
    weight: str | None = None
    id: str | None = None
    check_finite: bool = True

    @property
    def features_name(self) -> str:
        return self.features if isinstance(self.features, str) else ", ".join(self.features)

    def columns(self) -> list[str]:
        cols = [self.features] if isinstance(self.features, str) else list(self.features)
        return cols + [c for c in (self.label, self.weight, self.id) if c is not None]


def check_columns(available: Sequence[str], wanted: Sequence[str], role: str = "") -> None:
    missing = [c for c in wanted if c not in available]
    if missing:
        raise DataError(f"column '{missing[0]}'{role} not found; the input has columns "
                        f"{list(available)}")


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
