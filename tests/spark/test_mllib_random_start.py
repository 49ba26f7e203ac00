"""Issue 22: a seed starts a distml fit where pyspark.ml starts it.

References: Spark's own ``org.apache.spark.util.random.XORShiftRandom`` (through py4j) for
the random stream, Scala's ``byteswap64``, and pyspark.ml's MultilayerPerceptronClassifier
and ALS with maxIter=0 (their weights are then their random start), compared exactly.
"""
import numpy as np
import pandas as pd
import pytest
from pyspark.ml.classification import MultilayerPerceptronClassifier as SparkMLP
from pyspark.ml.linalg import Vectors
from pyspark.ml.recommendation import ALS as SparkALS

from distml import ALS, MultilayerPerceptronClassifier
from distml.kernels.jvm_random import (byteswap64, hash_seed, java_random_doubles, next_doubles,
                                       next_gaussians, next_long)

pytestmark = pytest.mark.spark


@pytest.mark.parametrize("seed", [0, 123, -5, 2 ** 62 + 7, -(2 ** 63), 2 ** 63 - 1])
def test_xorshift_draws_the_jvm_s_doubles(spark, seed):
    jvm = spark.sparkContext._jvm.org.apache.spark.util.random.XORShiftRandom(seed)
    theirs = [jvm.nextDouble() for _ in range(50)]
    ours, _ = next_doubles(hash_seed(seed), 50)
    assert ours.tolist() == theirs


def test_next_doubles_continues_from_the_state_it_returns():
    whole, _ = next_doubles(hash_seed(7), 10)
    first, state = next_doubles(hash_seed(7), 4)
    rest, _ = next_doubles(state, 6)
    assert np.concatenate([first, rest]).tolist() == whole.tolist()


@pytest.mark.parametrize("layers, seed", [([2, 2, 2], 123), ([3, 5, 4, 3], -77)])
def test_perceptron_starts_at_mllib_s_initial_weights(spark, layers, seed):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(12, layers[0]))
    y = np.arange(12) % layers[-1]
    df = spark.createDataFrame([(Vectors.dense(x), float(t)) for x, t in zip(X, y)],
                               ["features", "label"])
    theirs = SparkMLP(layers=layers, seed=seed, maxIter=0).fit(df).weights.toArray()
    frame = pd.DataFrame({"features": list(X), "label": y.astype(float)})
    ours = MultilayerPerceptronClassifier(layers=layers, seed=seed, maxIter=0).fit(frame)
    assert ours.weights.toArray().tolist() == theirs.tolist()


def _factors(table):
    rows = sorted(table.collect(), key=lambda r: r.id)
    return np.array([r.id for r in rows]), np.array([r.features for r in rows])


@pytest.mark.parametrize("max_iter, atol", [(0, 0.0), (5, 1e-5)])
def test_als_starts_at_mllib_s_factors(spark, max_iter, atol):
    """maxIter=0: the random start itself, equal to the float; 5 iterations on top of the same
    start: within 1e-5 (MLlib solves in single precision, distml in double)."""
    rng = np.random.default_rng(1)
    users = rng.choice(np.arange(-40, 400), 60, replace=False)
    items = rng.choice(np.arange(0, 900), 45, replace=False)
    pairs = {(int(u), int(i)) for u, i in zip(rng.choice(users, 700), rng.choice(items, 700))}
    frame = spark.createDataFrame([(u, i, float(rng.integers(1, 6))) for u, i in sorted(pairs)],
                                  ["user", "item", "rating"])
    kwargs = dict(rank=4, seed=-31, maxIter=max_iter, numUserBlocks=7, numItemBlocks=3)
    ours = ALS(**kwargs).fit(frame)
    theirs = SparkALS(**kwargs).fit(frame)
    for side in ("userFactors", "itemFactors"):
        our_ids, our_factors = _factors(getattr(ours, side))
        their_ids, their_factors = _factors(getattr(theirs, side))
        assert our_ids.tolist() == their_ids.tolist()
        np.testing.assert_allclose(our_factors, their_factors, rtol=0, atol=atol)


def test_byteswap64_is_scala_s(spark):
    scala = getattr(getattr(spark.sparkContext._jvm.scala.util.hashing, "package$"), "MODULE$")
    for value in (0, 3, 120, -77, 2 ** 62, -(2 ** 63)):
        assert byteswap64(value) == scala.byteswap64(value)


def test_gaussians_and_longs_are_the_jvm_s(spark):
    for seed in (0, 123, -77):
        jvm = spark.sparkContext._jvm.org.apache.spark.util.random.XORShiftRandom(seed)
        theirs = [jvm.nextGaussian() for _ in range(9)]
        ours, _ = next_gaussians(hash_seed(seed), 9)
        assert ours.tolist() == theirs
        jvm = spark.sparkContext._jvm.org.apache.spark.util.random.XORShiftRandom(seed)
        first, state = next_long(hash_seed(seed))
        assert [first, next_long(state)[0]] == [jvm.nextLong(), jvm.nextLong()]


def test_java_random_draws_the_jvm_s_doubles(spark):
    for seed in (0, 1, 124, -3, 2 ** 63 - 1):
        jvm = spark.sparkContext._jvm.java.util.Random(seed)
        assert java_random_doubles(seed, 20).tolist() == [jvm.nextDouble() for _ in range(20)]
