"""A fitted model's repr is pyspark.ml's: the JVM model's toString, and its uid is its
estimator's, as pyspark.ml's (issue 22).

Reference: pyspark.ml's model fitted on the same rows with the same params, its repr with the
uid replaced by the distml model's.
"""
import pytest
from pyspark.ml import classification, clustering, feature, recommendation, regression
from pyspark.ml.linalg import Vectors

import distml

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def frames(spark):
    rows = [(Vectors.dense([1.0, 2.0]), 1.0, "a", 1.0, 1), (Vectors.dense([3.0, 0.0]), 0.0, "b",
                                                             2.0, 2),
            (Vectors.dense([2.0, 1.0]), 1.0, "a", 3.0, 3), (Vectors.dense([0.0, 1.0]), 0.0, "c",
                                                             4.0, 1)]
    table = spark.createDataFrame(rows, ["features", "label", "s", "x", "u"])
    words = spark.createDataFrame([(["a", "b"],), (["b", "c"],)], ["words"])
    return {"table": table, "words": words}


CASES = [
    (classification, "LogisticRegression", {}, "table"),
    (classification, "NaiveBayes", {}, "table"),
    (classification, "DecisionTreeClassifier", {}, "table"),
    (regression, "DecisionTreeRegressor", {}, "table"),
    (classification, "MultilayerPerceptronClassifier", {"layers": [2, 3, 2]}, "table"),
    (clustering, "KMeans", {"k": 2, "distanceMeasure": "cosine"}, "table"),
    (recommendation, "ALS", {"userCol": "u", "itemCol": "u", "ratingCol": "x", "rank": 2},
     "table"),
    (regression, "LinearRegression", {}, "table"),
    (classification, "RandomForestClassifier", {"numTrees": 2}, "table"),
    (regression, "RandomForestRegressor", {"numTrees": 2}, "table"),
    (classification, "GBTClassifier", {"maxIter": 2}, "table"),
    (regression, "GBTRegressor", {"maxIter": 2}, "table"),
    (feature, "PCA", {"k": 1, "inputCol": "features"}, "table"),
    (feature, "StandardScaler", {"inputCol": "features", "withMean": True}, "table"),
    (feature, "MinMaxScaler", {"inputCol": "features", "max": 2.0}, "table"),
    (feature, "MaxAbsScaler", {"inputCol": "features"}, "table"),
    (feature, "IDF", {"inputCol": "features"}, "table"),
    (feature, "CountVectorizer", {"inputCol": "words"}, "words"),
    (feature, "StringIndexer", {"inputCol": "s", "outputCol": "i"}, "table"),
    (feature, "StringIndexer", {"inputCols": ["s"], "outputCols": ["i"],
                                "stringOrderType": "alphabetDesc"}, "table"),
    (feature, "OneHotEncoder", {"inputCol": "label", "outputCol": "o", "dropLast": False},
     "table"),
    (feature, "Imputer", {"inputCols": ["x"], "outputCols": ["y"], "strategy": "median"},
     "table"),
]


@pytest.mark.parametrize("module, name, params, frame", CASES,
                         ids=[f"{c[1]}-{i}" for i, c in enumerate(CASES)])
def test_repr_and_uid_are_pyspark_ml_s(frames, module, name, params, frame):
    our_estimator, their_estimator = getattr(distml, name)(**params), \
        getattr(module, name)(**params)
    ours, theirs = our_estimator.fit(frames[frame]), their_estimator.fit(frames[frame])
    assert repr(ours) == repr(theirs).replace(theirs.uid, ours.uid)
    assert theirs.uid == their_estimator.uid and ours.uid == our_estimator.uid
