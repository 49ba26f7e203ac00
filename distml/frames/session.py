"""SparkSessions: the local one distml's examples and tests start, the active one models put
their tables on, and its JVM for building pyspark.ml's own models."""
from __future__ import annotations

import os
import sys
from typing import Any

from distml.errors import FitError


def local_session(master: str = "local[*]", app_name: str = "distml", **conf: str):
    """Get or create a local SparkSession whose Python workers run this interpreter.

    Spark starts executor-side Python with ``python3`` from PATH unless told otherwise; in a
    virtual environment that is the wrong interpreter (distml and numpy are missing there).
    """
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = (SparkSession.builder.master(master).appName(app_name)
               .config("spark.pyspark.python", sys.executable)
               .config("spark.ui.enabled", "false")
               .config("spark.ui.showConsoleProgress", "false")
               .config("spark.sql.shuffle.partitions", "8")
               .config("spark.driver.memory", conf.pop("spark.driver.memory", "4g")))
    for key, value in conf.items():
        builder = builder.config(key, value)
    return builder.getOrCreate()


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
    if spark is None:
        raise FitError(f"{purpose}: it needs an active SparkSession")
    return spark.sparkContext


def java_doubles(sc: Any, values) -> Any:
    """A Java double[] holding ``values``."""
    array = sc._gateway.new_array(sc._jvm.double, len(values))
    for i, v in enumerate(values):
        array[i] = float(v)
    return array
