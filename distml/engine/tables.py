"""The tables a recommendation model hands back: factors by id, top-k recommendations by id.

They are Spark DataFrames with pyspark.ml's schemas, or pandas DataFrames when the caller has no
SparkSession to put them on (``Model._table_session`` decides).
Recommendations are computed where the table lives: on Spark, one ``mapInArrow`` over a range
of query positions, each task scoring its queries against all targets captured in the closure
(pyspark broadcasts a large closure once per executor); on pandas, on the driver.
"""
from __future__ import annotations

import sys
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from distml.engine.fit import is_spark_dataframe
from distml.errors import DataError
from distml.kernels.als import top_k


def active_spark():
    """The active SparkSession, or None (without importing pyspark.sql when it was never
    imported)."""
    if "pyspark.sql" not in sys.modules:
        return None
    from pyspark.sql import SparkSession
    return SparkSession.getActiveSession()


def factors_table(ids: np.ndarray, factors: np.ndarray, spark: Any) -> Any:
    """(id int, features array<float>), pyspark.ml's ``userFactors``/``itemFactors``, on
    ``spark`` (a SparkSession; pandas when None)."""
    if spark is None:
        return pd.DataFrame({"id": ids.astype(np.int32),
                             "features": list(factors.astype(np.float32))})
    table = pa.table({"id": pa.array(ids.astype(np.int32)),
                      "features": _lists(factors.astype(np.float32))})
    return spark.createDataFrame(table, "id int, features array<float>")


def _lists(matrix: np.ndarray) -> pa.ListArray:
    n, k = matrix.shape
    offsets = pa.array(np.arange(0, (n + 1) * k, k, dtype=np.int32))
    return pa.ListArray.from_arrays(offsets, pa.array(matrix.ravel()))


def ids_of(dataset: Any, column: str) -> np.ndarray:
    """The distinct values of an id column, as int64 (non-integers are dropped later as
    unknown ids)."""
    if is_spark_dataframe(dataset):
        from distml.engine.spark_input import col
        if column not in dataset.columns:
            raise DataError(f"column '{column}' not found; the input has columns "
                            f"{dataset.columns}")
        table = dataset.select(col(column).cast("double").alias("id")).distinct().toArrow()
        values = table.column("id").to_numpy(zero_copy_only=False)
    else:
        if column not in dataset.columns:
            raise DataError(f"column '{column}' not found; the input has columns "
                            f"{list(dataset.columns)}")
        values = dataset[column].to_numpy(dtype=np.float64, na_value=np.nan)
    values = values[np.isfinite(values) & (values == np.round(values))]
    return np.unique(values.astype(np.int64))


def recommendations_table(query_ids: np.ndarray, queries: np.ndarray, target_ids: np.ndarray,
                          targets: np.ndarray, count: int, query_col: str, target_col: str,
                          spark: Any) -> Any:
    """(query_col int, recommendations array<struct<target_col int, rating float>>): each
    query's ``count`` targets of highest predicted rating, best first; on ``spark`` (a
    SparkSession; pandas when None)."""
    if spark is None:
        from pyspark.sql import Row
        positions, scores = top_k(queries, targets, count)
        recs = [[Row(**{target_col: int(target_ids[p]), "rating": float(np.float32(s))})
                 for p, s in zip(pos_row, score_row)]
                for pos_row, score_row in zip(positions, scores)]
        return pd.DataFrame({query_col: query_ids.astype(np.int32), "recommendations": recs})

    entry = pa.struct([pa.field(target_col, pa.int32(), nullable=False),
                       pa.field("rating", pa.float32(), nullable=False)])

    def recommend(batches):
        for batch in batches:
            rows = batch.column(0).to_numpy()
            positions, scores = top_k(queries[rows], targets, count)
            k = positions.shape[1]
            structs = pa.StructArray.from_arrays(
                [pa.array(target_ids[positions.ravel()].astype(np.int32)),
                 pa.array(scores.ravel().astype(np.float32))], fields=list(entry))
            offsets = pa.array(np.arange(0, (rows.size + 1) * k, k, dtype=np.int32))
            yield pa.RecordBatch.from_arrays(
                [pa.array(query_ids[rows].astype(np.int32)),
                 pa.ListArray.from_arrays(offsets, structs)], [query_col, "recommendations"])

    schema = (f"`{query_col}` int, recommendations array<struct<`{target_col}`: int, "
              "rating: float>>")
    slices = max(1, min(spark.sparkContext.defaultParallelism, query_ids.size))
    return spark.range(0, query_ids.size, 1, slices).mapInArrow(recommend, schema)
