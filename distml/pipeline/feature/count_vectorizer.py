"""CountVectorizer: MLlib's, the vocabulary counted partition by partition.

Each partition counts, per term, its occurrences and the documents holding it; the driver
merges the counts, keeps terms within [minDF, maxDF] documents and takes the ``vocabSize`` most
frequent (ties by term, as MLlib). On Spark the model transforms through pyspark.ml's own
CountVectorizerModel built from the vocabulary (``from_vocabulary``); on pandas here.
"""
from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
import pandas as pd
from pyspark import keyword_only
from pyspark.ml import Estimator as SparkEstimator
from pyspark.ml.linalg import SparseVector
from pyspark.ml.param import Param, Params, TypeConverters
from pyspark.ml.param.shared import HasInputCol, HasOutputCol

from distml import frames
from distml.errors import DataError
from distml.frames import OBJECT
from distml.pipeline.base import Model, _Persistable, setters
from distml.pipeline.constraints import Interval


class _CountVectorizerParams(HasInputCol, HasOutputCol):
    minTF: Param[float] = Param(
        Params._dummy(), "minTF", "Filter to ignore rare words in a document. For each document, "
        "terms with frequency/count less than the given threshold are ignored. If this is an "
        "integer >= 1, then this specifies a count; if a double in [0,1), a fraction of the "
        "document's token count.", typeConverter=TypeConverters.toFloat)
    minDF: Param[float] = Param(
        Params._dummy(), "minDF", "Specifies the minimum number of different documents a term "
        "must appear in to be included in the vocabulary. If this is an integer >= 1, this "
        "specifies the number of documents; if a double in [0,1), a fraction of the "
        "documents.", typeConverter=TypeConverters.toFloat)
    maxDF: Param[float] = Param(
        Params._dummy(), "maxDF", "Specifies the maximum number of different documents a term "
        "could appear in to be included in the vocabulary (a count if >= 1, else a fraction).",
        typeConverter=TypeConverters.toFloat)
    vocabSize: Param[int] = Param(Params._dummy(), "vocabSize", "max size of the vocabulary",
                                  typeConverter=TypeConverters.toInt)
    binary: Param[bool] = Param(Params._dummy(), "binary", "Binary toggle to control the output "
                                "vector values. If True, all nonzero counts (after minTF filter "
                                "applied) are set to 1.", typeConverter=TypeConverters.toBoolean)

    def __init__(self, *args: Any):
        super().__init__(*args)
        self._setDefault(minTF=1.0, minDF=1.0, maxDF=2.0 ** 63 - 1, vocabSize=1 << 18,
                         binary=False)

    def getMinTF(self) -> float:
        return self.getOrDefault(self.minTF)

    def getMinDF(self) -> float:
        return self.getOrDefault(self.minDF)

    def getMaxDF(self) -> float:
        return self.getOrDefault(self.maxDF)

    def getVocabSize(self) -> int:
        return self.getOrDefault(self.vocabSize)

    def getBinary(self) -> bool:
        return self.getOrDefault(self.binary)

    (setInputCol, setOutputCol, setMinTF, setBinary) = setters(
        "inputCol", "outputCol", "minTF", "binary")


class CountVectorizer(SparkEstimator, _Persistable, _CountVectorizerParams):
    """Token lists -> term-count vectors over a learnt vocabulary, pyspark.ml's.

    >>> import pandas as pd
    >>> from distml.pipeline.feature import CountVectorizer
    >>> docs = pd.DataFrame({"t": [["a", "b", "a"], ["b", "c"]]})
    >>> model = CountVectorizer(inputCol="t", outputCol="v").fit(docs)
    >>> model.vocabulary
    ['a', 'b', 'c']
    >>> model.transform(docs)["v"][0]
    SparseVector(3, {0: 2.0, 1: 1.0})
    """

    _param_constraints = {"vocabSize": [Interval(0, closed="neither")]}

    @keyword_only
    def __init__(self, *, minTF: float = 1.0, minDF: float = 1.0,
                 maxDF: float = 2.0 ** 63 - 1, vocabSize: int = 1 << 18, binary: bool = False,
                 inputCol: str | None = None, outputCol: str | None = None):
        super().__init__()
        self._set_given(self._input_kwargs)

    setMinDF, setMaxDF, setVocabSize = setters("minDF", "maxDF", "vocabSize")

    def _fit(self, dataset: Any) -> "CountVectorizerModel":
        parts = frames.of(dataset).map_partitions(
            {"tokens": (self.getInputCol(), OBJECT)}, lambda a: _term_counts(a["tokens"]))
        documents = sum(p[0] for p in parts)
        counts, holding = Counter(), Counter()
        for _, part_counts, part_holding in parts:
            counts.update(part_counts)
            holding.update(part_holding)
        low = self.getMinDF() if self.getMinDF() >= 1.0 else self.getMinDF() * documents
        high = self.getMaxDF() if self.getMaxDF() >= 1.0 else self.getMaxDF() * documents
        kept = [(term, count) for term, count in counts.items()
                if low <= holding[term] <= high]
        kept.sort(key=lambda tc: (-tc[1], tc[0]))
        vocabulary = [term for term, _ in kept[:self.getVocabSize()]]
        return self._fitted(CountVectorizerModel(vocabulary))


def _term_counts(documents: np.ndarray) -> tuple[int, Counter, Counter]:
    counts, holding, n = Counter(), Counter(), 0
    for tokens in documents:
        if tokens is None:
            continue
        n += 1
        mine = Counter(tokens)
        counts.update(mine)
        holding.update(mine.keys())
    return n, counts, holding


class CountVectorizerModel(Model, _CountVectorizerParams):
    """``vocabulary`` and ``transform``."""

    def __init__(self, vocabulary: list[str] | None = None):
        super().__init__()
        self._vocabulary = list(vocabulary or [])

    @classmethod
    def from_vocabulary(cls, vocabulary: list[str], inputCol: str, outputCol: str | None = None,
                        minTF: float | None = None,
                        binary: bool | None = None) -> "CountVectorizerModel":
        """A model with the given vocabulary, as pyspark.ml's (no fit)."""
        if len(vocabulary) == 0:
            raise ValueError("Vocabulary list cannot be empty")
        model = cls(vocabulary)
        given = {"inputCol": inputCol, "outputCol": outputCol, "minTF": minTF, "binary": binary}
        model._set(vocabSize=len(vocabulary),
                   **{name: value for name, value in given.items() if value is not None})
        return model

    @property
    def vocabulary(self) -> list[str]:
        return list(self._vocabulary)

    def _description(self) -> dict:
        return {"vocabularySize": len(self.vocabulary)}

    def _transform(self, dataset: Any) -> Any:
        return frames.of(dataset).with_mllib(self._transform_with_mllib,
                                             self._transform_here)

    def _transform_with_mllib(self, dataset: Any) -> Any:
        from pyspark.ml.feature import CountVectorizerModel as SparkModel
        twin = SparkModel.from_vocabulary(self._vocabulary, inputCol=self.getInputCol(),
                                          outputCol=self.getOutputCol(),
                                          minTF=self.getMinTF(), binary=self.getBinary())
        return twin.transform(dataset)

    def _transform_here(self, dataset: pd.DataFrame) -> pd.DataFrame:
        if self.getInputCol() not in dataset.columns:
            raise DataError(f"column '{self.getInputCol()}' not found; the input has columns "
                            f"{list(dataset.columns)}")
        index = {term: i for i, term in enumerate(self._vocabulary)}
        size, min_tf, binary = len(self._vocabulary), self.getMinTF(), self.getBinary()

        def vector(tokens):
            if tokens is None:
                return None
            counts = Counter(t for t in tokens if t in index)
            floor = min_tf if min_tf >= 1.0 else min_tf * len(tokens)
            kept = sorted((index[t], c) for t, c in counts.items() if c >= floor)
            slots = np.array([s for s, _ in kept], dtype=np.int64)
            values = np.ones(slots.size) if binary else \
                np.array([c for _, c in kept], dtype=np.float64)
            return SparseVector(size, slots, values)
        out = dataset.copy()
        out[self.getOutputCol()] = [vector(t) for t in dataset[self.getInputCol()].tolist()]
        return out

    def _save_data(self) -> tuple[dict, dict]:
        return {}, {"vocabulary": self._vocabulary}

    def _load_data(self, arrays: dict, extra: dict) -> None:
        self._vocabulary = list(extra["vocabulary"])
