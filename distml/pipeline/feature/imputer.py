"""Imputer: MLlib's, missing values replaced by each column's mean, median or mode.

The fit is partition-parallel: means and modes from per-partition sums and value counts
(``map_partitions``); medians on Spark from Spark's own Greenwald-Khanna sketch
(``approxQuantile`` with ``relativeError``, as MLlib's fit), on pandas exactly. On Spark the
model is one SQL expression per column (MLlib's: missing -> surrogate, cast back to the
column's type), so nothing crosses to Python.
"""
from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
import pandas as pd
from pyspark import keyword_only
from pyspark.ml import Estimator as SparkEstimator
from pyspark.ml.param import Param, Params, TypeConverters
from pyspark.ml.param.shared import (HasInputCol, HasInputCols, HasOutputCol, HasOutputCols,
                                     HasRelativeError)

from distml import frames
from distml.errors import DataError
from distml.frames import NULLABLE_DOUBLE
from distml.pipeline.base import Model, _Persistable, input_output_columns, setter, setters
from distml.pipeline.constraints import OneOf

STRATEGIES = ("mean", "median", "mode")


class _ImputerParams(HasInputCol, HasInputCols, HasOutputCol, HasOutputCols, HasRelativeError):
    strategy: Param[str] = Param(Params._dummy(), "strategy", "strategy for imputation: mean, "
                                 "median or mode", typeConverter=TypeConverters.toString)
    missingValue: Param[float] = Param(Params._dummy(), "missingValue", "The placeholder for "
                                       "the missing values. All occurrences of missingValue "
                                       "will be imputed.", typeConverter=TypeConverters.toFloat)

    def __init__(self, *args: Any):
        super().__init__(*args)
        self._setDefault(strategy="mean", missingValue=float("nan"), relativeError=0.001)

    def getStrategy(self) -> str:
        return self.getOrDefault(self.strategy)

    def getMissingValue(self) -> float:
        return self.getOrDefault(self.missingValue)

    def _columns(self) -> tuple[list[str], list[str]]:
        return input_output_columns(self)

    (setInputCols, setOutputCols, setMissingValue) = setters(
        "inputCols", "outputCols", "missingValue")


def _missing(x: np.ndarray, missing_value: float) -> np.ndarray:
    return np.isnan(x) | (x == missing_value)


class Imputer(SparkEstimator, _Persistable, _ImputerParams):
    """Completes missing values (nulls, and ``missingValue``, NaN by default) with each
    column's mean, median or mode over its present values, pyspark.ml's ``Imputer``. The mode
    is the most frequent value, the smallest of equally frequent ones (MLlib's rule).

    >>> import numpy as np, pandas as pd
    >>> from distml.pipeline.feature import Imputer
    >>> df = pd.DataFrame({"a": [1.0, np.nan, 3.0], "b": [4.0, 4.0, np.nan]})
    >>> model = Imputer(inputCols=["a", "b"], outputCols=["a2", "b2"]).fit(df)
    >>> model.transform(df)[["a2", "b2"]].values.tolist()
    [[1.0, 4.0], [2.0, 4.0], [3.0, 4.0]]
    """

    _param_constraints = {"strategy": [OneOf(STRATEGIES)]}

    @keyword_only
    def __init__(self, *, strategy: str = "mean", missingValue: float = float("nan"),
                 inputCols: list[str] | None = None, outputCols: list[str] | None = None,
                 inputCol: str | None = None, outputCol: str | None = None,
                 relativeError: float = 0.001):
        super().__init__()
        self._set_given(self._input_kwargs)

    setStrategy = setter("strategy")

    def _fit(self, dataset: Any) -> "ImputerModel":
        inputs, _ = self._columns()
        strategy, missing = self.getStrategy(), self.getMissingValue()
        if strategy == "median":
            surrogates = [self._median(dataset, name, missing) for name in inputs]
        else:
            columns = {f"c{i}": (name, NULLABLE_DOUBLE) for i, name in enumerate(inputs)}
            parts = frames.of(dataset).map_partitions(
                columns,
                lambda a: _sums_and_counts(a, missing, strategy == "mode"))
            surrogates = [_surrogate(parts, f"c{i}", strategy, name)
                          for i, name in enumerate(inputs)]
        return self._fitted(ImputerModel(inputs, surrogates))

    def _median(self, dataset: Any, name: str, missing: float) -> float:
        values = frames.of(dataset).quantiles(name, [0.5], self.getRelativeError(), missing)
        if not values:
            raise DataError(f"column '{name}' has only missing values: nothing to impute with")
        return float(values[0])

    # pyspark.ml's accessors (issue 22)
    (setInputCol, setOutputCol, setRelativeError) = setters(
        "inputCol", "outputCol", "relativeError")


def _sums_and_counts(arrays: dict, missing: float, want_counts: bool) -> dict:
    out = {}
    for key, x in arrays.items():
        present = x[~_missing(x, missing)]
        values, counts = np.unique(present, return_counts=True) if want_counts else ([], [])
        out[key] = (float(present.sum()), int(present.size),
                    dict(zip(np.asarray(values).tolist(), np.asarray(counts).tolist())))
    return out


def _surrogate(parts: list[dict], key: str, strategy: str, name: str) -> float:
    total = sum(p[key][0] for p in parts)
    count = sum(p[key][1] for p in parts)
    if count == 0:
        raise DataError(f"column '{name}' has only missing values: nothing to impute with")
    if strategy == "mean":
        return total / count
    counts = Counter()
    for p in parts:
        counts.update(p[key][2])
    return float(min(counts.items(), key=lambda vc: (-vc[1], vc[0]))[0])


class ImputerModel(Model, _ImputerParams):
    """``surrogateDF`` (one row: a surrogate per column) and ``transform``."""

    def __init__(self, columns: list[str] | None = None, surrogates: list[float] | None = None):
        super().__init__()
        self._surrogates = dict(zip(columns or [], surrogates or []))

    def _description(self) -> dict:
        return {"strategy": self.getStrategy(), "missingValue": self.getMissingValue(),
                **self._set_column_counts()}

    @property
    def surrogateDF(self) -> Any:
        frame = pd.DataFrame({c: [v] for c, v in self._surrogates.items()})
        return frames.new_table(self._table_session(), frame)

    def _transform(self, dataset: Any) -> Any:
        inputs, outputs = self._columns()
        unknown = [c for c in inputs if c not in self._surrogates]
        if unknown:
            raise DataError(f"the model has no surrogate for column '{unknown[0]}'")
        missing = self.getMissingValue()
        return frames.of(dataset).replace_missing(
            {target: (name, self._surrogates[name]) for name, target in zip(inputs, outputs)},
            missing)

    def _save_data(self) -> tuple[dict, dict]:
        return {}, {"surrogates": self._surrogates}

    def _load_data(self, arrays: dict, extra: dict) -> None:
        self._surrogates = {c: float(v) for c, v in extra["surrogates"].items()}

    # pyspark.ml's accessors (issue 22)
    (setInputCol, setOutputCol) = setters("inputCol", "outputCol")
