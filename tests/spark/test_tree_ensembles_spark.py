"""Random forests and gradient-boosted trees on Spark.

- The three engines grow identical ensembles (bagging, feature subsets, row subsampling and
  validation rows included).
- Reference pyspark.ml on the same rows: a 1-tree forest without sampling is pyspark.ml's
  tree (features with few distinct values, so both bin alike); held-out accuracy at most 1
  point below pyspark.ml's forest (mean over 3 seeds) and GBT (same trees, depth, rounds;
  random_state=0 split).
- ``toMLlib()`` holds the same ensemble: pyspark.ml computes the same predictions, leaf
  indices, importances and debug string from distml's trees (to 1e-12), and its
  ``evaluateEachIteration`` equals distml's numpy one on the same rows.
"""
import numpy as np
import pandas as pd
import pytest
from pyspark.ml.classification import GBTClassifier as SparkGBT
from pyspark.ml.classification import RandomForestClassifier as SparkForest
from pyspark.ml.evaluation import MulticlassClassificationEvaluator
from pyspark.ml.linalg import Vectors
from pyspark.ml.regression import GBTRegressor as SparkGBTRegressor
from sklearn.datasets import load_breast_cancer, load_diabetes

from distml import (GBTClassifier, GBTRegressor, RandomForestClassifier,
                    RandomForestRegressor)
from boosting import mllib_stopping_count
from frames import split_frames as split
from frames import to_df

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def cancer(spark):
    return split(spark, load_breast_cancer)


def _trees(model):
    return [t._nodes for t in model.trees]


def _assert_same_ensembles(a, b):
    assert a.treeWeights == b.treeWeights and len(a.trees) == len(b.trees)
    for ours, theirs in zip(_trees(a), _trees(b)):
        for name, array in ours.items():
            np.testing.assert_array_equal(theirs[name], array, err_msg=name)


@pytest.mark.parametrize("make", [
    lambda engine: RandomForestClassifier(numTrees=6, maxDepth=5, subsamplingRate=0.8,
                                          seed=3, engine=engine, numWorkers=2),
    lambda engine: GBTClassifier(maxIter=8, maxDepth=3, subsamplingRate=0.7,
                                 featureSubsetStrategy="sqrt", validationIndicatorCol="held",
                                 validationTol=0.0, seed=5, engine=engine, numWorkers=2)],
    ids=["forest", "gbt"])
def test_engines_grow_identical_ensembles(spark, cancer, make):
    from pyspark.sql import functions as F
    train = cancer[0].withColumn("held", F.rand(seed=1) < 0.2).cache()
    models = {engine: make(engine).fit(train) for engine in ("local", "barrier", "jobs")}
    assert models["barrier"].trainingInfo.engine == "barrier"
    for engine in ("barrier", "jobs"):
        _assert_same_ensembles(models["local"], models[engine])


def test_one_tree_forest_without_sampling_is_pyspark_ml_s_tree(spark):
    rng = np.random.default_rng(2)
    X = rng.integers(0, 8, size=(2000, 4)).astype(float)  # few values: both bin alike
    y = ((X[:, 0] + 2 * X[:, 1] + rng.normal(0, 2, 2000)) > 10).astype(float)
    df = to_df(spark, X, y)
    ours = RandomForestClassifier(numTrees=1, bootstrap=False, maxDepth=4).fit(df)
    theirs = SparkForest(numTrees=1, bootstrap=False, maxDepth=4).fit(df)
    assert ours.toDebugString.splitlines()[1:] == theirs.toDebugString.splitlines()[1:]
    assert "If (feature" in ours.toDebugString


def test_forest_and_gbt_no_worse_than_pyspark_ml(cancer):
    """A forest's accuracy is a mean over 3 seeds (each library draws its own samples); GBT
    without subsampling draws nothing. At most 1 point below pyspark.ml's, as the trees'."""
    train, test = cancer
    evaluator = MulticlassClassificationEvaluator(metricName="accuracy")

    def accuracy(estimator):
        return evaluator.evaluate(estimator.fit(train).transform(test))

    ours = np.mean([accuracy(RandomForestClassifier(numTrees=20, maxDepth=6, seed=s))
                    for s in range(3)])
    theirs = np.mean([accuracy(SparkForest(numTrees=20, maxDepth=6, seed=s))
                      for s in range(3)])
    assert ours >= theirs - 0.01, ("forest", ours, theirs)
    ours, theirs = (accuracy(GBTClassifier(maxIter=20, maxDepth=3)),
                    accuracy(SparkGBT(maxIter=20, maxDepth=3)))
    assert ours >= theirs - 0.01, ("gbt", ours, theirs)


@pytest.mark.parametrize("make, data", [
    (lambda: RandomForestClassifier(numTrees=4, maxDepth=4, leafCol="leaf", seed=1), "cancer"),
    (lambda: RandomForestRegressor(numTrees=4, maxDepth=4, leafCol="leaf", seed=1),
     "diabetes"),
    (lambda: GBTClassifier(maxIter=4, maxDepth=3, leafCol="leaf"), "cancer"),
    (lambda: GBTRegressor(maxIter=4, maxDepth=3, leafCol="leaf"), "diabetes")],
    ids=["rf-classifier", "rf-regressor", "gbt-classifier", "gbt-regressor"])
def test_to_mllib_holds_the_same_ensemble(spark, cancer, make, data):
    train, test = cancer if data == "cancer" else split(spark, load_diabetes)
    ours = make().fit(train)
    theirs = ours.toMLlib()
    assert theirs.getNumTrees == ours.getNumTrees and theirs.treeWeights == ours.treeWeights
    assert theirs.totalNumNodes == ours.totalNumNodes
    assert theirs.toDebugString == ours.toDebugString.replace(ours.uid, theirs.uid)
    np.testing.assert_allclose(theirs.featureImportances.toArray(),
                               ours.featureImportances.toArray(), rtol=1e-12)
    # distml's Python scoring (pandas) beside pyspark.ml's JVM scoring of the same rows
    rows = test.toPandas()
    here = ours.transform(rows)
    there = theirs.transform(test).toPandas()
    columns = [c for c in ("rawPrediction", "probability", "prediction", "leaf")
               if c in there.columns]
    assert len(columns) >= 2
    for column in columns:
        np.testing.assert_allclose(np.stack([np.atleast_1d(np.asarray(v, dtype=float))
                                             for v in here[column]]),
                                   np.stack([np.atleast_1d(np.asarray(v, dtype=float))
                                             for v in there[column]]),
                                   rtol=1e-12, atol=1e-12, err_msg=column)
    first = rows["features"].iloc[0]
    assert list(ours.predictLeaf(first)) == list(theirs.predictLeaf(first))


def test_evaluate_each_iteration_on_spark_and_pandas_agree(spark, cancer):
    train, test = cancer
    classifier = GBTClassifier(maxIter=6, maxDepth=2).fit(train)
    np.testing.assert_allclose(classifier.evaluateEachIteration(test),
                               classifier.evaluateEachIteration(test.toPandas()), rtol=1e-10)
    train, test = split(spark, load_diabetes)
    regressor = GBTRegressor(maxIter=6, maxDepth=2).fit(train)
    for loss in ("squared", "absolute"):
        on_spark = regressor.evaluateEachIteration(test, loss)
        assert len(on_spark) == 6 and on_spark[-1] < on_spark[0]
        np.testing.assert_allclose(on_spark, regressor.evaluateEachIteration(test.toPandas(),
                                                                             loss), rtol=1e-10)


def test_validation_column_of_booleans_stops_boosting(spark):
    rng = np.random.default_rng(0)
    X = rng.uniform(-3, 3, size=(1500, 2))
    y = 2 * np.sin(X[:, 0]) + rng.normal(0, 1.0, 1500)
    held = rng.random(1500) < 0.3
    df = spark.createDataFrame(
        [(Vectors.dense(r), float(t), bool(h)) for r, t, h in zip(X, y, held)],
        ["features", "label", "held"])
    stopped = GBTRegressor(maxIter=60, maxDepth=3, stepSize=0.5,
                           validationIndicatorCol="held").fit(df)
    # Reference: MLlib's rule on the held rows' losses of a fit on the other rows alone (the
    # trees the fit on all rows grows before it stops), the losses computed by MLlib itself
    # (its evaluateEachIteration on the same trees); validationTol is its default, 0.01.
    alone = GBTRegressor(maxIter=60, maxDepth=3, stepSize=0.5).fit(df.filter(~df.held))
    losses = alone.toMLlib().evaluateEachIteration(df.filter(df.held), "squared")
    expected = mllib_stopping_count(losses, 0.01)
    kept = len(stopped.trees)
    assert kept != 60, "every tree kept: the held rows did not stop the fit"
    assert kept == expected, (kept, expected, losses)
    # And pyspark.ml's own early stopping, fitted on the same rows, keeps as many trees.
    theirs = SparkGBTRegressor(maxIter=60, maxDepth=3, stepSize=0.5,
                               validationIndicatorCol="held").fit(df)
    assert kept == theirs.getNumTrees == stopped.getNumTrees
    local = GBTRegressor(maxIter=60, maxDepth=3, stepSize=0.5,
                         validationIndicatorCol="held").fit(
        pd.DataFrame({"features": list(X), "label": y, "held": held}))
    assert local.getNumTrees == stopped.getNumTrees
