"""Counting the Spark tasks that failed in a block of code (Spark's status tracker)."""
import uuid
from contextlib import contextmanager


@contextmanager
def counting_failed_tasks(sc):
    """Yields a dict that holds, once the block ends (raising or not), the stages its jobs ran
    ("stages") and their failed task attempts ("failed")."""
    counts = {}
    group = f"distml-test-{uuid.uuid4().hex}"
    sc.setJobGroup(group, "counting failed tasks")
    try:
        yield counts
    finally:
        sc.setLocalProperty("spark.jobGroup.id", None)
        tracker = sc.statusTracker()
        stages = [tracker.getStageInfo(s) for j in tracker.getJobIdsForGroup(group)
                  for s in tracker.getJobInfo(j).stageIds]
        counts["stages"] = len(stages)
        counts["failed"] = sum(info.numFailedTasks for info in stages if info is not None)
