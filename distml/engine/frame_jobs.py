"""FrameJobsEngine: the jobs engine for a Spark Connect client, each round a DataFrame job.

Why a second jobs engine: a Connect server with dynamic allocation (EMR's default) refuses
barrier stages, and ``engine.jobs`` keeps its partitions' state in a cached RDD, with
accumulators and broadcasts, none of which a Connect client has. Here the loop runs on the
client as it does there, and the state is a DataFrame of rows ``(part, kind, seq, payload)``:

- the conversion (``mapInArrow`` over the input) stores each partition's arrays in its host's
  store (``partition_store``, as on the RDD engine) and emits the partition's state row and
  its shape (what ``describe_input`` checks, so the first round is the conversion itself);
- ``map_collect``/``map_reduce`` are one ``mapInArrow`` over the state rows whose result rows
  the client collects; ``map_update`` also emits the next state rows, and its output is
  ``localCheckpoint``ed (computed once, kept on the executors, lineage cut every round) before
  the client takes the result rows from it, a JVM-only read;
- ``repartition`` sends every piece to its destination through a shuffle whose keys are
  chosen so that partition ``d`` receives exactly destination ``d``'s rows
  (``_partition_keys``);
- a task whose host does not hold its partition's arrays (the task ran away from its cached
  block, or the store had no room) returns a ``missed`` row, and the round runs again the slow
  way: the input converted again into data rows, shuffled together with the state rows by
  partition, which also refills the store on the host that now holds the state.

A state travels pickled, from executor to executor through Spark's own blocks, as the RDD
engine's cached states do; what reaches the client (results, errors) is ``wire``-encoded, and
the client never unpickles.
"""
from __future__ import annotations

import dataclasses
import json
import logging
import pickle
import uuid
from typing import Any, Callable

import pyarrow as pa

from distml.engine import partition_store, wire
from distml.engine.checkpoint import RankWriter
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
from distml.errors import DataError, ExecutorMemoryError, FitError, ParamError
from distml.frames.arrow_input import InputLayout, batches_to_partition
from distml.frames.capacity import is_local
from distml.frames.spark_input import prepare, resolve_ranks, with_partitions

log = logging.getLogger("distml")

ROWS = "part long, kind string, seq long, payload binary"
_ROWS_SCHEMA = pa.schema([("part", pa.int64()), ("kind", pa.string()), ("seq", pa.int64()),
                          ("payload", pa.binary())])
STATE, RESULT, SHAPE, DATA, PIECE = "state", "result", "shape", "data", "piece"
FAILED, MISSED = "failed", "missed"
_CHUNK_BYTES = 64 << 20  # a data row's payload: far below Arrow's 2 GiB a binary column
# Errors every attempt on the partition would raise alike (as ``engine.jobs``): returned as a
# row, not raised, so Spark does not retry them in new Python workers.
_FAILS_ALIKE = (DataError, ParamError, ExecutorMemoryError)


def _batch(rows: list[tuple]) -> pa.RecordBatch:
    columns = list(zip(*rows)) if rows else [[], [], [], []]
    return pa.RecordBatch.from_arrays([pa.array(c, type=f.type) for c, f in
                                       zip(columns, _ROWS_SCHEMA)], schema=_ROWS_SCHEMA)


def _grouped(batches) -> dict[int, dict]:
    """A task's input rows by partition: {part: {kind: [(seq, payload), ...]}}."""
    groups: dict[int, dict] = {}
    for batch in batches:
        for part, kind, seq, payload in zip(*(batch.column(i).to_pylist() for i in range(4))):
            groups.setdefault(part, {}).setdefault(kind, []).append((seq, payload))
    return groups


def _joined(pieces: list[tuple[int, bytes]]) -> bytes:
    return b"".join(payload for _, payload in sorted(pieces))


def _data_rows(part: Partition) -> list[tuple]:
    data = wire.to_bytes({"X": part.X, "y": part.y, "w": part.w, "ids": part.ids,
                          "digest": part.digest})
    return [(part.index, DATA, i, data[start:start + _CHUNK_BYTES])
            for i, start in enumerate(range(0, max(len(data), 1), _CHUNK_BYTES))]


def _from_data(index: int, data: bytes, state: dict) -> Partition:
    arrays = wire.from_bytes(data)
    return Partition(index, arrays["X"], arrays["y"], arrays["w"], arrays["ids"], state,
                     digest=arrays["digest"])


@dataclasses.dataclass(frozen=True)
class RoundInfo:
    """What a round's tasks know: the fit's store id, the iteration and attempt (for the test
    hook, ``engine.faults``)."""

    fit_id: str
    iteration: int
    attempt: int

    def partition(self, index: int, rows: dict) -> Partition:
        """Partition ``index`` from its rows: from data rows when the round carries them
        (which refill this host's store), else from the store (StoreMiss if not here)."""
        fault = task_fault()
        if fault is not None:
            from pyspark import TaskContext
            fault.check(index, self.iteration,
                        self.attempt + TaskContext.get().attemptNumber())
        state = pickle.loads(_joined(rows[STATE])) if STATE in rows else {}
        if DATA not in rows:
            return partition_store.read(self.fit_id, index, state)
        part = _from_data(index, _joined(rows[DATA]), state)
        partition_store.write(self.fit_id, part, replace=True)
        return part


def _state_row(part: Partition) -> tuple:
    return (part.index, STATE, 0, pickle.dumps(part.state, protocol=pickle.HIGHEST_PROTOCOL))


def _marker(index: int, exc: BaseException) -> tuple:
    if isinstance(exc, StoreMiss):
        return (index, MISSED, 0, str(exc).encode())
    return (index, FAILED, 0, json.dumps(describe_exception(exc)).encode())


def _round_task(info: RoundInfo, work: Callable[[Partition], list[tuple]]):
    """A round's task: ``work(partition)`` on each of its partitions, whose rows it emits; a
    store miss or an error that would recur becomes a marker row."""
    def run(batches):
        out = []
        for index, rows in sorted(_grouped(batches).items()):
            try:
                out.extend(work(info.partition(index, rows)))
            except (StoreMiss, *_FAILS_ALIKE) as e:
                out.append(_marker(index, e))
        yield _batch(out)
    return wrap_executor_errors(run)


def _result(index: int, value: Any) -> tuple:
    return (index, RESULT, 0, wire.to_bytes(value))


def _ingest(layout: InputLayout, fit_id: str, with_fingerprint: bool, backend: str | None,
            budget: IngestBudget):
    def run(batches):
        from pyspark import TaskContext
        index = TaskContext.get().partitionId()
        meter = RankMeter.start()
        try:
            part = batches_to_partition(batches, layout, index, budget)
            stored = partition_store.write(fit_id, part, replace=True)
            shape = partition_shape(part, with_fingerprint, backend)
            described = {"shape": shape, "stored": stored,
                         "memory": meter.report(part, budget)}
            rows = [_state_row(part), (index, SHAPE, 0, wire.to_bytes(described))]
        except _FAILS_ALIKE as e:
            rows = [_marker(index, e)]
        yield _batch(rows)
    return wrap_executor_errors(run)


def _as_data_rows(layout: InputLayout):
    """The input as data rows: what the slow way ships with the state rows."""
    def run(batches):
        from pyspark import TaskContext
        part = batches_to_partition(batches, layout, TaskContext.get().partitionId())
        yield _batch(_data_rows(part))
    return wrap_executor_errors(run)


def _raise_failed(rows: list) -> None:
    failed = [r for r in rows if r["kind"] == FAILED]
    if failed:
        raise rebuild_exception(json.loads(bytes(failed[0]["payload"])))


def _job_error(err: Exception) -> BaseException:
    return original_exception(err) or spark_failure(err, "a Spark job of the fit")


class FrameJobsContext(Context):
    def __init__(self, spark, states, data: Callable, fit_id: str, num_partitions: int,
                 recovery: Recovery | None = None, converting: tuple | None = None):
        super().__init__(recovery)
        self.spark, self.states, self._data = spark, states, data
        self.fit_id, self.num_partitions = fit_id, num_partitions
        self._converting = converting  # what the conversion described the partitions with
        self.memory: list = []  # the conversion tasks' RankMeter reports
        self._shapes: list | None = None  # its shape rows, once it ran
        self._keys: list[int] | None = None
        self._unstored = False  # a host store had no room: every round goes the slow way

    # --- how a round runs ----------------------------------------------------------------

    def _info(self) -> RoundInfo:
        return RoundInfo(self.fit_id, self.iteration + 1, self.recovery.attempt)

    def _source(self, slow: bool):
        """The state rows; the slow way, with the input's data rows beside them, each
        partition's rows in partition ``part``."""
        self._conversion_rows()
        if not slow:
            return self.states
        if not self._unstored:
            log.info("distml: a task ran away from its stored partition; running the round "
                     "again with the rows from the DataFrame")
        return self._by_part(self._data().unionByName(self.states))

    def _by_part(self, df):
        """``df``'s rows moved so that partition ``d`` holds exactly the rows of part ``d``."""
        from pyspark.sql import functions as F
        keys = F.array(*[F.lit(k) for k in self._partition_keys()])
        return (df.withColumn("_key", F.element_at(keys, F.col("part").cast("int") + 1))
                .repartition(self.num_partitions, "_key").drop("_key"))

    def _partition_keys(self) -> list[int]:
        """For each partition d, a key that Spark's hash partitioning sends to d (it is
        ``pmod(hash(key), n)``, murmur3 as the SQL ``hash``): asked of Spark once per fit."""
        if self._keys is None:
            from pyspark.sql import functions as F
            n = self.num_partitions
            rows = (self.spark.range(64 * n)
                    .select("id", F.pmod(F.hash("id"), F.lit(n)).alias("p"))
                    .groupBy("p").agg(F.min("id").alias("id")).collect())
            found = {int(r["p"]): int(r["id"]) for r in rows}
            if len(found) < n:
                raise FitError(f"no key found for {n - len(found)} of {n} partitions")
            self._keys = [found[d] for d in range(n)]
        return self._keys

    def _run(self, build: Callable[[Any], Any], finish: Callable[[Any], list]):
        """``finish(build(source))``: the round's output rows, fast first, then once more the
        slow way if a task missed its stored partition."""
        for slow in ((True,) if self._unstored else (False, True)):
            try:
                df = build(self._source(slow))
                rows = finish(df)
            except Exception as e:
                raise _job_error(e) from None
            _raise_failed(rows)
            missed = [r for r in rows if r["kind"] == MISSED]
            if missed and not slow:
                continue
            if missed:  # the slow way carries every partition's rows: a bug if it misses
                raise FitError("a round given the partitions' rows still missed one: "
                               + bytes(missed[0]["payload"]).decode())
            return df, rows
        raise AssertionError("unreachable")

    def _values(self, rows: list, kind: str = RESULT) -> list:
        return [wire.from_bytes(bytes(r["payload"]))
                for r in sorted(rows, key=lambda r: r["part"]) if r["kind"] == kind]

    def _kept(self, df):
        """The round's output computed once and kept on the executors (lineage cut)."""
        return df.localCheckpoint(eager=True)

    # --- the primitives ------------------------------------------------------------------

    def _conversion_rows(self) -> list:
        """The conversion's shape rows, running it first if no round has: the fit's first
        job, whose output holds the shapes beside the states."""
        if self._shapes is None:
            try:
                kept = self._kept(self.states)
                rows = kept.filter(f"kind != '{STATE}'").collect()
            except Exception as e:
                raise _job_error(e) from None
            _raise_failed(rows)
            self.states, self._shapes = kept.filter(f"kind = '{STATE}'"), rows
            if not all(v["stored"] for v in self._values(rows, SHAPE)):
                self._unstored = True
                log.info("distml: a host had no room for its partition's rows: every round "
                         "reads them from the DataFrame")
        return self._shapes

    def partition_shapes(self, with_fingerprint, backend):
        shapes = self._conversion_rows()
        self.memory = [v["memory"] for v in self._values(shapes, SHAPE)]  # (ingestion's peaks)
        if self._converting != (with_fingerprint, backend):  # described otherwise: a round
            return super().partition_shapes(with_fingerprint, backend)
        return [tuple(v["shape"]) for v in self._values(shapes, SHAPE)]

    def map_collect(self, fn, *args):
        info = self._info()
        task = _round_task(info, lambda part: [_result(part.index, fn(part, *args))])
        _, rows = self._run(lambda source: source.mapInArrow(task, ROWS),
                            lambda df: df.collect())
        return self._values(rows)

    def map_reduce(self, fn, *args, op="sum"):
        check_op(op)
        return fold(self.map_collect(fn, *args), op)

    def map_update(self, fn, *args, op="sum"):
        check_op(op)
        info, fit_id = self._info(), self.fit_id

        def work(part: Partition) -> list[tuple]:
            arrays = (part.X, part.y, part.w, part.ids)
            result = fn(part, *args)
            if any(a is not b for a, b in zip(arrays, (part.X, part.y, part.w, part.ids))):
                partition_store.write(fit_id, part, replace=True)  # fn replaced them
            return [_state_row(part), _result(part.index, result)]

        task = _round_task(info, work)
        kept, rows = self._run(
            lambda source: self._kept(source.mapInArrow(task, ROWS)),
            lambda df: df.filter(f"kind != '{STATE}'").collect())
        self.states = kept.filter(f"kind = '{STATE}'")
        out = self._values(rows)
        return None if all(r is None for r in out) else fold(out, op)

    def repartition(self, fn, into):
        num, info = self.num_partitions, self._info()

        def pieces(part: Partition) -> list[tuple]:
            rows = [_state_row(part)]
            for dest, piece in enumerate(split_by_destination(part, fn, num)):
                rows.append((dest, PIECE, part.index, wire.to_bytes(piece)))
            return rows

        def assemble(batches):
            out = []
            for index, rows in sorted(_grouped(batches).items()):
                if FAILED in rows or MISSED in rows:  # passed on to the client
                    kind = FAILED if FAILED in rows else MISSED
                    out.append((index, kind, 0, rows[kind][0][1]))
                    continue
                state = pickle.loads(_joined(rows[STATE]))
                received = [wire.from_bytes(p) for _, p in sorted(rows.get(PIECE, []))]
                state[into] = merge_pieces(received)
                out.append((index, STATE, 0, pickle.dumps(state,
                                                          protocol=pickle.HIGHEST_PROTOCOL)))
            yield _batch(out)

        sent = _round_task(info, pieces)
        kept, rows = self._run(
            lambda source: self._kept(self._by_part(source.mapInArrow(sent, ROWS))
                                      .mapInArrow(wrap_executor_errors(assemble), ROWS)),
            lambda df: df.filter(f"kind != '{STATE}'").collect())
        self.states = kept.filter(f"kind = '{STATE}'")

    def close(self) -> None:
        fit_id = self.fit_id
        partition_store.remove(fit_id)  # this host's entries
        # A removal job where the states are (the hosts that stored them): not when the
        # conversion never ran to the end (the job would run it again), nor on a local
        # master, whose tasks all ran on this host.
        if self._shapes is None or is_local(self.spark):
            return

        def remove(batches):
            for _ in batches:
                pass
            partition_store.remove(fit_id)  # this host's entries of the fit
            yield _batch([])
        try:  # one task per partition, where the states are: the hosts that stored them
            self.states.mapInArrow(remove, ROWS).collect()
        except Exception as e:  # cleanup must not hide the fit's own outcome
            log.warning("distml: could not remove stored partitions of fit %s: %s", fit_id, e)


class FrameJobsEngine:
    """The jobs engine's rounds as DataFrame jobs, for a Spark Connect client."""

    def __init__(self, spark, num_workers: int = 0):
        self.spark, self.num_workers = spark, num_workers

    def fit(self, program: Program, params: dict, df, spec,
            recovery: Recovery | None = None) -> FitResult:
        recovery = recovery or Recovery()
        if isinstance(recovery.save, RankWriter):
            # The loop runs on the client, but the checkpoint directory is storage the
            # executors reach: an executor writes each one.
            recovery = dataclasses.replace(recovery,
                                           save=_written_on_an_executor(self.spark,
                                                                        recovery.save))
        prepared, layout = prepare(df, spec)
        layout = dataclasses.replace(layout, fingerprint=recovery.fingerprints)
        num = resolve_ranks(self.spark, prepared, self.num_workers, barrier=False)
        prepared = with_partitions(prepared, num, source=df)
        fit_id = uuid.uuid4().hex
        converting = (recovery.fingerprints, params.get("backend"))
        states = prepared.mapInArrow(
            _ingest(layout, fit_id, *converting, ingest_budget(self.spark, program, num)), ROWS)
        ctx = FrameJobsContext(self.spark, states,
                               lambda: prepared.mapInArrow(_as_data_rows(layout), ROWS), fit_id,
                               num, recovery, converting)
        try:
            result = run_program(program, ctx, params, layout.features_name)
        finally:
            ctx.close()
        result.engine, result.memory = "jobs", ctx.memory
        return result


def _written_on_an_executor(spark, writer: RankWriter) -> Callable:
    def save(checkpoint) -> None:
        data = checkpoint.to_bytes()

        def write(batches):
            from distml.engine.checkpoint import Checkpoint
            for _ in batches:
                pass
            writer(Checkpoint.from_bytes(data))  # (the writer stamps its owner)
            yield _batch([])
        try:
            spark.range(1, numPartitions=1).mapInArrow(wrap_executor_errors(write),
                                                       ROWS).collect()
        except Exception as e:
            raise _job_error(e) from None
    return save

