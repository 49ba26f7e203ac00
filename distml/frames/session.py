"""SparkSessions: the local one distml's examples and tests start, the active one models put
their tables on, and its JVM for building pyspark.ml's own models."""
from __future__ import annotations

import os
import sys
from typing import Any

import numpy as np

from distml.errors import FitError


# Spark keeps a pool of Python workers (and a daemon forking them) per distinct worker
# environment, and its SQL runners add SPARK_SIMPLIFIED_TRACEBACK=1 (pyspark's worker then
# drops its own frames from a UDF's traceback) where RDD jobs do not: without this, an
# application holds two pools, and a fit whose rows are resident (an RDD stage) after one
# that read them (a DataFrame stage) runs in workers that have not yet imported its program
# (or MXNet: 2-3 s a worker). The same variable for RDD jobs makes the pools one.
ONE_WORKER_POOL = {"spark.executorEnv.SPARK_SIMPLIFIED_TRACEBACK": "1"}


def local_session(master: str = "local[*]", app_name: str = "distml", **conf: str):
    """Get or create a local SparkSession whose Python workers run this interpreter.

    Spark starts executor-side Python with ``python3`` from PATH unless told otherwise; in a
    virtual environment that is the wrong interpreter (distml and numpy are missing there).
    Its workers fork from a daemon that has imported what distml's tasks need
    (``frames.worker_daemon``) when distml is installed in this interpreter; ``conf`` may
    name another ``spark.python.daemon.module``. RDD jobs and DataFrame UDFs share those
    workers (``ONE_WORKER_POOL``).
    """
    from pyspark.sql import SparkSession

    from distml.frames.worker_daemon import daemon_module_conf

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = (SparkSession.builder.master(master).appName(app_name)
               .config("spark.pyspark.python", sys.executable)
               .config("spark.ui.enabled", "false")
               .config("spark.ui.showConsoleProgress", "false")
               .config("spark.sql.shuffle.partitions", "8")
               .config("spark.driver.memory", conf.pop("spark.driver.memory", "4g")))
    for key, value in {**daemon_module_conf(), **ONE_WORKER_POOL, **conf}.items():
        builder = builder.config(key, value)
    return builder.getOrCreate()


def is_connect(spark: Any) -> bool:
    """Whether ``spark`` is a Spark Connect session: a thin client talking gRPC to a remote
    driver, with no SparkContext, RDDs or py4j. (By its class's module: importing
    pyspark.sql.connect to test it would import grpc, which a classic session lacks.)"""
    return type(spark).__module__.startswith("pyspark.sql.connect")


def active_spark() -> Any:
    """The active SparkSession, or None (without importing pyspark.sql when it was never
    imported: pandas-only use stays free of the JVM)."""
    if "pyspark.sql" not in sys.modules:
        return None
    from pyspark.sql import SparkSession
    return SparkSession.getActiveSession()


def spark_context(purpose: str) -> Any:
    """The active session's SparkContext, for ``purpose`` (said in the error when there is
    none)."""
    spark = active_spark()
    if spark is not None and is_connect(spark):
        raise FitError(f"{purpose} through py4j, which a Spark Connect session lacks: "
                       "use a classic SparkSession for it")
    if spark is not None:
        return spark.sparkContext
    # The active session is per thread (pyspark's tuning fits in a thread pool); the
    # context is per process.
    from pyspark import SparkContext
    if "pyspark.sql" in sys.modules and SparkContext._active_spark_context is not None:
        return SparkContext._active_spark_context
    raise FitError(f"{purpose}: it needs an active SparkSession")


def java_doubles(sc: Any, values) -> Any:
    """A Java double[] holding ``values``."""
    return _java_array(sc, values, ">f8", sc._jvm.double, "asDoubleBuffer")


def java_ints(sc: Any, values) -> Any:
    """A Java int[] holding ``values``."""
    return _java_array(sc, values, ">i4", sc._jvm.int, "asIntBuffer")


def java_longs(sc: Any, values) -> Any:
    """A Java long[] holding ``values``."""
    return _java_array(sc, values, ">i8", sc._jvm.long, "asLongBuffer")


def _java_array(sc: Any, values, dtype: str, java_type: Any, view: str) -> Any:
    # One transfer of the bytes (py4j sends a bytearray as a byte[]) and a copy in the JVM:
    # filling the array element by element is a py4j round trip per element, minutes for
    # an IDF of 2^18 terms.
    data = bytearray(np.ascontiguousarray(np.ravel(values), dtype=dtype).tobytes())
    array = sc._gateway.new_array(java_type, len(data) // np.dtype(dtype).itemsize)
    if len(array):
        getattr(sc._jvm.java.nio.ByteBuffer.wrap(data), view)().get(array)
    return array
