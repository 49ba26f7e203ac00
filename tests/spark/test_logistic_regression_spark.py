"""LogisticRegression on Spark: engines agree, pyspark.ml parity, MLlib interchange, pipelines.

Parity reference: pyspark.ml.classification.LogisticRegression on the same DataFrame with the
same params, both run to tol=1e-12 so that the comparison is of optima, not of stopping rules;
tolerance 1e-4 relative to the largest coefficient (the issue's), which both reach well within.
"""
import numpy as np
import pandas as pd
import pytest
from pyspark.ml import Pipeline, PipelineModel
from pyspark.ml.classification import LogisticRegression as SparkLogisticRegression
from pyspark.ml.classification import LogisticRegressionModel as SparkLogisticRegressionModel
from pyspark.ml.evaluation import BinaryClassificationEvaluator
from pyspark.ml.functions import array_to_vector
from pyspark.ml.linalg import Vectors
from pyspark.ml.tuning import CrossValidator, ParamGridBuilder
from sklearn.datasets import load_breast_cancer, make_classification
from sklearn.preprocessing import StandardScaler as SkStandardScaler

from distml import DataError, LogisticRegression, LogisticRegressionModel, StandardScaler
from frames import to_df

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def cancer(spark):
    X, y = load_breast_cancer(return_X_y=True)
    return to_df(spark, SkStandardScaler().fit_transform(X), y)


@pytest.fixture(scope="module")
def five_classes(spark):
    X, y = make_classification(n_samples=1500, n_features=8, n_informative=6, n_classes=5,
                               random_state=1)
    return to_df(spark, X, y)


@pytest.fixture(scope="module")
def sparse_binary(spark):
    rng = np.random.default_rng(5)
    X = rng.normal(size=(400, 30))
    X[rng.random(X.shape) < 0.8] = 0.0
    y = (X @ rng.normal(size=30) + rng.logistic(size=400) > 0).astype(float)
    return to_df(spark, X, y, sparse=True)


@pytest.fixture(scope="module")
def large_binary(spark):
    """Enough rows for LogisticRegression's Newton warm start on a gathered row sample."""
    from distml.algorithms.classification import logistic_regression_program as lp
    n = lp.WARM_START_ROWS * lp.WARM_START_MIN_STRIDE + 2000
    rng = np.random.default_rng(8)
    X = rng.normal(size=(n, 4))
    y = (X @ np.array([1.0, -0.5, 2.0, 0.0]) + rng.logistic(size=n) > 0).astype(float)
    pdf = pd.DataFrame({"arr": list(X), "label": y})
    return (spark.createDataFrame(pdf).repartition(2)
            .select(array_to_vector("arr").alias("features"), "label").cache())


def coefficients(model):
    return model.coefficientMatrix.toArray(), model.interceptVector.toArray()


CONFIGS = [
    pytest.param({"regParam": 0.01}, id="l2-newton"),
    pytest.param({"regParam": 0.01, "elasticNetParam": 0.5}, id="elastic-net"),
    pytest.param({"regParam": 0.01, "family": "multinomial"}, id="multinomial"),
]


@pytest.mark.parametrize("kw, data", [
    *[pytest.param(c.values[0], data, id=f"{c.id}-{data}") for c in CONFIGS
      for data in ("cancer", "sparse_binary")],
    pytest.param({"regParam": 0.01}, "large_binary", id="l2-newton-warm-start-large_binary")])
def test_three_engines_give_the_same_coefficients(request, kw, data):
    df = request.getfixturevalue(data)
    fits = {e: LogisticRegression(engine=e, tol=1e-10, **kw).fit(df)
            for e in ("local", "barrier", "jobs")}
    if data == "large_binary":  # the warm start ran: 3 full-data steps here, 6 without it
        assert fits["local"].summary.totalIterations <= 4
    fits = {e: coefficients(m) for e, m in fits.items()}
    for engine in ("barrier", "jobs"):
        for got, ref in zip(fits[engine], fits["local"]):
            np.testing.assert_allclose(got, ref, rtol=1e-8, atol=1e-12)


@pytest.mark.parametrize("kw", [
    {"regParam": 0.01},
    {"regParam": 0.01, "standardization": False},
    {"regParam": 0.02, "elasticNetParam": 0.5},
    {"regParam": 0.02, "elasticNetParam": 1.0, "standardization": False},
    {"regParam": 0.0, "fitIntercept": False, "maxIter": 30},
], ids=["l2", "l2-raw", "elastic-net", "l1-raw", "no-intercept"])
def test_binomial_matches_pyspark_ml(cancer, kw):
    kw = {"tol": 1e-12, "maxIter": 2000, **kw}
    ours = LogisticRegression(**kw).fit(cancer)
    theirs = SparkLogisticRegression(**kw).fit(cancer)
    if kw["regParam"] == 0.0:
        # Separable data without penalty has no finite optimum; compare predictions only.
        a = ours.transform(cancer).select("prediction").toPandas()["prediction"]
        b = theirs.transform(cancer).select("prediction").toPandas()["prediction"]
        assert (a == b).mean() >= 0.99
        return
    a, b = ours.coefficients.toArray(), theirs.coefficients.toArray()
    assert np.abs(a - b).max() / np.abs(b).max() < 1e-4
    assert abs(ours.intercept - theirs.intercept) < 1e-4 * np.abs(b).max()
    assert ((a == 0) == (b == 0)).all()


@pytest.mark.parametrize("kw", [{"regParam": 0.01}, {"regParam": 0.01, "elasticNetParam": 0.5}],
                         ids=["l2", "elastic-net"])
def test_multinomial_matches_pyspark_ml(five_classes, kw):
    kw = {"tol": 1e-12, "maxIter": 3000, **kw}
    ours = LogisticRegression(**kw).fit(five_classes)
    theirs = SparkLogisticRegression(**kw).fit(five_classes)
    (a, ai), (b, bi) = coefficients(ours), coefficients(theirs)
    assert np.abs(a - b).max() / np.abs(b).max() < 1e-4
    np.testing.assert_allclose(ai, bi, atol=1e-4 * np.abs(b).max())
    pa = ours.transform(five_classes).select("prediction").toPandas()["prediction"]
    pb = theirs.transform(five_classes).select("prediction").toPandas()["prediction"]
    assert (pa == pb).mean() >= 0.999


def test_transform_columns_match_pyspark_ml_model(cancer):
    ours = LogisticRegression(regParam=0.05).fit(cancer)
    mllib = ours.toMLlib()
    assert isinstance(mllib, SparkLogisticRegressionModel)
    a = ours.transform(cancer).toPandas()
    b = mllib.transform(cancer).toPandas()
    for col in ("rawPrediction", "probability"):
        np.testing.assert_allclose(np.stack(a[col].map(lambda v: v.toArray())),
                                   np.stack(b[col].map(lambda v: v.toArray())), rtol=1e-12,
                                   atol=1e-15)
    assert (a["prediction"] == b["prediction"]).all()
    back = LogisticRegressionModel.fromMLlib(mllib)
    np.testing.assert_array_equal(back.coefficients.toArray(), ours.coefficients.toArray())
    assert back.getRegParam() == 0.05


def test_mllib_summary_figures_agree(cancer):
    ours = LogisticRegression(regParam=0.01).fit(cancer)
    theirs = SparkLogisticRegression(regParam=0.01).fit(cancer)
    assert ours.summary.areaUnderROC == pytest.approx(theirs.summary.areaUnderROC, abs=1e-3)
    assert ours.summary.accuracy == pytest.approx(theirs.summary.accuracy, abs=2e-3)


def test_pipeline_cross_validation_and_persistence(cancer, tmp_path):
    lr = LogisticRegression(featuresCol="scaled", maxIter=50)
    pipeline = Pipeline(stages=[StandardScaler(inputCol="features", outputCol="scaled"), lr])
    grid = ParamGridBuilder().addGrid(lr.regParam, [0.001, 0.5]).build()
    cv = CrossValidator(estimator=pipeline, estimatorParamMaps=grid,
                        evaluator=BinaryClassificationEvaluator(), numFolds=2, seed=7)
    model = cv.fit(cancer)
    assert model.avgMetrics[0] > model.avgMetrics[1]  # heavy penalty hurts the AUC
    best = model.bestModel
    best.write().overwrite().save(str(tmp_path / "best"))
    loaded = PipelineModel.load(str(tmp_path / "best"))
    a = best.transform(cancer).select("probability").toPandas()["probability"]
    b = loaded.transform(cancer).select("probability").toPandas()["probability"]
    np.testing.assert_array_equal(np.stack(a.map(lambda v: v.toArray())),
                                  np.stack(b.map(lambda v: v.toArray())))


@pytest.mark.parametrize("engine", ["barrier", "jobs"])
def test_bad_labels_on_spark(spark, engine):
    df = spark.createDataFrame([(Vectors.dense([1.0, 2.0]), 0.5), (Vectors.dense([0.0, 1.0]), 1.0)],
                               ["features", "y"])
    with pytest.raises(DataError, match="'y' has 1 labels that are not integers"):
        LogisticRegression(labelCol="y", engine=engine).fit(df)
    single = spark.createDataFrame([(Vectors.dense([1.0, 2.0]), 1.0)] * 4, ["features", "y"])
    with pytest.raises(DataError, match="'y' holds a single class"):
        LogisticRegression(labelCol="y", family="binomial", engine=engine).fit(single)
