"""A local SparkSession set up the way distml's examples and tests want it."""
from __future__ import annotations

import os
import sys

from pyspark.sql import SparkSession


def local_session(master: str = "local[*]", app_name: str = "distml", **conf: str
                  ) -> SparkSession:
    """Get or create a local SparkSession whose Python workers run this interpreter.

    Spark starts executor-side Python with ``python3`` from PATH unless told otherwise; in a
    virtual environment that is the wrong interpreter (distml and numpy are missing there).
    """
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
