"""A test hook, for testing only: make one rank fail at one iteration, on its first attempt.

Set on the driver before a fit::

    spark.sparkContext.setLocalProperty("distml.test.failOnce", "rank=1,iteration=5")

and rank (partition) 1 raises ``InjectedFailure`` when it is asked for the first primitive of
iteration 5 (after the program reported iteration 4), on the fit's first barrier job, or on the
task's first attempt on the jobs engine. ``attempts=N`` makes it fail on the first N attempts
(the fit's driver-level attempts plus the task's own), so a fit can be made to fail on every
one. Tasks read the property with ``TaskContext.getLocalProperty``, as the driver set it.
"""
from __future__ import annotations

from dataclasses import dataclass

from distml.errors import FitError

PROPERTY = "distml.test.failOnce"


class InjectedFailure(FitError):
    """Raised by the ``distml.test.failOnce`` hook; stands for a lost executor or killed task."""


@dataclass(frozen=True)
class FaultSpec:
    rank: int
    iteration: int
    attempts: int = 1

    def check(self, rank: int, iteration: int, attempt: int) -> None:
        """Raise if this rank is to fail at this iteration on this attempt."""
        if rank == self.rank and iteration == self.iteration and attempt < self.attempts:
            raise InjectedFailure(f"{PROPERTY}: rank {rank} failed at iteration {iteration} "
                                  f"(attempt {attempt + 1})")


def parse(value: str | None) -> FaultSpec | None:
    if not value:
        return None
    fields = {}
    for item in value.split(","):
        name, _, number = item.partition("=")
        if name.strip() not in ("rank", "iteration", "attempts") or not number.strip().isdigit():
            raise ValueError(f"{PROPERTY} must read 'rank=R,iteration=I[,attempts=N]', "
                             f"got {value!r}")
        fields[name.strip()] = int(number)
    if "rank" not in fields or "iteration" not in fields:
        raise ValueError(f"{PROPERTY} must name rank and iteration, got {value!r}")
    return FaultSpec(**fields)


def task_fault() -> FaultSpec | None:
    """The hook as the running Spark task sees it (None outside a task)."""
    from pyspark import TaskContext
    tctx = TaskContext.get()
    return parse(tctx.getLocalProperty(PROPERTY)) if tctx is not None else None
