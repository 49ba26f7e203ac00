"""One local Spark Connect server for the tier (``SparkSession.builder.remote("local[2]")``).

This folder runs in a pytest process of its own (``make test`` runs it last): the server runs a
SparkContext in this process's JVM, and the main suite holds another; and once a Connect
client exists in a process, pyspark builds Connect columns for every session there.
"""
import os
import sys

import pytest


@pytest.fixture(scope="session")
def connect():
    from pyspark import cloudpickle
    from pyspark.sql import SparkSession

    import programs  # test training programs, shipped to executors by value
    cloudpickle.register_pickle_by_value(programs)
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    session = SparkSession.builder.remote("local[2]").getOrCreate()
    assert type(session).__module__ == "pyspark.sql.connect.session"
    yield session
    session.stop()
