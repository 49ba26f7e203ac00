"""LDA on Spark: the engines, CountVectorizer's output inside a pyspark.ml Pipeline,
pyspark.ml's output types, bad input as Spark gives it, and the em optimizer against
pyspark.ml's on the same partitions (MLlib's MAP-EM: the topic counts within 1e-9 relative,
the training log likelihood and log prior within 1e-9 relative)."""
import numpy as np
import pandas as pd
import pytest
from pyspark.ml import Pipeline
from pyspark.ml.clustering import LDA as SparkLDA
from pyspark.ml.feature import CountVectorizer
from pyspark.ml.linalg import SparseVector, Vectors

from distml import LDA, DataError, DistributedLDAModel, LocalLDAModel, ParamError


def _documents(spark, count=300, vocab=60, seed=4):
    rng = np.random.default_rng(seed)
    beta = rng.dirichlet(np.full(vocab, 0.1), 4)
    rows = []
    for theta in rng.dirichlet(np.full(4, 0.3), count):
        counts = rng.multinomial(rng.integers(0, 40), theta @ beta)  # some documents empty
        nonzero = np.flatnonzero(counts)
        rows.append(SparseVector(vocab, nonzero, counts[nonzero].astype(float)))
    return spark.createDataFrame(pd.DataFrame({"features": rows})).repartition(2)


@pytest.mark.parametrize("optimizer", ["em", "batch", "online"])
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
    with pytest.raises(Exception, match="'features' holds vectors of size 12, but the model "
                                        "was fitted on 10 features"):
        model.transform(wider).collect()


def test_em_is_mllib_s_map_em(spark):
    df = _documents(spark, count=200, vocab=30, seed=9).cache()
    assert df.rdd.getNumPartitions() == 2  # MLlib draws its start per partition, as distml
    params = dict(k=3, maxIter=15, optimizer="em", seed=11)
    ours, theirs = LDA(**params).fit(df), SparkLDA(**params).fit(df)
    assert ours.isDistributed() and theirs.isDistributed()
    np.testing.assert_allclose(ours.topicsMatrix().toArray(), theirs.topicsMatrix().toArray(),
                               rtol=1e-9)
    np.testing.assert_allclose(ours.trainingLogLikelihood(), theirs.trainingLogLikelihood(),
                               rtol=1e-9)
    np.testing.assert_allclose(ours.logPrior(), theirs.logPrior(), rtol=1e-9)
    np.testing.assert_allclose(ours.estimatedDocConcentration().toArray(),
                               theirs.estimatedDocConcentration().toArray())
    ours_topics, their_topics = ours.describeTopics(5).collect(), theirs.describeTopics(5).collect()
    assert [r.termIndices for r in ours_topics] == [r.termIndices for r in their_topics]
    df.unpersist()


def test_distributed_model_api(spark, tmp_path):
    df = _documents(spark, count=60, vocab=20)
    checkpoints = str(tmp_path / "checkpoints")
    model = LDA(k=2, maxIter=4, optimizer="em", seed=2, checkpointInterval=2,
                checkpointDir=checkpoints).fit(df)
    assert isinstance(model, DistributedLDAModel)
    kept = model.getCheckpointFiles()
    assert len(kept) == 1 and kept[0].startswith(checkpoints) and (tmp_path / kept[0]).exists()
    local = model.toLocal()
    assert isinstance(local, LocalLDAModel) and not local.isDistributed()
    np.testing.assert_array_equal(local.topicsMatrix().toArray(), model.topicsMatrix().toArray())
    assert local.transform(df).collect() == model.transform(df).collect()
    assert repr(model).startswith("DistributedLDAModel: uid=")
    model.save(str(tmp_path / "model"))
    loaded = DistributedLDAModel.load(str(tmp_path / "model"))
    assert loaded.trainingLogLikelihood() == model.trainingLogLikelihood()
    assert loaded.logPrior() == model.logPrior() and loaded.getCheckpointFiles() == []
    model.deleteCheckpointFiles()
    assert model.getCheckpointFiles() == [] and not (tmp_path / kept[0]).exists()
    unkept = LDA(k=2, maxIter=4, optimizer="em", seed=2, checkpointInterval=2,
                 checkpointDir=str(tmp_path / "other"), keepLastCheckpoint=False).fit(df)
    assert unkept.getCheckpointFiles() == []
    for params, name in (({"docConcentration": [0.5]}, "docConcentration"),
                         ({"docConcentration": [2.0, 3.0]}, "docConcentration"),
                         ({"topicConcentration": 1.0}, "topicConcentration")):
        with pytest.raises(ParamError, match=name):
            LDA(k=2, optimizer="em", **params).fit(df)
