"""LDA on Spark: the three engines, CountVectorizer's output inside a pyspark.ml Pipeline,
pyspark.ml's output types, and bad input as Spark gives it."""
import numpy as np
import pandas as pd
import pytest
from pyspark.ml import Pipeline
from pyspark.ml.clustering import LDA as SparkLDA
from pyspark.ml.feature import CountVectorizer
from pyspark.ml.linalg import SparseVector, Vectors

from distml import LDA, DataError


def _documents(spark, count=300, vocab=60, seed=4):
    rng = np.random.default_rng(seed)
    beta = rng.dirichlet(np.full(vocab, 0.1), 4)
    rows = []
    for theta in rng.dirichlet(np.full(4, 0.3), count):
        counts = rng.multinomial(rng.integers(0, 40), theta @ beta)  # some documents empty
        nonzero = np.flatnonzero(counts)
        rows.append(SparseVector(vocab, nonzero, counts[nonzero].astype(float)))
    return spark.createDataFrame(pd.DataFrame({"features": rows})).repartition(2)


@pytest.mark.parametrize("optimizer", ["em", "online"])
def test_every_engine_gives_the_same_topics(spark, optimizer):
    df = _documents(spark)
    models = [LDA(k=4, maxIter=6, optimizer=optimizer, subsamplingRate=0.3, seed=3,
                  engine=e).fit(df) for e in ("barrier", "gang", "jobs", "local")]
    for other in models[1:]:
        np.testing.assert_allclose(other._topics, models[0]._topics, rtol=0, atol=1e-8)
        np.testing.assert_allclose(other._alpha, models[0]._alpha, rtol=0, atol=1e-8)


def test_count_vectorizer_pipeline_and_pyspark_output_types(spark):
    words = ["apple banana apple cherry", "dog cat dog dog mouse", "banana cherry apple",
             "cat mouse dog", "", "apple apple banana"]
    df = spark.createDataFrame(pd.DataFrame({"text": words})).selectExpr(
        "split(text, ' ') AS tokens").selectExpr("filter(tokens, t -> t != '') AS tokens")
    ours = Pipeline(stages=[CountVectorizer(inputCol="tokens", outputCol="features"),
                            LDA(k=2, maxIter=10, seed=1)]).fit(df)
    theirs = Pipeline(stages=[CountVectorizer(inputCol="tokens", outputCol="features"),
                              SparkLDA(k=2, maxIter=10, seed=1)]).fit(df)
    ours_out, theirs_out = ours.transform(df), theirs.transform(df)
    assert ours_out.schema.simpleString() == theirs_out.schema.simpleString()
    theta = np.stack([r["topicDistribution"].toArray() for r in ours_out.collect()])
    np.testing.assert_allclose(theta.sum(axis=1), 1.0)
    lda, spark_lda = ours.stages[1], theirs.stages[1]
    assert lda.vocabSize() == spark_lda.vocabSize() == 6
    assert lda.describeTopics(3).schema.simpleString() == \
        spark_lda.describeTopics(3).schema.simpleString()
    features = ours.stages[0].transform(df)
    assert np.isfinite(lda.logPerplexity(features)) and lda.logLikelihood(features) < 0
    assert lda.topicsMatrix().numRows == 6


def test_log_perplexity_is_the_same_on_spark_and_pandas(spark):
    df = _documents(spark, count=80)
    model = LDA(k=3, maxIter=5, optimizer="em", seed=0).fit(df)
    local = df.toPandas()
    np.testing.assert_allclose(model.logPerplexity(df), model.logPerplexity(local), rtol=1e-12)


def test_bad_input_on_spark(spark):
    df = _documents(spark, count=40, vocab=10)
    negative = spark.createDataFrame(pd.DataFrame(
        {"features": [Vectors.sparse(10, {0: 1.0}), Vectors.sparse(10, {1: -2.0})]}))
    with pytest.raises(DataError, match="'features' has 1 negative term counts"):
        LDA(k=2, maxIter=2).fit(negative)
    model = LDA(k=2, maxIter=2).fit(df)
    wider = spark.createDataFrame(pd.DataFrame({"features": [Vectors.sparse(12, {0: 1.0})]}))
    with pytest.raises(Exception, match="size 12, but the model was fitted on a vocabulary "
                                        "of 10 terms"):
        model.transform(wider).collect()
