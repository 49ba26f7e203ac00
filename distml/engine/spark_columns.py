"""Column-level Spark plumbing the feature stages and models need, kept here (only
``distml/engine`` does Spark plumbing): SQL expressions that run in the JVM, Spark's own
quantile sketch, a map over one column's values, and type checks on a schema."""
from __future__ import annotations

from typing import Any, Callable

from distml.engine.spark_errors import original_exception, wrap_executor_errors
from distml.engine.spark_input import col
from distml.errors import DataError


def fail_on_nulls(df, columns: list[str], message: Callable[[str], str]):
    """``df`` whose rows raise ``message(column)`` (Spark's raise_error) when one of
    ``columns`` is null, checked as the rows are read."""
    from pyspark.sql import functions as F
    for name in columns:
        if name in df.columns:
            column = col(name)
            df = df.withColumn(name, F.when(column.isNull(), F.raise_error(
                F.lit(message(name)))).otherwise(column))
    return df


def drop_nan_rows(df, column: str):
    from pyspark.sql import functions as F
    return df.where(~F.isnan(col(column)))


def quantiles(df, column: str, probabilities: list[float], relative_error: float,
              missing: float | None = None) -> list[float]:
    """Spark's Greenwald-Khanna quantiles of a column (nulls and NaN ignored, and values equal
    to ``missing`` too when given), partition by partition in the JVM."""
    from pyspark.sql import functions as F
    if column not in df.columns:
        raise DataError(f"column '{column}' not found")
    values = col(column).cast("double")
    present = values.isNotNull() & ~F.isnan(values)
    if missing is not None:
        present = present & (values != missing)
    return df.select(values.alias(column)).where(present).stat.approxQuantile(
        column, probabilities, relative_error)


def replace_missing(df, replacements: dict[str, tuple[str, float]], missing: float):
    """Each output column (key) is its input column with nulls and ``missing`` (NaN: NaN)
    replaced by a constant, cast back to the input's type: MLlib's ImputerModel expression."""
    import math

    from pyspark.sql import functions as F
    columns = {}
    for target, (name, value) in replacements.items():
        column = col(name)
        absent = column.isNull() | (F.isnan(column) if math.isnan(missing)
                                    else column == missing)
        kind = df.schema[name].dataType
        columns[target] = F.when(absent, F.lit(value).cast(kind)).otherwise(column)
    return df.withColumns(columns)


def map_column_values(df, column: str, fn: Callable[[list], Any]) -> list:
    """``fn(the partition's values of one column, as Python objects)`` per partition."""
    if column not in df.columns:
        raise DataError(f"column '{column}' not found; the input has columns {df.columns}")

    def run(iterator):
        return [fn([row[0] for row in iterator])]
    try:
        return df.select(col(column)).rdd.mapPartitions(wrap_executor_errors(run)).collect()
    except Exception as e:
        raise (original_exception(e) or e) from None


def is_numeric_column(df, column: str) -> tuple[bool, str]:
    """(whether the column is numeric and not boolean, its type's name)."""
    from pyspark.sql.types import BooleanType, NumericType
    dtype = df.schema[column].dataType
    return isinstance(dtype, NumericType) and not isinstance(dtype, BooleanType), \
        dtype.simpleString()


def is_vector_column(df, column: str) -> bool:
    from pyspark.ml.linalg import VectorUDT
    return column in df.columns and isinstance(df.schema[column].dataType, VectorUDT)


def vector_size_unknown(df, column: str) -> bool:
    """A vector column whose ML attributes do not state its size (VectorSizeHint adds it)."""
    if not is_vector_column(df, column):
        return False
    attr = df.schema[column].metadata.get("ml_attr", {})
    return "num_attrs" not in attr and "attrs" not in attr
