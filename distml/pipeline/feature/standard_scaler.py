"""StandardScaler: MLlib's, with the moments from one partition-parallel pass (two allreduces)."""
from __future__ import annotations

from typing import Any

import numpy as np
from pyspark import keyword_only
from pyspark.ml.linalg import DenseVector
from pyspark.ml.param import Param, Params, TypeConverters
from pyspark.ml.param.shared import HasInputCol, HasOutputCol

from distml import frames
from distml.engine.context import FitResult
from distml.frames import VECTOR, InputSpec, Output
from distml.kernels.statistics import standardize
from distml.pipeline.base import Estimator, Model, setters
from distml.pipeline.jvm_scoring import ScoresInJvm, jvm_vector, twin_of
from distml.pipeline.stat.summarizer import column_statistics


class _StandardScalerParams(HasInputCol, HasOutputCol):
    withMean: Param[bool] = Param(Params._dummy(), "withMean", "Center data with mean",
                                  typeConverter=TypeConverters.toBoolean)
    withStd: Param[bool] = Param(Params._dummy(), "withStd", "Scale to unit standard deviation",
                                 typeConverter=TypeConverters.toBoolean)

    def __init__(self, *args: Any):
        super().__init__(*args)
        self._setDefault(withMean=False, withStd=True)

    def getWithMean(self) -> bool:
        return self.getOrDefault(self.withMean)

    def getWithStd(self) -> bool:
        return self.getOrDefault(self.withStd)


class StandardScaler(Estimator, _StandardScalerParams):
    """Standardizes features by removing the mean and scaling to unit variance.

    Same params, defaults and output as ``pyspark.ml.feature.StandardScaler``: the standard
    deviation is the unbiased sample one (``n - 1``), a zero-variance feature maps to 0, sparse
    input stays sparse unless ``withMean`` is set (centring makes it dense, as in MLlib). Fits
    on a Spark DataFrame (one barrier stage, or Spark jobs) or a pandas DataFrame (in process).

    Examples
    --------
    >>> import numpy as np, pandas as pd, tempfile, os
    >>> from distml import StandardScaler, StandardScalerModel
    >>> df = pd.DataFrame({"features": [np.array([1.0, 10.0]), np.array([3.0, 30.0])]})
    >>> model = StandardScaler(inputCol="features", outputCol="scaled", withMean=True).fit(df)
    >>> model.mean, model.std
    (DenseVector([2.0, 20.0]), DenseVector([1.4142, 14.1421]))
    >>> path = os.path.join(tempfile.mkdtemp(), "scaler")
    >>> model.save(path)
    >>> StandardScalerModel.load(path).transform(df)["scaled"][0]
    DenseVector([-0.7071, -0.7071])
    """

    @keyword_only
    def __init__(self, *, withMean: bool = False, withStd: bool = True,
                 inputCol: str | None = None, outputCol: str | None = None,
                 engine: str = "auto", numWorkers: int = 0):
        super().__init__()
        self.setParams(**self._input_kwargs)

    @keyword_only
    def setParams(self, *, withMean: bool = False, withStd: bool = True,
                  inputCol: str | None = None, outputCol: str | None = None,
                 engine: str = "auto", numWorkers: int = 0):
        return self._set_given(self._input_kwargs)

    (setWithMean, setWithStd, setInputCol, setOutputCol) = setters(
        "withMean", "withStd", "inputCol", "outputCol")

    def _training_program(self):
        return column_statistics

    def _program_params(self) -> dict:
        return {"metrics": ["mean", "std"]}

    def _input_spec(self) -> InputSpec:
        return InputSpec(self.getInputCol())

    def _create_model(self, result: FitResult) -> "StandardScalerModel":
        return StandardScalerModel(result.values["mean"], result.values["std"])


class StandardScalerModel(ScoresInJvm, Model, _StandardScalerParams):
    """The fitted StandardScaler: ``mean`` and ``std`` (DenseVectors), and ``transform``."""

    def __init__(self, mean: np.ndarray | None = None, std: np.ndarray | None = None):
        super().__init__()
        self._mean = None if mean is None else np.asarray(mean, dtype=np.float64)
        self._std = None if std is None else np.asarray(std, dtype=np.float64)

    @property
    def mean(self) -> DenseVector:
        return DenseVector(self._mean)

    def _description(self) -> dict:
        return {"numFeatures": len(self.mean), "withMean": self.getWithMean(),
                "withStd": self.getWithStd()}

    @property
    def std(self) -> DenseVector:
        return DenseVector(self._std)

    setInputCol, setOutputCol = setters("inputCol", "outputCol")

    def _twin_columns(self) -> tuple[list[str], list[str]]:
        return [self.getInputCol()], [self.getOutputCol()]

    def _feature_width(self) -> int:
        return len(self._std)

    def _build_twin(self, sc):
        from pyspark.ml.feature import StandardScalerModel as SparkModel
        return twin_of(SparkModel, sc._jvm.org.apache.spark.ml.feature.StandardScalerModel(
            self.uid, jvm_vector(sc, self._std), jvm_vector(sc, self._mean)))

    def _transform_here(self, dataset: Any) -> Any:
        mean, std = self._mean, self._std
        with_mean, with_std = self.getWithMean(), self.getWithStd()
        out = self.getOutputCol()

        def scale(X):
            return {out: standardize(X, mean, std, with_mean, with_std)}

        return frames.of(dataset).transform(
            InputSpec(self.getInputCol(), check_finite=False,
                      width=self._feature_width()),
            scale, [Output(out, VECTOR)])

    def _save_data(self) -> tuple[dict, dict]:
        return {"mean": self._mean, "std": self._std}, {}

    def _load_data(self, arrays: dict, extra: dict) -> None:
        self._mean, self._std = arrays["mean"], arrays["std"]
