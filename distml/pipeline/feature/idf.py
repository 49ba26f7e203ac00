"""IDF: MLlib's inverse document frequencies, the document counts from one partition-parallel
pass (the Summarizer's program)."""
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
from distml.frames import VECTOR, InputSpec, Output
from distml.pipeline.base import Estimator, Model, setter, setters
from distml.pipeline.jvm_scoring import ScoresInJvm, twin_of
from distml.pipeline.stat.summarizer import column_statistics


class _IDFParams(HasInputCol, HasOutputCol):
    minDocFreq: Param[int] = Param(Params._dummy(), "minDocFreq", "minimum number of documents "
                                   "in which a term should appear for filtering",
                                   typeConverter=TypeConverters.toInt)

    def __init__(self, *args: Any):
        super().__init__(*args)
        self._setDefault(minDocFreq=0)

    def getMinDocFreq(self) -> int:
        return self.getOrDefault(self.minDocFreq)

    setInputCol, setOutputCol = setters("inputCol", "outputCol")


class IDF(Estimator, _IDFParams):
    """idf = log((documents + 1) / (documents holding the term + 1)), 0 for terms in fewer than
    ``minDocFreq`` documents (pyspark.ml's); transform multiplies, sparse rows stay sparse.

    >>> import numpy as np, pandas as pd
    >>> from distml.pipeline.feature import IDF
    >>> tf = pd.DataFrame({"tf": [np.array([1.0, 0.0]), np.array([2.0, 1.0])]})
    >>> model = IDF(inputCol="tf", outputCol="tfidf").fit(tf)
    >>> model.idf
    DenseVector([0.0, 0.4055])
    """

    @keyword_only
    def __init__(self, *, minDocFreq: int = 0, inputCol: str | None = None,
                 outputCol: str | None = None, engine: str = "auto", numWorkers: int = 0):
        super().__init__()
        self._set_given(self._input_kwargs)

    setMinDocFreq = setter("minDocFreq")

    def _training_program(self):
        return column_statistics

    def _program_params(self) -> dict:
        return {"metrics": ["count", "numNonZeros"]}

    def _input_spec(self) -> InputSpec:
        return InputSpec(self.getInputCol())

    def _create_model(self, result: FitResult) -> "IDFModel":
        documents = int(result.values["count"])
        holding = np.asarray(result.values["numNonZeros"], dtype=np.int64)
        idf = np.log((documents + 1.0) / (holding + 1.0))
        rare = holding < self.getMinDocFreq()
        idf[rare], holding[rare] = 0.0, 0  # MLlib reports filtered terms with frequency 0
        return IDFModel(idf, holding, documents)


class IDFModel(ScoresInJvm, Model, _IDFParams):
    """``idf``, ``docFreq``, ``numDocs`` and ``transform``."""

    def __init__(self, idf: np.ndarray | None = None, doc_freq: np.ndarray | None = None,
                 num_docs: int = 0):
        super().__init__()
        self._idf, self._doc_freq, self._num_docs = idf, doc_freq, num_docs

    @property
    def idf(self) -> DenseVector:
        return DenseVector(self._idf)

    @property
    def docFreq(self) -> list[int]:
        return [int(v) for v in self._doc_freq]

    @property
    def numDocs(self) -> int:
        return self._num_docs

    def _description(self) -> dict:
        return {"numDocs": self.numDocs, "numFeatures": len(self.idf)}

    def _twin_columns(self) -> tuple[list[str], list[str]]:
        return [self.getInputCol()], [self.getOutputCol()]

    def _feature_width(self) -> int:
        return len(self._idf)

    def _build_twin(self, sc):
        from pyspark.ml.feature import IDFModel as SparkModel
        mllib = sc._jvm.org.apache.spark.mllib
        parent = mllib.feature.IDFModel(
            mllib.linalg.Vectors.dense(frames.java_doubles(sc, self._idf)),
            frames.java_longs(sc, self._doc_freq), int(self._num_docs))
        return twin_of(SparkModel, sc._jvm.org.apache.spark.ml.feature.IDFModel(self.uid,
                                                                               parent))

    def _transform_here(self, dataset: Any) -> Any:
        idf, out = self._idf, self.getOutputCol()

        def weigh(X):
            if sp.issparse(X):
                weighted = sp.csr_matrix(X, dtype=np.float64, copy=True)
                weighted.data *= idf[weighted.indices]
                return {out: weighted}
            return {out: np.asarray(X, dtype=np.float64) * idf}
        return frames.of(dataset).transform(
            InputSpec(self.getInputCol(), check_finite=False,
                      width=self._feature_width()),
            weigh, [Output(out, VECTOR)])

    def _save_data(self) -> tuple[dict, dict]:
        return {"idf": self._idf, "docFreq": self._doc_freq}, {"numDocs": self._num_docs}

    def _load_data(self, arrays: dict, extra: dict) -> None:
        self._idf, self._doc_freq = arrays["idf"], arrays["docFreq"]
        self._num_docs = int(extra["numDocs"])
