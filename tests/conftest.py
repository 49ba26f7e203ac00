"""Shared fixtures. One SparkSession for the whole run: local[2,4], the machine's 2 cores, and
a failed task is tried up to 4 times (spark.task.maxFailures), as on a cluster."""
from __future__ import annotations

import logging
import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "helpers"))


@pytest.fixture(scope="session")
def spark():
    from pyspark import cloudpickle

    import programs  # test training programs, shipped to executors by value
    from distml.frames import local_session

    cloudpickle.register_pickle_by_value(programs)
    session = local_session("local[2,4]", app_name="distml-tests")
    session.sparkContext.setLogLevel("ERROR")
    logging.getLogger("py4j").setLevel(logging.WARNING)
    yield session
    session.stop()


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


def pytest_terminal_summary(terminalreporter):
    """The pass count per class of pyspark.ml's docstring examples run with distml's classes
    (tests/spark/test_pyspark_doc_examples.py), when that module ran."""
    report = sys.modules.get("pyspark_examples")
    if report is None or not report.REPORT:
        return
    terminalreporter.section("pyspark.ml's documented examples with distml's classes")
    passed = attempted = 0
    for name, (ok, total, excused) in sorted(report.REPORT.items()):
        passed, attempted = passed + ok, attempted + total
        note = f" ({excused} listed exception{'s' * (excused != 1)})" if excused else ""
        terminalreporter.write_line(f"{name}: {ok}/{total} pass{note}")
    terminalreporter.write_line(f"all classes: {passed}/{attempted} examples pass")
