"""What the application's cluster runs at once, and asking it for more.

A collective fit needs all its ranks running together, so it must know the task slots the
application holds *now*: on a local master, its threads; on a cluster, the registered
executors' cores divided by ``spark.task.cpus``, read from Spark's status store (the executors'
own reports). ``spark.default.parallelism`` is not that count: EMR sets it to twice the cores,
and under dynamic allocation the executors come and go.

Under dynamic allocation the gang engine asks for the executors its ranks need
(``SparkContext.requestTotalExecutors``, a developer API) and waits a bounded time for them
(``spark.distml.gang.allocationWait``). The allocation manager may revise the request later;
it raises its own target anyway while the stage's tasks are pending.
"""
from __future__ import annotations

import logging
import math
import time

from pyspark.sql import SparkSession

from distml.errors import ParamError
from distml.frames.session import is_connect

log = logging.getLogger("distml")

ALLOCATION_WAIT_CONF = "spark.distml.gang.allocationWait"
DEFAULT_ALLOCATION_WAIT = 30.0  # seconds: YARN and Kubernetes start a container in 5-60 s


def master_of(spark: SparkSession) -> str:
    """The session's master URL (a Connect client reads it from the server's conf)."""
    if is_connect(spark):
        return str(spark.conf.get("spark.master", "local"))
    return spark.sparkContext.master


def is_local(spark: SparkSession) -> bool:
    """Spark's own rule (Utils.isLocalMaster): "local" or "local[...]" (not local-cluster,
    whose executors are separate processes)."""
    master = master_of(spark)
    return master == "local" or master.startswith("local[")


def dynamic_allocation_on(spark: SparkSession) -> bool:
    """Spark's own rule (Utils.isDynamicAllocationEnabled): on, and not local unless testing."""
    if str(spark.conf.get("spark.dynamicAllocation.enabled", "false")).lower() != "true":
        return False
    return not is_local(spark) or \
        str(spark.conf.get("spark.dynamicAllocation.testing", "false")).lower() == "true"


def task_cpus(spark: SparkSession) -> int:
    return max(1, int(spark.conf.get("spark.task.cpus", "1")))


def task_slots(spark: SparkSession) -> int:
    """How many tasks the application runs at once now: 0 only under dynamic allocation,
    with no executor left."""
    if not is_local(spark) and not is_connect(spark):  # (Connect: no status store to ask)
        cores = _executor_cores(spark)
        if cores or dynamic_allocation_on(spark):
            return sum(c // task_cpus(spark) for c in cores)
    # Local threads; or a static cluster whose executors have not registered yet, where
    # Spark's own guess is all there is.
    return spark_parallelism(spark)


def spark_parallelism(spark: SparkSession) -> int:
    """Spark's default task count per stage (``defaultParallelism``) over ``spark.task.cpus``:
    the partitions an engine that runs them one job at a time uses."""
    return max(1, default_parallelism(spark) // task_cpus(spark))


_CONNECT_PARALLELISM: dict[str, int] = {}


def default_parallelism(spark: SparkSession) -> int:
    """Spark's ``defaultParallelism``. A Connect client learns it as the partitions of a range
    (Spark plans one with that many), by a small job once per session."""
    if not is_connect(spark):
        return spark.sparkContext.defaultParallelism
    key = spark.session_id
    if key not in _CONNECT_PARALLELISM:
        from pyspark.sql import functions as F
        last = (spark.range(0, 1 << 16).select(F.spark_partition_id().alias("p"))
                .agg(F.max("p")).first()[0])
        _CONNECT_PARALLELISM[key] = int(last) + 1
    return _CONNECT_PARALLELISM[key]


def _executor_cores(spark: SparkSession) -> list[int]:
    """Each active executor's cores (the driver excluded), from Spark's status store."""
    executors = spark.sparkContext._jsc.sc().statusStore().executorList(True)
    cores = []
    for i in range(executors.size()):
        summary = executors.apply(i)
        if summary.id() != "driver":
            cores.append(int(summary.totalCores()))
    return cores


def removed_executors(spark: SparkSession, since_ms: int) -> list[tuple[str, str]]:
    """(id, why) of each executor Spark removed at or after ``since_ms`` (epoch ms), from its
    status store."""
    executors = spark.sparkContext._jsc.sc().statusStore().executorList(False)
    removed = []
    for i in range(executors.size()):
        summary = executors.apply(i)
        when, why = summary.removeTime(), summary.removeReason()
        if when.isDefined() and when.get().getTime() >= since_ms:
            removed.append((str(summary.id()), str(why.get()) if why.isDefined() else ""))
    return removed


def allocation_wait(spark: SparkSession) -> float:
    value = spark.conf.get(ALLOCATION_WAIT_CONF, str(DEFAULT_ALLOCATION_WAIT))
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if seconds < 0:
        raise ParamError(f"{ALLOCATION_WAIT_CONF} must be a number of seconds >= 0, "
                         f"got {value!r}")
    return seconds


def request_slots(spark: SparkSession, wanted: int) -> int:
    """Ask the cluster manager for enough executors to run ``wanted`` tasks at once (only
    under dynamic allocation: a static application has the executors it asked for, and its
    cluster manager replaces the ones it loses); returns the slots to wait for
    (``spark.dynamicAllocation.maxExecutors`` bounds what a request can reach)."""
    if not dynamic_allocation_on(spark) or is_local(spark):
        return wanted
    cores = _executor_cores(spark)
    per_executor = int(spark.conf.get("spark.executor.cores", "0") or 0) or \
        (max(cores) if cores else 1)
    executors = math.ceil(wanted * task_cpus(spark) / max(1, per_executor))
    ceiling = int(spark.conf.get("spark.dynamicAllocation.maxExecutors", str(2 ** 31 - 1)))
    executors = min(executors, ceiling)
    sc = spark.sparkContext
    no_hints = sc._jvm.PythonUtils.toScalaMap(sc._jvm.java.util.HashMap())
    log.info("distml: asking the cluster for %d executors (%d ranks)", executors, wanted)
    sc._jsc.sc().requestTotalExecutors(executors, 0, no_hints)
    return executors * per_executor // task_cpus(spark)


def wait_for_slots(spark: SparkSession, wanted: int, seconds: float) -> int:
    """The task slots, once there are ``wanted`` (or as many as the cluster may grow to) or
    ``seconds`` have passed; under dynamic allocation the cluster is asked for them first."""
    have = task_slots(spark)
    if have >= wanted or is_local(spark):
        return have
    reachable = request_slots(spark, wanted)
    deadline = time.monotonic() + seconds
    while have < min(wanted, reachable) and time.monotonic() < deadline:
        time.sleep(0.25)
        have = task_slots(spark)
    return have
