"""Normalizer: MLlib's, each row divided by its p-norm (no fit)."""
from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg
from pyspark import keyword_only
from pyspark.ml.param import Param, Params, TypeConverters
from pyspark.ml.param.shared import HasInputCol, HasOutputCol

from distml import frames
from distml.frames import VECTOR, InputSpec, Output
from distml.pipeline.base import SparkTwin, Transformer, setters
from distml.pipeline.constraints import Interval


class Normalizer(SparkTwin, Transformer, HasInputCol, HasOutputCol):
    """Scales each row to unit p-norm (pyspark.ml's): p >= 1 (``inf`` for the largest absolute
    value); a zero row stays zero, sparse rows stay sparse. On Spark it runs as pyspark.ml's
    own stage, row by row (rows of different sizes are fine there, as in a stream).

    >>> import numpy as np, pandas as pd
    >>> from distml.pipeline.feature import Normalizer
    >>> df = pd.DataFrame({"x": [np.array([3.0, 4.0]), np.array([0.0, 0.0])]})
    >>> Normalizer(p=2.0, inputCol="x", outputCol="y").transform(df)["y"].tolist()
    [DenseVector([0.6, 0.8]), DenseVector([0.0, 0.0])]
    """

    p: Param[float] = Param(Params._dummy(), "p", "the p norm value.",
                            typeConverter=TypeConverters.toFloat)

    _param_constraints = {"p": [Interval(1)]}

    @keyword_only
    def __init__(self, *, p: float = 2.0, inputCol: str | None = None,
                 outputCol: str | None = None):
        super().__init__()
        self._setDefault(p=2.0)
        self._set_given(self._input_kwargs)

    def getP(self) -> float:
        return self.getOrDefault(self.p)

    setP, setInputCol, setOutputCol = setters("p", "inputCol", "outputCol")

    def _spark_class(self) -> type:
        from pyspark.ml.feature import Normalizer as SparkNormalizer
        return SparkNormalizer

    def _transform_pandas(self, dataset: Any) -> Any:
        p, out = self.getP(), self.getOutputCol()
        return frames.of(dataset).transform(
            InputSpec(self.getInputCol(), check_finite=False),
            lambda X: {out: row_normalize(X, p)}, [Output(out, VECTOR)])


def row_normalize(X, p: float):
    """Rows of X (ndarray or CSR) divided by their p-norms; zero rows left as they are."""
    if sp.issparse(X):
        out = sp.csr_matrix(X, dtype=np.float64, copy=True)
        norms = scipy.sparse.linalg.norm(out, ord=p, axis=1) if np.isfinite(p) else \
            abs(out).max(axis=1).toarray().ravel()
        scale = np.divide(1.0, norms, out=np.ones_like(norms), where=norms != 0)
        out.data *= np.repeat(scale, np.diff(out.indptr))
        return out
    dense = np.asarray(X, dtype=np.float64)
    norms = np.linalg.norm(dense, ord=p, axis=1)
    return dense / np.where(norms == 0, 1.0, norms)[:, None]
