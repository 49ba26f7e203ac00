"""Applying a fitted model row by row: no barrier, no collectives.

On Spark it is one ``mapInArrow`` over the input with the model's arrays captured in the
closure; every input column passes through untouched and the outputs are appended (vectors as
``pyspark.ml.linalg.VectorUDT``, so pyspark.ml stages downstream read them). On pandas the same
function runs on the whole frame.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import pandas as pd
import pyarrow as pa
import scipy.sparse as sp

from distml.engine.arrow_input import FEATURES, InputLayout, features_from_arrow
from distml.engine.pandas_input import InputSpec, pandas_features
from distml.engine.fit import is_spark_dataframe
from distml.errors import DataError

VECTOR = "vector"
DOUBLE = "double"
INTEGER = "integer"  # 32-bit, as pyspark.ml's cluster predictions
FLOAT = "float"  # 32-bit, as pyspark.ml's ALS predictions


@dataclass(frozen=True)
class Output:
    name: str
    kind: str  # VECTOR (2-d array or CSR per batch), DOUBLE, FLOAT or INTEGER (1-d array)


def transform_dataset(dataset: Any, spec: InputSpec, fn: Callable[[Any], dict],
                      outputs: list[Output]) -> Any:
    """Append ``fn(X)``'s arrays (keyed by output name) to every row of ``dataset``."""
    columns = list(dataset.columns)
    for out in outputs:
        if out.name in columns:
            raise DataError(f"output column '{out.name}' already exists in the input; choose "
                            "another name or drop it first")
    if is_spark_dataframe(dataset):
        return _transform_spark(dataset, spec, fn, outputs)
    if not isinstance(dataset, pd.DataFrame):
        raise DataError(f"expected a Spark or pandas DataFrame, got {type(dataset).__name__}")
    X = pandas_features(dataset, spec)
    produced = fn(X)
    out_df = dataset.copy()
    for out in outputs:
        values = produced[out.name]
        out_df[out.name] = to_vectors(values) if out.kind == VECTOR else \
            np.asarray(values, dtype=_NUMPY_TYPES[out.kind])
    return out_df


_NUMPY_TYPES = {DOUBLE: np.float64, FLOAT: np.float32, INTEGER: np.int32}


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


def _transform_spark(df, spec: InputSpec, fn: Callable, outputs: list[Output]):
    from pyspark.ml.linalg import VectorUDT
    from pyspark.sql.types import (DoubleType, FloatType, IntegerType, StructField,
                                   StructType)

    from distml.engine.spark_input import features_expr

    fexpr, kind = features_expr(df, spec.features)
    layout = InputLayout(kind, spec.features_name, check_finite=False)
    keep = list(df.columns)
    schema = StructType(list(df.schema.fields) + [
        StructField(o.name, {VECTOR: VectorUDT(), DOUBLE: DoubleType(), FLOAT: FloatType(),
                             INTEGER: IntegerType()}[o.kind], True)
        for o in outputs])

    def per_batch(batches):
        for batch in batches:
            X = features_from_arrow(batch.column(FEATURES), layout)
            produced = fn(X)
            arrays = [batch.column(c) for c in keep]
            for o in outputs:
                v = produced[o.name]
                arrays.append(vector_arrow(v) if o.kind == VECTOR
                              else pa.array(np.asarray(v, dtype=_NUMPY_TYPES[o.kind])))
            yield pa.RecordBatch.from_arrays(arrays, keep + [o.name for o in outputs])

    return df.withColumn(FEATURES, fexpr).mapInArrow(per_batch, schema)


def collect_arrays(dataset: Any, vector_columns: dict[str, tuple[str, int]],
                   columns: dict[str, str]) -> dict[str, np.ndarray]:
    """Columns of ``dataset`` as numpy arrays on the driver.

    ``vector_columns`` maps a result name to (vector column, element index); ``columns`` maps
    a result name to a numeric column. Only those values cross to the driver.
    """
    if is_spark_dataframe(dataset):
        from pyspark.ml.functions import vector_to_array

        from distml.engine.spark_input import col
        exprs = [vector_to_array(col(c))[i].alias(name)
                 for name, (c, i) in vector_columns.items()]
        exprs += [col(c).cast("double").alias(name) for name, c in columns.items()]
        table = dataset.select(*exprs).toArrow()
        return {name: table.column(name).to_numpy() for name in table.column_names}
    out = {name: np.array([v[i] for v in dataset[c]], dtype=np.float64)
           for name, (c, i) in vector_columns.items()}
    out.update({name: dataset[c].to_numpy(dtype=np.float64) for name, c in columns.items()})
    return out


def column_sums(dataset: Any, names: list[str]) -> np.ndarray:
    """The sums of numeric columns of ``dataset`` (one Spark aggregation, or pandas')."""
    if is_spark_dataframe(dataset):
        from pyspark.sql import functions as F

        from distml.engine.spark_input import col
        row = dataset.agg(*[F.sum(col(n)).alias(n) for n in names]).collect()[0]
        return np.array([0.0 if row[n] is None else row[n] for n in names], dtype=np.float64)
    return np.array([dataset[n].sum() for n in names], dtype=np.float64)
