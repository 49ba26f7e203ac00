"""SVD: a truncated SVD of a DataFrame's vector column, as RowMatrix.computeSVD gives it."""
from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
from pyspark import keyword_only
from pyspark.ml.linalg import DenseMatrix, DenseVector
from pyspark.ml.param import Param, Params, TypeConverters
from pyspark.ml.param.shared import HasInputCol, HasOutputCol, HasSeed

from distml import frames
from distml.algorithms.decomposition.svd_program import singular_value_decomposition
from distml.engine.context import FitResult
from distml.frames import VECTOR, InputSpec, Output
from distml.pipeline.base import Estimator, HasBackend, Model, setter, setters
from distml.pipeline.constraints import Interval, OneOf, Required
from distml.pipeline.linalg_values import dense_matrix

ALGORITHMS = ("auto", "exact", "randomized")


class _SVDParams(HasInputCol, HasOutputCol, HasSeed, HasBackend):
    k: Param[int] = Param(Params._dummy(), "k", "number of singular values to keep (> 0)",
                          typeConverter=TypeConverters.toInt)
    algorithm: Param[str] = Param(
        Params._dummy(), "algorithm",
        "'exact' (TSQR), 'randomized' (range finder with power iterations) or 'auto' (exact "
        "up to 1024 features)", typeConverter=TypeConverters.toString)
    powerIterations: Param[int] = Param(
        Params._dummy(), "powerIterations", "power iterations of the randomized algorithm",
        typeConverter=TypeConverters.toInt)

    def __init__(self, *args: Any):
        super().__init__(*args)
        self._setDefault(algorithm="auto", powerIterations=3, seed=0)

    def getK(self) -> int:
        return self.getOrDefault(self.k)

    def getAlgorithm(self) -> str:
        return self.getOrDefault(self.algorithm)

    def getPowerIterations(self) -> int:
        return self.getOrDefault(self.powerIterations)


class SVD(Estimator, _SVDParams):
    """Truncated singular value decomposition X ~ U S V^T of the rows of a vector column.

    The counterpart of ``RowMatrix.computeSVD(k, computeU)`` for DataFrames: the model holds
    ``singularValues`` (descending) and ``V`` (d x k), and ``transform`` adds each row's row of
    U (x V S^-1; 0 where a singular value is 0). ``algorithm="exact"`` is TSQR (backward stable;
    one round, d x d per rank), ``"randomized"`` a range finder with ``powerIterations`` power
    iterations and 10 columns of oversampling (two rounds each; for wide data or k far below
    d), ``"auto"`` exact up to 1024 features. Each right singular vector's sign is chosen so its
    largest-magnitude entry is positive. ``computeSVD`` is the RowMatrix-style shortcut.

    Examples
    --------
    >>> import numpy as np, pandas as pd, tempfile, os
    >>> from distml import SVD, SVDModel
    >>> df = pd.DataFrame({"features": list(np.diag([3.0, 2.0, 1.0]))})
    >>> model = SVD(k=2, inputCol="features", outputCol="u").fit(df)
    >>> model.singularValues
    DenseVector([3.0, 2.0])
    >>> path = os.path.join(tempfile.mkdtemp(), "svd")
    >>> model.save(path)
    >>> SVDModel.load(path).transform(df)["u"][0]
    DenseVector([1.0, 0.0])
    """

    _param_constraints = {"k": [Required(" to a number of singular values >= 1"), Interval(1)],
                          "algorithm": [OneOf(ALGORITHMS)], "powerIterations": [Interval(0)]}

    @keyword_only
    def __init__(self, *, k: int | None = None, inputCol: str | None = None,
                 outputCol: str | None = None, algorithm: str = "auto",
                 powerIterations: int = 3, seed: int = 0, engine: str = "auto",
                 numWorkers: int = 0, backend: str = "auto"):
        super().__init__()
        self.setParams(**self._input_kwargs)

    @keyword_only
    def setParams(self, *, k: int | None = None, inputCol: str | None = None,
                  outputCol: str | None = None, algorithm: str = "auto",
                  powerIterations: int = 3, seed: int = 0, engine: str = "auto",
                  numWorkers: int = 0, backend: str = "auto"):
        return self._set_given(self._input_kwargs)

    (setK, setInputCol, setOutputCol, setAlgorithm) = setters(
        "k", "inputCol", "outputCol", "algorithm")

    def _training_program(self):
        return singular_value_decomposition

    def _program_params(self) -> dict:
        return {"k": self.getK(), "inputCol": self.getInputCol(),
                "algorithm": self.getAlgorithm(), "powerIterations": self.getPowerIterations(),
                "seed": self.getSeed(), "backend": self._checked_backend()}

    def _input_spec(self) -> InputSpec:
        return InputSpec(self.getInputCol())

    def _create_model(self, result: FitResult) -> "SVDModel":
        return SVDModel(result.values["singularValues"], result.values["V"])


class SVDModel(Model, _SVDParams):
    """A fitted SVD: ``singularValues``, ``V``, and ``transform`` adding the rows of U."""

    def __init__(self, singular_values: np.ndarray | None = None, V: np.ndarray | None = None):
        super().__init__()
        self._s, self._V = singular_values, V

    @property
    def singularValues(self) -> DenseVector:
        return DenseVector(self._s)

    @property
    def V(self) -> DenseMatrix:
        return dense_matrix(self._V, row_major=False)

    setOutputCol = setter("outputCol")

    def _feature_width(self) -> int:
        return self._V.shape[0]

    def _transform(self, dataset: Any) -> Any:
        inverse = np.divide(1.0, self._s, out=np.zeros_like(self._s), where=self._s > 0)
        projection, out = self._V * inverse, self.getOutputCol()
        return frames.of(dataset).transform(
            InputSpec(self.getInputCol(), check_finite=False,
                      width=self._feature_width()),
            lambda X: {out: np.asarray(X @ projection)},
            [Output(out, VECTOR)])

    def _save_data(self) -> tuple[dict, dict]:
        return {"singularValues": self._s, "V": self._V}, {}

    def _load_data(self, arrays: dict, extra: dict) -> None:
        self._s, self._V = arrays["singularValues"], arrays["V"]


class SingularValueDecomposition(NamedTuple):
    """RowMatrix.computeSVD's result: U (the input with a column of U's rows, or None), s, V."""

    U: Any
    s: DenseVector
    V: DenseMatrix


def computeSVD(dataset: Any, k: int, computeU: bool = False, inputCol: str = "features",
               **params: Any) -> SingularValueDecomposition:
    """``RowMatrix(rows).computeSVD(k, computeU)`` for a DataFrame's vector column; ``U`` is
    ``dataset`` with a column "U" (rows aligned with the input) when ``computeU``."""
    model = SVD(k=k, inputCol=inputCol, outputCol="U", **params).fit(dataset)
    U = model.transform(dataset) if computeU else None
    return SingularValueDecomposition(U, model.singularValues, model.V)
