"""Memory on real executors (issue 25), on the multi-process tier: a ``local-cluster`` with
``spark.executor.pyspark.memory`` set, so Spark caps each Python worker's address space
(``RLIMIT_AS``; one core per executor: the whole value) as it does on YARN and Kubernetes.

- A fit whose partitions cannot fit under the cap fails while its rows arrive, before the
  ranks hold them, with one message naming the need, the budget and both fixes.
- A fit that runs out anyway (a program that allocates past the cap, or an executor killed as
  the OOM killer kills: SIGKILL, exit code 137) ends in one clear MemoryError; no attempt is
  run again.
- A fit that fits logs its estimate and budget at INFO, and its ranks' peak stays under both.
"""
import logging
import time

import pytest

import programs
from cluster_tier import cluster_session
from distml import LogisticRegression
from distml.engine.faults import PROPERTY
from distml.engine.fit import fit_program
from distml.errors import ExecutorMemoryError
from distml.frames import InputSpec

pytestmark = pytest.mark.spark

CAP = "800m"  # spark.executor.pyspark.memory: each worker's address space


@pytest.fixture(scope="module")
def cluster():
    from pyspark import cloudpickle
    cloudpickle.register_pickle_by_value(programs)  # the test program, shipped by value
    with cluster_session("distml-memory-tests",
                         **{"spark.executor.pyspark.memory": CAP}) as session:
        yield session


def rows(spark, per_partition: int, features: int = 50):
    """Normal rows made on the executors, two partitions (no driver copy)."""
    from pyspark.ml.functions import array_to_vector
    from pyspark.sql import functions as F
    columns = [F.randn(seed=i) for i in range(features)]
    return spark.range(0, 2 * per_partition, 1, 2).select(
        array_to_vector(F.array(*columns)).alias("features"),
        (columns[0] > 0).cast("double").alias("label"))


def executor_count(spark) -> int:
    return spark.sparkContext._jsc.sc().getExecutorMemoryStatus().size() - 1


def wait_for_executors(spark, count: int = 2) -> None:
    deadline = time.monotonic() + 60  # leave the cluster whole for the next test
    while executor_count(spark) < count and time.monotonic() < deadline:
        time.sleep(0.5)
    assert executor_count(spark) == count


@pytest.mark.parametrize("engine", ["barrier", "jobs"])
def test_a_fit_that_cannot_fit_fails_before_its_ranks_hold_the_rows(cluster, caplog, engine):
    """2 x 1M rows of 50 doubles: 389 MiB of arrays a rank, which with LogisticRegression's
    1.15x and the worker's own address space (450-550 MiB) is more than the 800 MiB cap."""
    with caplog.at_level(logging.WARNING, logger="distml"), \
            pytest.raises(ExecutorMemoryError) as raised:
        LogisticRegression(maxIter=5, engine=engine, numWorkers=2).fit(rows(cluster, 1_000_000))
    message = str(raised.value)
    assert message.startswith("LogisticRegression: the fit needs about ")
    assert "more than the 800 MiB (spark.executor.pyspark.memory=800m) Spark gives" in message
    assert "partition has 1000000 rows of 50 features" in message
    assert "It stopped before holding them" in message
    assert "Set spark.executor.pyspark.memory=" in message
    partitions = int(message.rpartition("at least ")[2].split()[0])
    assert 2 < partitions <= 8  # the rows spread so each rank's share fits
    assert "attempt 1 of" not in caplog.text  # not retried


def test_a_fit_that_fits_logs_its_estimate_and_budget_and_peaks_under_them(cluster, caplog):
    with caplog.at_level(logging.INFO, logger="distml"):
        model = LogisticRegression(maxIter=5, engine="barrier", numWorkers=2).fit(
            rows(cluster, 100_000))
    line = next(r.getMessage() for r in caplog.records if "memory per rank" in r.getMessage())
    assert line.startswith("distml: LogisticRegression memory per rank: estimate ")
    assert "budget 800 MiB (spark.executor.pyspark.memory=800m)" in line
    for rank in model.trainingInfo.rankMemory:
        assert rank["arrays"] == 100_000 * 51 * 8  # X and label, float64
        assert rank["start"] < rank["peak"] <= rank["need"] < 800 << 20


def test_a_rank_that_runs_out_anyway_ends_in_one_memory_error(cluster, caplog):
    """The program passes the check (it states it needs its rows once) and then asks for
    twelve copies of its 80 MB partition, past the cap: numpy's MemoryError, once."""
    df = rows(cluster, 200_000)
    with caplog.at_level(logging.WARNING, logger="distml"), \
            pytest.raises(MemoryError) as raised:
        fit_program(programs.copies_its_rows, {"copies": 12}, df, InputSpec("features"),
                    engine="barrier", num_workers=2, label="CopyingProgram")
    message = str(raised.value)
    assert message.startswith("CopyingProgram ran out of memory (")
    assert "spark.executor.pyspark.memory (now 800m)" in message
    assert "attempt 1 of" not in caplog.text


def test_an_executor_killed_for_memory_ends_in_one_error_not_retries(cluster, caplog):
    """Rank 1's executor is killed with SIGKILL (exit code 137), as the kernel's OOM killer or
    a container's memory limit would: the fit says it was memory and is not run again. (An
    executor lost otherwise is retried: ``test_engines_on_local_cluster.py``.)"""
    df = rows(cluster, 1000, features=4)
    sc = cluster.sparkContext
    sc.setLocalProperty(PROPERTY, "rank=1,iteration=2,kill=memory")
    try:
        with caplog.at_level(logging.WARNING, logger="distml"), \
                pytest.raises(ExecutorMemoryError) as raised:
            LogisticRegression(maxIter=5, tol=0.0, engine="barrier", numWorkers=2).fit(df)
    finally:
        sc.setLocalProperty(PROPERTY, None)
    message = str(raised.value)
    assert message.startswith("LogisticRegression lost an executor to its memory limit (")
    assert "137" in message
    assert "spark.executor.pyspark.memory=800m" in message
    assert "It was not retried" in message
    assert "attempt 1 of" not in caplog.text
    wait_for_executors(cluster)
