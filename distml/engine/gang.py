"""GangEngine: the barrier engine's collective fit in an ordinary Spark stage.

Spark refuses barrier stages under dynamic allocation (EMR's, Dataproc's and most YARN or
Kubernetes clusters' default), so this engine launches the fit's N ranks as the N tasks of a
normal stage, and the ranks meet through the same driver rendezvous, mesh and program as on
the barrier engine (``engine.barrier``): the models are the same bits. What a barrier stage
guarantees, it does itself:

- All N must run at once. Before launching, N is bounded by the task slots the application
  holds (executors' cores / ``spark.task.cpus``, ``frames.capacity``); under dynamic
  allocation it first asks the cluster for the executors N ranks need and waits for them a
  bounded time (``spark.distml.gang.allocationWait``, 30 s), then uses what is there and says
  so in one log line. An explicit ``numWorkers`` is launched as asked.
- If not all N ranks have connected ``spark.distml.gang.startTimeout`` seconds (120) after
  the first did, the rendezvous abandons the stage (the running ranks stop, the job is
  cancelled) and the fit runs on the jobs engine, with one log line saying why. Nothing
  waits longer than those two bounds for ranks that cannot start.
- A second copy of a rank (``spark.speculation``, or Spark re-attempting a task that already
  joined) is refused by the rendezvous and waits, without output, until the fit ends.
- A lost rank fails the fit as a lost barrier task does (its peers and the rendezvous see its
  connections close); the driver-side retry (``engine.recovery``) runs it again from the
  last checkpoint.

Prior art: Horovod's Spark runner and SynapseML's LightGBM (its non-barrier mode) also run
collective workers as ordinary tasks that register with the driver under a start timeout.
"""
from __future__ import annotations

import logging

from pyspark.sql import DataFrame

from distml.engine.barrier import BarrierEngine, GangNotStarted
from distml.engine.context import FitResult, Program, Recovery
from distml.errors import ParamError
from distml.frames.capacity import (allocation_wait, dynamic_allocation_on, task_slots,
                                    wait_for_slots)
from distml.frames.spark_input import check_num_workers, conf_get, num_partitions

log = logging.getLogger("distml")

START_TIMEOUT_CONF = "spark.distml.gang.startTimeout"
DEFAULT_START_TIMEOUT = 120.0


class GangEngine(BarrierEngine):
    barrier = False

    def fit(self, program: Program, params: dict, df: DataFrame, spec,
            recovery: Recovery | None = None) -> FitResult:
        try:
            result = super().fit(program, params, df, spec, recovery)
        except GangNotStarted as e:
            log.warning("distml: the gang engine's ranks did not all start (%s): this fit runs "
                        "on the jobs engine, one Spark job per round", e)
            from distml.engine.jobs import JobsEngine
            result = JobsEngine(self.spark, self.num_workers).fit(program, params, df, spec,
                                                                  recovery)
            result.engine = "jobs"
            return result
        result.engine = "gang"
        return result

    def _check_allowed(self) -> None:
        start_timeout(self.spark)  # a bad conf fails before any stage runs
        allocation_wait(self.spark)

    def _ranks(self, df: DataFrame, prepared: DataFrame, recovery: Recovery) -> int:
        check_num_workers(self.num_workers)
        if self.num_workers:
            wanted = self.num_workers
        elif dynamic_allocation_on(self.spark):
            # The cluster grows to what a stage asks for: ask for the input's partitions, as
            # pyspark.ml's own jobs would run them.
            wanted = num_partitions(df)
        else:
            wanted = max(1, task_slots(self.spark))
        have = wait_for_slots(self.spark, wanted, allocation_wait(self.spark))
        ranks = wanted if self.num_workers else max(1, min(wanted, have))
        log.info("distml: gang stage of %d ranks (%d wanted; the cluster runs %d tasks at once)",
                 ranks, wanted, have)
        return ranks

    def _start(self, ranks: int) -> dict:
        return {"expected": ranks, "start_timeout": start_timeout(self.spark)}


def start_timeout(spark) -> float:
    value = conf_get(spark, START_TIMEOUT_CONF, str(DEFAULT_START_TIMEOUT))
    try:
        seconds = float(value)
    except ValueError:
        seconds = 0.0
    if seconds <= 0:
        raise ParamError(f"{START_TIMEOUT_CONF} must be a positive number of seconds, "
                         f"got {value!r}")
    return seconds
