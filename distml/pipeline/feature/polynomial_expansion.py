"""PolynomialExpansion: MLlib's, every product of features up to ``degree``, in MLlib's order."""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import scipy.sparse as sp
from pyspark import keyword_only
from pyspark.ml.param import Param, Params, TypeConverters
from pyspark.ml.param.shared import HasInputCol, HasOutputCol

from distml import frames
from distml.frames import VECTOR, InputSpec, Output
from distml.pipeline.base import SparkTwin, Transformer, setter, setters
from distml.pipeline.constraints import Interval


class PolynomialExpansion(SparkTwin, Transformer, HasInputCol, HasOutputCol):
    """Expands a vector into all monomials of degree 1 to ``degree`` (pyspark.ml's), in MLlib's
    order: for (x, y) and degree 2, (x, x^2, y, x y, y^2). On Spark it runs as pyspark.ml's
    own stage.

    >>> import numpy as np, pandas as pd
    >>> from distml.pipeline.feature import PolynomialExpansion
    >>> df = pd.DataFrame({"v": [np.array([2.0, 3.0])]})
    >>> PolynomialExpansion(degree=2, inputCol="v", outputCol="p").transform(df)["p"][0]
    DenseVector([2.0, 4.0, 3.0, 6.0, 9.0])
    """

    degree: Param[int] = Param(Params._dummy(), "degree", "the polynomial degree to expand "
                               "(>= 1)", typeConverter=TypeConverters.toInt)

    _param_constraints = {"degree": [Interval(1)]}

    @keyword_only
    def __init__(self, *, degree: int = 2, inputCol: str | None = None,
                 outputCol: str | None = None):
        super().__init__()
        self._setDefault(degree=2)
        self._set_given(self._input_kwargs)

    def getDegree(self) -> int:
        return self.getOrDefault(self.degree)

    setDegree = setter("degree")

    def _spark_class(self):
        from pyspark.ml.feature import PolynomialExpansion as SparkExpansion
        return SparkExpansion

    def _transform_pandas(self, frame):
        degree, out = self.getDegree(), self.getOutputCol()

        def expand(X):
            dense = X.toarray() if sp.issparse(X) else np.asarray(X, dtype=np.float64)
            powers = monomial_exponents(dense.shape[1], degree)
            return {out: np.prod(dense[:, None, :] ** powers[None, :, :], axis=2)}
        return frames.of(frame).transform(
            InputSpec(self.getInputCol(), check_finite=False),
            expand, [Output(out, VECTOR)])

    # pyspark.ml's accessors (issue 22)
    (setInputCol, setOutputCol) = setters("inputCol", "outputCol")


@lru_cache(maxsize=64)
def monomial_exponents(features: int, degree: int) -> np.ndarray:
    """The exponent vectors of the expansion, one row per output entry, in MLlib's order: its
    recursion over the last feature, the power of that feature rising, the earlier features
    expanded with the degree left (the constant monomial dropped)."""
    def expand(last: int, left: int) -> list[tuple]:
        """Exponents of features 0..last with total at most ``left``."""
        if left == 0 or last < 0:
            return [(0,) * (last + 1)]
        rows = []
        for power in range(left + 1):
            rows += [earlier + (power,) for earlier in expand(last - 1, left - power)]
        return rows
    rows = expand(features - 1, degree)
    return np.array(rows[1:], dtype=np.float64).reshape(-1, features)
