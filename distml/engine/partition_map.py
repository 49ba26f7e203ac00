"""One function over every partition's columns as numpy arrays, results back on the driver.

What evaluators and one-pass fits of small statistics need: on Spark one ``mapInArrow`` (vector
columns converted to arrays in the JVM, as a fit's input is), each partition's arrays handed to
``fn`` on its executor and its (small) result pickled back; on pandas, ``fn`` once over the
whole frame. Per-partition results come back in partition order, to be folded by the caller.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pandas as pd
import pyarrow as pa

from distml.engine import results
from distml.engine.pandas_input import check_columns
from distml.engine.fit import is_spark_dataframe
from distml.errors import DataError

DOUBLE, VECTOR = "double", "vector"
STRING = "string"  # values as Python strings (numbers as Spark casts them), None for null
NULLABLE_DOUBLE = "double?"  # as DOUBLE, nulls read as NaN


def map_partitions(dataset: Any, columns: dict[str, tuple[str, str]],
                   fn: Callable[[dict], Any]) -> list:
    """``fn({name: array})`` per partition; ``columns`` maps a name to (column, DOUBLE, VECTOR
    or STRING). A DOUBLE array is 1-d, a VECTOR one 2-d (dense), a STRING one 1-d of objects.
    Nulls are an error naming the column, except in STRING columns (None)."""
    wanted = [c for c, _ in columns.values()]
    if not is_spark_dataframe(dataset):
        if not isinstance(dataset, pd.DataFrame):
            raise DataError(f"expected a Spark or pandas DataFrame, got {type(dataset).__name__}")
        check_columns(list(dataset.columns), wanted)
        return [fn({name: _pandas_column(dataset[col], col, kind)
                    for name, (col, kind) in columns.items()})]
    return _spark_map(dataset, columns, fn)


def _pandas_column(series: pd.Series, name: str, kind: str) -> np.ndarray:
    if kind == STRING:
        return string_values(series)
    if kind == NULLABLE_DOUBLE and pd.api.types.is_numeric_dtype(series):
        return series.to_numpy(dtype=np.float64, na_value=np.nan)
    if kind == VECTOR:
        from distml.engine.pandas_input import InputSpec, pandas_features
        X = pandas_features(series.to_frame(name), InputSpec(name, check_finite=False))
        return X.toarray() if hasattr(X, "toarray") else X
    if series.isna().any():
        raise DataError(f"column '{name}' has {int(series.isna().sum())} null values")
    if not pd.api.types.is_numeric_dtype(series):
        raise DataError(f"column '{name}' has type {series.dtype}; it must be numeric")
    return series.to_numpy(dtype=np.float64)


def _spark_map(df, columns, fn):
    from pyspark.ml.functions import vector_to_array

    from distml.engine.spark_errors import original_exception, wrap_executor_errors
    from distml.engine.spark_input import col

    check_columns(df.columns, [c for c, _ in columns.values()])
    from pyspark.sql.types import NumericType
    for c, kind in columns.values():
        dtype = df.schema[c].dataType
        if kind in (DOUBLE, NULLABLE_DOUBLE) and not isinstance(dtype, NumericType):
            raise DataError(f"column '{c}' has type {dtype.simpleString()}; it must be numeric")
    cast = {VECTOR: lambda c: vector_to_array(col(c)), STRING: lambda c: col(c).cast("string"),
            DOUBLE: lambda c: col(c).cast("double"),
            NULLABLE_DOUBLE: lambda c: col(c).cast("double")}
    exprs = [cast[kind](c).alias(name) for name, (c, kind) in columns.items()]
    sources = {name: c for name, (c, _) in columns.items()}

    def run(batches):
        from pyspark import TaskContext
        received = [b for b in batches if b.num_rows]
        table = pa.Table.from_batches(received) if received else None
        arrays = {name: _arrow_column(None if table is None else table.column(name),
                                      sources[name], columns[name][1]) for name in sources}
        yield from results.to_batches(fn(arrays), TaskContext.get().partitionId())

    selected = df.select(*exprs)
    try:
        rows = selected.mapInArrow(wrap_executor_errors(run), results.CHUNK_SCHEMA).collect()
    except Exception as e:
        raise (original_exception(e) or e) from None
    return list(results.from_rows(rows).values())


def _arrow_column(column, name: str, kind: str) -> np.ndarray:
    if column is None:
        return np.zeros((0, 0)) if kind == VECTOR else \
            np.zeros(0, dtype=object if kind == STRING else np.float64)
    column = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if kind == STRING:
        return np.asarray(column.to_pylist(), dtype=object)
    if kind == NULLABLE_DOUBLE:
        return column.to_numpy(zero_copy_only=False).astype(np.float64)
    if column.null_count:
        raise DataError(f"column '{name}' has {column.null_count} null values")
    if kind == VECTOR:
        from distml.engine.arrow_input import ARRAY, InputLayout, features_from_arrow
        return features_from_arrow(column, InputLayout(ARRAY, name, check_finite=False))
    return column.to_numpy(zero_copy_only=False).astype(np.float64, copy=False)


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
