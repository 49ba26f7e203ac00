"""Driver side of reading a Spark DataFrame: checks, JVM-side conversion, partition layout."""
from __future__ import annotations

import weakref

from pyspark.ml.functions import vector_to_array
from pyspark.ml.linalg import SparseVector, VectorUDT
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import ArrayType, BooleanType, IntegralType, NumericType

from distml.engine import results
from distml.engine.spark_errors import original_exception, wrap_executor_errors
from distml.errors import DataError, ParamError
from distml.frames.session import is_connect
from distml.frames.capacity import spark_parallelism, task_slots
from distml.frames.arrow_input import (ARRAY, FEATURES, ID, LABEL, VECTOR_STRUCT, WEIGHT,
                                       InputLayout, batches_to_partition)
from distml.frames.spec import InputSpec, check_columns, width_message


def col(name: str) -> Column:
    return F.col("`" + name.replace("`", "``") + "`")


def _field_type(df: DataFrame, name: str):
    return df.schema[name].dataType


def _is_number(dtype) -> bool:
    return isinstance(dtype, NumericType) and not isinstance(dtype, BooleanType)


# What is learnt about a DataFrame (vector kinds, partition count, the selection a fit reads) by a
# Spark job or py4j round trips, remembered: DataFrames are immutable, and tuning fits the same
# one often.
_KNOWN: "weakref.WeakKeyDictionary[DataFrame, dict]" = weakref.WeakKeyDictionary()


def vector_kind(df: DataFrame, name: str) -> str:
    """ARRAY for dense vectors (converted in the JVM), VECTOR_STRUCT for sparse ones.

    Decided by the first non-null row: one cheap look, no pass over the data. A column that
    mixes both (VectorAssembler's output does) follows its first row; sparse rows still
    become CSR, dense rows then become CSR rows too — never densified behind the user's back.
    The answer is remembered per DataFrame (they are immutable), so repeated fits on the same
    data — tuning, benchmarks — do not pay the look (a Spark job, ~0.1 s) again.
    """
    known = _KNOWN.setdefault(df, {})
    if name not in known:
        row = df.select(col(name)).where(col(name).isNotNull()).head()
        known[name] = VECTOR_STRUCT if row is not None and isinstance(row[0], SparseVector) \
            else ARRAY
        if row is not None and known[name] == ARRAY:
            known[("width", name)] = row[0].size
    return known[name]


def row_bytes(df: DataFrame, spec: InputSpec) -> int | None:
    """About how many bytes a fit's row takes in an Arrow batch, where the width is known
    without a pass over the data: dense vectors (their first row's size, from the same look as
    ``vector_kind``) or a list of columns. None for sparse vectors and array columns."""
    if df.isStreaming:  # a stream's first row cannot be looked at ahead
        return None
    if isinstance(spec.features, str):
        if spec.features not in df.columns or \
                not isinstance(_field_type(df, spec.features), VectorUDT):
            return None
        if vector_kind(df, spec.features) != ARRAY:
            return None
        width = _KNOWN[df].get(("width", spec.features))
        if width is None:  # no non-null row
            return None
    else:
        width = len(spec.features)
    others = sum(c is not None for c in (spec.label, spec.weight, spec.id))
    return 8 * (width + others) + 16  # the values, a list offset and validity bits


def features_expr(df: DataFrame, features, kind: str | None = None) -> tuple[Column, str]:
    """The features as one column the executors read fast, and its layout kind."""
    if isinstance(features, str):
        check_columns(df.columns, [features])
        dtype = _field_type(df, features)
        if isinstance(dtype, VectorUDT):
            kind = kind or vector_kind(df, features)
            if kind == VECTOR_STRUCT:
                return col(features), VECTOR_STRUCT
            dense = vector_to_array(col(features), "float64")
            struct = _vector_struct(df, features)
            if struct is not None:
                # A dense vector's values array is its row as it stands in the cache: read it
                # from the struct, and Spark builds no vector object and copies no array
                # (vector_to_array does both, per row: ~15% of a first fit's ingestion at
                # 500k x 50, docs/design-notes.md). Sparse rows of a mixed column still go
                # through vector_to_array.
                dense = F.when(struct["type"] == 1, struct["values"]).otherwise(dense)
            # vector_to_array throws on null inside the JVM; keep nulls for our own message.
            return F.when(col(features).isNotNull(), dense), ARRAY
        if isinstance(dtype, ArrayType) and _is_number(dtype.elementType):
            return col(features).cast("array<double>"), ARRAY
        raise DataError(f"column '{features}' has type {dtype.simpleString()}; a features column "
                        "must be a vector (pyspark.ml.linalg), an array of numbers, or a list "
                        "of numeric column names")
    names = list(features)
    if not names:
        raise ParamError("featuresCol: the list of feature columns is empty")
    check_columns(df.columns, names)
    for name in names:
        dtype = _field_type(df, name)
        if not _is_number(dtype):
            raise DataError(f"column '{name}' has type {dtype.simpleString()}; feature columns "
                            "must be numeric")
    return F.array(*[col(n).cast("double") for n in names]), ARRAY


def prepare(df: DataFrame, spec: InputSpec, features_kind: str | None = None
            ) -> tuple[DataFrame, InputLayout]:
    """Select the fit's columns under fixed names, each in the form the executors read.

    Remembered per DataFrame and spec: building the selection costs ~45 ms of py4j calls,
    and tuning fits the same DataFrame once per param map.
    """
    known = _KNOWN.setdefault(df, {})
    key = ("prepared", spec, features_kind)
    if key not in known:
        known[key] = _prepare(df, spec, features_kind)
    return known[key]


def _prepare(df: DataFrame, spec: InputSpec, features_kind: str | None
             ) -> tuple[DataFrame, InputLayout]:
    check_columns(df.columns, spec.columns())
    fexpr, kind = features_expr(df, spec.features, features_kind)
    exprs = [fexpr.alias(FEATURES)]
    for name, alias, role in ((spec.label, LABEL, "label"), (spec.weight, WEIGHT, "weight")):
        if name is None:
            continue
        dtype = _field_type(df, name)
        if not _is_number(dtype):
            raise DataError(f"column '{name}' ({role}) has type {dtype.simpleString()}; it must "
                            "be numeric")
        exprs.append(col(name).cast("double").alias(alias))
    if spec.id is not None:
        dtype = _field_type(df, spec.id)
        if not isinstance(dtype, (IntegralType, BooleanType)):  # GBT's validation flags
            raise DataError(f"column '{spec.id}' (id) has type {dtype.simpleString()}; it must "
                            "be an integer or boolean type")
        exprs.append(col(spec.id).cast("long").alias(ID))
    layout = InputLayout(kind, spec.features_name, spec.label, spec.weight, spec.id,
                         check_finite=spec.check_finite)
    return df.select(*exprs), layout


def conf_get(spark: SparkSession, key: str, default: str | None = None) -> str | None:
    """One Spark conf value. ``sparkContext.getConf()`` copies the whole conf through py4j
    (~30 ms); this is one call."""
    return spark.conf.get(key, default)


def check_num_workers(num_workers: int) -> None:
    if num_workers < 0:
        raise ParamError(f"numWorkers must be >= 0 (0 = as many as the cluster runs at once), "
                         f"got {num_workers}")


def resolve_ranks(spark: SparkSession, df: DataFrame, num_workers: int, barrier: bool) -> int:
    slots = max(1, task_slots(spark)) if barrier else spark_parallelism(spark)
    check_num_workers(num_workers)
    if num_workers == 0:
        return slots
    if barrier and num_workers > slots:
        raise ParamError(
            f"numWorkers={num_workers}, but this cluster runs at most {slots} tasks at once "
            "(its executors' cores / spark.task.cpus), and a barrier stage needs all its "
            f"tasks running together: ask for at most {slots}, or add executors")
    return num_workers


def num_partitions(df: DataFrame) -> int:
    """The DataFrame's partition count, remembered per DataFrame (``df.rdd`` costs ~45 ms)."""
    known = _KNOWN.setdefault(df, {})
    if "__partitions__" not in known:
        known["__partitions__"] = df.rdd.getNumPartitions()
    return known["__partitions__"]


def with_partitions(df: DataFrame, count: int, source: DataFrame | None = None) -> DataFrame:
    """The same rows in exactly ``count`` partitions (kept as they are if so already).

    ``source`` is the DataFrame ``df`` was selected from (same partitioning), whose count may
    be known already. repartition, not coalesce: Spark refuses a barrier stage whose
    ancestors were coalesced.
    """
    if not is_connect(df.sparkSession) and \
            num_partitions(source if source is not None else df) == count:
        return df
    # (A Connect client cannot ask a DataFrame's partition count: it always repartitions.)
    return df.repartition(count)


def cache_generation(df: DataFrame) -> int | None:
    """The id of the cached data Spark reads ``df`` from, or None when its plan is not cached.

    Spark's CacheManager finds the cache of any DataFrame with the same plan (as the queries
    themselves do), and a plan persisted again gets new cached data with a new id: so the id
    names the rows exactly, and an unpersisted or changed DataFrame never matches an old one.
    """
    if is_connect(df.sparkSession):  # (no cache manager to ask without py4j)
        return None
    manager = df.sparkSession._jsparkSession.sharedState().cacheManager()
    found = manager.lookupCachedData(df._jdf)
    if not found.isDefined():
        return None
    return int(found.get().cachedRepresentation().cacheBuilder().cachedColumnBuffers().id())


def partitions_as_rows(prepared: DataFrame, layout: InputLayout) -> DataFrame:
    """Each partition converted to a Partition once, on its executor, and pickled into rows."""
    def convert(batches):
        from pyspark import TaskContext
        index = TaskContext.get().partitionId()
        yield from results.to_batches(batches_to_partition(batches, layout, index), index)
    return prepared.mapInArrow(wrap_executor_errors(convert), results.CHUNK_SCHEMA)


def attribute_categories(attr: dict) -> int | None:
    """The category count one ML attribute states: a nominal one's values, 2 for binary."""
    if attr.get("type", "nominal") == "binary":
        return 2
    if "vals" in attr:
        return len(attr["vals"])
    return int(attr["num_vals"]) if attr.get("num_vals") else None


def width_checked(df: DataFrame, column: str, width: int) -> DataFrame:
    """``df`` with its vector column checked row by row against a model's number of features,
    lazily, as a stream needs. A column whose ML attributes state its size is checked here
    at once, and needs nothing per row. Otherwise the plan gets a per-row check that fails on
    the first vector of another size with an error naming the column (or, on a Spark without
    the expression ``_vector_sizes`` uses, MLlib's VectorSizeHint, whose message does not).
    MLlib's models would instead fail deep in their BLAS calls, or (trees) score a wider row
    without a word."""
    if not isinstance(_field_type(df, column), VectorUDT):
        return df
    attrs = df.schema[column].metadata.get("ml_attr", {})
    size = attrs.get("num_attrs")
    if size is None and "attrs" in attrs:
        size = sum(len(group) for group in attrs["attrs"].values())
    if size is not None:
        if int(size) != width:
            raise DataError(width_message(column, int(size), width) + " (by the column's ML "
                            "attributes)")
        return df
    sizes = _vector_sizes(df, column)
    if sizes is None:
        from pyspark.ml.feature import VectorSizeHint
        return VectorSizeHint(inputCol=column, size=width, handleInvalid="error").transform(df)
    message = F.concat(F.lit(f"column '{column}' holds a vector of size "),
                       sizes.cast("string"),
                       F.lit(f", but the model was fitted on {width} features"))
    checked = F.when(sizes != width, F.raise_error(message)).otherwise(df[column])
    return df.withColumn(column, checked.alias(column, metadata=df.schema[column].metadata))


def _vector_sizes(df: DataFrame, column: str) -> Column | None:
    """Each vector's size as a SQL expression, read from the vector's struct form without
    building the vector; None where that form cannot be had (``_vector_struct``)."""
    struct = _vector_struct(df, column)
    if struct is None:
        return None
    return F.when(struct["type"] == 1, F.size(struct["values"])).otherwise(struct["size"])


def _vector_struct(df: DataFrame, column: str) -> Column | None:
    """A vector column as the struct MLlib stores it in (type: 0 sparse, 1 dense; size;
    indices; values). Spark offers no SQL way to it (a vector column cannot be cast to its
    struct or have a field taken), so this builds Catalyst's UnwrapUDT through py4j: internal
    API, hence None where it is missing, and always over Spark Connect (no JVM)."""
    if is_connect(df.sparkSession):
        return None
    try:
        jvm = df.sparkSession._jvm
        utils = jvm.org.apache.spark.sql.classic.ExpressionUtils
        unwrapped = jvm.org.apache.spark.sql.catalyst.expressions.UnwrapUDT(
            utils.expression(df[column]._jc))
        return Column(utils.column(unwrapped))
    except Exception:  # py4j's error for a class or method this Spark lacks
        return None


def collect_partitions(df: DataFrame, spec: InputSpec, num_workers: int) -> list:
    """A Spark DataFrame's partitions, converted on the executors and collected to the driver
    (LocalEngine on Spark data). Spark's partitions are kept, not re-split: that is what makes
    a local fit of Spark data give the same bits as the other engines."""
    prepared, layout = prepare(df, spec)
    num = resolve_ranks(df.sparkSession, prepared, num_workers, barrier=False)
    try:
        rows = partitions_as_rows(with_partitions(prepared, num, source=df), layout).collect()
    except Exception as e:
        raise (original_exception(e) or e) from None
    return list(results.from_rows(rows).values())
