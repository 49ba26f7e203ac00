"""Issue 20, scoring in the JVM: on Spark, a distml model's transform runs its pyspark.ml twin,
and the columns it adds are those of the Python transform (the reference: the same model's
Python path, ``_transform_here``, on the same rows).

Tolerance: class predictions, cluster ids, leaves and indices are equal; real values (vectors,
a linear regression's prediction) agree to 1e-12 relative (the JVM sums a dot product in
another order than numpy's BLAS, a difference in the last bits), and vectors have the same
representation (dense or sparse).
"""
import numpy as np
import pandas as pd
import pytest
from pyspark.ml.linalg import DenseVector, SparseVector, Vectors

from distml import (DataError, DecisionTreeClassifier, DecisionTreeRegressor, KMeans,
                    LinearRegression, LogisticRegression, MultilayerPerceptronClassifier,
                    NaiveBayes)
from distml.pipeline.feature import (IDF, PCA, MaxAbsScaler, MinMaxScaler, OneHotEncoder,
                                     StandardScaler)
from distml.pipeline.jvm_scoring import ScoresInJvm

pytestmark = pytest.mark.spark

ROWS = 240
REAL_VALUED = {"linear prediction"}


@pytest.fixture(scope="module")
def data(spark):
    rng = np.random.default_rng(21)
    X = rng.normal(size=(ROWS, 4))
    counts = rng.poisson(1.0, size=(ROWS, 6)).astype(float)
    y3 = np.digitize(X[:, 0] + 0.5 * X[:, 1], [-0.5, 0.5]).astype(float)
    rows = [(Vectors.dense(x), Vectors.sparse(6, np.flatnonzero(c), c[c != 0]),
             Vectors.dense(c), float(y > 0), float(y), float(i % 3), float(x[0] * 2 + x[1]))
            for i, (x, c, y) in enumerate(zip(X, counts, y3))]
    df = spark.createDataFrame(rows, ["features", "sparse", "counts", "label", "label3", "cat",
                                      "target"]).repartition(2).cache()
    df.count()
    yield df
    df.unpersist()


def _columns(frame, names):
    return {n: frame[n].tolist() for n in names}


def _assert_same(jvm_rows, python_rows):
    for name, values in python_rows.items():
        for got, want in zip(jvm_rows[name], values):
            if isinstance(want, (DenseVector, SparseVector)):
                assert type(got) is type(want), name
                np.testing.assert_allclose(got.toArray(), want.toArray(), rtol=1e-12,
                                           atol=1e-14, err_msg=name)
            elif name in REAL_VALUED:
                np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14, err_msg=name)
            else:
                assert got == want, name


def _compare(model, df, outputs):
    assert isinstance(model, ScoresInJvm)
    in_jvm = model.transform(df)
    # The JVM path adds no Python pass: the plan holds no Python UDF or mapInArrow.
    plan = in_jvm._jdf.queryExecution().executedPlan().toString()
    assert "PythonMapInArrow" not in plan and "ArrowEvalPython" not in plan
    python = model._transform_here(df)
    jvm_rows = in_jvm.toPandas()
    python_rows = python.toPandas()
    _assert_same(_columns(jvm_rows, outputs), _columns(python_rows, outputs))
    assert [f.dataType for f in in_jvm.schema if f.name in outputs] == \
        [f.dataType for f in python.schema if f.name in outputs]


def test_logistic_regression_binary_and_multinomial(data):
    for label, extra in (("label", {}), ("label", {"threshold": 0.3}),
                         ("label3", {}), ("label3", {"thresholds": [0.5, 0.2, 0.3]})):
        model = LogisticRegression(labelCol=label, regParam=0.01, **extra).fit(data)
        _compare(model, data, ["rawPrediction", "probability", "prediction"])


@pytest.mark.parametrize("model_type, column", [("multinomial", "counts"),
                                                ("complement", "counts"),
                                                ("gaussian", "features"),
                                                ("bernoulli", None)])
def test_naive_bayes(data, model_type, column):
    frame = data
    if column is None:  # 0/1 features
        from pyspark.sql import functions as F
        from pyspark.ml.functions import array_to_vector, vector_to_array
        frame = data.withColumn("binary", array_to_vector(F.transform(
            vector_to_array("counts"), lambda v: F.when(v > 0, 1.0).otherwise(0.0))))
        column = "binary"
    model = NaiveBayes(modelType=model_type, featuresCol=column, labelCol="label3").fit(frame)
    _compare(model, frame, ["rawPrediction", "probability", "prediction"])


def test_multilayer_perceptron(data):
    model = MultilayerPerceptronClassifier(layers=[4, 5, 3], labelCol="label3", maxIter=30,
                                           seed=3).fit(data)
    _compare(model, data, ["rawPrediction", "probability", "prediction"])


def test_trees(data):
    _compare(DecisionTreeClassifier(labelCol="label3", maxDepth=4).fit(data), data,
             ["rawPrediction", "probability", "prediction"])
    _compare(DecisionTreeRegressor(labelCol="target", maxDepth=4).fit(data), data,
             ["prediction"])


def test_trees_leaf_and_variance_columns(data):
    """leafCol (MLlib's leaf numbering) and the regression tree's varianceCol (issue 22)."""
    classifier = DecisionTreeClassifier(labelCol="label3", maxDepth=4, leafCol="leaf").fit(data)
    _compare(classifier, data, ["prediction", "leaf"])
    regressor = DecisionTreeRegressor(labelCol="target", maxDepth=4, leafCol="leaf",
                                      varianceCol="variance").fit(data)
    _compare(regressor, data, ["prediction", "leaf", "variance"])
    leaves = regressor.transform(data).select("leaf").toPandas()["leaf"]
    assert sorted(leaves.unique()) == list(np.arange(float(leaves.nunique())))


def test_linear_regression(data):
    for model in (LinearRegression(labelCol="target", regParam=0.1),
                  LinearRegression(featuresCol="sparse", labelCol="target")):
        _compare(model.setPredictionCol("linear prediction").fit(data), data,
                 ["linear prediction"])


@pytest.mark.parametrize("measure", ["euclidean", "cosine"])
def test_kmeans(data, measure):
    _compare(KMeans(k=3, seed=2, distanceMeasure=measure).fit(data), data, ["prediction"])


def test_feature_models(data):
    _compare(PCA(k=2, inputCol="features", outputCol="pca").fit(data), data, ["pca"])
    for with_mean in (False, True):
        _compare(StandardScaler(inputCol="features", outputCol="scaled", withMean=with_mean)
                 .fit(data), data, ["scaled"])
    _compare(StandardScaler(inputCol="sparse", outputCol="scaled").fit(data), data,
             ["scaled"])
    _compare(MinMaxScaler(inputCol="features", outputCol="mm").fit(data), data, ["mm"])
    _compare(MaxAbsScaler(inputCol="sparse", outputCol="ma").fit(data), data, ["ma"])
    _compare(IDF(inputCol="sparse", outputCol="tfidf").fit(data), data, ["tfidf"])
    _compare(OneHotEncoder(inputCols=["cat", "label3"], outputCols=["c1", "c2"]).fit(data),
             data, ["c1", "c2"])


def test_errors_before_the_plan_runs_stay_distml_s(data):
    model = LogisticRegression().fit(data)
    with pytest.raises(DataError, match="column 'nope' not found"):
        model.setFeaturesCol("nope").transform(data)
    with pytest.raises(DataError, match="output column 'label' already exists"):
        model.setFeaturesCol("features").setPredictionCol("label").transform(data)


def test_pandas_keeps_the_python_path(data):
    model = LogisticRegression().fit(data)
    frame = pd.DataFrame({"features": [np.array([0.5, 0.1, 0.0, 1.0])]})
    assert model.transform(frame)["prediction"].tolist() == \
        [model.predict(DenseVector([0.5, 0.1, 0.0, 1.0]))]
