"""Issue 22: invalid param values fail where and as pyspark.ml's do.

Reference: pyspark.ml's twin class, given the same value. A value of the wrong type fails when
it is set (pyspark.ml's type converters) with the same exception type; a value out of range
fails when the fit starts (pyspark.ml's JVM checks it there) with pyspark's
``IllegalArgumentException``, which distml's ``ParamError`` is.
"""
import importlib
import inspect

import pandas as pd
import pytest
from pyspark.errors import IllegalArgumentException
from pyspark.ml.linalg import Vectors
from pyspark.ml.param import Param, Params

import distml
import pyspark_examples

pytestmark = pytest.mark.spark

WRONG_TYPES = ["bogus", 1.5, [1.0, "x"], {"a": 1}, object(), -3, True]


def _raised(action):
    try:
        action()
    except Exception as e:  # noqa: BLE001 - the type is what is compared
        return type(e)
    return None


def _twins_with_params():
    twins = {}
    for name, module_name in pyspark_examples.twin_classes().items():
        theirs = getattr(importlib.import_module(f"pyspark.ml.{module_name}"), name)
        # a tuner's model needs its best model: left out
        required = [p for p in inspect.signature(theirs.__init__).parameters.values()
                    if p.default is p.empty and p.kind is p.POSITIONAL_OR_KEYWORD
                    and p.name != "self"]
        if issubclass(theirs, Params) and not required and not inspect.isabstract(theirs):
            twins[name] = theirs
    return twins


TWINS = _twins_with_params()


def _param_names(stage) -> set:
    """The stage's params, read from its class: ``stage.params`` reads every attribute, and an
    empty pyspark.ml ensemble model's ``trees`` property calls its absent JVM object."""
    cls = type(stage)
    return {name for name in dir(cls) if isinstance(inspect.getattr_static(cls, name), Param)}


@pytest.mark.parametrize("name", sorted(TWINS))
def test_a_wrong_type_fails_when_set_as_in_pyspark_ml(spark, name):
    their_stage, our_stage = TWINS[name](), getattr(distml, name)()
    shared = _param_names(their_stage) & _param_names(our_stage)
    for param in sorted(shared):
        for value in WRONG_TYPES:
            expected = _raised(lambda: their_stage._set(**{param: value}))
            if expected is None:
                continue
            got = _raised(lambda: our_stage._set(**{param: value}))
            assert got is not None and issubclass(got, expected), (param, value, got, expected)


@pytest.fixture(scope="module")
def frames(spark):
    labelled = spark.createDataFrame([(Vectors.dense([1.0, 2.0]), 1.0, "a"),
                                      (Vectors.dense([3.0, 0.5]), 0.0, "b"),
                                      (Vectors.dense([2.0, 1.0]), 1.0, "a")],
                                     ["features", "label", "s"])
    ratings = spark.createDataFrame(pd.DataFrame({"user": [0, 1, 2], "item": [0, 1, 1],
                                                  "rating": [1.0, 2.0, 3.0]}))
    return {"labelled": labelled, "ratings": ratings}


OUT_OF_RANGE = [  # (module, class, params, the param at fault, data)
    ("classification", "LogisticRegression", {"maxIter": -1}, "maxIter", "labelled"),
    ("classification", "LogisticRegression", {"elasticNetParam": 2.0}, "elasticNetParam",
     "labelled"),
    ("classification", "LogisticRegression", {"family": "bogus"}, "family", "labelled"),
    ("classification", "NaiveBayes", {"smoothing": -1.0}, "smoothing", "labelled"),
    ("classification", "DecisionTreeClassifier", {"maxBins": 1}, "maxBins", "labelled"),
    ("clustering", "KMeans", {"k": 1}, "k", "labelled"),
    ("clustering", "LDA", {"k": 1}, "k", "labelled"),
    ("recommendation", "ALS", {"rank": 0}, "rank", "ratings"),
    ("feature", "StringIndexer", {"inputCol": "s", "outputCol": "i",
                                  "stringOrderType": "bogus"}, "stringOrderType", "labelled"),
]


@pytest.mark.parametrize("module, name, params, at_fault, frame", OUT_OF_RANGE,
                         ids=[f"{c[1]}-{c[3]}" for c in OUT_OF_RANGE])
def test_an_out_of_range_value_fails_at_fit_as_in_pyspark_ml(frames, module, name, params,
                                                             at_fault, frame):
    theirs = getattr(importlib.import_module(f"pyspark.ml.{module}"), name)(**params)
    with pytest.raises(IllegalArgumentException):
        theirs.fit(frames[frame])
    ours = getattr(distml, name)(**params)  # accepted when set, as pyspark.ml's is
    with pytest.raises(IllegalArgumentException, match=at_fault):
        ours.fit(frames[frame])


def test_param_error_is_a_value_error_and_pyspark_s_illegal_argument():
    error = distml.ParamError("maxIter must be >= 0")
    assert isinstance(error, ValueError) and isinstance(error, IllegalArgumentException)
    assert str(error) == "maxIter must be >= 0"
