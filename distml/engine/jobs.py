"""JobsEngine: the training loop on the driver, each primitive one Spark job.

MLlib's own pattern, for clusters where barrier stages are refused (dynamic allocation): the
loop runs on the driver and every map_reduce is a Spark job whose per-partition results are
collected and folded in partition order (not treeAggregate, whose combine order follows
shuffle arrival: its bits would vary and differ from the other engines; the reduced arrays are
small, so P of them fit on the driver).

Where the data lives: the cached RDD holds only each partition's index and ``state`` (small);
the arrays (X, y, w, ids) sit in a per-host store (``partition_store``: files in memory, read
by memory map) written by the task that converted the partition. Spark schedules a job's tasks
where the cached state blocks are, i.e. beside the stored arrays, so a round ships no data.
Lineage stays the safety net: a lost state block is recomputed by Spark from the conversion
(which stores the arrays again, on the new host) and the map_updates since; a task that runs
away from its host's store (StoreMiss) makes the driver rerun that job the slow way — the data
converted again from the DataFrame, zipped with the states — which also refills the store.
A state's large arrays live in the same store (``engine.state_store``), so the cached blocks
stay small and a round pickles no rows; a task that finds its state missing fails the attempt,
which the driver runs again.
"""
from __future__ import annotations

import dataclasses
import json
import logging
import pickle
import uuid
from typing import Any, Callable

import pyarrow as pa
from pyspark import AccumulatorParam, StorageLevel
from pyspark.sql import DataFrame, SparkSession

from distml import frames
from distml.engine import partition_store, resident, results, state_store
from distml.engine.combine import check_op, fold
from distml.engine.context import (Context, FitResult, Program, Recovery, merge_pieces,
                                   partition_shape, run_program, split_by_destination)
from distml.engine.faults import task_fault
from distml.engine.memory import IngestBudget, RankMeter, ingest_budget
from distml.engine.partition import Partition
from distml.engine.partition_store import StoreMiss
from distml.engine.spark_errors import (describe_exception, original_exception,
                                        rebuild_exception, spark_failure,
                                        wrap_executor_errors)
from distml.errors import DataError, ExecutorMemoryError, ParamError
from distml.frames.arrow_input import InputLayout, batches_to_partition
from distml.frames.capacity import is_local
from distml.frames.spark_input import partitions_as_rows, prepare, resolve_ranks, with_partitions

log = logging.getLogger("distml")

_BROADCAST_BYTES = 1 << 20  # args larger than this travel as a broadcast, once per executor
LINEAGE_CUT_EVERY = 10       # map_updates between lineage cuts (deep lineage overflows stacks)


class PartitionState:
    """What the cached RDD holds for one partition: its index, its state, a round's result."""

    __slots__ = ("index", "state", "result")

    def __init__(self, index: int, state: dict | None = None, result: Any = None):
        self.index, self.state, self.result = index, state or {}, result


class _Appended(AccumulatorParam):
    """An accumulator of lists: the tasks that ran again, as (partition, iteration, attempt);
    the partitions no host store could take."""

    def zero(self, value):
        return []

    def addInPlace(self, a, b):
        a.extend(b)
        return a


class RoundInfo:
    """What a round's tasks know of the fit: where the arrays are stored (``data_id``: the
    fit's own id, or the resident key its rows are kept under, beside which arrays the fit
    replaces go under ``fit_id``), whether to read them the slow way, the iteration and the
    fit's attempt (for the test hook, ``engine.faults``), and the accumulator that tells the
    driver which tasks Spark ran again."""

    __slots__ = ("fit_id", "data_id", "limit", "slow", "iteration", "attempt", "reruns",
                 "version")

    def __init__(self, fit_id, data_id, limit, slow, iteration, attempt, reruns, version=0):
        self.fit_id, self.data_id, self.limit = fit_id, data_id, limit
        self.slow, self.iteration = slow, iteration
        self.attempt, self.reruns = attempt, reruns
        self.version = version  # the states this round persists: their number in the fit

    def keep_state(self, index: int, state: dict):
        """A round's new state, its large arrays kept in this host's store."""
        version = self.version
        return state_store.keep(state, self.fit_id, index, version,
                                needed=lambda v: v >= version - 2 or v % LINEAGE_CUT_EVERY == 0)

    def keep(self, part: Partition) -> bool:
        """Store a freshly converted partition where the rounds read it."""
        if self.data_id == self.fit_id:
            return partition_store.write(self.fit_id, part, replace=True)
        return resident.store(self.data_id, part, self.limit)

    def read(self, index: int, state: dict) -> Partition:
        """The partition's arrays: those the fit replaced, else those it was given."""
        if self.data_id != self.fit_id and partition_store.holds(self.fit_id, index):
            return partition_store.read(self.fit_id, index, state)
        return partition_store.read(self.data_id, index, state)

    def start(self, index: int) -> None:
        """In the task, before partition ``index`` is touched."""
        from pyspark import TaskContext
        task_attempt = TaskContext.get().attemptNumber()
        fault = task_fault()
        if fault is not None:
            fault.check(index, self.iteration, self.attempt + task_attempt)
        if task_attempt > 0:
            self.reruns.add([(index, self.iteration, task_attempt)])


def _partitions(info: RoundInfo):
    """Iterate a task's partitions: from the host store (fast) or from zipped data (slow)."""
    def iterate(iterator):
        for item in iterator:
            if info.slow:
                data, st = item[0], _as_state(item[1])
                info.start(st.index)
                info.keep(data)  # refill this host's store
                data.state = state_store.restore(st.state)
                yield data, st
            else:
                st = _as_state(item)
                info.start(st.index)
                yield info.read(st.index, state_store.restore(st.state)), st
    return iterate


def _args(ref, from_broadcast: bool) -> tuple:
    return ref.value if from_broadcast else ref


class Missed:
    """A task's result when its host's store lacks its partition. Returned, not raised: Spark
    would retry a raised StoreMiss up to spark.task.maxFailures times on the same host (where
    the cached state, hence the task, stays), each attempt a new Python worker, before the
    driver could take the slow way; a marker sends it there after one attempt."""


# Errors every attempt on the partition would raise alike: its data, or a param, is bad. (Not
# any error that recovery calls permanent: a TypeError is a bug, whose executor traceback
# only Spark's own error carries.)
_FAILS_ALIKE = (DataError, ParamError, ExecutorMemoryError)


class Failed:
    """A task's result when its partition raised one of _FAILS_ALIKE. Returned, not raised,
    for the same reason as Missed: Spark's retries would only repeat it, each in a new Python
    worker. It carries the exception as ``spark_errors`` describes it (strings); the driver
    rebuilds it from the allow-list and raises it."""

    def __init__(self, exc: BaseException):
        self.described = describe_exception(exc)


def _marked(out, marker: type) -> list:
    return [o for o in out if isinstance(o, marker)] if isinstance(out, list) else []


def _task_outcomes(task: Callable, as_result: Callable[[Any], list]) -> Callable:
    """``task`` with a store miss, or an error that would recur, returned as a marker
    (``as_result`` makes a marker the task's result rows)."""
    def run(iterator):
        try:
            return task(iterator)
        except StoreMiss:
            return as_result(Missed())
        except _FAILS_ALIKE as e:
            return as_result(Failed(e))
    return run


def _map(fn, ref, is_bc, info):
    def run(iterator):
        args = _args(ref, is_bc)
        return [fn(part, *args) for part, _ in _partitions(info)(iterator)]
    return wrap_executor_errors(_task_outcomes(run, lambda marker: [marker]))


def _update(fn, ref, is_bc, info):
    def run(iterator):
        args = _args(ref, is_bc)
        out = []
        for part, _ in _partitions(info)(iterator):
            arrays = (part.X, part.y, part.w, part.ids)
            result = fn(part, *args)
            if any(a is not b for a, b in zip(arrays, (part.X, part.y, part.w, part.ids))):
                partition_store.write(info.fit_id, part, replace=True)  # fn replaced them
            out.append(PartitionState(part.index,
                                      info.keep_state(part.index, part.state), result))
        return out
    return wrap_executor_errors(
        _task_outcomes(run, lambda marker: [PartitionState(-1, result=marker)]))


def _pieces(fn, num, info):
    def run(iterator):
        out = []
        for part, st in _partitions(info)(iterator):
            for dest, piece in enumerate(split_by_destination(part, fn, num)):
                out.append((dest, (part.index, piece)))
            # The state as cached (a reference, when the host store keeps its arrays).
            out.append((part.index, (-1, PartitionState(part.index, st.state))))
        return out
    return wrap_executor_errors(run)


def _assemble_received(into, info):
    def run(iterator):
        received = sorted(iterator, key=lambda kv: kv[1][0])
        own = received[0][1][1]
        state = state_store.restore(own.state)
        state[into] = merge_pieces([kv[1][1] for kv in received[1:]])
        own.state = info.keep_state(own.index, state)
        return [own]
    return wrap_executor_errors(run)


# What the conversion returns for its partition: its index, and what ``describe_input`` checks
# (``context.partition_shape``), so the fit's first round is the conversion itself; or the
# error that every attempt to convert it would raise (a Failed's description, JSON).
_CONVERTED = ("part long, rows long, features long, sparse boolean, digest string, "
              "device string, memory string, error string")
_CONVERTED_SCHEMA = pa.schema([("part", pa.int64()), ("rows", pa.int64()),
                               ("features", pa.int64()), ("sparse", pa.bool_()),
                               ("digest", pa.string()), ("device", pa.string()),
                               ("memory", pa.string()),
                               ("error", pa.string())])


def _ingest(layout: InputLayout, info: RoundInfo, unstored, with_fingerprint: bool,
            backend: str | None, budget: IngestBudget):
    def convert(batches):
        from pyspark import TaskContext
        index = TaskContext.get().partitionId()
        meter = RankMeter.start()
        part = batches_to_partition(batches, layout, index, budget)
        if not info.keep(part):
            unstored.add([index])  # no room on this host: the rounds read it the slow way
        (rows, features, sparse), digest, device = partition_shape(part, with_fingerprint,
                                                                   backend)
        return [{"part": index, "rows": rows, "features": features, "sparse": sparse,
                 "digest": digest, "device": device,
                 "memory": json.dumps(meter.report(part, budget)), "error": None}]

    def failed(marker: Failed):  # (a conversion reads no store, so never a Missed)
        from pyspark import TaskContext
        return [{"part": TaskContext.get().partitionId(), "error": json.dumps(marker.described)}]

    def run(batches):
        rows = _task_outcomes(convert, failed)(batches)
        yield pa.RecordBatch.from_pylist(rows, schema=_CONVERTED_SCHEMA)
    return wrap_executor_errors(run)


def _as_state(item) -> PartitionState:
    """A cached item as a PartitionState. The conversion's output is cached as the rows the
    JVM pickles (a ``Row`` per partition: a Python pass to make PartitionStates of them would
    cost each task another worker round trip); every update caches PartitionStates."""
    return item if isinstance(item, PartitionState) else PartitionState(item.part)


def _assemble_data(rows):
    return list(results.from_rows(rows).values())


def _job_error(err: Exception) -> BaseException:
    original = original_exception(err)
    if original is not None:
        return original
    return spark_failure(err, "a Spark job of the fit")


class JobsContext(Context):
    def __init__(self, spark: SparkSession, states, data_factory: Callable, fit_id: str,
                 num_partitions: int, recovery: Recovery | None = None, unstored=None,
                 data_id: str | None = None, limit: int = 0, converting: tuple | None = None):
        super().__init__(recovery)
        self.sc = spark.sparkContext
        self._local = is_local(spark)
        self._reruns = self.sc.accumulator([], _Appended())
        self._unstored = unstored  # partitions no host store could take (known after a job)
        self._reruns_seen = 0
        self.states = states
        self._data_factory = data_factory
        self.fit_id = fit_id
        self.data_id, self.limit = data_id or fit_id, limit
        self.num_partitions = num_partitions
        self._updates = 0
        self._stored = False  # whether any job ran, i.e. the store holds anything to remove
        self.read_dataframe = False  # whether a round read the DataFrame (a store miss)
        # (with_fingerprint, backend) the conversion describes its partitions with, while the
        # states are the conversion's output, not yet computed
        self._converting = converting
        self.memory: list = []

    def _ship(self, args: tuple):
        if len(pickle.dumps(args, protocol=pickle.HIGHEST_PROTOCOL)) > _BROADCAST_BYTES:
            return self.sc.broadcast(args), True
        return args, False

    def _source(self, slow: bool):
        if not slow:
            return self.states
        log.info("distml: a task ran away from its stored partition; rerunning the round "
                 "from the DataFrame")
        self.read_dataframe = True
        return self._data_factory().zip(self.states)

    def _info(self, slow: bool) -> RoundInfo:
        return RoundInfo(self.fit_id, self.data_id, self.limit, slow, self.iteration + 1,
                         self.recovery.attempt, self._reruns, version=self._updates + 1)

    def _run(self, build: Callable[[RoundInfo], Any], action: Callable[[Any], Any]):
        """``action(build(info))``, fast first; on a store miss once more the slow way. When
        the store could not take some partition, every round goes the slow way at once."""
        without_store = self._unstored is not None and bool(self._unstored.value)
        for slow in ((True,) if without_store else (False, True)):
            info = self._info(slow)
            rdd = build(info)
            try:
                out = action(rdd)
            except Exception as e:
                err = _job_error(e)
                if isinstance(err, StoreMiss) and not slow:
                    rdd.unpersist(blocking=False)
                    continue
                raise err from None
            failed, missed = _marked(out, Failed), _marked(out, Missed) and not slow
            if failed or missed:
                rdd.unpersist(blocking=False)
            if failed:
                raise rebuild_exception(failed[0].described)
            if missed:
                continue
            self._stored = True
            self._note_reruns()
            return rdd, out
        raise AssertionError("unreachable")

    def _note_reruns(self) -> None:
        """Note the tasks Spark ran again (lineage and ``spark.task.maxFailures``) in the job
        that just succeeded: each started over from the partition state cached before it."""
        reruns = self._reruns.value
        for index, iteration, attempt in reruns[self._reruns_seen:]:
            self.notes.append(f"partition {index} failed at iteration {iteration}; Spark ran "
                              f"its task again (attempt {attempt + 1}) from the partition state "
                              f"cached at iteration {iteration - 1}")
        self._reruns_seen = len(reruns)

    def partition_shapes(self, with_fingerprint, backend):
        if self._converting != (with_fingerprint, backend):
            return super().partition_shapes(with_fingerprint, backend)
        self._converting = None
        # The first job: the conversion, whose cached rows are the description.
        _, rows = self._run(lambda info: self.states, lambda rdd: rdd.collect())
        failed = [r.error for r in rows if r.error is not None]
        if failed:
            raise rebuild_exception(json.loads(failed[0]))
        self.memory = [json.loads(r.memory) for r in rows]  # (the ingestion tasks' peaks)
        return [((r.rows, r.features, r.sparse), r.digest, r.device) for r in rows]

    def map_collect(self, fn, *args):
        ref, is_bc = self._ship(args)
        try:
            _, out = self._run(
                lambda info: self._source(info.slow).mapPartitions(
                    _map(fn, ref, is_bc, info)),
                lambda rdd: rdd.collect())
            return out
        finally:
            if is_bc:
                ref.destroy()

    def map_reduce(self, fn, *args, op="sum"):
        check_op(op)
        return fold(self.map_collect(fn, *args), op)

    def map_update(self, fn, *args, op="sum"):
        check_op(op)
        ref, is_bc = self._ship(args)

        def build(info):
            rdd = self._source(info.slow).mapPartitions(_update(fn, ref, is_bc, info),
                                                        preservesPartitioning=True)
            self._persist(rdd)
            return rdd

        try:
            # The cached states themselves come back (small: their large arrays are in the
            # host stores). A mapPartitions picking the results out would run a second Python
            # pass over the cached block in every task, ~40 ms a round.
            updated, out = self._run(build,
                                     lambda rdd: [st.result for st in rdd.collect()])
        finally:
            if is_bc:
                ref.unpersist()
        self._swap(updated)
        return None if all(r is None for r in out) else fold(out, op)

    def repartition(self, fn, into):
        num = self.num_partitions

        def build(info):
            rdd = (self._source(info.slow).mapPartitions(_pieces(fn, num, info))
                   .partitionBy(num, lambda k: k)
                   .mapPartitions(_assemble_received(into, info), preservesPartitioning=True))
            self._persist(rdd)
            return rdd

        updated, _ = self._run(build, lambda rdd: rdd.count())
        self._swap(updated)

    def _persist(self, rdd) -> None:
        """Cache the new states, and every LINEAGE_CUT_EVERY updates cut their lineage (a
        long fit's would otherwise overflow the stack when Spark serializes it): to Spark's
        checkpoint directory when one is set (survives a lost executor), else on the executors
        (``localCheckpoint``: a lost executor then fails the job, and the driver reruns the fit
        from distml's own checkpoint, ``engine.recovery``)."""
        self._updates += 1
        rdd.persist(StorageLevel.MEMORY_AND_DISK)
        if self._updates % LINEAGE_CUT_EVERY == 0:
            if self.sc.getCheckpointDir():
                rdd.checkpoint()  # written from the cache when the job materializes it
            else:
                rdd.localCheckpoint()

    def _swap(self, rdd) -> None:
        old, self.states = self.states, rdd
        old.unpersist(blocking=False)

    def close(self) -> None:
        fit_id = self.fit_id
        # A removal job on every host that stored something. Not when no job succeeded (it
        # would redo the failed work), nor on a local master, whose tasks all ran on this
        # host in this process's environment (a Spark job, ~0.1 s, fewer per fit).
        if self._stored and not self._local:
            def remove(iterator):
                for item in iterator:
                    partition_store.remove(fit_id, _as_state(item).index)
                return []
            try:
                self.states.mapPartitions(remove).count()
            except Exception as e:  # cleanup must not hide the fit's own outcome
                log.warning("distml: could not remove stored partitions of fit %s: %s",
                            fit_id, e)
        partition_store.remove(fit_id)  # this host's files
        self.states.unpersist(blocking=False)


class JobsEngine:
    def __init__(self, spark: SparkSession, num_workers: int = 0):
        self.spark, self.num_workers = spark, num_workers

    def fit(self, program: Program, params: dict, df: DataFrame, spec,
            recovery: Recovery | None = None) -> FitResult:
        recovery = recovery or Recovery()
        prepared, layout = prepare(df, spec)
        layout = dataclasses.replace(layout, fingerprint=recovery.fingerprints)
        num = resolve_ranks(self.spark, prepared, self.num_workers, barrier=False)
        prepared = with_partitions(prepared, num, source=df)
        fit_id = uuid.uuid4().hex
        sc = self.spark.sparkContext
        key = resident.key_of(frames.of(df), spec, num, layout.features_kind)
        limit = resident.limit_bytes(self.spark) if key else 0
        unstored = sc.accumulator([], _Appended())
        reused = resident.is_complete(key, num)
        converting = None
        if reused:  # each host maps its stored partitions back; a miss reads the DataFrame
            resident.note_reused(key)
            states = sc.parallelize([PartitionState(i) for i in range(num)], num)
        else:
            converting = (recovery.fingerprints, params.get("backend"))
            ingest = _ingest(layout, RoundInfo(fit_id, key or fit_id, limit, False, 0, 0, None),
                             unstored, *converting, ingest_budget(self.spark, program, num))
            states = prepared.mapInArrow(ingest, _CONVERTED).rdd
        states = states.persist(StorageLevel.MEMORY_AND_DISK)

        def data():
            return partitions_as_rows(prepared, layout).rdd.mapPartitions(
                _assemble_data, preservesPartitioning=True)

        ctx = JobsContext(self.spark, states, data, fit_id, num, recovery, unstored, key, limit,
                          converting)
        try:
            result = run_program(program, ctx, params, layout.features_name)
        finally:
            ctx.close()
        result.memory = ctx.memory
        if key is not None and not reused:
            resident.mark(key, num, stored=not unstored.value)
        result.resident = reused and not ctx.read_dataframe
        return result
