"""``engine="auto"`` fits column statistics as one Spark SQL aggregate on a Spark DataFrame
(``distml/pipeline/stat/statistics_in_jvm.py``): the same model as an engine's fit, and input
the aggregate cannot vouch for goes to the engine."""
import numpy as np
import pytest
from pyspark.ml.linalg import Vectors

from distml import IDF, MaxAbsScaler, MinMaxScaler, StandardScaler

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def counts(spark):
    rng = np.random.default_rng(11)
    X = rng.poisson(1.5, size=(150, 7)).astype(float) * rng.choice([-1.0, 1.0], size=7)
    df = spark.createDataFrame([(Vectors.dense(r),) for r in X], ["features"]) \
        .repartition(3).cache()
    df.count()
    return df, X


def _fitted(estimator, engine, df):
    return estimator(inputCol="features", outputCol="out", engine=engine).fit(df)


@pytest.mark.parametrize("estimator, attributes", [
    (StandardScaler, ("mean", "std")),
    (MinMaxScaler, ("originalMin", "originalMax")),
    (MaxAbsScaler, ("maxAbs",)),
    (IDF, ("idf", "docFreq", "numDocs")),
])
def test_auto_fits_in_one_aggregate_the_model_an_engine_fits(counts, estimator, attributes):
    df, X = counts
    auto, local = _fitted(estimator, "auto", df), _fitted(estimator, "local", df.toPandas())
    assert auto.trainingInfo.engine == "jvm" and auto.trainingInfo.numRows == 150
    for name in attributes:
        got, want = getattr(auto, name), getattr(local, name)
        got = got.toArray() if hasattr(got, "toArray") else np.asarray(got)
        want = want.toArray() if hasattr(want, "toArray") else np.asarray(want)
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12, err_msg=name)
    # and numpy's own, for the scaler: the unbiased standard deviation
    if estimator is StandardScaler:
        np.testing.assert_allclose(auto.std.toArray(), X.std(axis=0, ddof=1), rtol=1e-12)


def test_an_explicit_engine_is_honoured(counts):
    df, _ = counts
    for engine in ("barrier", "jobs"):
        assert _fitted(StandardScaler, engine, df).trainingInfo.engine == engine


def test_arrays_and_weighted_statistics_go_to_the_engine(spark):
    from distml import Summarizer
    df = spark.createDataFrame([([1.0, 2.0], 1.0), ([3.0, 5.0], 3.0)], ["arr", "w"])
    model = StandardScaler(inputCol="arr", outputCol="out").fit(df)
    assert model.trainingInfo.engine == "barrier"
    weighted = Summarizer.metrics("mean").summary(
        spark.createDataFrame([(Vectors.dense([1.0]), 1.0), (Vectors.dense([3.0]), 3.0)],
                              ["features", "w"]), weightCol="w")
    np.testing.assert_allclose(weighted.mean, [2.5])  # (1*1 + 3*3) / 4: the weights counted
