"""Issue 22: a seed starts a distml fit where pyspark.ml starts it.

References: Spark's own ``org.apache.spark.util.random.XORShiftRandom`` (through py4j) for
the random stream, and pyspark.ml's MultilayerPerceptronClassifier with maxIter=0 (its
weights are then its random start) for the initial weights; both compared exactly.
"""
import numpy as np
import pandas as pd
import pytest
from pyspark.ml.classification import MultilayerPerceptronClassifier as SparkMLP
from pyspark.ml.linalg import Vectors

from distml import MultilayerPerceptronClassifier
from distml.kernels.xorshift import hash_seed, next_doubles

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
