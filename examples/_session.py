"""The session every example uses: spark-submit's when run through it, else a local one."""
from __future__ import annotations

import os


def session(master: str | None):
    from pyspark.sql import SparkSession

    from distml.frames import local_session
    if master is None and os.environ.get("PYSPARK_GATEWAY_PORT"):  # under spark-submit
        return SparkSession.builder.getOrCreate()
    return local_session(master or "local[*]", app_name="distml-example")
