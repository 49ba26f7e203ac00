"""Building pyspark.ml's JVM-backed models from distml's arrays (and back): Spark plumbing."""
from __future__ import annotations

import numpy as np
from pyspark.sql import SparkSession

from distml.errors import FitError


def _active_spark() -> SparkSession:
    spark = SparkSession.getActiveSession()
    if spark is None:
        raise FitError("toMLlib() builds a JVM model: it needs an active SparkSession")
    return spark


def mllib_logistic_regression_model(uid: str, coefficients: np.ndarray, intercepts: np.ndarray,
                                    num_classes: int, is_multinomial: bool, params: dict):
    """A ``pyspark.ml.classification.LogisticRegressionModel`` holding these arrays."""
    from pyspark.ml.classification import LogisticRegressionModel
    from pyspark.ml.common import _py2java
    from pyspark.ml.linalg import DenseMatrix, DenseVector

    sc = _active_spark().sparkContext
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


def _double_array(sc, values) -> object:
    array = sc._gateway.new_array(sc._jvm.double, len(values))
    for i, v in enumerate(values):
        array[i] = float(v)
    return array


def mllib_decision_tree_model(uid: str, nodes: dict, num_features: int, num_classes: int,
                              impurity: str, params: dict):
    """A pyspark.ml ``DecisionTreeClassificationModel`` (num_classes > 0) or
    ``DecisionTreeRegressionModel`` with the same nodes, built node by node in the JVM.

    ``nodes`` are distml's arrays (parents before children); MLlib's impurity statistics are
    the same sums (class weights, or weight, sum, sum of squares), its raw count the rows.
    """
    sc = _active_spark().sparkContext
    jvm = sc._jvm
    tree, calculators = jvm.org.apache.spark.ml.tree, jvm.org.apache.spark.mllib.tree.impurity
    calculator = {"gini": calculators.GiniCalculator, "entropy": calculators.EntropyCalculator,
                  "variance": calculators.VarianceCalculator}[impurity]
    stats = nodes["stats"]
    built: dict[int, object] = {}
    for node in range(len(stats) - 1, -1, -1):  # children first: they come after parents
        values = stats[node, :-1]
        if num_classes:
            prediction = float(np.argmax(values))
        else:
            prediction = float(values[1] / values[0]) if values[0] > 0 else 0.0
        calc = calculator(_double_array(sc, values), int(round(stats[node, -1])))
        if nodes["feature"][node] < 0:
            built[node] = tree.LeafNode(prediction, float(nodes["impurity"][node]), calc)
        else:
            feature = int(nodes["feature"][node])
            if nodes["numCategories"][node] > 0:
                split = tree.CategoricalSplit(
                    feature, _double_array(sc, np.flatnonzero(nodes["leftCategories"][node])),
                    int(nodes["numCategories"][node]))
            else:
                split = tree.ContinuousSplit(feature, float(nodes["threshold"][node]))
            built[node] = tree.InternalNode(
                prediction, float(nodes["impurity"][node]), float(nodes["gain"][node]),
                built.pop(int(nodes["left"][node])), built.pop(int(nodes["right"][node])),
                split, calc)
    if num_classes:
        from pyspark.ml.classification import DecisionTreeClassificationModel as Wrapper
        java_model = jvm.org.apache.spark.ml.classification.DecisionTreeClassificationModel(
            uid, built[0], int(num_features), int(num_classes))
    else:
        from pyspark.ml.regression import DecisionTreeRegressionModel as Wrapper
        java_model = jvm.org.apache.spark.ml.regression.DecisionTreeRegressionModel(
            uid, built[0], int(num_features))
    model = Wrapper(java_model)
    model._set(**{k: v for k, v in params.items() if model.hasParam(k) and v is not None})
    model._transfer_params_to_java()
    return model
