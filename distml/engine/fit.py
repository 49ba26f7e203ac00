"""The one entry point estimators call: choose the engine for a fit, and run the program on it
(with the driver-side retries of ``engine.recovery``)."""
from __future__ import annotations

import logging
from contextlib import nullcontext
from typing import Any

from distml import frames
from distml.engine.context import Engine, FitResult, Program, Recovery
from distml.engine.local import LocalEngine
from distml.engine.recovery import CheckpointSettings, fit_with_retries
from distml.errors import ParamError
from distml.frames import InputSpec
from distml.frames.spark_input import check_num_workers

log = logging.getLogger("distml")

ENGINES = ("auto", "barrier", "gang", "jobs", "local")


def choose_engine(name: str, dataset: Any) -> str:
    if name not in ENGINES:
        raise ParamError(f"engine must be one of {', '.join(ENGINES)}, got {name!r}")
    spark = frames.of(dataset).session
    if spark is None:
        if name in ("barrier", "gang", "jobs"):
            raise ParamError(f"engine={name!r} needs a Spark DataFrame; a pandas DataFrame "
                             "trains on engine='local'")
        return "local"
    if name != "auto":
        return name
    from distml.frames.capacity import dynamic_allocation_on
    if frames.is_connect(spark) and dynamic_allocation_on(spark):
        log.info("distml: dynamic allocation is on, where Spark refuses barrier stages: the "
                 "fit runs a Spark job a round (engine='jobs')")
        return "jobs"
    if frames.is_connect(spark):
        return "barrier"
    if dynamic_allocation_on(spark):
        log.info("distml: dynamic allocation is on, where Spark refuses barrier stages: the "
                 "fit runs its ranks as an ordinary stage (engine='gang')")
        return "gang"
    return "barrier"


def fit_program(program: Program, params: dict, dataset: Any, spec: InputSpec,
                engine: str = "auto", num_workers: int = 0, label: str = "fit",
                checkpoints: CheckpointSettings | None = None) -> FitResult:
    """Run ``program`` over ``dataset`` on the chosen engine; what every estimator calls.
    With ``engine="auto"``, a program Spark SQL can run as it stands (``program.in_jvm``:
    column statistics) runs there when the input allows (``pipeline.stat.statistics_in_jvm``).
    ``label`` names the fit in its progress reports (``engine.progress``) and its checkpoint
    directory; a failed attempt on Spark is run again from the last checkpoint
    (``engine.recovery``)."""
    from distml.engine.progress import fit_progress
    in_jvm = getattr(program, "in_jvm", None)  # a program Spark SQL can run as it stands
    if engine == "auto" and in_jvm is not None and checkpoints is None:
        check_num_workers(num_workers)  # the aggregate has no ranks, but the param is wrong
        result = in_jvm(dataset, spec, params)
        if result is not None:
            return result
    chosen = choose_engine(engine, dataset)
    spark = frames.of(dataset).session
    with fit_progress(label, spark):
        return fit_with_retries(
            lambda recovery: _fit_on(chosen, program, params, dataset, spec, num_workers,
                                     recovery),
            spark if chosen != "local" else None, checkpoints or CheckpointSettings(), label,
            params)


def _arrow_batches(spark: Any, dataset: Any, spec: InputSpec):
    """The fit's stages bound their Arrow batches by rows, without Spark's per-row byte check
    (``frames.arrow_batches``)."""
    if spark is None:
        return nullcontext()
    from distml.frames.arrow_batches import row_bounded_batches
    from distml.frames.spark_input import row_bytes
    return row_bounded_batches(spark, row_bytes(dataset, spec))


def _fit_on(chosen: str, program: Program, params: dict, dataset: Any, spec: InputSpec,
            num_workers: int, recovery: Recovery) -> FitResult:
    with _arrow_batches(frames.of(dataset).session, dataset, spec):
        result = make_engine(chosen, dataset, num_workers).fit(program, params, dataset, spec,
                                                                recovery)
    result.engine = result.engine or chosen  # the gang engine may have handed it to jobs
    return result


def make_engine(chosen: str, dataset: Any, num_workers: int) -> Engine:
    """The engine named ``chosen`` ("local", "barrier", "gang" or "jobs") for ``dataset``."""
    if chosen == "local":
        return LocalEngine(num_workers)
    spark = frames.of(dataset).session
    if frames.is_connect(spark) and chosen == "gang":
        raise ParamError("engine='gang' does not run over Spark Connect (its ranks meet at "
                         "the driver, out of their reach): use 'barrier' or 'jobs', or 'auto'")
    if frames.is_connect(spark) and chosen == "jobs":
        from distml.engine.frame_jobs import FrameJobsEngine
        return FrameJobsEngine(spark, num_workers)
    if chosen == "barrier":
        from distml.engine.barrier import BarrierEngine
        return BarrierEngine(spark, num_workers)
    if chosen == "gang":
        from distml.engine.gang import GangEngine
        return GangEngine(spark, num_workers)
    from distml.engine.jobs import JobsEngine
    return JobsEngine(spark, num_workers)
