"""StringIndexer: MLlib's, labels counted partition by partition.

The fit counts each column's values in every partition (``map_partitions``) and merges the
counts on the driver. On a Spark DataFrame the model transforms through pyspark.ml's own
StringIndexerModel built from the fitted labels (``from_labels``), so the output, its
ML attributes (read by OneHotEncoder and the trees downstream) and handleInvalid's behaviour are
MLlib's exactly, at JVM speed; on pandas the same mapping runs here.
"""
from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
import pandas as pd
from pyspark import keyword_only
from pyspark.ml import Estimator as SparkEstimator
from pyspark.ml.param import Param, Params, TypeConverters
from pyspark.ml.param.shared import (HasHandleInvalid, HasInputCol, HasInputCols, HasOutputCol,
                                     HasOutputCols)

from distml import frames
from distml.errors import DataError
from distml.frames import STRING, string_values
from distml.pipeline.base import Model, SetsColumns, _Persistable, input_output_columns, setter
from distml.pipeline.constraints import OneOf

ORDERS = ("frequencyDesc", "frequencyAsc", "alphabetDesc", "alphabetAsc")
INVALID = ("error", "skip", "keep")


class _StringIndexerParams(SetsColumns, HasHandleInvalid, HasInputCol, HasInputCols,
                           HasOutputCol, HasOutputCols):
    stringOrderType: Param[str] = Param(
        Params._dummy(), "stringOrderType",
        "How to order labels of string column. The first label after ordering is assigned an "
        "index of 0. Supported options: " + ", ".join(ORDERS) + ". Default is frequencyDesc. "
        "In case of equal frequency, the strings are further sorted alphabetically",
        typeConverter=TypeConverters.toString)

    _param_constraints = {"handleInvalid": [OneOf(INVALID)], "stringOrderType": [OneOf(ORDERS)]}

    def __init__(self, *args: Any):
        super().__init__(*args)
        self._setDefault(handleInvalid="error", stringOrderType="frequencyDesc")

    def getStringOrderType(self) -> str:
        return self.getOrDefault(self.stringOrderType)

    def _columns(self) -> tuple[list[str], list[str]]:
        return input_output_columns(self)


class StringIndexer(SparkEstimator, _Persistable, _StringIndexerParams):
    """Maps a string (or number) column to label indices, pyspark.ml's ``StringIndexer``.

    Labels are ordered by ``stringOrderType`` (ties alphabetically, as in MLlib); nulls are not
    labels. ``handleInvalid`` says what transform does with nulls and unseen labels: "error",
    "skip" (drop the row) or "keep" (index numLabels).

    >>> import pandas as pd
    >>> from distml.pipeline.feature import StringIndexer
    >>> df = pd.DataFrame({"color": ["red", "blue", "red", "green"]})
    >>> model = StringIndexer(inputCol="color", outputCol="index").fit(df)
    >>> model.labels
    ['red', 'blue', 'green']
    >>> model.transform(df)["index"].tolist()
    [0.0, 1.0, 0.0, 2.0]
    """

    @keyword_only
    def __init__(self, *, inputCol: str | None = None, outputCol: str | None = None,
                 inputCols: list[str] | None = None, outputCols: list[str] | None = None,
                 handleInvalid: str = "error", stringOrderType: str = "frequencyDesc"):
        super().__init__()
        self._set_given(self._input_kwargs)

    setStringOrderType = setter("stringOrderType")

    def _fit(self, dataset: Any) -> "StringIndexerModel":
        inputs, _ = self._columns()
        order = self.getStringOrderType()
        columns = {f"c{i}": (name, STRING) for i, name in enumerate(inputs)}
        parts = frames.of(dataset).map_partitions(columns, _value_counts)
        labels = []
        for i in range(len(inputs)):
            counts = Counter()
            for part in parts:
                counts.update(part[i])
            labels.append(_ordered(counts, order))
        return self._fitted(StringIndexerModel(labels))


def _value_counts(arrays: dict) -> list[dict]:
    out = []
    for i in range(len(arrays)):
        values = arrays[f"c{i}"]
        values = values[values != None]  # noqa: E711 (elementwise on an object array)
        labels, counts = np.unique(values.astype(str), return_counts=True) if values.size \
            else (np.array([]), np.array([]))
        out.append(dict(zip(labels.tolist(), counts.tolist())))
    return out


def _ordered(counts: Counter, order: str) -> list[str]:
    items = list(counts.items())
    if order == "frequencyDesc":
        items.sort(key=lambda kv: (-kv[1], kv[0]))
    elif order == "frequencyAsc":
        items.sort(key=lambda kv: (kv[1], kv[0]))
    else:
        items.sort(key=lambda kv: kv[0], reverse=order == "alphabetDesc")
    return [label for label, _ in items]


class StringIndexerModel(Model, _StringIndexerParams):
    """``labels`` (one column) or ``labelsArray``, and ``transform``."""

    def __init__(self, labels_array: list[list[str]] | None = None):
        super().__init__()
        self._labels = labels_array or []

    @classmethod
    def from_labels(cls, labels: list[str], inputCol: str, outputCol: str | None = None,
                    handleInvalid: str | None = None) -> "StringIndexerModel":
        """A model indexing ``labels`` in their order, as pyspark.ml's (no fit)."""
        return cls._from_labels([labels], inputCol=inputCol, outputCol=outputCol,
                                handleInvalid=handleInvalid)

    @classmethod
    def from_arrays_of_labels(cls, arrayOfLabels: list[list[str]], inputCols: list[str],
                              outputCols: list[str] | None = None,
                              handleInvalid: str | None = None) -> "StringIndexerModel":
        """A model indexing column i by ``arrayOfLabels[i]``, as pyspark.ml's (no fit)."""
        return cls._from_labels(arrayOfLabels, inputCols=inputCols, outputCols=outputCols,
                                handleInvalid=handleInvalid)

    @classmethod
    def _from_labels(cls, labels_array: list[list[str]], **params) -> "StringIndexerModel":
        model = cls([list(labels) for labels in labels_array])
        model._set(**{name: value for name, value in params.items() if value is not None})
        return model

    def _description(self) -> dict:
        shown = {"handleInvalid": self.getHandleInvalid()}
        if self.isSet("stringOrderType"):
            shown["stringOrderType"] = self.getStringOrderType()
        return {**shown, **self._set_column_counts()}

    @property
    def labels(self) -> list[str]:
        if len(self._labels) != 1:
            raise AttributeError("this model indexes several columns: use labelsArray")
        return list(self._labels[0])

    @property
    def labelsArray(self) -> list[list[str]]:
        return [list(labels) for labels in self._labels]

    def _transform(self, dataset: Any) -> Any:
        inputs, outputs = self._columns()
        invalid = self.getHandleInvalid()
        columns = list(zip(inputs, outputs, self._labels))
        return frames.of(dataset).with_mllib(
            lambda df: _index_with_mllib(df, columns, invalid),
            lambda frame: _index_here(frame, columns, invalid))

    def _save_data(self) -> tuple[dict, dict]:
        return {}, {"labelsArray": self._labels}

    def _load_data(self, arrays: dict, extra: dict) -> None:
        self._labels = [list(labels) for labels in extra["labelsArray"]]


def _index_with_mllib(dataset: Any, columns: list, invalid: str) -> Any:
    # One pyspark.ml model per column: from_arrays_of_labels pads shorter label lists with
    # nulls in the JVM (a rectangular String[][]), which adds a null label and breaks the
    # output's ML attributes.
    from pyspark.ml.feature import StringIndexerModel as SparkModel
    for name, target, labels in columns:
        dataset = SparkModel.from_labels(labels, inputCol=name, outputCol=target,
                                         handleInvalid=invalid).transform(dataset)
    return dataset


def _index_here(dataset: pd.DataFrame, columns: list, invalid: str) -> pd.DataFrame:
    out, keep = dataset.copy(), np.ones(len(dataset), dtype=bool)
    for name, target, labels in columns:
        if name not in dataset.columns:
            raise DataError(f"column '{name}' not found; the input has columns "
                            f"{list(dataset.columns)}")
        if target in dataset.columns:
            raise DataError(f"output column '{target}' already exists in the input")
        index, valid = _index(string_values(dataset[name]), labels)
        if not valid.all():
            if invalid == "error":
                bad = string_values(dataset[name])[~valid][0]
                what = "a null value" if bad is None else f"the unseen label {bad!r}"
                raise DataError(f"column '{name}' has {what} ({int((~valid).sum())} "
                                "invalid rows); set handleInvalid to 'skip' or 'keep'")
            index[~valid] = len(labels)
            keep &= valid if invalid == "skip" else True
        out[target] = index
    return out[keep] if not keep.all() else out


def _index(values: np.ndarray, labels: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Each value's label index (float) and whether it has one."""
    lookup = {label: float(i) for i, label in enumerate(labels)}
    index = np.array([lookup.get(v, np.nan) if v is not None else np.nan for v in values],
                     dtype=np.float64)
    return index, ~np.isnan(index)
