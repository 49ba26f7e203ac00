"""distml stages inside pyspark.ml: Pipeline, CrossValidator, and pyspark.ml's own save/load."""
import numpy as np
import pytest
from pyspark.ml import Pipeline, PipelineModel
from pyspark.ml.classification import LogisticRegression as SparkLogisticRegression
from pyspark.ml.evaluation import BinaryClassificationEvaluator
from pyspark.ml.feature import StandardScaler as SparkStandardScaler
from pyspark.ml.linalg import Vectors
from pyspark.ml.tuning import CrossValidator, CrossValidatorModel, ParamGridBuilder
from sklearn.datasets import load_breast_cancer

from distml import StandardScaler

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def cancer(spark):
    X, y = load_breast_cancer(return_X_y=True)
    df = spark.createDataFrame([(Vectors.dense(r), float(t)) for r, t in zip(X, y)],
                               ["raw", "label"]).repartition(2).cache()
    df.count()
    return df


def _pipeline(scaler, max_iter=20):
    return Pipeline(stages=[scaler, SparkLogisticRegression(
        featuresCol="scaled", maxIter=max_iter, regParam=0.01)])


def test_distml_stage_in_a_pyspark_pipeline_equals_the_pyspark_stage(cancer):
    ours = _pipeline(StandardScaler(inputCol="raw", outputCol="scaled")).fit(cancer)
    theirs = _pipeline(SparkStandardScaler(inputCol="raw", outputCol="scaled")).fit(cancer)
    np.testing.assert_allclose(ours.stages[-1].coefficients.toArray(),
                               theirs.stages[-1].coefficients.toArray(), rtol=1e-6, atol=1e-8)
    a = ours.transform(cancer).select("prediction").toPandas()["prediction"]
    b = theirs.transform(cancer).select("prediction").toPandas()["prediction"]
    assert (a == b).all()


def _cross_validate(scaler, data):
    grid = ParamGridBuilder().addGrid(scaler.withMean, [False, True]).addGrid(
        scaler.withStd, [False, True]).build()
    # 5 iterations: each is a Spark job, and both sides fit the same scaled features alike
    cv = CrossValidator(estimator=_pipeline(scaler, max_iter=5), estimatorParamMaps=grid,
                        evaluator=BinaryClassificationEvaluator(), numFolds=2, seed=1)
    return cv.fit(data), grid


def test_cross_validator_over_a_distml_param(cancer):
    """Reference: the same CrossValidator over pyspark.ml's StandardScaler, same folds."""
    scaler = StandardScaler(inputCol="raw", outputCol="scaled")
    ours, grid = _cross_validate(scaler, cancer)
    theirs, _ = _cross_validate(SparkStandardScaler(inputCol="raw", outputCol="scaled"), cancer)
    assert len(ours.avgMetrics) == 4
    np.testing.assert_allclose(ours.avgMetrics, theirs.avgMetrics, rtol=1e-6)
    best = int(np.argmax(ours.avgMetrics))
    chosen = ours.bestModel.stages[0]
    assert type(chosen).__module__.startswith("distml")
    assert (chosen.getWithMean(), chosen.getWithStd()) == (grid[best][scaler.withMean],
                                                          grid[best][scaler.withStd])


def test_pyspark_pipeline_persistence_holds_distml_stages(cancer, tmp_path):
    model = _pipeline(StandardScaler(inputCol="raw", outputCol="scaled", withMean=True)
                      ).fit(cancer)
    path = str(tmp_path / "pipeline")
    model.write().overwrite().save(path)
    loaded = PipelineModel.load(path)
    assert type(loaded.stages[0]).__name__ == "StandardScalerModel"
    a = model.transform(cancer).select("probability").toPandas()["probability"]
    b = loaded.transform(cancer).select("probability").toPandas()["probability"]
    np.testing.assert_array_equal(np.stack(a.map(lambda v: v.toArray())),
                                  np.stack(b.map(lambda v: v.toArray())))
    # The unfitted pipeline too.
    _pipeline(StandardScaler(inputCol="raw", outputCol="scaled")).save(str(tmp_path / "est"))
    est = Pipeline.load(str(tmp_path / "est"))
    assert type(est.getStages()[0]).__name__ == "StandardScaler"


def test_cross_validator_model_persistence(cancer, tmp_path):
    scaler = StandardScaler(inputCol="raw", outputCol="scaled")
    grid = ParamGridBuilder().addGrid(scaler.withMean, [False, True]).build()
    # 5 iterations: each is a Spark job, and both sides fit the same scaled features alike
    cv = CrossValidator(estimator=_pipeline(scaler, max_iter=5), estimatorParamMaps=grid,
                        evaluator=BinaryClassificationEvaluator(), numFolds=2, seed=3)
    model = cv.fit(cancer)
    path = str(tmp_path / "cv")
    model.save(path)
    loaded = CrossValidatorModel.load(path)
    assert loaded.avgMetrics == model.avgMetrics
    a = model.transform(cancer).select("prediction").toPandas()["prediction"]
    b = loaded.transform(cancer).select("prediction").toPandas()["prediction"]
    assert (a == b).all()


def test_params_behave_like_pyspark_ml():
    s = StandardScaler(inputCol="a")
    assert s.getWithStd() is True and not s.isSet(s.withStd)
    c = s.copy({s.withMean: True})
    assert c.getWithMean() is True and s.getWithMean() is False
    assert c.uid == s.uid
    text = s.explainParams()
    for name in ("withMean", "withStd", "inputCol", "outputCol", "engine", "numWorkers"):
        assert name in text
    assert s.setWithMean(True) is s and s.getWithMean()
