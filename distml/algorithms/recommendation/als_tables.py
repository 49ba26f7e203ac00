"""The tables an ALS model hands back: factors by id, top-k recommendations by id.

They have pyspark.ml's schemas, on the session the model's tables follow (a SparkSession, or
pandas when None: ``Model._table_session`` decides). Recommendations are computed where the
table lives: on Spark each task scores its range of queries against all targets captured in
the closure (pyspark broadcasts a large closure once per executor); on pandas, here.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from distml import frames
from distml.kernels.als import top_k


def factors_table(ids: np.ndarray, factors: np.ndarray, session: Any) -> Any:
    """(id int, features array<float>), pyspark.ml's ``userFactors``/``itemFactors``."""
    table = pa.table({"id": pa.array(ids.astype(np.int32)),
                      "features": _lists(pa.array(factors.astype(np.float32).ravel()),
                                         *factors.shape)})
    return frames.new_table(session, table, "id int, features array<float>")


def _lists(values: pa.Array, n: int, k: int) -> pa.ListArray:
    """``values`` cut into ``n`` lists of ``k``."""
    return pa.ListArray.from_arrays(pa.array(np.arange(0, (n + 1) * k, k, dtype=np.int32)),
                                    values)


def recommendations_table(query_ids: np.ndarray, queries: np.ndarray, target_ids: np.ndarray,
                          targets: np.ndarray, count: int, query_col: str, target_col: str,
                          session: Any) -> Any:
    """(query_col int, recommendations array<struct<target_col int, rating float>>): each
    query's ``count`` targets of highest predicted rating, best first."""
    entry = [pa.field(target_col, pa.int32(), nullable=False),
             pa.field("rating", pa.float32(), nullable=False)]

    def recommend(rows: np.ndarray):
        positions, scores = top_k(queries[rows], targets, count)
        structs = pa.StructArray.from_arrays(
            [pa.array(target_ids[positions.ravel()].astype(np.int32)),
             pa.array(scores.ravel().astype(np.float32))], fields=entry)
        yield pa.RecordBatch.from_arrays(
            [pa.array(query_ids[rows].astype(np.int32)),
             _lists(structs, rows.size, positions.shape[1])], [query_col, "recommendations"])

    schema = (f"`{query_col}` int, recommendations array<struct<`{target_col}`: int, "
              "rating: float>>")
    return frames.generate(session, query_ids.size, recommend, schema)
