"""Bucketizer and QuantileDiscretizer: MLlib's, continuous values into bucket indices.

Bucketizer has nothing to fit: on Spark it runs as pyspark.ml's own stage, on pandas here.
QuantileDiscretizer's fit takes each column's quantiles: on Spark by Spark's own
partition-parallel Greenwald-Khanna sketch (``approxQuantile``, with ``relativeError``, as
MLlib's fit does, so the splits are MLlib's); on pandas exactly.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from pyspark import keyword_only
from pyspark.ml import Estimator as SparkEstimator
from pyspark.ml.param import Param, Params, TypeConverters
from pyspark.ml.param.shared import (HasHandleInvalid, HasInputCol, HasInputCols, HasOutputCol,
                                     HasOutputCols, HasRelativeError)

from distml import frames
from distml.errors import DataError, ParamError
from distml.pipeline.base import (SparkTwin, Transformer, _Persistable, getters,
                                  input_output_columns, setter, setters)
from distml.pipeline.constraints import Interval, OneOf, Rule


class Bucketizer(SparkTwin, Transformer, HasHandleInvalid, HasInputCol, HasInputCols,
                 HasOutputCol, HasOutputCols):
    """Maps values to the bucket [split_i, split_i+1) holding them (the last bucket also holds
    its upper split), pyspark.ml's. A value outside the splits is an error (use -inf/inf
    splits to catch everything); NaN follows ``handleInvalid``: "error", "skip" (drop the row)
    or "keep" (bucket index len(splits) - 1).

    >>> import pandas as pd
    >>> from distml.pipeline.feature import Bucketizer
    >>> b = Bucketizer(splits=[-float("inf"), 0.0, 10.0, float("inf")], inputCol="x",
    ...                outputCol="b")
    >>> b.transform(pd.DataFrame({"x": [-5.0, 0.0, 10.0, 99.0]}))["b"].tolist()
    [0.0, 1.0, 2.0, 2.0]
    """

    splits: Param[list[float]] = Param(Params._dummy(), "splits", "Split points for mapping "
                                       "continuous features into buckets.",
                                       typeConverter=TypeConverters.toListFloat)
    splitsArray: Param[list[list[float]]] = Param(
        Params._dummy(), "splitsArray", "The array of split points for mapping continuous "
        "features into buckets for multiple columns.",
        typeConverter=TypeConverters.toListListFloat)

    _param_constraints = {
        "handleInvalid": [OneOf(("error", "skip", "keep"), "error, skip or keep")]}

    @keyword_only
    def __init__(self, *, splits: list[float] | None = None, inputCol: str | None = None,
                 outputCol: str | None = None, handleInvalid: str = "error",
                 splitsArray: list[list[float]] | None = None,
                 inputCols: list[str] | None = None, outputCols: list[str] | None = None):
        super().__init__()
        self._setDefault(handleInvalid="error")
        self._set_given(self._input_kwargs)

    def getSplits(self) -> list[float]:
        return self.getOrDefault(self.splits)

    setSplits = setter("splits")

    def getSplitsArray(self) -> list[list[float]]:
        return self.getOrDefault(self.splitsArray)

    setHandleInvalid = setter("handleInvalid")

    def _spark_class(self):
        from pyspark.ml.feature import Bucketizer as SparkBucketizer
        return SparkBucketizer

    def _transform_pandas(self, frame):
        inputs, outputs = input_output_columns(self)
        all_splits = [self.getSplits()] if self.isSet(self.splits) else self.getSplitsArray()
        invalid = self.getHandleInvalid()
        out, keep = frame.copy(), np.ones(len(frame), dtype=bool)
        for name, target, splits in zip(inputs, outputs, all_splits):
            edges = np.asarray(splits, dtype=np.float64)
            if edges.size < 3 or not (np.diff(edges) > 0).all():
                raise ParamError(f"splits for '{name}' must be at least 3 strictly increasing "
                                 f"values, got {splits}")
            if name not in frame.columns:
                raise DataError(f"column '{name}' not found")
            x = frame[name].to_numpy(dtype=np.float64, na_value=np.nan)
            missing = np.isnan(x)
            outside = ~missing & ((x < edges[0]) | (x > edges[-1]))
            if outside.any():
                raise DataError(f"column '{name}' has the value {x[outside][0]!r} outside the "
                                f"splits [{edges[0]}, {edges[-1]}]; add -inf/inf splits")
            if missing.any() and invalid == "error":
                raise DataError(f"column '{name}' has {int(missing.sum())} NaN values; set "
                                "handleInvalid to 'skip' or 'keep'")
            index = np.minimum(np.searchsorted(edges, x, side="right") - 1, edges.size - 2)
            out[target] = np.where(missing, edges.size - 1, index).astype(np.float64)
            keep &= ~missing if invalid == "skip" else True
        return out[keep] if not keep.all() else out

    # pyspark.ml's accessors (issue 22)
    (setInputCol, setInputCols, setOutputCol, setOutputCols, setSplitsArray) = setters(
        "inputCol", "inputCols", "outputCol", "outputCols", "splitsArray")


class QuantileDiscretizer(SparkEstimator, _Persistable, HasHandleInvalid, HasInputCol,
                          HasInputCols, HasOutputCol, HasOutputCols, HasRelativeError):
    """Buckets by quantiles (pyspark.ml's): fit returns a Bucketizer whose splits are the
    column's quantiles at 1/numBuckets steps, -inf and inf at the ends, duplicates dropped.

    >>> import numpy as np, pandas as pd
    >>> from distml.pipeline.feature import QuantileDiscretizer
    >>> df = pd.DataFrame({"x": np.arange(8.0)})
    >>> QuantileDiscretizer(numBuckets=4, inputCol="x", outputCol="q").fit(df).getSplits()
    [-inf, 1.0, 3.0, 5.0, inf]
    """

    numBuckets: Param[int] = Param(Params._dummy(), "numBuckets", "Maximum number of buckets "
                                   "(quantiles, or categories) into which data points are "
                                   "grouped. Must be >= 2.", typeConverter=TypeConverters.toInt)
    numBucketsArray: Param[list[int]] = Param(Params._dummy(), "numBucketsArray", "Array of "
                                              "number of buckets for each input column",
                                              typeConverter=TypeConverters.toListInt)

    _param_constraints = {
        "numBuckets": [Interval(2)],
        "numBucketsArray": [Rule(lambda counts: all(c >= 2 for c in counts), "all >= 2")]}

    @keyword_only
    def __init__(self, *, numBuckets: int = 2, inputCol: str | None = None,
                 outputCol: str | None = None, relativeError: float = 0.001,
                 handleInvalid: str = "error", numBucketsArray: list[int] | None = None,
                 inputCols: list[str] | None = None, outputCols: list[str] | None = None):
        super().__init__()
        self._setDefault(numBuckets=2, relativeError=0.001, handleInvalid="error")
        self._set_given(self._input_kwargs)

    def getNumBuckets(self) -> int:
        return self.getOrDefault(self.numBuckets)

    setNumBuckets = setter("numBuckets")

    def _fit(self, dataset: Any) -> Bucketizer:
        inputs, outputs = input_output_columns(self)
        counts = self.getOrDefault(self.numBucketsArray) if self.isSet(self.numBucketsArray) \
            else [self.getNumBuckets()] * len(inputs)
        error = self.getRelativeError()
        splits = []
        for name, buckets in zip(inputs, counts):
            probabilities = np.linspace(0.0, 1.0, buckets + 1).tolist()
            values = _quantiles(dataset, name, probabilities, error)
            inner = sorted(set(values[1:-1]))
            splits.append([-np.inf] + [v for v in inner] + [np.inf])
        single = len(inputs) == 1 and self.isSet(self.inputCol)
        params = dict(handleInvalid=self.getHandleInvalid())
        if single:
            fitted = Bucketizer(splits=splits[0], inputCol=inputs[0], outputCol=outputs[0],
                                **params)
        else:
            fitted = Bucketizer(splitsArray=splits, inputCols=inputs, outputCols=outputs,
                                **params)
        fitted._resetUid(self.uid)  # pyspark.ml's takes the discretizer's uid
        return fitted

    # pyspark.ml's accessors (issue 22)
    (setHandleInvalid, setInputCol, setInputCols) = setters(
        "handleInvalid", "inputCol", "inputCols")
    (setNumBucketsArray, setOutputCol, setOutputCols, setRelativeError) = setters(
        "numBucketsArray", "outputCol", "outputCols", "relativeError")
    (getNumBucketsArray,) = getters("numBucketsArray")


def _quantiles(dataset: Any, name: str, probabilities: list[float], error: float) -> list:
    values = frames.of(dataset).quantiles(name, probabilities, error)
    if not values:
        raise DataError(f"column '{name}' has no values to take quantiles of")
    return values
