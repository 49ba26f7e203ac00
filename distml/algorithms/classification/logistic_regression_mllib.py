"""LogisticRegressionModel.toMLlib(): pyspark.ml's JVM-backed model holding distml's arrays."""
from __future__ import annotations

import numpy as np

from distml.pipeline.jvm_scoring import jvm_matrix, jvm_vector, twin_of


def mllib_logistic_regression_model(sc, uid: str, coefficients: np.ndarray,
                                    intercepts: np.ndarray, num_classes: int,
                                    is_multinomial: bool):
    """A ``pyspark.ml.classification.LogisticRegressionModel`` holding these arrays."""
    from pyspark.ml.classification import LogisticRegressionModel

    java_model = sc._jvm.org.apache.spark.ml.classification.LogisticRegressionModel(
        uid, jvm_matrix(sc, coefficients, row_major=True), jvm_vector(sc, intercepts), int(num_classes),
        bool(is_multinomial))
    return twin_of(LogisticRegressionModel, java_model)
