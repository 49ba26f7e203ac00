"""Scoring in the JVM: a distml model's ``transform`` on Spark through its pyspark.ml twin.

A distml model's Python transform sends every row through a Python worker and back (Arrow
both ways); pyspark.ml's model computes the same columns in the JVM, inside the query plan,
with no Python pass. Where pyspark.ml has a model class computing the same columns from the
same arrays, the model builds that twin once per set of params (its arrays copied into the
JVM; kept beside the model object), and each Spark transform runs it. On
pandas, and for models without a twin, the Python path runs as before. The outputs agree
with the Python path's (``tests/spark/test_jvm_scoring.py``, per model); where they would
not, a model keeps the Python path.

Errors a transform can detect before the plan runs stay distml's: a missing input column
and an output column that exists already raise the same ``DataError`` as on pandas.
"""
from __future__ import annotations

import weakref
from typing import Any

import numpy as np

from distml import frames
from distml.frames import Output, spark_context
from distml.frames.pandas_frame import check_new_columns
from distml.frames.spec import check_columns
from distml.pipeline.constraints import ParamChecks

_TWINS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


class ScoresInJvm(ParamChecks):
    """Mixin of models with a pyspark.ml twin, first among their bases. The model (or a base
    after this one) provides ``_build_twin(sc)`` (the pyspark.ml model holding this model's
    arrays), ``_transform_here(dataset)`` (the Python path) and ``_twin_columns()`` (input
    columns read, output columns written); no stubs here, as they would hide those bases'."""

    def _transform(self, dataset: Any) -> Any:
        frame = frames.of(dataset)
        if frame.session is not None and frames.is_connect(frame.session):
            return self._transform_here(dataset)  # a twin is built through py4j: not there
        return frame.with_mllib(self._transform_in_jvm, self._transform_here)

    def _transform_in_jvm(self, dataset: Any) -> Any:
        inputs, outputs = self._twin_columns()
        check_columns(dataset.columns, inputs)
        check_new_columns(dataset.columns, [Output(name, "") for name in outputs if name])
        width = self._feature_width()
        if width is not None:
            from distml.frames.spark_input import width_checked
            dataset = width_checked(dataset, inputs[0], width)
        return self._twin_with_params(dataset.sparkSession.sparkContext).transform(dataset)

    def toMLlib(self) -> Any:
        """The equivalent pyspark.ml model, with this model's params (needs Spark)."""
        return self._twin_with_params(spark_context("toMLlib() builds a JVM model")).copy()

    def _twin_with_params(self, sc) -> Any:
        """The twin holding this model's set params (the defaults are MLlib's): built once per
        model object, SparkContext and set of params. Kept beside the model, not in it: a
        model travels to executors in Python transforms' closures, and a twin holds the JVM;
        a copy of the model (``Params.copy``) builds its own."""
        params = {p.name: v for p, v in self._paramMap.items() if v is not None}
        key = (sc, repr(sorted(params.items())))
        cached = _TWINS.get(self)
        if cached is None or cached[0] != key:
            twin = self._build_twin(sc)
            for name, value in params.items():
                if twin.hasParam(name) and _accepts(twin, name, value):
                    twin._set(**{name: value})
            cached = _TWINS[self] = (key, twin)
        return cached[1]


def _accepts(twin: Any, name: str, value: Any) -> bool:
    """Whether MLlib's param takes the value: a distml-only one (a training param, such as the
    perceptron's solver="adam") stays behind, and the twin keeps MLlib's default."""
    from pyspark.errors import IllegalArgumentException
    try:
        twin._java_obj.set(twin._make_java_param_pair(twin.getParam(name), value))
    except IllegalArgumentException:
        return False
    return True


# --- building twins ---------------------------------------------------------------------------

def jvm_vector(sc, values: np.ndarray) -> Any:
    """An ``org.apache.spark.ml.linalg.DenseVector`` of ``values``."""
    return sc._jvm.org.apache.spark.ml.linalg.DenseVector(frames.java_doubles(sc, values))


def jvm_matrix(sc, values: np.ndarray, row_major: bool = False) -> Any:
    """An ``org.apache.spark.ml.linalg.DenseMatrix`` of the 2-d ``values``, stored by
    columns (MLlib's default) or by rows (``isTransposed``, which some models require)."""
    values = np.atleast_2d(np.asarray(values, dtype=np.float64))
    rows, cols = values.shape
    return sc._jvm.org.apache.spark.ml.linalg.DenseMatrix(
        rows, cols, frames.java_doubles(sc, values.ravel(order="C" if row_major else "F")),
        row_major)


def twin_of(wrapper: type, java_model: Any) -> Any:
    """The pyspark.ml wrapper of a JVM model, its Python params read from the JVM object."""
    model = wrapper(java_model)
    model._resetUid(java_model.uid())
    model._transfer_params_from_java()
    return model
