"""Models and transformers score streaming DataFrames (issue 26, first step): a fitted instance
of every distml model and transformer class transforms a parquet ``readStream`` into a memory
sink, and its output columns equal the same ``transform`` of the batch DataFrame, bit for bit.

Reference: the batch transform of the same rows. A stream cannot run a Spark action, so any
transform that looks at its input ahead fails here (``spark_frame.transform`` decides dense or
sparse per batch on a stream instead of reading the first row).
"""
import itertools

import numpy as np
import pytest
from pyspark.ml.linalg import Vector, Vectors

import distml as D

pytestmark = pytest.mark.spark

ROWS = 48
WIDTH_ERROR = ("column 'features' holds (a vector|vectors) of size 5, but the model was "
               "fitted on 4 features")
_queries = itertools.count()


@pytest.fixture(scope="module")
def data(spark, tmp_path_factory):
    rng = np.random.default_rng(26)
    X = np.abs(rng.normal(size=(ROWS, 4)))
    words = ["a b c", "b c d", "c d e a", "e a"]
    rows = [(i, Vectors.dense(r), float(r[0] > 0.8), i % 5, i % 7, float(r[0] * 3),
             float(r[1]), ["s", "t", "u"][i % 3], words[i % 4])
            for i, r in enumerate(X)]
    batch = spark.createDataFrame(rows, ["id", "features", "label", "user", "item", "rating",
                                         "x", "cat", "text"])
    folder = str(tmp_path_factory.mktemp("stream") / "in")
    batch.coalesce(2).write.parquet(folder)
    batch = spark.read.parquet(folder)  # the rows the stream reads, in the same form
    return batch, spark.readStream.schema(batch.schema).parquet(folder)


@pytest.fixture(scope="module")
def fitted(data):
    return _fitted(data[0])


def _fitted(batch):
    tokens = D.Tokenizer(inputCol="text", outputCol="tokens")
    counts = D.CountVectorizer(inputCol="tokens", outputCol="counts").fit(tokens.transform(batch))
    counted = counts.transform(tokens.transform(batch))
    return {
        "LogisticRegressionModel": D.LogisticRegression(maxIter=5).fit(batch),
        "LinearRegressionModel": D.LinearRegression().fit(batch),
        "NaiveBayesModel": D.NaiveBayes().fit(batch),
        "MultilayerPerceptronClassificationModel": D.MultilayerPerceptronClassifier(
            layers=[4, 3, 2], maxIter=5, seed=1).fit(batch),
        "KMeansModel": D.KMeans(k=2, seed=1).fit(batch),
        "DecisionTreeClassificationModel": D.DecisionTreeClassifier(maxDepth=2).fit(batch),
        "DecisionTreeRegressionModel": D.DecisionTreeRegressor(maxDepth=2).fit(batch),
        "RandomForestClassificationModel": D.RandomForestClassifier(
            numTrees=3, maxDepth=2, seed=1).fit(batch),
        "RandomForestRegressionModel": D.RandomForestRegressor(
            numTrees=3, maxDepth=2, seed=1).fit(batch),
        "GBTClassificationModel": D.GBTClassifier(maxIter=3, maxDepth=2).fit(batch),
        "GBTRegressionModel": D.GBTRegressor(maxIter=3, maxDepth=2).fit(batch),
        "PCAModel": D.PCA(k=2, inputCol="features", outputCol="out").fit(batch),
        "SVDModel": D.SVD(k=2, inputCol="features", outputCol="out").fit(batch),
        "StandardScalerModel": D.StandardScaler(inputCol="features", outputCol="out").fit(batch),
        "MinMaxScalerModel": D.MinMaxScaler(inputCol="features", outputCol="out").fit(batch),
        "MaxAbsScalerModel": D.MaxAbsScaler(inputCol="features", outputCol="out").fit(batch),
        "ImputerModel": D.Imputer(inputCols=["x"], outputCols=["out"]).fit(batch),
        "StringIndexerModel": D.StringIndexer(inputCol="cat", outputCol="out").fit(batch),
        "OneHotEncoderModel": D.OneHotEncoder(inputCols=["user"], outputCols=["out"]).fit(batch),
        "QuantileDiscretizer's Bucketizer": D.QuantileDiscretizer(
            inputCol="x", outputCol="out", numBuckets=3).fit(batch),
        "Bucketizer": D.Bucketizer(splits=[-1e9, 0.5, 1e9], inputCol="x", outputCol="out"),
        "ALSModel": D.ALS(rank=2, maxIter=2, seed=1, userCol="user", itemCol="item",
                          ratingCol="rating").fit(batch),
        "Normalizer": D.Normalizer(inputCol="features", outputCol="out"),
        "PolynomialExpansion": D.PolynomialExpansion(inputCol="features", outputCol="out"),
        "VectorAssembler": D.VectorAssembler(inputCols=["x", "rating"], outputCol="out"),
        "Tokenizer": tokens,
        "RegexTokenizer": D.RegexTokenizer(inputCol="text", outputCol="out"),
        "HashingTF": D.PipelineModel(stages=[tokens, D.HashingTF(inputCol="tokens",
                                                                 outputCol="out")]),
        "StopWordsRemover": D.PipelineModel(stages=[tokens, D.StopWordsRemover(
            inputCol="tokens", outputCol="out")]),
        "CountVectorizerModel": D.PipelineModel(stages=[tokens, counts]),
        "IDFModel": D.PipelineModel(stages=[tokens, counts, D.IDF(
            inputCol="counts", outputCol="out").fit(counted)]),
        "LocalLDAModel": D.PipelineModel(stages=[tokens, counts, D.LDA(
            k=2, maxIter=3, seed=1, featuresCol="counts").fit(counted)]),
        "PipelineModel": D.Pipeline(stages=[
            D.VectorAssembler(inputCols=["x", "rating"], outputCol="raw"),
            D.StandardScaler(inputCol="raw", outputCol="scaled"),
            D.LogisticRegression(featuresCol="scaled")]).fit(batch),
    }


def _plain(value):
    return value.toArray().tolist() if isinstance(value, Vector) else value


def _rows(df, columns):
    return [tuple(_plain(r[c]) for c in columns) for r in df.orderBy("id").collect()]


def test_every_model_and_transformer_scores_a_stream_as_it_scores_a_batch(spark, data,
                                                                          fitted):
    batch, stream = data
    # All the queries at once: each spends most of its ~0.6 s waiting on its own micro-batch's
    # planning and commit, not on the two cores (in a new session: 50 s one after another,
    # 31 s together).
    queries = {}
    try:
        for name, model in fitted.items():
            query_name = f"distml_stream_{next(_queries)}"
            queries[name] = (query_name, model.transform(stream).writeStream.format("memory")
                             .queryName(query_name).trigger(availableNow=True).start())
        for name, (query_name, query) in queries.items():
            query.awaitTermination(120)
            assert query.exception() is None, name
            expected = fitted[name].transform(batch)
            added = [c for c in expected.columns if c not in batch.columns]
            assert added, name
            streamed = spark.table(query_name)
            assert _rows(streamed, ["id"] + added) == _rows(expected, ["id"] + added), name
    finally:
        for query_name, query in queries.values():
            query.stop()
            spark.catalog.dropTempView(query_name)


def test_a_row_of_another_width_is_an_error_naming_the_column(spark, data, fitted, tmp_path):
    """Every model that takes a vector of fixed size checks it row by row, lazily: 5-wide
    vectors fail with the column and both sizes named (per batch on the Python path, per row
    in JVM scoring), not deep inside BLAS or silently. Every such class on a batch; a JVM and
    a Python-path model on a stream, which no eager check would survive."""
    wide = spark.createDataFrame([(100 + i, Vectors.dense([1.0, 2.0, 3.0, 4.0, 5.0]))
                                  for i in range(3)], ["id", "features"])
    folder = str(tmp_path / "wide")
    wide.write.parquet(folder)
    wide = spark.read.parquet(folder)
    checked = {name: m for name, m in fitted.items()
               if getattr(m, "_feature_width", lambda: None)() is not None and
               m.getOrDefault("featuresCol" if m.hasParam("featuresCol") else "inputCol")
               == "features"}
    assert len(checked) == 16, sorted(checked)
    for name, model in checked.items():
        with pytest.raises(Exception, match=WIDTH_ERROR):
            model.transform(wide).collect()
    stream = spark.readStream.schema(wide.schema).parquet(folder)
    for name in ("LogisticRegressionModel", "SVDModel"):
        query = (checked[name].transform(stream).writeStream.format("memory")
                 .queryName(f"distml_stream_{next(_queries)}").trigger(availableNow=True)
                 .start())
        try:
            with pytest.raises(Exception, match=WIDTH_ERROR):
                query.awaitTermination(120)
        finally:
            query.stop()


def test_without_the_size_expression_jvm_scoring_falls_back_to_vector_size_hint(
        spark, fitted, monkeypatch):
    from distml.frames import spark_input
    model = fitted["LogisticRegressionModel"]
    wide = spark.createDataFrame([(Vectors.dense([1.0, 2.0, 3.0, 4.0, 5.0]),)], ["features"])
    monkeypatch.setattr(spark_input, "_vector_sizes", lambda df, column: None)
    with pytest.raises(Exception, match="VectorSizeHint Expecting a vector of size 4 but got 5"):
        model.transform(wide).collect()


def test_a_column_whose_attributes_state_another_width_fails_at_transform(data, fitted):
    from distml.errors import DataError
    batch, stream = data
    model = fitted["LogisticRegressionModel"]
    wider = D.VectorAssembler(inputCols=["x", "rating", "user"], outputCol="features3")
    for source in (batch, stream):
        df = wider.transform(source).drop("features").withColumnRenamed("features3",
                                                                         "features")
        with pytest.raises(DataError, match="'features' holds vectors of size 3, but the model "
                                            "was fitted on 4 features .by the column's ML"):
            model.transform(df)
