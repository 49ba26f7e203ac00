"""MinMaxScaler and MaxAbsScaler: MLlib's, each feature rescaled by its range over the data.

Both fit one partition-parallel pass of column minima and maxima (the Summarizer's program),
and transform row by row.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp
from pyspark import keyword_only
from pyspark.ml.linalg import DenseVector
from pyspark.ml.param import Param, Params, TypeConverters
from pyspark.ml.param.shared import HasInputCol, HasOutputCol

from distml import frames
from distml.engine.context import FitResult
from distml.errors import ParamError
from distml.frames import VECTOR, InputSpec, Output
from distml.pipeline.base import Estimator, Model, setters
from distml.pipeline.jvm_scoring import ScoresInJvm, jvm_vector, twin_of
from distml.pipeline.stat.summarizer import column_statistics


class _RangeScaler(Estimator, HasInputCol, HasOutputCol):
    """Fits column minima and maxima; subclasses make the model."""

    setInputCol, setOutputCol = setters("inputCol", "outputCol")

    def _training_program(self):
        return column_statistics

    def _program_params(self) -> dict:
        return {"metrics": ["min", "max"]}

    def _input_spec(self) -> InputSpec:
        return InputSpec(self.getInputCol())


class _RangeModel(ScoresInJvm, Model, HasInputCol, HasOutputCol):
    setInputCol, setOutputCol = setters("inputCol", "outputCol")

    def _rescale(self, X):
        raise NotImplementedError

    def _twin_columns(self) -> tuple[list[str], list[str]]:
        return [self.getInputCol()], [self.getOutputCol()]

    def _transform_here(self, dataset: Any) -> Any:
        out = self.getOutputCol()
        return frames.of(dataset).transform(
            InputSpec(self.getInputCol(), check_finite=False,
                      width=self._feature_width()),
            lambda X: {out: self._rescale(X)}, [Output(out, VECTOR)])


class _MinMaxScalerParams(HasInputCol, HasOutputCol):
    min: Param[float] = Param(Params._dummy(), "min",
                              "Lower bound of the output feature range",
                              typeConverter=TypeConverters.toFloat)
    max: Param[float] = Param(Params._dummy(), "max",
                              "Upper bound of the output feature range",
                              typeConverter=TypeConverters.toFloat)

    def __init__(self, *args: Any):
        super().__init__(*args)
        self._setDefault(min=0.0, max=1.0)

    def getMin(self) -> float:
        return self.getOrDefault(self.min)

    def getMax(self) -> float:
        return self.getOrDefault(self.max)


class MinMaxScaler(_RangeScaler, _MinMaxScalerParams):
    """Rescales each feature to [min, max] (pyspark.ml's): (x - E_min) / (E_max - E_min) x
    (max - min) + min, and (min + max) / 2 for a constant feature (scikit-learn gives min).
    The output is dense.

    >>> import numpy as np, pandas as pd
    >>> from distml.pipeline.feature import MinMaxScaler
    >>> df = pd.DataFrame({"x": [np.array([1.0, 5.0]), np.array([3.0, 5.0])]})
    >>> MinMaxScaler(inputCol="x", outputCol="y").fit(df).transform(df)["y"].tolist()
    [DenseVector([0.0, 0.5]), DenseVector([1.0, 0.5])]
    """

    @keyword_only
    def __init__(self, *, min: float = 0.0, max: float = 1.0, inputCol: str | None = None,
                 outputCol: str | None = None, engine: str = "auto", numWorkers: int = 0):
        super().__init__()
        self._set_given(self._input_kwargs)

    setMin, setMax = setters("min", "max")

    def _program_params(self) -> dict:
        if self.getMin() >= self.getMax():
            raise ParamError(f"min must be below max, got min={self.getMin()}, "
                             f"max={self.getMax()}")
        return super()._program_params()

    def _create_model(self, result: FitResult) -> "MinMaxScalerModel":
        return MinMaxScalerModel(result.values["min"], result.values["max"])


class MinMaxScalerModel(_RangeModel, _MinMaxScalerParams):
    """``originalMin``/``originalMax`` (DenseVectors) and ``transform``."""

    def __init__(self, original_min: np.ndarray | None = None,
                 original_max: np.ndarray | None = None):
        super().__init__()
        self._range = (original_min, original_max)

    @property
    def originalMin(self) -> DenseVector:
        return DenseVector(self._range[0])

    def _feature_width(self) -> int:
        return len(self._range[0])

    def _description(self) -> dict:
        return {"numFeatures": self._feature_width(), "min": self.getMin(), "max": self.getMax()}

    @property
    def originalMax(self) -> DenseVector:
        return DenseVector(self._range[1])

    setMin, setMax = setters("min", "max")

    def _rescale(self, X):
        low, high = self._range
        span, target = high - low, self.getMax() - self.getMin()
        dense = X.toarray() if sp.issparse(X) else np.asarray(X, dtype=np.float64)
        scale = np.divide(target, span, out=np.zeros_like(span), where=span != 0)
        out = (dense - low) * scale + self.getMin()
        out[:, span == 0] = 0.5 * target + self.getMin()
        return out

    def _build_twin(self, sc):
        from pyspark.ml.feature import MinMaxScalerModel as SparkModel
        return twin_of(SparkModel, sc._jvm.org.apache.spark.ml.feature.MinMaxScalerModel(
            self.uid, jvm_vector(sc, self._range[0]), jvm_vector(sc, self._range[1])))

    def _save_data(self) -> tuple[dict, dict]:
        return {"originalMin": self._range[0], "originalMax": self._range[1]}, {}

    def _load_data(self, arrays: dict, extra: dict) -> None:
        self._range = (arrays["originalMin"], arrays["originalMax"])


class MaxAbsScaler(_RangeScaler):
    """Divides each feature by its largest absolute value (pyspark.ml's), so the output lies in
    [-1, 1]; a feature that is all zeros stays 0, and sparse rows stay sparse.

    >>> import numpy as np, pandas as pd
    >>> from distml.pipeline.feature import MaxAbsScaler
    >>> df = pd.DataFrame({"x": [np.array([1.0, -4.0]), np.array([-2.0, 2.0])]})
    >>> MaxAbsScaler(inputCol="x", outputCol="y").fit(df).transform(df)["y"].tolist()
    [DenseVector([0.5, -1.0]), DenseVector([-1.0, 0.5])]
    """

    @keyword_only
    def __init__(self, *, inputCol: str | None = None, outputCol: str | None = None,
                 engine: str = "auto", numWorkers: int = 0):
        super().__init__()
        self._set_given(self._input_kwargs)

    def _create_model(self, result: FitResult) -> "MaxAbsScalerModel":
        v = result.values
        return MaxAbsScalerModel(np.maximum(np.abs(v["min"]), np.abs(v["max"])))


class MaxAbsScalerModel(_RangeModel):
    """``maxAbs`` (a DenseVector) and ``transform``."""

    def __init__(self, max_abs: np.ndarray | None = None):
        super().__init__()
        self._max_abs = max_abs

    @property
    def maxAbs(self) -> DenseVector:
        return DenseVector(self._max_abs)

    def _feature_width(self) -> int:
        return len(self._max_abs)

    def _description(self) -> dict:
        return {"numFeatures": self._feature_width()}

    def _build_twin(self, sc):
        from pyspark.ml.feature import MaxAbsScalerModel as SparkModel
        return twin_of(SparkModel, sc._jvm.org.apache.spark.ml.feature.MaxAbsScalerModel(
            self.uid, jvm_vector(sc, self._max_abs)))

    def _rescale(self, X):
        scale = np.divide(1.0, self._max_abs, out=np.ones_like(self._max_abs),
                          where=self._max_abs != 0)
        if sp.issparse(X):
            out = sp.csr_matrix(X, dtype=np.float64, copy=True)
            out.data *= scale[out.indices]
            return out
        return np.asarray(X, dtype=np.float64) * scale

    def _save_data(self) -> tuple[dict, dict]:
        return {"maxAbs": self._max_abs}, {}

    def _load_data(self, arrays: dict, extra: dict) -> None:
        self._max_abs = arrays["maxAbs"]
