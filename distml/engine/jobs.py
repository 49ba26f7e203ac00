"""JobsEngine: the training loop on the driver, each primitive one Spark job.

This is MLlib's own pattern: partitions live in a cached RDD of Partition objects (built once
from the Arrow batches), map_reduce is a mapPartitions whose per-partition results are collected
and folded in partition order on the driver. Slower per round than BarrierEngine, but it runs
where barrier stages are refused (dynamic allocation) and recovers lost tasks through lineage.

Why collect + fold rather than treeAggregate: treeAggregate combines in the order shuffle
blocks arrive, so its bits vary run to run and differ from the other engines; the arrays a
program reduces are small (d, d*d, k*d), so P of them fit on the driver.
"""
from __future__ import annotations

import pickle
from typing import Any, Callable

from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession

from distml.engine import results
from distml.engine.combine import check_op, fold
from distml.engine.context import (Context, FitResult, Program, merge_pieces, run_program,
                                   split_by_destination)
from distml.engine.spark_errors import (original_exception, python_error_summary,
                                       wrap_executor_errors)
from distml.engine.spark_input import (partitions_as_rows, prepare, resolve_ranks,
                                       with_partitions)
from distml.errors import FitError

_BROADCAST_BYTES = 1 << 20  # args larger than this travel as a broadcast, once per executor
LINEAGE_CUT_EVERY = 10       # map_updates between lineage cuts (deep lineage overflows stacks)


def _apply(fn: Callable, args_ref: Any, from_broadcast: bool) -> Callable:
    def run(iterator):
        args = args_ref.value if from_broadcast else args_ref
        for part in iterator:
            yield fn(part, *args)
    return wrap_executor_errors(run)


def _apply_update(fn: Callable, args_ref: Any, from_broadcast: bool) -> Callable:
    def run(iterator):
        args = args_ref.value if from_broadcast else args_ref
        out = []
        for part in iterator:
            part.state["__distml_result__"] = fn(part, *args)
            out.append(part)
        return out
    return wrap_executor_errors(run)


def _pop_result(iterator):
    return [part.state.pop("__distml_result__") for part in iterator]


class JobsContext(Context):
    def __init__(self, spark: SparkSession, rdd, num_partitions: int):
        super().__init__()
        self.sc = spark.sparkContext
        self.rdd = rdd
        self.num_partitions = num_partitions
        self._updates = 0

    def _ship(self, args: tuple):
        size = len(pickle.dumps(args, protocol=pickle.HIGHEST_PROTOCOL))
        if size > _BROADCAST_BYTES:
            return self.sc.broadcast(args), True
        return args, False

    def _collect(self, rdd) -> list:
        try:
            return rdd.collect()
        except Exception as e:
            raise _job_error(e) from None

    def map_collect(self, fn, *args):
        ref, is_bc = self._ship(args)
        try:
            return self._collect(self.rdd.mapPartitions(_apply(fn, ref, is_bc)))
        finally:
            if is_bc:
                ref.destroy()

    def map_reduce(self, fn, *args, op="sum"):
        check_op(op)
        return fold(self.map_collect(fn, *args), op)

    def map_update(self, fn, *args, op="sum"):
        check_op(op)
        ref, is_bc = self._ship(args)
        updated = self.rdd.mapPartitions(_apply_update(fn, ref, is_bc))
        self._persist(updated)
        try:
            out = self._collect(updated.mapPartitions(_pop_result))
        finally:
            if is_bc:
                ref.unpersist()
        self._swap(updated)
        return None if all(r is None for r in out) else fold(out, op)

    def repartition(self, fn, into):
        num = self.num_partitions

        def pieces(iterator):
            for part in iterator:
                for dest, piece in enumerate(split_by_destination(part, fn, num)):
                    yield dest, (part.index, piece)
                yield part.index, (-1, part)

        def assemble(iterator):
            received = sorted(iterator, key=lambda kv: kv[1][0])
            part = received[0][1][1]
            part.state[into] = merge_pieces([kv[1][1] for kv in received[1:]])
            return [part]

        updated = (self.rdd.mapPartitions(wrap_executor_errors(pieces))
                   .partitionBy(num, lambda k: k)
                   .mapPartitions(wrap_executor_errors(assemble), preservesPartitioning=True))
        self._persist(updated)
        try:
            updated.count()
        except Exception as e:
            raise _job_error(e) from None
        self._swap(updated)

    def _persist(self, rdd) -> None:
        self._updates += 1
        if self._updates % LINEAGE_CUT_EVERY == 0:
            rdd.localCheckpoint()  # truncates lineage once materialized; keeps it cached
        else:
            rdd.persist(StorageLevel.MEMORY_AND_DISK)

    def _swap(self, rdd) -> None:
        old, self.rdd = self.rdd, rdd
        old.unpersist(blocking=False)

    def close(self) -> None:
        self.rdd.unpersist(blocking=False)


def _assemble(rows):
    return list(results.from_rows(rows).values())


def _job_error(err: Exception) -> BaseException:
    original = original_exception(err)
    if original is not None:
        return original
    return FitError(f"a Spark job of the fit failed: {python_error_summary(err)}")


class JobsEngine:
    name = "jobs"

    def __init__(self, spark: SparkSession, num_workers: int = 0):
        self.spark, self.num_workers = spark, num_workers

    def fit(self, program: Program, params: dict, df: DataFrame, spec) -> FitResult:
        prepared, layout = prepare(df, spec)
        num = resolve_ranks(self.spark, prepared, self.num_workers, barrier=False)
        prepared = with_partitions(prepared, num)
        rdd = (partitions_as_rows(prepared, layout).rdd
               .mapPartitions(_assemble, preservesPartitioning=True)
               .persist(StorageLevel.MEMORY_AND_DISK))
        ctx = JobsContext(self.spark, rdd, num)
        try:
            return run_program(program, ctx, params, layout.features_name)
        finally:
            ctx.close()
