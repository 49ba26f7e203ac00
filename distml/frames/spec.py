"""What a stage reads from a frame and what it writes back, by the user's column names.

``InputSpec`` names the columns a fit or transform reads; ``Output`` a column a transform
appends. The kinds say how a column crosses into numpy (``Frame.map_partitions``) or back
(``Frame.transform``).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from distml.errors import DataError

VECTOR = "vector"  # 2-d array (CSR allowed on output), a pyspark.ml.linalg vector per row
DOUBLE = "double"  # 1-d float64; nulls are an error naming the column
NULLABLE_DOUBLE = "double?"  # as DOUBLE, nulls read as NaN
STRING = "string"  # 1-d objects: strings as Spark casts them, None for null
OBJECT = "object"  # 1-d objects: each cell as a Python value (token lists), None for null
INTEGER = "integer"  # 32-bit output, as pyspark.ml's cluster predictions
FLOAT = "float"  # 32-bit output, as pyspark.ml's ALS predictions


@dataclass(frozen=True)
class InputSpec:
    """Which columns a fit or transform reads, by the user's names."""

    features: str | tuple
    label: str | None = None
    weight: str | None = None
    id: str | None = None
    check_finite: bool = True
    width: int | None = None  # a transform's: the fitted model's number of features

    @property
    def features_name(self) -> str:
        return self.features if isinstance(self.features, str) else ", ".join(self.features)

    def columns(self) -> list[str]:
        cols = [self.features] if isinstance(self.features, str) else list(self.features)
        return cols + [c for c in (self.label, self.weight, self.id) if c is not None]


def check_columns(available: Sequence[str], wanted: Sequence[str], role: str = "") -> None:
    missing = [c for c in wanted if c not in available]
    if missing:
        raise DataError(f"column '{missing[0]}'{role} not found; the input has columns "
                        f"{list(available)}")


def check_width(X, spec: InputSpec) -> None:
    """A transform's rows (one batch of them) against the model's number of features."""
    if spec.width is not None and X.shape[0] and X.shape[1] != spec.width:
        raise DataError(width_message(spec.features_name, X.shape[1], spec.width))


def width_message(column: str, size: int, width: int) -> str:
    return (f"column '{column}' holds vectors of size {size}, but the model was fitted on "
            f"{width} features")


@dataclass(frozen=True)
class Output:
    """A column a transform appends: ``kind`` is VECTOR (2-d array or CSR per batch), DOUBLE,
    FLOAT or INTEGER (1-d array)."""

    name: str
    kind: str

