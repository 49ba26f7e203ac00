"""VectorAssembler: MLlib's, columns of numbers and vectors joined into one vector column."""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from pyspark import keyword_only
from pyspark.ml.linalg import DenseVector, SparseVector, Vector
from pyspark.ml.param.shared import HasHandleInvalid, HasInputCols, HasOutputCol

from distml import frames
from distml.errors import DataError
from distml.pipeline.base import Transformer, setters
from distml.pipeline.constraints import OneOf


class VectorAssembler(Transformer, HasInputCols, HasOutputCol, HasHandleInvalid):
    """Joins numeric and vector columns into one vector, pyspark.ml's ``VectorAssembler``.

    On a Spark DataFrame it runs pyspark.ml's own VectorAssembler (a row-wise JVM expression
    with no fit: the same output, ML attributes and errors, at JVM speed); on pandas the same
    rules run here. ``handleInvalid``: "error" (a null or NaN raises, naming the column), "skip"
    (rows holding one are dropped) or "keep" (they become NaN). Each output vector is sparse or
    dense, whichever is smaller (MLlib's ``compressed``).

    >>> import numpy as np, pandas as pd
    >>> from distml.pipeline.feature import VectorAssembler
    >>> df = pd.DataFrame({"a": [1.0, 0.0], "v": [np.array([2.0, 3.0]), np.zeros(2)]})
    >>> VectorAssembler(inputCols=["a", "v"], outputCol="f").transform(df)["f"].tolist()
    [DenseVector([1.0, 2.0, 3.0]), SparseVector(3, {})]
    """

    _param_constraints = {
        "handleInvalid": [OneOf(("error", "skip", "keep"), "error, skip or keep")]}

    @keyword_only
    def __init__(self, *, inputCols: list[str] | None = None, outputCol: str | None = None,
                 handleInvalid: str = "error"):
        super().__init__()
        self._setDefault(handleInvalid="error")
        self._set_given(self._input_kwargs)

    (setInputCols, setOutputCol, setHandleInvalid) = setters(
        "inputCols", "outputCol", "handleInvalid")

    def _transform(self, dataset: Any) -> Any:
        frame = frames.of(dataset)
        if self.getHandleInvalid() == "keep":
            _check_sizes_known(frame, self.getInputCols())
        return frame.with_mllib(self._assemble_with_mllib, self._assemble_here)

    def _assemble_with_mllib(self, dataset: Any) -> Any:
        from pyspark.ml.feature import VectorAssembler as SparkAssembler
        return SparkAssembler(inputCols=self.getInputCols(), outputCol=self.getOutputCol(),
                              handleInvalid=self.getHandleInvalid()).transform(dataset)

    def _assemble_here(self, dataset: pd.DataFrame) -> pd.DataFrame:
        invalid = self.getHandleInvalid()
        blocks, bad = [], np.zeros(len(dataset), dtype=bool)
        for name in self.getInputCols():
            block, missing = _column_block(dataset, name)
            if missing.any() and invalid == "error":
                raise DataError(f"column '{name}' has {int(missing.sum())} null or NaN values; "
                                "set handleInvalid to 'skip' or 'keep'")
            bad |= missing
            blocks.append(block)
        X = np.hstack(blocks) if blocks else np.zeros((len(dataset), 0))
        out = dataset.copy()
        out[self.getOutputCol()] = [_compressed(row) for row in X]
        return out[~bad] if invalid == "skip" else out


def _check_sizes_known(frame: frames.Frame, columns: list[str]) -> None:
    """MLlib's "keep" needs each vector column's size in its metadata (it cannot look at the
    rows): say so here rather than through a JVM stack trace."""
    for name in columns:
        if frame.vector_size_unknown(name):
            raise DataError(f"column '{name}' has no vector size in its metadata, which "
                            "handleInvalid='keep' needs on Spark (MLlib's rule): add it "
                            "with pyspark.ml.feature.VectorSizeHint, or use 'skip'/'error'")


def _column_block(frame: pd.DataFrame, name: str) -> tuple[np.ndarray, np.ndarray]:
    """(rows x width values, NaN where missing; whether each row has a null or NaN)."""
    if name not in frame.columns:
        raise DataError(f"column '{name}' not found; the input has columns {list(frame.columns)}")
    series = frame[name]
    if pd.api.types.is_bool_dtype(series) or pd.api.types.is_numeric_dtype(series):
        values = series.to_numpy(dtype=np.float64, na_value=np.nan)[:, None]
        return values, np.isnan(values[:, 0])
    cells = series.tolist()
    first = next((c for c in cells if c is not None and not _is_nan(c)), None)
    if first is None:
        raise DataError(f"column '{name}' has no values to tell its vector size")
    if not isinstance(first, (Vector, np.ndarray, list)):
        raise DataError(f"column '{name}' has type {type(first).__name__}; VectorAssembler "
                        "takes numeric, boolean and vector columns")
    width = len(first)
    values = np.full((len(cells), width), np.nan)
    for i, cell in enumerate(cells):
        if cell is None or _is_nan(cell):
            continue
        row = cell.toArray() if isinstance(cell, Vector) else np.asarray(cell, dtype=np.float64)
        if row.size != width:
            raise DataError(f"column '{name}' holds vectors of different lengths ({width} and "
                            f"{row.size})")
        values[i] = row
    return values, np.isnan(values).any(axis=1)


def _is_nan(cell: Any) -> bool:
    return isinstance(cell, float) and np.isnan(cell)


def _compressed(row: np.ndarray) -> Vector:
    nonzero = np.flatnonzero(row != 0)
    if 1.5 * (nonzero.size + 1.0) < row.size:
        return SparseVector(row.size, nonzero, row[nonzero])
    return DenseVector(row)
