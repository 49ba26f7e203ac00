"""Issue 19: param rules are declared (``_param_constraints``) and checked by the base class
before a stage runs, with one message shape; setters are declared; None means "not given"."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from distml import KMeans, LogisticRegression, StandardScaler
from distml.errors import ParamError
from distml.pipeline.constraints import Interval, OneOf, Required, Rule
from distml.pipeline.evaluation import BinaryClassificationEvaluator
from distml.pipeline.feature import PCA


@pytest.mark.parametrize("interval, text, inside, outside", [
    (Interval(0), ">= 0", [0, 3.5, np.int64(2)], [-1, math.nan, True, "1"]),
    (Interval(1, closed="neither"), "> 1", [1.5, 2], [1, 0]),
    (Interval(0, 1), "in [0, 1]", [0, 1, 0.5], [-0.1, 1.1]),
    (Interval(0.0, 0.5, closed="left"), "in [0.0, 0.5)", [0.0, 0.49], [0.5]),
    (Interval(0, 1, closed="right"), "in (0, 1]", [1, 0.1], [0]),
])
def test_intervals(interval, text, inside, outside):
    assert interval.describe() == text
    assert all(interval.accepts(v) for v in inside)
    assert not any(interval.accepts(v) for v in outside)


def test_a_bad_value_fails_the_fit_with_the_rule_and_the_value():
    data = pd.DataFrame({"features": list(np.eye(3)), "label": [0.0, 1.0, 0.0]})
    with pytest.raises(ParamError, match=r"^maxIter must be >= 0, got -1$"):
        LogisticRegression(maxIter=-1).fit(data)
    with pytest.raises(ParamError, match=r"^family must be one of auto, binomial, "
                                         r"multinomial, got 'x'$"):
        LogisticRegression(family="x").fit(data)
    # mixins declare their params' rules: backend (HasBackend), checkpointInterval
    with pytest.raises(ParamError, match="^backend must be one of auto, numpy, mxnet"):
        KMeans(backend="gpu").fit(data)
    with pytest.raises(ParamError, match=r"^checkpointInterval must be -1 \(never\) or >= 1, "
                                         "got 0$"):
        KMeans(checkpointInterval=0).fit(data)
    with pytest.raises(ParamError, match="^k must be set to a number of components >= 1$"):
        PCA(inputCol="features").fit(data)


def test_rules_are_the_union_over_the_bases():
    rules = KMeans.param_constraints()
    assert {"k", "maxIter", "backend", "checkpointInterval"} <= set(rules)
    assert BinaryClassificationEvaluator.param_constraints()["metricName"][0].options == \
        ("areaUnderROC", "areaUnderPR")
    with pytest.raises(ParamError, match="^metricName must be one of areaUnderROC, areaUnderPR"):
        BinaryClassificationEvaluator(metricName="f1").isLargerBetter()


def test_rules_of_every_kind_describe_themselves():
    assert OneOf(("a", "b")).describe() == "one of a, b"
    assert OneOf(("nan", "drop"), "'nan' or 'drop'").describe() == "'nan' or 'drop'"
    assert Rule(lambda v: v > 0, "positive").accepts(2)
    assert Required(" first").accepts(None)


def test_setters_set_and_return_the_stage():
    lr = LogisticRegression()
    assert lr.setMaxIter(7).setRegParam(0.5) is lr
    assert (lr.getMaxIter(), lr.getRegParam()) == (7, 0.5)
    assert LogisticRegression.setMaxIter.__name__ == "setMaxIter"


def test_none_means_not_given_in_every_set_params():
    for stage, name in ((LogisticRegression(), "weightCol"), (StandardScaler(), "inputCol"),
                        (KMeans(), "weightCol")):
        stage.setParams(**{name: None})
        assert not stage.isSet(name), type(stage).__name__
