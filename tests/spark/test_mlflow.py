"""Issue 22: MLflow tracks distml fits as it tracks pyspark.ml's, on a local file store.

References: the loaded model's predictions against the logged model's on the same rows
(equal); for autolog, the run MLflow records for pyspark.ml's LogisticRegression fitted and
evaluated on the same rows (the same params with the same values, the same metric names, the
area under ROC within 1e-9).
"""
import mlflow
import mlflow.pyspark.ml
import mlflow.spark
import numpy as np
import pytest
from pyspark.ml import Pipeline, PipelineModel
from pyspark.ml.classification import LogisticRegression as SparkLogisticRegression
from pyspark.ml.evaluation import BinaryClassificationEvaluator
from pyspark.ml.linalg import Vectors

from distml import KMeans, LogisticRegression, StandardScaler

pytestmark = pytest.mark.spark


@pytest.fixture
def tracking(tmp_path, monkeypatch):
    # MLflow 3 keeps the file store in maintenance mode behind this switch; a local file
    # store needs no database package (mlflow-skinny has none).
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(f"file://{tmp_path}/mlruns")
    yield tmp_path
    mlflow.pyspark.ml.autolog(disable=True)
    mlflow.set_tracking_uri(previous)


@pytest.fixture(scope="module")
def labelled(spark):
    rng = np.random.default_rng(5)
    X = rng.normal(size=(60, 3))
    y = (X @ [1.0, -2.0, 0.5] + 0.3 * rng.normal(size=60) > 0).astype(float)
    return spark.createDataFrame([(Vectors.dense(x), float(t)) for x, t in zip(X, y)],
                                 ["raw", "label"]).cache()


def test_log_model_and_load_model_round_trip_a_pipeline_of_distml_stages(tracking, labelled):
    model = Pipeline(stages=[StandardScaler(inputCol="raw", outputCol="features"),
                             KMeans(k=2, seed=1, predictionCol="cluster"),
                             LogisticRegression(maxIter=10)]).fit(labelled)
    with mlflow.start_run():
        # Stated requirements: MLflow otherwise infers them by loading the model in a new
        # process with a Spark session of its own (~20 s), and falls back to defaults with a
        # warning when that fails, so the inference could not fail this test anyway.
        info = mlflow.spark.log_model(model, "model", pip_requirements=["distml"])
    loaded = mlflow.spark.load_model(info.model_uri)
    assert isinstance(loaded, PipelineModel)
    assert [type(s) for s in loaded.stages] == [type(s) for s in model.stages]
    columns = ["features", "cluster", "probability", "prediction"]
    assert loaded.transform(labelled).select(*columns).collect() == \
        model.transform(labelled).select(*columns).collect()


def _autologged_run(estimator, frame):
    with mlflow.start_run() as run:
        model = estimator.fit(frame)
        BinaryClassificationEvaluator().evaluate(model.transform(frame))
    return mlflow.get_run(run.info.run_id).data


def test_autolog_records_a_distml_fit_as_a_pyspark_ml_one(tracking, labelled):
    frame = labelled.withColumnRenamed("raw", "features")
    mlflow.pyspark.ml.autolog(log_models=False)
    params = dict(maxIter=20, regParam=0.05, elasticNetParam=0.5)
    theirs = _autologged_run(SparkLogisticRegression(**params), frame)
    ours = _autologged_run(LogisticRegression(**params), frame)
    for name, value in theirs.params.items():  # distml adds its own (engine, numWorkers, ...)
        assert ours.params.get(name) == value, name
    assert theirs.metrics and set(ours.metrics) == set(theirs.metrics)
    for name, value in theirs.metrics.items():
        np.testing.assert_allclose(ours.metrics[name], value, rtol=1e-9)
    assert ours.tags["estimator_class"] == \
        "distml.algorithms.classification.logistic_regression.LogisticRegression"
