"""Choosing the engine for a fit, and the one entry point estimators call."""
from __future__ import annotations

import logging
from typing import Any

import pandas as pd

from distml.engine.context import FitResult, Program, Recovery
from distml.engine.local import LocalEngine
from distml.engine.pandas_input import InputSpec, pandas_arrays
from distml.engine.recovery import CheckpointSettings, fit_with_retries
from distml.errors import DataError, ParamError

log = logging.getLogger("distml")

ENGINES = ("auto", "barrier", "jobs", "local")


def is_spark_dataframe(obj: Any) -> bool:
    # Checked by duck type and module so that pandas-only use never imports pyspark.sql.
    return type(obj).__module__.startswith("pyspark.sql") and hasattr(obj, "mapInArrow")


def choose_engine(name: str, dataset: Any) -> str:
    if name not in ENGINES:
        raise ParamError(f"engine must be one of {', '.join(ENGINES)}, got {name!r}")
    if not is_spark_dataframe(dataset):
        if not isinstance(dataset, pd.DataFrame):
            raise DataError(f"expected a Spark or pandas DataFrame, got {type(dataset).__name__}")
        if name in ("barrier", "jobs"):
            raise ParamError(f"engine={name!r} needs a Spark DataFrame; a pandas DataFrame "
                             "trains on engine='local'")
        return "local"
    if name != "auto":
        return name
    from distml.engine.spark_input import dynamic_allocation_on
    if dynamic_allocation_on(dataset.sparkSession):
        log.warning(
            "distml: dynamic allocation is on (spark.dynamicAllocation.enabled) and Spark "
            "refuses barrier stages there, so this fit runs one Spark job per round "
            "(engine='jobs'). For the faster barrier engine, set "
            "spark.dynamicAllocation.enabled=false for this application.")
        return "jobs"
    return "barrier"


def fit_program(program: Program, params: dict, dataset: Any, spec: InputSpec,
                engine: str = "auto", num_workers: int = 0, label: str = "fit",
                checkpoints: CheckpointSettings | None = None) -> FitResult:
    """Run ``program`` over ``dataset`` on the chosen engine; what every estimator calls.
    ``label`` names the fit in its progress reports (``engine.progress``) and its checkpoint
    directory; a failed attempt on Spark is run again from the last checkpoint
    (``engine.recovery``)."""
    from distml.engine.progress import fit_progress
    chosen = choose_engine(engine, dataset)
    spark = dataset.sparkSession if is_spark_dataframe(dataset) else None
    with fit_progress(label, spark):
        return fit_with_retries(
            lambda recovery: _fit_on(chosen, program, params, dataset, spec, num_workers,
                                     recovery),
            spark if chosen != "local" else None, checkpoints or CheckpointSettings(), label,
            params)


def _fit_on(chosen: str, program: Program, params: dict, dataset: Any, spec: InputSpec,
            num_workers: int, recovery: Recovery) -> FitResult:
    if chosen == "local":
        local = LocalEngine(num_workers)
        if is_spark_dataframe(dataset):
            return local.fit(program, params, _spark_to_local(dataset, spec, num_workers),
                             spec.features_name, recovery)
        return local.fit_arrays(program, params, pandas_arrays(dataset, spec),
                                spec.features_name, recovery)
    spark = dataset.sparkSession
    if chosen == "barrier":
        from distml.engine.barrier import BarrierEngine
        return BarrierEngine(spark, num_workers).fit(program, params, dataset, spec, recovery)
    from distml.engine.jobs import JobsEngine
    return JobsEngine(spark, num_workers).fit(program, params, dataset, spec, recovery)


def _spark_to_local(df, spec: InputSpec, num_workers: int):
    """A Spark DataFrame's partitions, converted on the executors and collected to the driver.

    Keeping Spark's partitions (not re-splitting) is what makes a local fit of Spark data give
    the same bits as the other engines.
    """
    from distml.engine import results
    from distml.engine.spark_errors import original_exception
    from distml.engine.spark_input import (partitions_as_rows, prepare, resolve_ranks,
                                           with_partitions)

    prepared, layout = prepare(df, spec)
    num = resolve_ranks(df.sparkSession, prepared, num_workers, barrier=False)
    try:
        rows = partitions_as_rows(with_partitions(prepared, num, source=df), layout).collect()
    except Exception as e:
        raise (original_exception(e) or e) from None
    return list(results.from_rows(rows).values())
