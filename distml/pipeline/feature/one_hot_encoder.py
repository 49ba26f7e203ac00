"""OneHotEncoder: MLlib's, category counts from ML attributes or one partition-parallel pass."""
from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp
from pyspark import keyword_only
from pyspark.ml import Estimator as SparkEstimator
from pyspark.ml.param import Param, Params, TypeConverters
from pyspark.ml.param.shared import (HasHandleInvalid, HasInputCol, HasInputCols, HasOutputCol,
                                     HasOutputCols)

from distml import frames
from distml.errors import DataError
from distml.frames import DOUBLE, VECTOR, InputSpec, Output
from distml.pipeline.base import Model, SetsColumns, _Persistable, input_output_columns, setter
from distml.pipeline.constraints import OneOf
from distml.pipeline.jvm_scoring import ScoresInJvm, twin_of


class _OneHotEncoderParams(SetsColumns, HasHandleInvalid, HasInputCol, HasInputCols,
                           HasOutputCol, HasOutputCols):
    dropLast: Param[bool] = Param(Params._dummy(), "dropLast",
                                  "whether to drop the last category",
                                  typeConverter=TypeConverters.toBoolean)

    _param_constraints = {"handleInvalid": [OneOf(("error", "keep"), "'error' or 'keep'")]}

    def __init__(self, *args: Any):
        super().__init__(*args)
        self._setDefault(handleInvalid="error", dropLast=True)

    def getDropLast(self) -> bool:
        return self.getOrDefault(self.dropLast)

    setDropLast = setter("dropLast")

    def _columns(self) -> tuple[list[str], list[str]]:
        return input_output_columns(self)


class OneHotEncoder(SparkEstimator, _Persistable, _OneHotEncoderParams):
    """Maps category indices to one-hot sparse vectors, pyspark.ml's ``OneHotEncoder``.

    A column's category count comes from its ML attributes (StringIndexer's output carries
    them) or else from the data: the largest index + 1, indices being non-negative integers.
    ``dropLast`` drops the last category (its rows become all-zero vectors);
    ``handleInvalid="keep"`` adds a category for indices unseen at fit time (or that are not
    valid indices), "error" raises on them.

    >>> import pandas as pd
    >>> from distml.pipeline.feature import OneHotEncoder
    >>> df = pd.DataFrame({"i": [0.0, 1.0, 2.0]})
    >>> OneHotEncoder(inputCol="i", outputCol="v").fit(df).transform(df)["v"].tolist()
    [SparseVector(2, {0: 1.0}), SparseVector(2, {1: 1.0}), SparseVector(2, {})]
    """

    @keyword_only
    def __init__(self, *, inputCols: list[str] | None = None,
                 outputCols: list[str] | None = None, handleInvalid: str = "error",
                 dropLast: bool = True, inputCol: str | None = None,
                 outputCol: str | None = None):
        super().__init__()
        self._set_given(self._input_kwargs)

    def _fit(self, dataset: Any) -> "OneHotEncoderModel":
        inputs, _ = self._columns()
        frame = frames.of(dataset)
        sizes = [frame.category_count(name) for name in inputs]
        missing = [i for i, size in enumerate(sizes) if size is None]
        if missing:
            columns = {f"c{i}": (inputs[i], DOUBLE) for i in missing}
            parts = frame.map_partitions(columns, lambda a: _largest_indices(a, columns))
            for i in missing:
                sizes[i] = int(max(p[f"c{i}"] for p in parts)) + 1
        return self._fitted(OneHotEncoderModel(sizes))


def _largest_indices(arrays: dict, columns: dict) -> dict:
    out = {}
    for key, values in arrays.items():
        bad = (values < 0) | (values != np.floor(values))
        if bad.any():
            raise DataError(f"column '{columns[key][0]}' has {int(bad.sum())} values that are "
                            f"not category indices (non-negative integers), e.g. "
                            f"{values[bad][0]!r}")
        out[key] = values.max() if values.size else -1.0
    return out


class OneHotEncoderModel(ScoresInJvm, Model, _OneHotEncoderParams):
    """``categorySizes`` and ``transform``."""

    def __init__(self, category_sizes: list[int] | None = None):
        super().__init__()
        self._sizes = list(category_sizes or [])

    @property
    def categorySizes(self) -> list[int]:
        return list(self._sizes)

    def _description(self) -> dict:
        return {"dropLast": self.getDropLast(), "handleInvalid": self.getHandleInvalid(),
                **self._set_column_counts()}

    def _twin_columns(self) -> tuple[list[str], list[str]]:
        inputs, outputs = self._columns()
        if len(inputs) != len(self._sizes):
            raise DataError(f"the model encodes {len(self._sizes)} columns, "
                            f"{len(inputs)} given")
        return inputs, outputs

    def _build_twin(self, sc):
        from pyspark.ml.feature import OneHotEncoderModel as SparkModel
        return twin_of(SparkModel, sc._jvm.org.apache.spark.ml.feature.OneHotEncoderModel(
            self.uid, frames.java_ints(sc, self._sizes)))

    def _transform_here(self, dataset: Any) -> Any:
        inputs, outputs = self._twin_columns()
        keep, drop_last = self.getHandleInvalid() == "keep", self.getDropLast()
        sizes = self._sizes

        def encode(X):
            return {out: one_hot(X[:, j], sizes[j], keep, drop_last, name)
                    for j, (name, out) in enumerate(zip(inputs, outputs))}
        return frames.of(dataset).transform(
            InputSpec(tuple(inputs), check_finite=False), encode,
            [Output(out, VECTOR) for out in outputs])

    def _save_data(self) -> tuple[dict, dict]:
        return {}, {"categorySizes": self._sizes}

    def _load_data(self, arrays: dict, extra: dict) -> None:
        self._sizes = [int(s) for s in extra["categorySizes"]]


def one_hot(values: np.ndarray, size: int, keep: bool, drop_last: bool, name: str):
    """MLlib's encoding of one column of indices as CSR rows."""
    valid = (values >= 0) & (values < size) & (values == np.floor(values))
    if not valid.all() and not keep:
        raise DataError(f"column '{name}' has the unseen value {values[~valid][0]!r}; to "
                        "handle unseen values, set handleInvalid to 'keep'")
    index = np.where(valid, values, size).astype(np.int64)  # invalid: the extra category
    width = size + (1 if keep else 0) - (1 if drop_last else 0)
    kept = index < width
    rows = np.flatnonzero(kept)
    return sp.csr_matrix((np.ones(rows.size), (rows, index[kept])), shape=(values.size, width))
