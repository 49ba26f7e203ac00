"""Every DataFrame concern of distml, behind one interface with a pandas and a Spark side.

``of(dataset)`` gives the ``Frame`` of a pandas or Spark DataFrame; stages, models and engines
read and write data only through it (``frames.frame`` documents each operation), so none of
them asks which kind of frame it holds. The rest is what they name in those calls: the
column specs and kinds (``frames.spec``), pyspark.ml vectors (``frames.vectors``), sessions,
and file paths (``frames.hadoop_fs``; on Spark Connect ``frames.connect_fs``, and for ranks
``frames.rank_fs``). Only this package imports pyspark.sql, and
only once a Spark DataFrame or session is in play: pandas-only use never starts a JVM.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from distml.errors import DataError
from distml.frames.frame import Frame
from distml.frames.pandas_frame import string_values
from distml.frames.hadoop_fs import filesystem, swap_into_place
from distml.frames.session import (active_spark, is_connect, java_doubles, java_ints,
                                   java_longs, local_session, spark_context)
from distml.frames.spec import (DOUBLE, FLOAT, INTEGER, NULLABLE_DOUBLE, OBJECT, STRING,
                                VECTOR, InputSpec, Output)
from distml.frames.vectors import to_vectors, vector_rows


def is_spark_dataframe(obj: Any) -> bool:
    # By duck type and module, so that pandas-only use never imports pyspark.sql.
    return type(obj).__module__.startswith("pyspark.sql") and hasattr(obj, "mapInArrow")


def is_spark_column(obj: Any) -> bool:
    """A pyspark Column (classic or Connect), by duck type as ``is_spark_dataframe``."""
    return type(obj).__module__.startswith("pyspark.sql") and type(obj).__name__ == "Column"


def summarizer_column(metrics: list[str], column: Any, weight: Any = None) -> Any:
    """Spark's Summarizer as a Column expression, pyspark.ml's Column API: a struct of the
    ``metrics``, or the one metric's column when ``metrics`` is a single name."""
    from pyspark.ml.stat import Summarizer
    if isinstance(metrics, str):
        return getattr(Summarizer, metrics)(column, weight)
    return Summarizer.metrics(*metrics).summary(column, weight)


def of(dataset: Any) -> Frame:
    """The ``Frame`` of a pandas or Spark DataFrame (a DataError for anything else)."""
    if is_spark_dataframe(dataset):
        from distml.frames.spark_frame import SparkFrame
        return SparkFrame(dataset)
    if isinstance(dataset, pd.DataFrame):
        from distml.frames.pandas_frame import PandasFrame
        return PandasFrame(dataset)
    raise DataError(f"expected a Spark or pandas DataFrame, got {type(dataset).__name__}")


def new_table(session: Any, table: Any, schema: str | None = None) -> Any:
    """A pandas DataFrame or Arrow table as a DataFrame on ``session`` (a SparkSession, with
    ``schema`` in DDL when given), or as pandas when it is None (an Arrow table's lists as
    numpy arrays, its structs as ``Row``, as ``toPandas()`` gives them)."""
    if session is not None:
        return session.createDataFrame(table, schema)
    return table if isinstance(table, pd.DataFrame) else _pandas_of_arrow(table)


def generate(session: Any, count: int, batch_fn: Any, schema: str) -> Any:
    """A DataFrame of ``batch_fn(positions)``'s Arrow batches over positions 0..count-1: on
    Spark one ``mapInArrow`` over a range split across the cluster's slots (each task gets its
    positions' batches), on pandas every position at once here."""
    if session is None:
        import pyarrow as pa
        batches = list(batch_fn(np.arange(count, dtype=np.int64)))
        return _pandas_of_arrow(pa.Table.from_batches(batches))

    def per_batch(batches):
        for batch in batches:
            yield from batch_fn(batch.column(0).to_numpy())

    from distml.frames.capacity import default_parallelism
    slices = max(1, min(default_parallelism(session), count))
    return session.range(0, count, 1, slices).mapInArrow(per_batch, schema)


def _pandas_of_arrow(table: Any) -> pd.DataFrame:
    import pyarrow as pa
    from pyspark.sql import Row  # pure Python: toPandas() gives structs as Rows

    columns = {}
    for name, column in zip(table.column_names, table.columns):
        if pa.types.is_list(column.type) and pa.types.is_struct(column.type.value_type):
            columns[name] = [[Row(**entry) for entry in cell]
                             for cell in column.to_pylist()]
        elif pa.types.is_list(column.type):
            lists = column.combine_chunks()
            flat = lists.values.to_numpy(zero_copy_only=False)
            columns[name] = np.split(flat, lists.offsets.to_numpy()[1:-1]) if len(lists) else []
        else:
            columns[name] = column.to_numpy()
    return pd.DataFrame(columns)


__all__ = ["DOUBLE", "FLOAT", "INTEGER", "NULLABLE_DOUBLE", "OBJECT", "STRING", "VECTOR",
           "Frame", "InputSpec", "Output", "active_spark", "filesystem", "generate",
           "is_connect", "is_spark_column", "is_spark_dataframe", "java_doubles", "java_ints",
           "java_longs", "local_session", "new_table", "of", "spark_context", "string_values",
           "summarizer_column", "swap_into_place", "to_vectors", "vector_rows"]
