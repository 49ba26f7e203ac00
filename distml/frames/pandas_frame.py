"""``Frame`` over a pandas DataFrame: every operation runs here, on the whole frame at once
(one "partition"), with the rules and messages of the Spark implementation."""
from __future__ import annotations

import os
from typing import Any, Callable

import numpy as np
import pandas as pd

from distml.errors import DataError
from distml.frames.frame import Frame
from distml.frames.pandas_input import (InputSpec, pandas_arrays, pandas_features,
                                        split_rows)
from distml.frames.spec import (DOUBLE, FLOAT, INTEGER, NULLABLE_DOUBLE, OBJECT, STRING,
                                VECTOR, Output, check_columns, check_width)
from distml.frames.vectors import to_vectors

NUMPY_TYPES = {DOUBLE: np.float64, FLOAT: np.float32, INTEGER: np.int32}


class PandasFrame(Frame):
    dataset: pd.DataFrame

    @property
    def session(self) -> None:
        return None

    @property
    def columns(self) -> list[str]:
        return list(self.dataset.columns)

    def cache_generation(self) -> None:
        return None

    def read_partitions(self, spec: InputSpec, num_workers: int) -> list:
        arrays = pandas_arrays(self.dataset, spec)
        rows = arrays[0].shape[0]
        count = num_workers if num_workers > 0 else max(1, min(os.cpu_count() or 1, rows))
        return split_rows(*arrays, count)

    def map_partitions(self, columns: dict[str, tuple[str, str]],
                       fn: Callable[[dict], Any]) -> list:
        check_columns(self.columns, [c for c, _ in columns.values()])
        return [fn({name: _column_values(self.dataset[col], col, kind)
                    for name, (col, kind) in columns.items()})]

    def collect_arrays(self, vector_columns: dict[str, tuple[str, int]],
                       columns: dict[str, str]) -> dict[str, np.ndarray]:
        frame = self.dataset
        out = {name: np.array([v[i] for v in frame[c]], dtype=np.float64)
               for name, (c, i) in vector_columns.items()}
        out.update({name: frame[c].to_numpy(dtype=np.float64) for name, c in columns.items()})
        return out

    def difference(self, a: str, b: str, name: str) -> Any:
        return pd.DataFrame({name: self.dataset[a] - self.dataset[b]})

    def column_sums(self, names: list[str]) -> np.ndarray:
        return np.array([self.dataset[n].sum() for n in names], dtype=np.float64)

    def quantiles(self, column: str, probabilities: list[float], relative_error: float,
                  missing: float | None = None) -> list[float]:
        self._require(column)
        x = self.dataset[column].to_numpy(dtype=np.float64, na_value=np.nan)
        x = np.sort(x[~(np.isnan(x) | (x == missing if missing is not None else False))])
        if x.size == 0:
            return []
        # Spark's exact answer for probability p: the value of rank ceil(p n) (1-based), the
        # smallest value with at least p n values at or below it.
        ranks = np.clip(np.ceil(np.asarray(probabilities) * x.size).astype(np.int64) - 1, 0,
                        x.size - 1)
        return x[ranks].tolist()

    def summarize_in_jvm(self, column: str, metrics: list[str]) -> tuple[dict, int] | None:
        return None

    def distinct_integers(self, column: str) -> np.ndarray:
        self._require(column)
        return whole_values(self.dataset[column].to_numpy(dtype=np.float64, na_value=np.nan))

    def numeric_type(self, column: str) -> tuple[bool, str] | None:
        if column not in self.dataset.columns:
            return None
        dtype = self.dataset[column].dtype
        return (pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype),
                str(dtype))

    def is_vector_column(self, column: str) -> bool:
        return column in self.dataset.columns and \
            not pd.api.types.is_numeric_dtype(self.dataset[column])

    def vector_size_unknown(self, column: str) -> bool:
        return False

    def category_count(self, column: str) -> int | None:
        return None

    def categorical_arities(self, column: str) -> dict[int, int]:
        return {}

    def transform(self, spec: InputSpec, fn: Callable[[Any], dict],
                  outputs: list[Output]) -> pd.DataFrame:
        check_new_columns(self.columns, outputs)
        X = pandas_features(self.dataset, spec)
        check_width(X, spec)
        produced = fn(X)
        out = self.dataset.copy()
        for o in outputs:
            values = produced[o.name]
            out[o.name] = to_vectors(values) if o.kind == VECTOR else \
                np.asarray(values, dtype=NUMPY_TYPES[o.kind])
        return out

    def replace_missing(self, replacements: dict[str, tuple[str, float]],
                        missing: float) -> pd.DataFrame:
        out = self.dataset.copy()
        for target, (name, value) in replacements.items():
            self._require(name)
            x = self.dataset[name].to_numpy(dtype=np.float64, na_value=np.nan)
            filled = np.where(np.isnan(x) | (x == missing), value, x)
            kind = self.dataset[name].dtype
            out[target] = filled.astype(kind) if pd.api.types.is_integer_dtype(kind) else filled
        return out

    def drop_nan_rows(self, column: str) -> pd.DataFrame:
        return self.dataset[~np.isnan(self.dataset[column])]

    def fail_on_nulls(self, columns: list[str], message: Callable[[str, int | None], str]
                      ) -> pd.DataFrame:
        for name in columns:
            if name in self.dataset.columns and self.dataset[name].isna().any():
                raise DataError(message(name, int(self.dataset[name].isna().sum())))
        return self.dataset

    def with_mllib(self, on_spark: Callable[[Any], Any],
                   on_pandas: Callable[[Any], Any]) -> Any:
        return on_pandas(self.dataset)

    def persist_for_reuse(self) -> tuple[pd.DataFrame, Callable[[], None]]:
        return self.dataset, lambda: None

    def _require(self, column: str) -> None:
        if column not in self.dataset.columns:
            raise DataError(f"column '{column}' not found; the input has columns "
                            f"{list(self.dataset.columns)}")


def check_new_columns(columns: list[str], outputs: list[Output]) -> None:
    for out in outputs:
        if out.name in columns:
            raise DataError(f"output column '{out.name}' already exists in the input; choose "
                            "another name or drop it first")


def whole_values(values: np.ndarray) -> np.ndarray:
    """The distinct whole finite values, as sorted int64 (others are dropped later as unknown
    ids)."""
    values = values[np.isfinite(values) & (values == np.round(values))]
    return np.unique(values.astype(np.int64))


def _column_values(series: pd.Series, name: str, kind: str) -> np.ndarray:
    if kind == STRING:
        return string_values(series)
    if kind == OBJECT:
        return objects(series.tolist())
    if kind == NULLABLE_DOUBLE and pd.api.types.is_numeric_dtype(series):
        return series.to_numpy(dtype=np.float64, na_value=np.nan)
    if kind == VECTOR:
        X = pandas_features(series.to_frame(name), InputSpec(name, check_finite=False))
        return X.toarray() if hasattr(X, "toarray") else X
    if series.isna().any():
        raise DataError(f"column '{name}' has {int(series.isna().sum())} null values")
    if not pd.api.types.is_numeric_dtype(series):
        raise DataError(f"column '{name}' has type {series.dtype}; it must be numeric")
    return series.to_numpy(dtype=np.float64)


def objects(values: list) -> np.ndarray:
    """A 1-d object array of ``values`` (lists stay cells: np.asarray would stack them)."""
    out = np.empty(len(values), dtype=object)
    for i, v in enumerate(values):
        out[i] = v
    return out


def string_values(series: pd.Series) -> np.ndarray:
    """A pandas column as Spark's cast to string gives it: None for nulls (NaN included),
    whole floats as "1.0", booleans as "true"/"false"."""
    def one(v):
        if v is None or (isinstance(v, float) and np.isnan(v)):
            return None
        if isinstance(v, (bool, np.bool_)):
            return "true" if v else "false"
        return str(v)
    return np.asarray([one(v) for v in series.tolist()], dtype=object)
