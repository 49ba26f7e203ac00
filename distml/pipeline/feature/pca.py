"""PCA: pyspark.ml's, from one pass of per-rank centred Gram matrices."""
from __future__ import annotations

from typing import Any

import numpy as np
from pyspark import keyword_only
from pyspark.ml.linalg import DenseMatrix, DenseVector
from pyspark.ml.param import Param, Params, TypeConverters
from pyspark.ml.param.shared import HasInputCol, HasOutputCol

from distml import frames
from distml.algorithms.decomposition.pca_program import principal_components
from distml.engine.context import FitResult
from distml.frames import VECTOR, InputSpec, Output
from distml.pipeline.base import Estimator, HasBackend, Model, setters
from distml.pipeline.jvm_scoring import ScoresInJvm, jvm_matrix, jvm_vector, twin_of
from distml.pipeline.constraints import Interval, Required
from distml.pipeline.linalg_values import dense_matrix


class _PCAParams(HasInputCol, HasOutputCol, HasBackend):
    k: Param[int] = Param(Params._dummy(), "k", "the number of principal components (> 0)",
                          typeConverter=TypeConverters.toInt)

    def getK(self) -> int:
        return self.getOrDefault(self.k)


class PCA(Estimator, _PCAParams):
    """Projects vectors onto their top ``k`` principal components.

    A drop-in for ``pyspark.ml.feature.PCA``: ``pc`` is the d x k matrix of components (columns,
    by decreasing variance), ``explainedVariance`` the proportion of the total variance each
    explains, and ``transform`` maps x to pc^T x without centring, as MLlib does. The fit is
    one pass: every rank computes its rows' mean and centred Gram matrix (block by block,
    merged by Chan's update, so data with large means keep their precision; sparse rows use
    X^T X - n m m^T), the ranks' are merged in one round, and the covariance (divided by n - 1)
    is decomposed with a symmetric eigensolver. Each component's sign is chosen so its
    largest-magnitude entry is positive (MLlib leaves the sign to LAPACK).

    Examples
    --------
    >>> import numpy as np, pandas as pd, tempfile, os
    >>> from distml import PCA, PCAModel
    >>> X = np.array([[1.0, 2.0, 0.0], [2.0, 4.1, 0.1], [3.0, 5.9, 0.0], [4.0, 8.0, 0.1]])
    >>> model = PCA(k=1, inputCol="features", outputCol="pca").fit(
    ...     pd.DataFrame({"features": list(X)}))
    >>> round(float(model.explainedVariance[0]), 4)  # scikit-learn's ratio: 0.99953
    0.9995
    >>> path = os.path.join(tempfile.mkdtemp(), "pca")
    >>> model.save(path)
    >>> PCAModel.load(path).pc.numRows, PCAModel.load(path).pc.numCols
    (3, 1)
    """

    _param_constraints = {"k": [Required(" to a number of components >= 1"), Interval(1)]}

    @keyword_only
    def __init__(self, *, k: int | None = None, inputCol: str | None = None,
                 outputCol: str | None = None, engine: str = "auto", numWorkers: int = 0,
                 backend: str = "auto"):
        super().__init__()
        self.setParams(**self._input_kwargs)

    @keyword_only
    def setParams(self, *, k: int | None = None, inputCol: str | None = None,
                  outputCol: str | None = None, engine: str = "auto", numWorkers: int = 0,
                  backend: str = "auto"):
        return self._set_given(self._input_kwargs)

    setK, setInputCol, setOutputCol = setters("k", "inputCol", "outputCol")

    def _training_program(self):
        return principal_components

    def _program_params(self) -> dict:
        return {"k": self.getK(), "inputCol": self.getInputCol(),
                "backend": self._checked_backend()}

    def _input_spec(self) -> InputSpec:
        return InputSpec(self.getInputCol())

    def _create_model(self, result: FitResult) -> "PCAModel":
        return PCAModel(result.values["pc"], result.values["explainedVariance"])


class PCAModel(ScoresInJvm, Model, _PCAParams):
    """A fitted PCA: ``pc`` (d x k DenseMatrix), ``explainedVariance``, ``transform``."""

    def __init__(self, pc: np.ndarray | None = None,
                 explained_variance: np.ndarray | None = None):
        super().__init__()
        self._pc, self._explained = pc, explained_variance

    @property
    def pc(self) -> DenseMatrix:
        return dense_matrix(self._pc, row_major=False)

    @property
    def explainedVariance(self) -> DenseVector:
        return DenseVector(self._explained)

    setInputCol, setOutputCol = setters("inputCol", "outputCol")

    def _description(self) -> dict:
        return {"k": self.getK()}

    def _twin_columns(self) -> tuple[list[str], list[str]]:
        return [self.getInputCol()], [self.getOutputCol()]

    def _feature_width(self) -> int:
        return self._pc.shape[0]

    def _build_twin(self, sc):
        from pyspark.ml.feature import PCAModel as SparkModel
        return twin_of(SparkModel, sc._jvm.org.apache.spark.ml.feature.PCAModel(
            self.uid, jvm_matrix(sc, self._pc), jvm_vector(sc, self._explained)))

    def _transform_here(self, dataset: Any) -> Any:
        pc, out = self._pc, self.getOutputCol()
        return frames.of(dataset).transform(
            InputSpec(self.getInputCol(), check_finite=False,
                      width=self._feature_width()),
            lambda X: {out: np.asarray(X @ pc)}, [Output(out, VECTOR)])

    def _save_data(self) -> tuple[dict, dict]:
        return {"pc": self._pc, "explainedVariance": self._explained}, {}

    def _load_data(self, arrays: dict, extra: dict) -> None:
        self._pc, self._explained = arrays["pc"], arrays["explainedVariance"]
