"""LogisticRegressionModel.toMLlib(): pyspark.ml's JVM-backed model holding distml's arrays."""
from __future__ import annotations

import numpy as np

from distml.frames import spark_context


def mllib_logistic_regression_model(uid: str, coefficients: np.ndarray, intercepts: np.ndarray,
                                    num_classes: int, is_multinomial: bool, params: dict):
    """A ``pyspark.ml.classification.LogisticRegressionModel`` holding these arrays."""
    from pyspark.ml.classification import LogisticRegressionModel
    from pyspark.ml.common import _py2java
    from pyspark.ml.linalg import DenseMatrix, DenseVector

    sc = spark_context("toMLlib() builds a JVM model")
    rows, cols = coefficients.shape
    matrix = _py2java(sc, DenseMatrix(rows, cols, np.ascontiguousarray(coefficients).ravel()
                                      .tolist(), isTransposed=True))
    vector = _py2java(sc, DenseVector(np.asarray(intercepts, dtype=np.float64)))
    java_model = sc._jvm.org.apache.spark.ml.classification.LogisticRegressionModel(
        uid, matrix, vector, int(num_classes), bool(is_multinomial))
    model = LogisticRegressionModel(java_model)
    model._set(**{k: v for k, v in params.items() if model.hasParam(k) and v is not None})
    model._transfer_params_to_java()
    return model
