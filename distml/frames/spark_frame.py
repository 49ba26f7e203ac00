"""``Frame`` over a Spark DataFrame: row work runs on the executors through ``mapInArrow``
(vector columns converted to arrays in the JVM, as a fit's input is), column statistics and
rewrites as SQL expressions in the JVM, schema questions from the schema and its ML
attributes. Per-partition results come back through ``engine.results`` in partition order."""
from __future__ import annotations

import logging
import math
from typing import Any, Callable

import numpy as np
import pyarrow as pa
from pyspark.ml.functions import vector_to_array
from pyspark.ml.linalg import VectorUDT
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql.types import (ArrayType, BooleanType, DoubleType, FloatType, IntegerType,
                               NumericType, StructField, StructType)

from distml.engine import results
from distml.engine.spark_errors import original_exception, wrap_executor_errors
from distml.errors import DataError
from distml.frames.arrow_input import (ARRAY, FEATURES, VECTOR_STRUCT, InputLayout,
                                       features_from_arrow)
from distml.frames.frame import Frame
from distml.frames.pandas_frame import NUMPY_TYPES, check_new_columns, objects, whole_values
from distml.frames.spark_input import (attribute_categories, cache_generation, col,
                                       collect_partitions, features_expr)
from distml.frames.spec import (DOUBLE, FLOAT, INTEGER, NULLABLE_DOUBLE, OBJECT, STRING,
                                VECTOR, InputSpec, Output, check_columns, check_width)
from distml.frames.vectors import vector_arrow

log = logging.getLogger("distml")

_SPARK_TYPES = {VECTOR: VectorUDT, DOUBLE: DoubleType, FLOAT: FloatType, INTEGER: IntegerType}


class SparkFrame(Frame):
    dataset: DataFrame

    @property
    def session(self) -> Any:
        return self.dataset.sparkSession

    @property
    def columns(self) -> list[str]:
        return list(self.dataset.columns)

    def cache_generation(self) -> int | None:
        return cache_generation(self.dataset)

    def read_partitions(self, spec: InputSpec, num_workers: int) -> list:
        return collect_partitions(self.dataset, spec, num_workers)

    def map_partitions(self, columns: dict[str, tuple[str, str]],
                       fn: Callable[[dict], Any]) -> list:
        df = self.dataset
        check_columns(df.columns, [c for c, _ in columns.values()])
        for c, kind in columns.values():
            dtype = df.schema[c].dataType
            if kind in (DOUBLE, NULLABLE_DOUBLE) and not isinstance(dtype, NumericType):
                raise DataError(f"column '{c}' has type {dtype.simpleString()}; it must be "
                                "numeric")
        read = {VECTOR: lambda c: _as_double_array(df, c), STRING: lambda c: col(c).cast("string"),
                OBJECT: col, DOUBLE: lambda c: col(c).cast("double"),
                NULLABLE_DOUBLE: lambda c: col(c).cast("double")}
        exprs = [read[kind](c).alias(name) for name, (c, kind) in columns.items()]
        sources = {name: c for name, (c, _) in columns.items()}

        def run(batches):
            from pyspark import TaskContext
            received = [b for b in batches if b.num_rows]
            table = pa.Table.from_batches(received) if received else None
            arrays = {name: _arrow_column(None if table is None else table.column(name),
                                          sources[name], columns[name][1]) for name in sources}
            yield from results.to_batches(fn(arrays), TaskContext.get().partitionId())

        rows = _collect(df.select(*exprs).mapInArrow(wrap_executor_errors(run),
                                                     results.CHUNK_SCHEMA))
        return list(results.from_rows(rows).values())

    def collect_arrays(self, vector_columns: dict[str, tuple[str, int]],
                       columns: dict[str, str]) -> dict[str, np.ndarray]:
        exprs = [_as_double_array(self.dataset, c)[i].alias(name)
                 for name, (c, i) in vector_columns.items()]
        exprs += [col(c).cast("double").alias(name) for name, c in columns.items()]
        table = self.dataset.select(*exprs).toArrow()
        return {name: table.column(name).to_numpy() for name in table.column_names}

    def difference(self, a: str, b: str, name: str) -> Any:
        return self.dataset.select((col(a) - col(b)).alias(name))

    def column_sums(self, names: list[str]) -> np.ndarray:
        row = self.dataset.agg(*[F.sum(col(n)).alias(n) for n in names]).collect()[0]
        return np.array([0.0 if row[n] is None else row[n] for n in names], dtype=np.float64)

    def quantiles(self, column: str, probabilities: list[float], relative_error: float,
                  missing: float | None = None) -> list[float]:
        """Spark's Greenwald-Khanna sketch, partition by partition in the JVM."""
        self._require(column)
        values = col(column).cast("double")
        present = values.isNotNull() & ~F.isnan(values)
        if missing is not None:
            present = present & (values != missing)
        return self.dataset.select(values.alias(column)).where(present).stat.approxQuantile(
            column, probabilities, relative_error)

    def summarize_in_jvm(self, column: str, metrics: list[str]) -> tuple[dict, int] | None:
        from pyspark.ml.stat import Summarizer
        try:
            row = self.dataset.select(
                Summarizer.metrics(*metrics).summary(col(column)).alias("s"),
                F.count(F.lit(1)).alias("rows")).first()
        except Exception as e:  # noqa: BLE001 - the caller's engine reports what is wrong
            log.debug("distml: Spark's Summarizer failed on '%s': %s", column, e)
            return None
        return row["s"].asDict(), int(row["rows"])

    def distinct_integers(self, column: str) -> np.ndarray:
        self._require(column)
        table = self.dataset.select(col(column).cast("double").alias("id")).distinct().toArrow()
        return whole_values(table.column("id").to_numpy(zero_copy_only=False))

    def numeric_type(self, column: str) -> tuple[bool, str] | None:
        if column not in self.dataset.columns:
            return None
        dtype = self.dataset.schema[column].dataType
        return (isinstance(dtype, NumericType) and not isinstance(dtype, BooleanType),
                dtype.simpleString())

    def is_vector_column(self, column: str) -> bool:
        return column in self.dataset.columns and \
            isinstance(self.dataset.schema[column].dataType, VectorUDT)

    def vector_size_unknown(self, column: str) -> bool:
        if not self.is_vector_column(column):
            return False
        attr = self._ml_attributes(column)
        return "num_attrs" not in attr and "attrs" not in attr

    def category_count(self, column: str) -> int | None:
        attr = self._ml_attributes(column)
        return attribute_categories(attr) if attr.get("type") in ("nominal", "binary") else None

    def categorical_arities(self, column: str) -> dict[int, int]:
        attrs = self._ml_attributes(column).get("attrs", {})
        arities = {int(a["idx"]): 2 for a in attrs.get("binary", [])}
        for a in attrs.get("nominal", []):
            count = attribute_categories(a)
            if count:
                arities[int(a["idx"])] = count
        return arities

    def transform(self, spec: InputSpec, fn: Callable[[Any], dict],
                  outputs: list[Output]) -> DataFrame:
        df = self.dataset
        check_new_columns(self.columns, outputs)
        # A stream cannot be looked at ahead (vector_kind reads its first row, an action):
        # its vectors come as structs and each batch is dense or CSR as its rows are (issue 26).
        streaming = df.isStreaming
        fexpr, kind = features_expr(df, spec.features, VECTOR_STRUCT if streaming else None)
        layout = InputLayout(kind, spec.features_name, check_finite=False,
                             dense_batches=streaming)
        keep = list(df.columns)
        schema = StructType(list(df.schema.fields) + [
            StructField(o.name, _SPARK_TYPES[o.kind](), True) for o in outputs])

        def per_batch(batches):
            for batch in batches:
                X = features_from_arrow(batch.column(FEATURES), layout)
                check_width(X, spec)
                produced = fn(X)
                arrays = [batch.column(c) for c in keep]
                for o in outputs:
                    v = produced[o.name]
                    arrays.append(vector_arrow(v) if o.kind == VECTOR
                                  else pa.array(np.asarray(v, dtype=NUMPY_TYPES[o.kind])))
                yield pa.RecordBatch.from_arrays(arrays, keep + [o.name for o in outputs])

        return df.withColumn(FEATURES, fexpr).mapInArrow(per_batch, schema)

    def replace_missing(self, replacements: dict[str, tuple[str, float]],
                        missing: float) -> DataFrame:
        df, columns = self.dataset, {}
        for target, (name, value) in replacements.items():
            self._require(name)
            column = col(name)
            absent = column.isNull() | (F.isnan(column) if math.isnan(missing)
                                        else column == missing)
            kind = df.schema[name].dataType
            columns[target] = F.when(absent, F.lit(value).cast(kind)).otherwise(column)
        return df.withColumns(columns)

    def drop_nan_rows(self, column: str) -> DataFrame:
        return self.dataset.where(col(column).isNotNull() & ~F.isnan(col(column)))

    def fail_on_nulls(self, columns: list[str], message: Callable[[str, int | None], str]
                      ) -> DataFrame:
        df = self.dataset
        for name in columns:
            if name in df.columns:
                column = col(name)
                df = df.withColumn(name, F.when(column.isNull(), F.raise_error(
                    F.lit(message(name, None)))).otherwise(column))
        return df

    def with_mllib(self, on_spark: Callable[[Any], Any],
                   on_pandas: Callable[[Any], Any]) -> Any:
        return on_spark(self.dataset)

    def persist_for_reuse(self) -> tuple[DataFrame, Callable[[], None]]:
        if self.dataset.is_cached:
            return self.dataset, lambda: None
        persisted = self.dataset.persist()
        return persisted, persisted.unpersist

    def _require(self, column: str) -> None:
        if column not in self.dataset.columns:
            raise DataError(f"column '{column}' not found; the input has columns "
                            f"{self.dataset.columns}")

    def _ml_attributes(self, column: str) -> dict:
        if column not in self.dataset.schema.fieldNames():
            return {}
        return self.dataset.schema[column].metadata.get("ml_attr", {})


def _as_double_array(df: DataFrame, column: str):
    """A vector column, or an ``array<double>`` one as pyspark.ml's evaluators take, as an
    array of doubles."""
    if isinstance(df.schema[column].dataType, ArrayType):
        return col(column).cast("array<double>")
    return vector_to_array(col(column))


def _collect(df: DataFrame) -> list:
    """Rows of an action, an executor's error raised as itself (``engine.spark_errors``)."""
    try:
        return df.collect()
    except Exception as e:
        raise (original_exception(e) or e) from None


def _arrow_column(column, name: str, kind: str) -> np.ndarray:
    if column is None:
        return np.zeros((0, 0)) if kind == VECTOR else \
            np.zeros(0, dtype=object if kind in (STRING, OBJECT) else np.float64)
    column = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if kind in (STRING, OBJECT):
        return objects(column.to_pylist())
    if kind == NULLABLE_DOUBLE:
        return column.to_numpy(zero_copy_only=False).astype(np.float64)
    if column.null_count:
        raise DataError(f"column '{name}' has {column.null_count} null values")
    if kind == VECTOR:
        return features_from_arrow(column, InputLayout(ARRAY, name, check_finite=False))
    return column.to_numpy(zero_copy_only=False).astype(np.float64, copy=False)
