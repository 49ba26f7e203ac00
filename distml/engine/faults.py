"""A test hook, for testing only: make one rank fail at one iteration, on its first attempt.

Set on the driver before a fit::

    spark.sparkContext.setLocalProperty("distml.test.failOnce", "rank=1,iteration=5")

and rank (partition) 1 raises ``InjectedFailure`` when it is asked for the first primitive of
iteration 5 (after the program reported iteration 4), on the fit's first barrier job, or on the
task's first attempt on the jobs engine. ``attempts=N`` makes it fail on the first N attempts
(the fit's driver-level attempts plus the task's own), so a fit can be made to fail on every
one. ``kill=executor`` makes the rank end its executor's JVM instead, with SIGHUP (exit code
129): an executor lost for a reason that may pass, as a lost machine; ``kill=memory`` kills it
with SIGKILL (exit code 137), as the kernel's OOM killer or a container's memory limit would
(both on a cluster master only: on ``local[N]`` the executor is the driver). Tasks read the
property with ``TaskContext.getLocalProperty``, as the driver set it. A Spark Connect client
sets the session conf ``spark.distml.test.failOnce`` instead (``spark.conf.set``).
"""
from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass

from distml.errors import FitError

PROPERTY = "distml.test.failOnce"
# The same as a session conf, which a Spark Connect client sets (it has no local properties):
# Spark hands a query's session confs to its tasks as local properties.
SESSION_CONF = f"spark.{PROPERTY}"


class InjectedFailure(FitError):
    """Raised by the ``distml.test.failOnce`` hook; stands for a lost executor or killed task."""


@dataclass(frozen=True)
class FaultSpec:
    rank: int
    iteration: int
    attempts: int = 1
    kill: str = ""

    def check(self, rank: int, iteration: int, attempt: int) -> None:
        """Raise (or kill the executor) if this rank is to fail at this iteration on this
        attempt."""
        if rank == self.rank and iteration == self.iteration and attempt < self.attempts:
            if self.kill:
                os.kill(executor_pid(), _SIGNALS[self.kill])
                time.sleep(60)  # this worker goes down with its executor long before
            raise InjectedFailure(f"{PROPERTY}: rank {rank} failed at iteration {iteration} "
                                  f"(attempt {attempt + 1})")


_SIGNALS = {"executor": signal.SIGHUP, "memory": signal.SIGKILL}


def executor_pid() -> int:
    """The executor JVM running this Python worker: its daemon's parent."""
    pid = os.getpid()
    for _ in range(3):
        pid = _parent(pid)
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            if b"CoarseGrainedExecutorBackend" in f.read():
                return pid
    raise ValueError(f"{PROPERTY}: kill=executor needs executor processes (a cluster master "
                     "such as local-cluster, not local[N])")


def _parent(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as f:
        return int(f.read().rpartition(")")[2].split()[1])


def parse(value: str | None) -> FaultSpec | None:
    if not value:
        return None
    fields: dict = {}
    for item in value.split(","):
        name, _, number = (part.strip() for part in item.partition("="))
        if name == "kill" and number in _SIGNALS:
            fields[name] = number
            continue
        if name not in ("rank", "iteration", "attempts") or not number.isdigit():
            raise ValueError(f"{PROPERTY} must read 'rank=R,iteration=I[,attempts=N]"
                             f"[,kill=executor|memory]', got {value!r}")
        fields[name] = int(number)
    if "rank" not in fields or "iteration" not in fields:
        raise ValueError(f"{PROPERTY} must name rank and iteration, got {value!r}")
    return FaultSpec(**fields)


def task_fault() -> FaultSpec | None:
    """The hook as the running Spark task sees it (None outside a task)."""
    from pyspark import TaskContext
    tctx = TaskContext.get()
    if tctx is None:
        return None
    return parse(tctx.getLocalProperty(PROPERTY) or tctx.getLocalProperty(SESSION_CONF))
