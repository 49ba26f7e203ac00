"""StandardScaler and Summarizer on Spark: numpy parity on the engines and on "auto" (one JVM
aggregate), dense and sparse."""
import numpy as np
import pandas as pd
import pytest
from pyspark.ml.feature import StandardScaler as SparkStandardScaler
from pyspark.ml.linalg import Vectors

from distml import StandardScaler, StandardScalerModel, Summarizer

pytestmark = pytest.mark.spark
ENGINES = ["auto", "barrier", "jobs"]


def vectors(X, sparse):
    if sparse:
        return [Vectors.sparse(X.shape[1], np.flatnonzero(r), r[r != 0]) for r in X]
    return [Vectors.dense(r) for r in X]


@pytest.fixture(scope="module", params=[False, True], ids=["dense", "sparse"])
def data(request, spark):
    rng = np.random.default_rng(3)
    X = rng.normal(loc=50.0, scale=4.0, size=(120, 6))
    X[rng.random(X.shape) < (0.6 if request.param else 0.0)] = 0.0
    X[:, 5] = 0.0 if request.param else 2.5  # a constant column: std 0 maps to 0
    w = rng.integers(0, 3, size=120).astype(float)
    df = spark.createDataFrame([(v, float(wi)) for v, wi in zip(vectors(X, request.param), w)],
                               ["features", "w"]).repartition(2).cache()
    return df, X, w, request.param


def to_array(column):
    return np.stack([v.toArray() for v in column])


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("with_mean", [False, True])
def test_standard_scaler_matches_numpy(data, engine, with_mean):
    df, X, _, sparse = data
    model = StandardScaler(inputCol="features", outputCol="scaled", withMean=with_mean,
                           engine=engine).fit(df)
    mean, std = X.mean(axis=0), X.std(axis=0, ddof=1)
    np.testing.assert_allclose(model.mean.toArray(), mean, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(model.std.toArray(), std, rtol=1e-12, atol=1e-12)
    out = model.transform(df).toPandas()
    got = to_array(out["scaled"])
    Xin = to_array(out["features"])
    scale = np.divide(1.0, std, out=np.zeros_like(std), where=std != 0)
    expected = ((Xin - mean) if with_mean else Xin) * scale
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
    kinds = {type(v).__name__ for v in out["scaled"]}
    assert kinds == ({"SparseVector"} if sparse and not with_mean else {"DenseVector"})


def test_standard_scaler_matches_pyspark_ml(data):
    df, _, _, _ = data
    ours = StandardScaler(inputCol="features", outputCol="o", withMean=True).fit(df)
    theirs = SparkStandardScaler(inputCol="features", outputCol="o", withMean=True).fit(df)
    np.testing.assert_allclose(ours.mean.toArray(), theirs.mean.toArray(), rtol=1e-12)
    np.testing.assert_allclose(ours.std.toArray(), theirs.std.toArray(), rtol=1e-12)
    a = to_array(ours.transform(df).toPandas()["o"])
    b = to_array(theirs.transform(df).toPandas()["o"])
    np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("engine", ENGINES)
def test_summarizer_matches_numpy_weighted(data, engine):
    df, X, w, _ = data
    s = Summarizer.metrics("count", "mean", "variance", "min", "max", "numNonZeros").summary(
        df, weightCol="w", engine=engine)
    keep = w > 0
    Xk, wk = X[keep], w[keep]
    W = wk.sum()
    mean = wk @ Xk / W
    var = wk @ (Xk - mean) ** 2 / (W - wk @ wk / W)
    assert s.count == keep.sum()
    np.testing.assert_allclose(s.mean, mean, rtol=1e-12)
    np.testing.assert_allclose(s.variance, var, rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(s.min, Xk.min(0))
    np.testing.assert_array_equal(s.max, Xk.max(0))
    np.testing.assert_array_equal(s.numNonZeros, (Xk != 0).sum(0))


def test_spark_and_pandas_input_give_the_same_model(data):
    df, _, _, _ = data
    pdf = df.toPandas()
    a = StandardScaler(inputCol="features", outputCol="o").fit(df)
    b = StandardScaler(inputCol="features", outputCol="o").fit(pdf)
    np.testing.assert_allclose(a.std.toArray(), b.std.toArray(), rtol=1e-13)
    got = to_array(b.transform(pdf)["o"])
    np.testing.assert_allclose(got, to_array(a.transform(df).toPandas()["o"]), rtol=1e-13)


def test_array_and_numeric_columns_as_features(spark):
    X = np.arange(12.0).reshape(4, 3) ** 1.5
    pdf = pd.DataFrame(X, columns=["a", "b", "c"])
    pdf["arr"] = list(X.astype(np.float32))
    df = spark.createDataFrame(pdf)
    by_cols = Summarizer.metrics("std").summary(df, featuresCol=("a", "b", "c"))
    by_array = Summarizer.metrics("std").summary(df, featuresCol="arr")
    np.testing.assert_allclose(by_cols.std, X.std(0, ddof=1), rtol=1e-12)
    np.testing.assert_allclose(by_array.std, X.astype(np.float32).std(0, ddof=1), rtol=1e-6)


def test_save_on_spark_and_load_without_it(spark, data, tmp_path):
    df, _, _, _ = data
    model = StandardScaler(inputCol="features", outputCol="o").fit(df)
    uri = "file://" + str(tmp_path / "scaler")
    model.save(uri)
    loaded = StandardScalerModel.load(str(tmp_path / "scaler"))
    a = to_array(model.transform(df).toPandas()["o"])
    b = to_array(loaded.transform(df).toPandas()["o"])
    np.testing.assert_array_equal(a, b)


def test_hadoop_filesystem_round_trip(spark, tmp_path):
    from distml.frames.hadoop_fs import HadoopFileSystem
    root = "file://" + str(tmp_path)
    fs = HadoopFileSystem(root)
    fs.write_bytes(root + "/a/b.bin", bytes(range(256)) * 10)
    assert fs.exists(root + "/a/b.bin") and fs.listdir(root + "/a") == ["b.bin"]
    assert fs.read_bytes(root + "/a/b.bin") == bytes(range(256)) * 10
    fs.rename(root + "/a", root + "/c")
    assert fs.read_bytes(root + "/c/b.bin")[:3] == b"\x00\x01\x02"
    fs.delete(root + "/c")
    assert not fs.exists(root + "/c")
