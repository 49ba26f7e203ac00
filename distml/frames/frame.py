"""The one interface stages, models and engines use to reach a DataFrame's data.

``distml.frames.of(dataset)`` wraps a pandas or a Spark DataFrame in a ``Frame``; every
operation below has the same meaning on both (``PandasFrame`` runs it here on the whole frame,
``SparkFrame`` on the executors or in the JVM), so callers never ask which kind they hold.
Operations that return a DataFrame return the caller's kind, never a ``Frame``.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Callable

import numpy as np

from distml.frames.spec import InputSpec, Output


class Frame(ABC):
    """A pandas or Spark DataFrame seen through distml's operations on it."""

    def __init__(self, dataset: Any):
        self.dataset = dataset

    @property
    @abstractmethod
    def session(self) -> Any:
        """The SparkSession the data lives on, or None for pandas (a model's tables follow
        it)."""

    @property
    @abstractmethod
    def columns(self) -> list[str]:
        """The column names, in order."""

    @abstractmethod
    def cache_generation(self) -> int | None:
        """An id of the cached data the rows are read from, the same for every DataFrame with
        this plan until it is unpersisted; None when the plan is not persisted (or pandas,
        which has no plan to cache). What resident partitions are keyed by."""

    # reading rows into numpy ----------------------------------------------------------------
    @abstractmethod
    def read_partitions(self, spec: InputSpec, num_workers: int) -> list:
        """The rows ``spec`` names as ``engine.Partition`` objects on the driver (what
        LocalEngine trains on): Spark's partitions as they are, pandas' rows split in
        ``num_workers`` (at least one) contiguous parts."""

    @abstractmethod
    def map_partitions(self, columns: dict[str, tuple[str, str]],
                       fn: Callable[[dict], Any]) -> list:
        """``fn({name: array})`` per partition, the results in partition order on the driver;
        ``columns`` maps a name to (column, kind): DOUBLE, NULLABLE_DOUBLE, VECTOR, STRING
        or OBJECT (``frames.spec``). Nulls are an error naming the column except where the
        kind reads them."""

    @abstractmethod
    def collect_arrays(self, vector_columns: dict[str, tuple[str, int]],
                       columns: dict[str, str]) -> dict[str, np.ndarray]:
        """Some values as arrays on the driver: ``vector_columns`` maps a result name to (vector
        column, element index), ``columns`` a result name to a numeric column."""

    @abstractmethod
    def difference(self, a: str, b: str, name: str) -> Any:
        """A table of one column, ``name`` = column ``a`` - column ``b`` (a regression
        summary's residuals), in this frame's kind."""

    @abstractmethod
    def column_sums(self, names: list[str]) -> np.ndarray:
        """The sums of numeric columns (nulls count as 0)."""

    @abstractmethod
    def quantiles(self, column: str, probabilities: list[float], relative_error: float,
                  missing: float | None = None) -> list[float]:
        """Quantiles of a numeric column, ignoring nulls, NaN and values equal to ``missing``;
        empty when no value is left. Spark's Greenwald-Khanna sketch within
        ``relative_error``; exact on pandas (the value of rank ceil(p n), Spark's exact
        answer)."""

    @abstractmethod
    def summarize_in_jvm(self, column: str, metrics: list[str]) -> tuple[dict, int] | None:
        """Spark's own Summarizer over a vector column and the row count, as one aggregate:
        ({metric: value}, rows); None where there is no JVM (pandas) or the aggregate fails
        (vectors of different lengths, ...): the caller's engine then says what is wrong."""

    @abstractmethod
    def distinct_integers(self, column: str) -> np.ndarray:
        """The distinct whole values of a numeric column, sorted, as int64."""

    # schema -----------------------------------------------------------------------------------
    @abstractmethod
    def numeric_type(self, column: str) -> tuple[bool, str] | None:
        """(whether the column is numeric and not boolean, its type as shown to users), or
        None when there is no such column."""

    @abstractmethod
    def is_vector_column(self, column: str) -> bool:
        """Whether the column holds vectors (not numbers)."""

    @abstractmethod
    def vector_size_unknown(self, column: str) -> bool:
        """Whether a vector column's ML attributes leave its size unsaid (a pandas frame has
        no attributes to need)."""

    @abstractmethod
    def category_count(self, column: str) -> int | None:
        """The category count a scalar column's ML attributes state (StringIndexer's output),
        or None (no attributes, or not a nominal/binary column)."""

    @abstractmethod
    def categorical_arities(self, column: str) -> dict[int, int]:
        """{feature index: category count} from a vector column's ML attributes (what
        VectorIndexer and StringIndexer + VectorAssembler write); empty without them."""

    # producing DataFrames ---------------------------------------------------------------------
    @abstractmethod
    def transform(self, spec: InputSpec, fn: Callable[[Any], dict],
                  outputs: list[Output]) -> Any:
        """The DataFrame with ``fn(X)``'s arrays (keyed by output name) appended to its rows;
        ``X`` is the features ``spec`` names, batch by batch."""

    @abstractmethod
    def replace_missing(self, replacements: dict[str, tuple[str, float]],
                        missing: float) -> Any:
        """Each key a column equal to its input column (the tuple's first item) with nulls and
        ``missing`` replaced by the constant, of the input's type: MLlib's ImputerModel."""

    @abstractmethod
    def drop_nan_rows(self, column: str) -> Any:
        """The rows whose ``column`` is neither NaN nor null (pandas' NaN stands for both)."""

    @abstractmethod
    def fail_on_nulls(self, columns: list[str], message: Callable[[str, int | None], str]
                      ) -> Any:
        """The DataFrame, with a null in one of ``columns`` an error saying
        ``message(column, null count or None)``: raised now on pandas, as the rows are read on
        Spark."""

    @abstractmethod
    def with_mllib(self, on_spark: Callable[[Any], Any],
                   on_pandas: Callable[[Any], Any]) -> Any:
        """``on_spark(dataset)`` where pyspark.ml's own implementation does the work (a JVM
        stage, pyspark.ml's tuning), ``on_pandas(dataset)`` where distml's does it here."""

    @abstractmethod
    def persist_for_reuse(self) -> tuple[Any, Callable[[], None]]:
        """(the DataFrame kept where rereading it costs nothing, the call that releases it):
        persisted on Spark unless cached already; pandas is in memory."""
