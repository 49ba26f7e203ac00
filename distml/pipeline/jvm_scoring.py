"""Scoring in the JVM: a distml model's ``transform`` on Spark through its pyspark.ml twin.

A distml model's Python transform sends every row through a Python worker and back (Arrow
both ways); pyspark.ml's model computes the same columns in the JVM, inside the query plan,
with no Python pass. Where pyspark.ml has a model class computing the same columns from the
same arrays, the model builds that twin once (its arrays copied into the JVM; cached on the
model object), and each Spark transform runs a copy of it with this model's params set. On
pandas, and for models without a twin, the Python path runs as before. The outputs agree
with the Python path's (``tests/spark/test_jvm_scoring.py``, per model); where they would
not, a model keeps the Python path.

Errors a transform can detect before the plan runs stay distml's: a missing input column
and an output column that exists already raise the same ``DataError`` as on pandas.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from distml import frames
from distml.frames import Output, spark_context
from distml.frames.pandas_frame import check_new_columns
from distml.frames.spec import check_columns


class ScoresInJvm:
    """Mixin of models with a pyspark.ml twin. Hooks: ``_build_twin(sc)`` (the pyspark.ml
    model holding this model's arrays), ``_transform_here(dataset)`` (the Python path),
    ``_twin_columns()`` (input columns read, output columns written)."""

    def _build_twin(self, sc) -> Any:
        raise NotImplementedError

    def _transform_here(self, dataset: Any) -> Any:
        raise NotImplementedError

    def _twin_columns(self) -> tuple[list[str], list[str]]:
        raise NotImplementedError

    def _transform(self, dataset: Any) -> Any:
        return frames.of(dataset).with_mllib(self._transform_in_jvm, self._transform_here)

    def _transform_in_jvm(self, dataset: Any) -> Any:
        inputs, outputs = self._twin_columns()
        check_columns(dataset.columns, inputs)
        check_new_columns(dataset.columns, [Output(name, "") for name in outputs if name])
        twin = self._twin().copy()
        for param, value in self._paramMap.items():  # set ones: the defaults are MLlib's
            if twin.hasParam(param.name) and value is not None:
                twin._set(**{param.name: value})
        return twin.transform(dataset)

    def _twin(self) -> Any:
        """The twin, built once per model object and Spark application (a copy of the model,
        ``Params.copy``, builds its own: copies may carry other params)."""
        sc = spark_context("scoring in the JVM")
        cached = self.__dict__.get("_jvm_twin")
        if cached is None or cached[0] is not self or cached[1] is not sc:
            cached = (self, sc, self._build_twin(sc))
            self.__dict__["_jvm_twin"] = cached
        return cached[2]

    def toMLlib(self) -> Any:
        """The equivalent pyspark.ml model, with this model's params (needs Spark)."""
        twin = self._twin().copy()
        for param, value in self._paramMap.items():
            if twin.hasParam(param.name) and value is not None:
                twin._set(**{param.name: value})
        return twin


# --- building twins ---------------------------------------------------------------------------

def jvm_vector(sc, values: np.ndarray) -> Any:
    """An ``org.apache.spark.ml.linalg.DenseVector`` of ``values``."""
    return sc._jvm.org.apache.spark.ml.linalg.DenseVector(frames.java_doubles(sc, values))


def jvm_matrix(sc, values: np.ndarray) -> Any:
    """An ``org.apache.spark.ml.linalg.DenseMatrix`` of the 2-d ``values``."""
    values = np.atleast_2d(np.asarray(values, dtype=np.float64))
    rows, cols = values.shape
    return sc._jvm.org.apache.spark.ml.linalg.DenseMatrix(
        rows, cols, frames.java_doubles(sc, values.ravel(order="F")))


def jvm_array(sc, java_type: Any, values) -> Any:
    """A Java array of ``java_type`` (``sc._gateway.jvm.int``, ...) holding ``values``."""
    array = sc._gateway.new_array(java_type, len(values))
    for i, v in enumerate(values):
        array[i] = v
    return array


def twin_of(wrapper: type, java_model: Any) -> Any:
    """The pyspark.ml wrapper of a JVM model, its Python params read from the JVM object."""
    model = wrapper(java_model)
    model._resetUid(java_model.uid())
    model._transfer_params_from_java()
    return model
