"""Feature transformers: output equal to pyspark.ml's on the same Spark DataFrame (and to
scikit-learn's equivalent where there is one), and the same numbers on pandas input."""
import numpy as np
import pandas as pd
import pytest
from pyspark.ml import feature as spark_feature
from pyspark.ml.linalg import Vectors
from sklearn import preprocessing

from distml import DataError
from distml.pipeline import feature


def _matrix(rows, column):
    return np.stack([np.asarray(r[column].toArray() if hasattr(r[column], "toArray")
                                else r[column], dtype=float) for r in rows])


def _pandas_matrix(frame, column):
    return np.stack([v.toArray() for v in frame[column]])


@pytest.fixture(scope="module")
def numeric(spark):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 4)) * [1.0, 10.0, 0.1, 0.0] + [0.0, 5.0, -3.0, 2.0]
    X[::7, 0] = 0.0
    sparse_rows = [Vectors.sparse(4, {0: float(r[0]), 2: float(r[2])}) for r in X[:30]]
    frame = pd.DataFrame({"x": [Vectors.dense(r) for r in X],
                          "s": sparse_rows + [Vectors.dense(r) for r in X[30:]]})
    return X, frame, spark.createDataFrame(frame).repartition(2)


def _midpoint_for_constants(scaled, X, low, high):
    """scikit-learn maps a constant feature to the range's low end, MLlib to its middle."""
    scaled[:, X.min(axis=0) == X.max(axis=0)] = (low + high) / 2
    return scaled


# (ours, pyspark.ml's, scikit-learn's) made when the test runs: pyspark.ml's need a SparkContext.
NUMERIC = {
    "MinMaxScaler": (
        lambda: feature.MinMaxScaler(inputCol="x", outputCol="y", min=-1.0, max=2.0),
        lambda: spark_feature.MinMaxScaler(inputCol="x", outputCol="y", min=-1.0, max=2.0),
        lambda X: _midpoint_for_constants(
            preprocessing.MinMaxScaler((-1.0, 2.0)).fit_transform(X), X, -1.0, 2.0)),
    "MaxAbsScaler": (
        lambda: feature.MaxAbsScaler(inputCol="x", outputCol="y"),
        lambda: spark_feature.MaxAbsScaler(inputCol="x", outputCol="y"),
        lambda X: preprocessing.MaxAbsScaler().fit_transform(X)),
    "Normalizer-l1": (
        lambda: feature.Normalizer(inputCol="x", outputCol="y", p=1.0),
        lambda: spark_feature.Normalizer(inputCol="x", outputCol="y", p=1.0),
        lambda X: preprocessing.normalize(X, norm="l1")),
    "Normalizer-inf-sparse": (
        lambda: feature.Normalizer(inputCol="s", outputCol="y", p=float("inf")),
        lambda: spark_feature.Normalizer(inputCol="s", outputCol="y", p=float("inf")), None),
}


@pytest.mark.parametrize("name", sorted(NUMERIC))
def test_numeric_transformers_match_pyspark_and_scikit_learn(numeric, name):
    X, frame, df = numeric
    make_ours, make_theirs, reference = NUMERIC[name]
    ours, theirs = make_ours(), make_theirs()
    fitted = ours.fit(df) if hasattr(ours, "fit") else ours
    spark_fitted = theirs.fit(df) if hasattr(theirs, "fit") else theirs
    got = _matrix(fitted.transform(df).orderBy("x").collect(), "y")
    expected = _matrix(spark_fitted.transform(df).orderBy("x").collect(), "y")
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
    on_pandas = ours.fit(frame) if hasattr(ours, "fit") else ours
    local = on_pandas.transform(frame)
    rows = fitted.transform(df).collect()
    by_key = {tuple(r["x"].toArray()): r["y"].toArray() for r in rows}
    np.testing.assert_allclose(_pandas_matrix(local, "y"),
                               np.stack([by_key[tuple(v.toArray())] for v in frame["x"]]),
                               rtol=1e-12, atol=1e-12)
    if reference is not None:
        np.testing.assert_allclose(_pandas_matrix(local, "y"), reference(X), rtol=1e-12,
                                   atol=1e-12)


@pytest.fixture(scope="module")
def categories(spark):
    frame = pd.DataFrame({"color": ["red", "blue", "red", "green", "blue", "red", None],
                          "size": ["s", "m", "m", "l", "s", "s", "m"],
                          "n": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]})
    return frame, spark.createDataFrame(frame).repartition(2)


@pytest.mark.parametrize("order", ["frequencyDesc", "frequencyAsc", "alphabetDesc",
                                   "alphabetAsc"])
def test_string_indexer_labels_match_pyspark(categories, order):
    frame, df = categories
    kwargs = dict(inputCols=["color", "size"], outputCols=["ci", "si"], stringOrderType=order,
                  handleInvalid="keep")
    ours, theirs = feature.StringIndexer(**kwargs).fit(df), \
        spark_feature.StringIndexer(**kwargs).fit(df)
    assert ours.labelsArray == theirs.labelsArray
    assert feature.StringIndexer(**kwargs).fit(frame).labelsArray == theirs.labelsArray
    spark_out = ours.transform(df).orderBy("n").toPandas()
    pandas_out = ours.transform(frame)
    np.testing.assert_array_equal(spark_out[["ci", "si"]].to_numpy(),
                                  pandas_out.sort_values("n")[["ci", "si"]].to_numpy())
    assert spark_out["ci"].iloc[-1] == 3.0  # the null row: "keep" gives numLabels


def test_string_indexer_handle_invalid(categories, spark):
    frame, df = categories
    fitted = feature.StringIndexer(inputCol="size", outputCol="i").fit(frame.iloc[:3])
    unseen = frame.iloc[3:]
    with pytest.raises(DataError, match="'size' has the unseen label 'l'"):
        fitted.transform(unseen)
    kept = fitted.setHandleInvalid("keep").transform(unseen)
    assert kept["i"].tolist() == [2.0, 1.0, 1.0, 0.0]
    assert len(fitted.setHandleInvalid("skip").transform(unseen)) == 3
    assert fitted.transform(spark.createDataFrame(unseen)).count() == 3
    with pytest.raises(DataError, match="'color' has a null value"):
        feature.StringIndexer(inputCol="color", outputCol="i").fit(frame).transform(frame)


def test_one_hot_encoder_matches_pyspark(categories):
    frame, df = categories
    indexed = spark_feature.StringIndexer(inputCols=["color", "size"],
                                          outputCols=["ci", "si"], handleInvalid="keep").fit(df)
    data = indexed.transform(df)
    for drop_last in (True, False):
        kwargs = dict(inputCols=["ci", "si"], outputCols=["cv", "sv"], dropLast=drop_last)
        ours = feature.OneHotEncoder(**kwargs).fit(data)
        theirs = spark_feature.OneHotEncoder(**kwargs).fit(data)
        assert ours.categorySizes == list(theirs.categorySizes)
        got, expected = (m.transform(data).orderBy("n").collect() for m in (ours, theirs))
        for column in ("cv", "sv"):
            np.testing.assert_array_equal(_matrix(got, column), _matrix(expected, column))
    # From data (no ML attributes) on pandas: largest index + 1 categories.
    plain = data.select("ci", "si", "n").toPandas()
    ours = feature.OneHotEncoder(inputCols=["ci", "si"], outputCols=["cv", "sv"]).fit(plain)
    assert ours.categorySizes == [4, 3]
    np.testing.assert_array_equal(_pandas_matrix(ours.transform(plain).sort_values("n"), "cv"),
                                  _matrix(got, "cv")[:, :3])


def test_one_hot_encoder_invalid_values(spark):
    train = pd.DataFrame({"i": [0.0, 1.0, 2.0]})
    model = feature.OneHotEncoder(inputCol="i", outputCol="v").fit(train)
    with pytest.raises(DataError, match="'i' has the unseen value 5.0"):
        model.transform(pd.DataFrame({"i": [5.0]}))
    kept = model.setHandleInvalid("keep").transform(pd.DataFrame({"i": [5.0, 2.0]}))
    assert [v.size for v in kept["v"]] == [3, 3]
    np.testing.assert_array_equal(_pandas_matrix(kept, "v"), [[0, 0, 0], [0, 0, 1]])
    with pytest.raises(DataError, match="'i' has 1 values that are not category indices"):
        feature.OneHotEncoder(inputCol="i", outputCol="v").fit(pd.DataFrame({"i": [0.0, -1.0]}))


def test_vector_assembler_matches_pyspark(spark):
    frame = pd.DataFrame({"a": [1.0, 0.0, np.nan, 4.0], "b": [True, False, True, False],
                          "v": [Vectors.dense([1.0, 2.0]), Vectors.sparse(2, {}),
                                Vectors.dense([0.0, 3.0]), Vectors.sparse(2, {1: 5.0})],
                          "k": [1, 2, 3, 4]})
    from pyspark.ml.feature import VectorSizeHint
    df = VectorSizeHint(inputCol="v", size=2).transform(spark.createDataFrame(frame))
    for invalid in ("skip", "keep"):
        ours = feature.VectorAssembler(inputCols=["a", "b", "v"], outputCol="f",
                                       handleInvalid=invalid)
        theirs = spark_feature.VectorAssembler(inputCols=["a", "b", "v"], outputCol="f",
                                               handleInvalid=invalid)
        expected = theirs.transform(df).orderBy("k").collect()
        local = ours.transform(frame)
        assert [type(v) for v in local["f"]] == [type(r["f"]) for r in expected]
        np.testing.assert_array_equal(_pandas_matrix(local, "f"), _matrix(expected, "f"))
        on_spark = ours.transform(df).orderBy("k").collect()
        assert [type(r["f"]) for r in on_spark] == [type(r["f"]) for r in expected]
        np.testing.assert_array_equal(_matrix(on_spark, "f"), _matrix(expected, "f"))
    with pytest.raises(DataError, match="'a' has 1 null or NaN values"):
        feature.VectorAssembler(inputCols=["a", "v"], outputCol="f").transform(frame)
    with pytest.raises(DataError, match="'v' has no vector size.*VectorSizeHint"):
        feature.VectorAssembler(inputCols=["a", "v"], outputCol="f", handleInvalid="keep") \
            .transform(spark.createDataFrame(frame))


TEXTS = ["The quick brown fox", "jumps over the lazy dog!", "  The dog   sleeps ",
         "A fox, a dog; and THE end.", "", "Über café naïve"]


@pytest.fixture(scope="module")
def texts(spark):
    frame = pd.DataFrame({"k": range(len(TEXTS)), "s": TEXTS})
    return frame, spark.createDataFrame(frame).repartition(2)


def _lists(rows, column):
    return [None if r[column] is None else list(r[column]) for r in rows]


@pytest.mark.parametrize("make", [
    lambda m: m.Tokenizer(inputCol="s", outputCol="t"),
    lambda m: m.RegexTokenizer(inputCol="s", outputCol="t"),
    lambda m: m.RegexTokenizer(inputCol="s", outputCol="t", pattern="\\w+", gaps=False,
                               minTokenLength=3),
    lambda m: m.RegexTokenizer(inputCol="s", outputCol="t", pattern="[,;!. ]+",
                               toLowercase=False),
], ids=["Tokenizer", "RegexTokenizer", "RegexTokenizer-matches", "RegexTokenizer-case"])
def test_tokenizers_match_pyspark(texts, make):
    frame, df = texts
    expected = _lists(make(spark_feature).transform(df).orderBy("k").collect(), "t")
    assert _lists(make(feature).transform(df).orderBy("k").collect(), "t") == expected
    assert [None if t is None else list(t) for t in make(feature).transform(frame)["t"]] == \
        expected


def test_stop_words_remover_matches_pyspark(texts):
    frame, df = texts
    tokens = spark_feature.RegexTokenizer(inputCol="s", outputCol="t", toLowercase=False)
    tokenized, local = tokens.transform(df), tokens.transform(df).orderBy("k").toPandas()
    assert feature.StopWordsRemover.loadDefaultStopWords("english") == \
        spark_feature.StopWordsRemover.loadDefaultStopWords("english")
    for kwargs in ({}, {"caseSensitive": True}, {"stopWords": ["fox", "dog"]}):
        args = dict(inputCol="t", outputCol="u", **kwargs)
        expected = _lists(spark_feature.StopWordsRemover(**args).transform(tokenized)
                          .orderBy("k").collect(), "u")
        assert _lists(feature.StopWordsRemover(**args).transform(tokenized).orderBy("k")
                      .collect(), "u") == expected
        got = feature.StopWordsRemover(**args).transform(local.drop(columns=["u"], errors="ignore"))
        assert [None if t is None else list(t) for t in got["u"]] == expected


def test_hashing_tf_matches_pyspark(texts):
    frame, df = texts
    tokenized = spark_feature.Tokenizer(inputCol="s", outputCol="t").transform(df)
    for binary in (False, True):
        args = dict(inputCol="t", outputCol="v", numFeatures=64, binary=binary)
        theirs = spark_feature.HashingTF(**args)
        expected = theirs.transform(tokenized).orderBy("k").collect()
        local = feature.HashingTF(**args).transform(tokenized.orderBy("k").toPandas())
        for row, vector in zip(expected, local["v"]):
            assert (row["v"] is None) == (vector is None)
            if vector is not None:
                assert vector == row["v"]
    for term in ("a", "fox", "naïve", "Über café", ""):
        assert feature.HashingTF(numFeatures=1000).indexOf(term) == \
            spark_feature.HashingTF(numFeatures=1000).indexOf(term)


def test_count_vectorizer_and_idf_match_pyspark(texts, spark):
    frame, df = texts
    tokenized = spark_feature.Tokenizer(inputCol="s", outputCol="t").transform(df)
    local = tokenized.orderBy("k").toPandas()
    for kwargs in ({}, {"minDF": 2.0}, {"minDF": 0.3, "vocabSize": 4}, {"minTF": 0.25},
                   {"binary": True}):
        args = dict(inputCol="t", outputCol="v", **kwargs)
        theirs = spark_feature.CountVectorizer(**args).fit(tokenized)
        ours, on_pandas = feature.CountVectorizer(**args).fit(tokenized), \
            feature.CountVectorizer(**args).fit(local)
        assert ours.vocabulary == on_pandas.vocabulary == theirs.vocabulary, kwargs
        expected = _matrix(theirs.transform(tokenized).orderBy("k").collect(), "v")
        np.testing.assert_array_equal(
            _matrix(ours.transform(tokenized).orderBy("k").collect(), "v"), expected)
        np.testing.assert_array_equal(_pandas_matrix(on_pandas.transform(local), "v"), expected)
    counts = spark_feature.CountVectorizer(inputCol="t", outputCol="tf").fit(tokenized) \
        .transform(tokenized)
    for min_doc in (0, 2):
        theirs = spark_feature.IDF(inputCol="tf", outputCol="w", minDocFreq=min_doc).fit(counts)
        ours = feature.IDF(inputCol="tf", outputCol="w", minDocFreq=min_doc).fit(counts)
        np.testing.assert_allclose(ours.idf.toArray(), theirs.idf.toArray(), rtol=1e-14)
        assert ours.docFreq == list(theirs.docFreq) and ours.numDocs == theirs.numDocs
        np.testing.assert_allclose(_matrix(ours.transform(counts).orderBy("k").collect(), "w"),
                                   _matrix(theirs.transform(counts).orderBy("k").collect(), "w"),
                                   rtol=1e-14)


def test_text_transformers_name_a_null_column(spark):
    frame = pd.DataFrame({"s": ["a b", None]})
    for stage in (feature.Tokenizer(inputCol="s", outputCol="t"),
                  feature.RegexTokenizer(inputCol="s", outputCol="t"),
                  feature.HashingTF(inputCol="s", outputCol="t")):
        with pytest.raises(DataError, match="column 's' has null values"):
            stage.transform(frame)
    with pytest.raises(Exception, match="column 's' has null values"):
        feature.Tokenizer(inputCol="s", outputCol="t").transform(
            spark.createDataFrame(frame)).collect()


def test_bucketizer_and_quantile_discretizer_match_pyspark(spark):
    rng = np.random.default_rng(5)
    frame = pd.DataFrame({"k": range(200), "x": rng.normal(size=200).round(2),
                          "y": rng.exponential(size=200).round(2)})
    frame.loc[7, "x"] = np.nan
    # createDataFrame reads pandas' NaN as null: put the NaN back on the Spark side.
    df = spark.createDataFrame(frame).repartition(2).selectExpr(
        "k", "IF(k = 7, CAST('NaN' AS DOUBLE), x) AS x", "y")
    splits = [-np.inf, -1.0, 0.0, 0.5, np.inf]
    for invalid in ("skip", "keep"):
        args = dict(splitsArray=[splits, [0.0, 1.0, 2.0, np.inf]], inputCols=["x", "y"],
                    outputCols=["bx", "by"], handleInvalid=invalid)
        expected = spark_feature.Bucketizer(**args).transform(df).orderBy("k").toPandas()
        for got in (feature.Bucketizer(**args).transform(df).orderBy("k").toPandas(),
                    feature.Bucketizer(**args).transform(frame).reset_index(drop=True)):
            np.testing.assert_array_equal(got[["bx", "by"]].to_numpy(),
                                          expected[["bx", "by"]].to_numpy())
    with pytest.raises(DataError, match="'x' has 1 NaN values"):
        feature.Bucketizer(splits=splits, inputCol="x", outputCol="b").transform(frame)
    with pytest.raises(DataError, match="outside the splits"):
        feature.Bucketizer(splits=[0.0, 1.0, 2.0], inputCol="y", outputCol="b").transform(frame)
    for buckets in (3, 7):
        args = dict(numBuckets=buckets, inputCol="y", outputCol="q")
        theirs = spark_feature.QuantileDiscretizer(**args).fit(df).getSplits()
        assert feature.QuantileDiscretizer(**args).fit(df).getSplits() == theirs
        assert feature.QuantileDiscretizer(**args).fit(frame).getSplits() == theirs


@pytest.mark.parametrize("strategy", ["mean", "median", "mode"])
def test_imputer_matches_pyspark(spark, strategy):
    rng = np.random.default_rng(6)
    frame = pd.DataFrame({"k": range(100), "a": rng.integers(0, 5, 100).astype(float),
                          "b": rng.normal(size=100).round(1)})
    frame.loc[::9, "a"] = np.nan
    frame.loc[::13, "b"] = -1.0
    df = spark.createDataFrame(frame).repartition(2)
    for missing in (float("nan"), -1.0):
        args = dict(inputCols=["a", "b"], outputCols=["a2", "b2"], strategy=strategy,
                    missingValue=missing)
        theirs = spark_feature.Imputer(**args).fit(df)
        ours = feature.Imputer(**args).fit(df)
        expected = theirs.transform(df).orderBy("k").toPandas()[["a2", "b2"]].to_numpy()
        np.testing.assert_allclose(  # means summed in another order: last-bit differences
            ours.transform(df).orderBy("k").toPandas()[["a2", "b2"]].to_numpy(), expected,
            rtol=1e-14)
        local = feature.Imputer(**args).fit(frame).transform(frame)
        np.testing.assert_allclose(local[["a2", "b2"]].to_numpy(), expected, rtol=1e-12)


def test_polynomial_expansion_matches_pyspark(numeric):
    _, frame, df = numeric
    for degree in (1, 2, 3):
        args = dict(degree=degree, inputCol="s", outputCol="p")
        expected = _matrix(spark_feature.PolynomialExpansion(**args).transform(df)
                           .orderBy("x").collect(), "p")
        got = _matrix(feature.PolynomialExpansion(**args).transform(df).orderBy("x").collect(),
                      "p")
        np.testing.assert_array_equal(got, expected)
        local = feature.PolynomialExpansion(**args).transform(frame)
        order = np.lexsort(np.stack([v.toArray() for v in frame["x"]]).T[::-1])
        np.testing.assert_allclose(_pandas_matrix(local, "p")[order], expected, rtol=1e-12)


def test_wrong_column_types_are_named(spark):
    numbers = pd.DataFrame({"s": [1.0, 2.0], "i": ["a", "b"]})
    with pytest.raises(DataError, match="column 's' holds float values; it must hold strings"):
        feature.Tokenizer(inputCol="s", outputCol="t").transform(numbers)
    with pytest.raises(DataError, match="column 's' holds float values; it must hold arrays"):
        feature.HashingTF(inputCol="s", outputCol="t").transform(numbers)
    with pytest.raises(DataError, match="column 'i' has type object"):
        feature.OneHotEncoder(inputCol="i", outputCol="v").fit(numbers)
    with pytest.raises(DataError, match="column 'i' has type string"):
        feature.OneHotEncoder(inputCol="i", outputCol="v").fit(spark.createDataFrame(numbers))
