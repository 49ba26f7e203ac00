"""Spark Connect (issue 24, first step): distml fits from Spark 4's thin client.

A local Connect server (``conftest.connect``): the client has no SparkContext, RDDs or py4j,
and the ranks meet inside their barrier stage (``engine.gather_rendezvous``).

Reference: the same estimator on the same rows as a pandas DataFrame, fitted in process on as
many partitions; a Connect fit repartitions its input (a client cannot ask a DataFrame's
partition count), so the partitions hold other rows and sums fold in another order: within
1e-8 relative.
"""
import os
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest

from distml import (ALS, DataError, DecisionTreeClassifier, FitError, KMeans,
                    LogisticRegression, ParamError)

pytestmark = pytest.mark.spark

ROWS = 600


@pytest.fixture(scope="module")
def data(connect):
    from pyspark.ml.linalg import Vectors
    rng = np.random.default_rng(24)
    X = rng.normal(size=(ROWS, 4))
    y = (X[:, 0] - X[:, 1] + 0.5 * rng.normal(size=ROWS) > 0).astype(float)
    df = connect.createDataFrame([(Vectors.dense(r), float(t)) for r, t in zip(X, y)],
                                 ["features", "label"])
    return df, pd.DataFrame({"features": list(X), "label": y})


def test_logistic_regression_fits_transforms_and_equals_the_in_process_fit(data):
    df, frame = data
    params = dict(maxIter=30, regParam=0.01)
    model = LogisticRegression(**params).fit(df)
    reference = LogisticRegression(numWorkers=2, **params).fit(frame)
    np.testing.assert_allclose(model.coefficients.toArray(), reference.coefficients.toArray(),
                               rtol=1e-8, atol=1e-12)
    assert abs(model.intercept - reference.intercept) <= 1e-8 * max(1.0, abs(reference.intercept))
    scored = model.transform(df).select("label", "prediction").toPandas()
    expected = reference.transform(frame)["prediction"]
    assert len(scored) == ROWS
    assert (scored["prediction"].to_numpy() == expected.to_numpy()).mean() > 0.99


def test_kmeans_equals_the_in_process_fit(connect):
    """Three well-separated blobs: any start ends at their means, so the centers compare
    though the partitions (hence the k-means|| starts) differ."""
    from pyspark.ml.linalg import Vectors
    rng = np.random.default_rng(7)
    X = np.concatenate([rng.normal(loc=c, scale=0.3, size=(200, 2))
                        for c in ((0, 0), (5, 5), (-5, 5))])
    df = connect.createDataFrame([(Vectors.dense(r),) for r in X], ["features"])
    model = KMeans(k=3, seed=4, maxIter=20).fit(df)
    reference = KMeans(k=3, seed=4, maxIter=20, numWorkers=2).fit(
        pd.DataFrame({"features": list(X)}))
    ours, theirs = (np.array(sorted(map(tuple, m.clusterCenters())))
                    for m in (model, reference))
    np.testing.assert_allclose(ours, theirs, rtol=1e-8, atol=1e-12)
    assert model.summary.trainingCost == pytest.approx(reference.summary.trainingCost,
                                                       rel=1e-8)


def test_decision_tree_equals_the_in_process_fit(data):
    df, frame = data
    model = DecisionTreeClassifier(maxDepth=4).fit(df)
    reference = DecisionTreeClassifier(maxDepth=4, numWorkers=2).fit(frame)
    for name in ("feature", "threshold", "left", "right"):
        np.testing.assert_array_equal(model._nodes[name], reference._nodes[name])
    np.testing.assert_allclose(model._nodes["stats"], reference._nodes["stats"], rtol=1e-12)
    scored = model.transform(df).select("prediction").toPandas()["prediction"]
    assert len(scored) == ROWS


def test_als_equals_the_in_process_fit(connect):
    rng = np.random.default_rng(5)
    ratings = pd.DataFrame({"user": rng.integers(0, 40, 800), "item": rng.integers(0, 25, 800),
                            "rating": rng.uniform(1, 5, 800)})
    params = dict(rank=3, maxIter=5, regParam=0.1, seed=5)
    model = ALS(**params).fit(connect.createDataFrame(ratings))
    reference = ALS(numWorkers=2, **params).fit(ratings)
    for ours, theirs in ((model._users, reference._users), (model._items, reference._items)):
        np.testing.assert_array_equal(ours[0], theirs[0])
        np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-8, atol=1e-10)


def test_a_cross_validator_over_a_distml_estimator_equals_pyspark_ml_s(data):
    """Reference: the same pyspark.ml CrossValidator (same folds: same seed and rows) over
    pyspark.ml's LogisticRegression, whose objective distml's matches (AUCs within 1e-4)."""
    from pyspark.ml.classification import LogisticRegression as SparkLogisticRegression
    from pyspark.ml.evaluation import BinaryClassificationEvaluator
    from pyspark.ml.tuning import CrossValidator, ParamGridBuilder
    df, _ = data
    metrics = []
    for estimator in (LogisticRegression(maxIter=20), SparkLogisticRegression(maxIter=20)):
        grid = ParamGridBuilder().addGrid(estimator.regParam, [0.01, 0.5]).build()
        cv = CrossValidator(estimator=estimator, estimatorParamMaps=grid, numFolds=2, seed=1,
                            evaluator=BinaryClassificationEvaluator()).fit(df)
        metrics.append(cv.avgMetrics)
    np.testing.assert_allclose(metrics[0], metrics[1], rtol=1e-4)
    assert len(metrics[0]) == 2


def test_a_failing_rank_s_error_reaches_the_client(connect):
    from pyspark.ml.linalg import Vectors
    df = connect.createDataFrame([(Vectors.dense([1.0, np.nan]), 1.0),
                                  (Vectors.dense([1.0, 2.0]), 0.0)] * 5, ["features", "label"])
    with pytest.raises(DataError, match=r"'features' has \d NaN or infinite"):
        LogisticRegression(maxIter=5).fit(df)


def test_what_does_not_run_over_connect_yet_says_so(data, tmp_path):
    df, _ = data
    with pytest.raises(ParamError, match="engine='gang' does not run over Spark Connect"):
        LogisticRegression(engine="gang").fit(df)
    model = LogisticRegression(maxIter=3).fit(df)
    with pytest.raises(FitError, match="toMLlib.*Spark Connect session lacks"):
        model.toMLlib()


def test_on_a_server_with_dynamic_allocation_auto_fits_on_the_jobs_engine(tmp_path):
    """Spark refuses barrier stages under dynamic allocation: 'auto' runs the fit a job a
    round (``engine.frame_jobs``), and 'barrier' says what to use. Dynamic allocation is fixed
    when the server's SparkContext starts: a server of its own, in its own process."""
    script = tmp_path / "dynamic.py"
    script.write_text(textwrap.dedent("""
        import numpy as np, os, socket
        from pyspark.ml.linalg import Vectors
        from pyspark.sql.connect.session import SparkSession  # beside the server's session
        from distml import LogisticRegression, ParamError
        from distml.frames import local_session
        with socket.socket() as s:
            s.bind(("localhost", 0))
            port = s.getsockname()[1]
        local_session("local[2]", **{
            "spark.plugins": "org.apache.spark.sql.connect.SparkConnectPlugin",
            "spark.connect.grpc.binding.port": str(port),
            "spark.dynamicAllocation.enabled": "true",
            "spark.dynamicAllocation.testing": "true",
            "spark.dynamicAllocation.shuffleTracking.enabled": "true"})
        # From here this process is a Connect client only: pyspark's functions build
        # Connect columns (they build classic ones while a classic session is all there is).
        os.environ["SPARK_CONNECT_MODE_ENABLED"] = "1"
        client = SparkSession.builder.remote(f"sc://localhost:{port}").getOrCreate()
        rng = np.random.default_rng(3)
        X = rng.normal(size=(200, 3))
        df = client.createDataFrame([(Vectors.dense(r), float(r[0] > 0)) for r in X],
                                    ["features", "label"])
        model = LogisticRegression(maxIter=10).fit(df)
        print("ENGINE:", model.trainingInfo.engine)
        try:
            LogisticRegression(maxIter=3, engine="barrier").fit(df)
        except ParamError as e:
            print("REFUSED:", e)
    """))
    # (Without this tier's Connect settings: the script starts a classic session first.)
    env = {k: v for k, v in os.environ.items()
           if k not in ("SPARK_CONNECT_MODE_ENABLED", "SPARK_REMOTE")}
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=300, env=dict(env, PYTHONPATH=os.getcwd()))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "ENGINE: jobs" in proc.stdout
    assert "REFUSED: engine='barrier' cannot run on this Spark Connect server" in proc.stdout
