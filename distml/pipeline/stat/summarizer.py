"""Column statistics of a features column, computed partition-parallel (MLlib's Summarizer)."""
from __future__ import annotations

from typing import Any

import numpy as np

from distml import frames
from distml.engine.context import Context
from distml.engine.fit import fit_program
from distml.errors import DataError, ParamError
from distml.frames import InputSpec
from distml.kernels.statistics import centered_sq_sum, extremes, first_moments
from distml.pipeline.stat.statistics_in_jvm import column_statistics_in_jvm

METRICS = ("count", "weightSum", "mean", "sum", "variance", "std", "min", "max",
           "numNonZeros", "normL1", "normL2")


def _single_metric(name: str):
    def metric(col: Any, weightCol: Any = None) -> Any:
        return frames.summarizer_column(name, col, weightCol)
    metric.__name__ = name
    metric.__doc__ = f"""pyspark.ml's Column API: a column of the features Column's {name}
        (weighted by ``weightCol``, a Column, when given), for ``select``."""
    return staticmethod(metric)


class Summarizer:
    """Column statistics (MLlib ``pyspark.ml.stat.Summarizer`` semantics) on Spark or pandas.

    Weighted rows count by their weight; rows of weight 0 are left out; ``variance`` is the
    unbiased weighted variance ``sum w (x - mean)^2 / (W - sum w^2 / W)`` (``n - 1`` for
    unit weights), 0 for a single row; ``min``/``max``/``numNonZeros`` count a sparse vector's
    implicit zeros.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from distml import Summarizer
    >>> df = pd.DataFrame({"features": [np.array([1.0, 0.0]), np.array([3.0, 4.0])]})
    >>> s = Summarizer.metrics("mean", "variance", "numNonZeros").summary(df)
    >>> s.mean.tolist(), s.variance.tolist(), s.numNonZeros.tolist()
    ([2.0, 2.0], [2.0, 8.0], [2.0, 1.0])
    """

    def __init__(self, metrics: tuple[str, ...]):
        self._metrics = metrics

    @staticmethod
    def metrics(*names: str) -> "Summarizer":
        unknown = [m for m in names if m not in METRICS]
        if unknown or not names:
            raise ParamError(f"metrics: {unknown or 'none given'}; choose from {list(METRICS)}")
        return Summarizer(tuple(names))

    # pyspark.ml's Column API for one metric: ``df.select(Summarizer.mean(df.features))``
    (mean, sum, variance, std, count, numNonZeros, max, min, normL1, normL2) = (
        _single_metric(name) for name in ("mean", "sum", "variance", "std", "count",
                                          "numNonZeros", "max", "min", "normL1", "normL2"))

    def summary(self, dataset: Any, featuresCol: Any = "features", weightCol: Any = None,
                engine: str = "auto", numWorkers: int = 0) -> Any:
        """The metrics of a DataFrame's ``featuresCol`` as a ``SummaryResult`` (numpy
        arrays), or, given a Column (and a weight Column), pyspark.ml's Column API: a struct
        column of the metrics for ``select``, which Spark's own Summarizer computes."""
        if frames.is_spark_column(dataset):
            weight = featuresCol if frames.is_spark_column(featuresCol) else weightCol
            return frames.summarizer_column(list(self._metrics), dataset, weight)
        result = fit_program(column_statistics, {"metrics": list(self._metrics)}, dataset,
                             InputSpec(featuresCol, weight=weightCol), engine, numWorkers)
        return SummaryResult({m: result.values[m] for m in self._metrics})


class SummaryResult:
    """The requested metrics as attributes (numpy arrays, ``count`` an int)."""

    def __init__(self, values: dict):
        self._values = values

    def __getattr__(self, name: str):
        try:
            return self.__dict__["_values"][name]
        except KeyError:
            raise AttributeError(f"metric '{name}' was not requested") from None

    def asDict(self) -> dict:
        return dict(self._values)

    def __repr__(self) -> str:
        return f"SummaryResult({', '.join(self._values)})"


def _pass1(part):
    return first_moments(part.X, part.w), *extremes(part.X, part.w)


def _pass2(part, mean):
    return centered_sq_sum(part.X, part.w, mean)


def column_statistics(ctx: Context, params: dict) -> dict:
    """The training program: one allreduce of sums/min/max, one of centred squares if needed."""
    sums, mins, maxs = ctx.map_reduce(_pass1, op=("sum", "min", "max"))
    wsum = sums["weight_sum"]
    if sums["count"] == 0 or wsum <= 0:
        raise DataError("every row has weight 0: nothing to summarize")
    mean = sums["weighted_sum"] / wsum
    out = {
        "count": int(sums["count"]), "weightSum": float(wsum), "mean": mean,
        "sum": sums["weighted_sum"], "min": mins, "max": maxs, "numNonZeros": sums["nnz"],
        "normL1": sums["abs_sum"], "normL2": np.sqrt(sums["sq_sum"]),
    }
    if {"variance", "std"} & set(params.get("metrics", METRICS)):
        m2 = ctx.map_reduce(_pass2, mean)
        denominator = wsum - sums["weight_sq_sum"] / wsum
        variance = np.maximum(m2 / denominator, 0.0) if denominator > 0 else np.zeros_like(m2)
        out["variance"], out["std"] = variance, np.sqrt(variance)
    return out


# On a Spark DataFrame with engine="auto", one SQL aggregate gives these statistics for less
# than moving the rows into numpy costs (``statistics_in_jvm``); ``fit_program`` asks it first.
column_statistics.in_jvm = column_statistics_in_jvm
