"""Decision trees on Spark: the three engines grow identical trees; no worse than pyspark.ml.

Reference: pyspark.ml's DecisionTreeClassifier/Regressor with the same maxDepth and maxBins on
the same random_state=0 split: distml's held-out accuracy (R^2) is at least pyspark.ml's minus
1 point (0.02).
"""
import numpy as np
import pytest
from pyspark.ml.classification import DecisionTreeClassifier as SparkClassifier
from pyspark.ml.evaluation import MulticlassClassificationEvaluator, RegressionEvaluator
from pyspark.ml.regression import DecisionTreeRegressor as SparkRegressor
from sklearn.datasets import load_breast_cancer, load_diabetes

from distml import DecisionTreeClassifier, DecisionTreeRegressor
from frames import split_frames as split

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def cancer(spark):
    return split(spark, load_breast_cancer)


def test_engines_grow_identical_trees(cancer):
    train, _ = cancer
    trees = {engine: DecisionTreeClassifier(maxDepth=6, engine=engine, numWorkers=2)
             .fit(train)._nodes for engine in ("local", "barrier", "jobs")}
    for engine in ("barrier", "jobs"):
        for name, array in trees["local"].items():
            np.testing.assert_array_equal(trees[engine][name], array, err_msg=name)


def test_classifier_no_worse_than_pyspark_ml(cancer):
    train, test = cancer
    evaluator = MulticlassClassificationEvaluator(metricName="accuracy")
    ours = evaluator.evaluate(DecisionTreeClassifier(maxDepth=6).fit(train).transform(test))
    theirs = evaluator.evaluate(SparkClassifier(maxDepth=6).fit(train).transform(test))
    assert ours >= theirs - 0.01, (ours, theirs)


def test_regressor_no_worse_than_pyspark_ml(spark):
    train, test = split(spark, load_diabetes)
    evaluator = RegressionEvaluator(metricName="r2")
    ours = evaluator.evaluate(DecisionTreeRegressor(maxDepth=4).fit(train).transform(test))
    theirs = evaluator.evaluate(SparkRegressor(maxDepth=4).fit(train).transform(test))
    assert ours >= theirs - 0.02, (ours, theirs)


def test_to_mllib_holds_the_same_tree(spark, cancer):
    train, test = cancer
    ours = DecisionTreeClassifier(maxDepth=5).fit(train)
    theirs = ours.toMLlib()
    assert theirs.numNodes == ours.numNodes and theirs.depth == ours.depth
    assert theirs.toDebugString.splitlines()[1:] == ours.toDebugString.splitlines()[1:]
    # both models' outputs on the same rows: ours renamed, then theirs added beside
    renamed = {c: "ours_" + c for c in ("rawPrediction", "probability", "prediction")}
    both = theirs.transform(ours.transform(test).withColumnsRenamed(renamed)).collect()
    for column, ours_column in renamed.items():
        for row in both:
            np.testing.assert_allclose(np.atleast_1d(np.asarray(row[ours_column], dtype=float)),
                                       np.atleast_1d(np.asarray(row[column], dtype=float)),
                                       rtol=1e-12)
    np.testing.assert_allclose(theirs.featureImportances.toArray(),
                               ours.featureImportances.toArray(), rtol=1e-12)
    regression_train, _ = split(spark, load_diabetes)
    regression = DecisionTreeRegressor(maxDepth=3).fit(regression_train)
    assert regression.toMLlib().toDebugString.splitlines()[1:] == \
        regression.toDebugString.splitlines()[1:]


@pytest.mark.parametrize("classes", [2, 3])
def test_categorical_features_split_as_pyspark_ml(spark, classes):
    """Categorical features (VectorIndexer's ML attributes, as pyspark.ml users mark them):
    pyspark.ml and distml grow the same tree, subsets included; with 3 classes the subsets
    are searched exhaustively, with 2 by ordering the categories."""
    from pyspark.ml.feature import VectorIndexer
    from pyspark.ml.linalg import Vectors
    rng = np.random.default_rng(9)
    n = 1200
    # 3 classes: 5 colours, few enough for MLlib (and distml) to try every subset
    colour, size = rng.integers(0, 6 if classes == 2 else 5, n), rng.integers(0, 4, n)
    flag = rng.integers(0, 2, n)
    p = np.array([0.1, 0.8, 0.3, 0.9, 0.2, 0.6])[colour] * (0.5 + 0.15 * size) + 0.1 * flag
    y = (rng.random(n) < p).astype(float)
    if classes == 3:
        y = np.where((colour == 4) & (rng.random(n) < 0.7), 2.0, y)
    raw = spark.createDataFrame([(Vectors.dense([float(c), float(s), float(f)]), float(t))
                                 for c, s, f, t in zip(colour, size, flag, y)],
                                ["raw", "label"])
    df = VectorIndexer(inputCol="raw", outputCol="features", maxCategories=6).fit(raw) \
        .transform(raw).cache()
    ours = DecisionTreeClassifier(maxDepth=3).fit(df)
    theirs = SparkClassifier(maxDepth=3).fit(df)
    assert "in {" in ours.toDebugString
    assert ours.toDebugString.splitlines()[1:] == theirs.toDebugString.splitlines()[1:]
    assert ours.toMLlib().toDebugString.splitlines()[1:] == \
        theirs.toDebugString.splitlines()[1:]
