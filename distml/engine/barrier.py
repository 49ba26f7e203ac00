"""BarrierEngine: the whole fit in one Spark barrier stage, primitives as TCP collectives.

Every task converts its Arrow batches to numpy once (or, for a cached DataFrame fitted before,
maps its resident partition back: ``engine.resident``), meets the others through the driver's
rendezvous, and runs the same training loop in lock-step; map_reduce is a local call plus one
allreduce. This is what makes an iteration cost milliseconds instead of a Spark job.
"""
from __future__ import annotations

import dataclasses
import logging
import secrets
import time
import uuid
from typing import Any, Callable

import numpy as np
from pyspark.sql import DataFrame, SparkSession

from distml import frames
from distml.engine import partition_store, resident, results
from distml.engine.checkpoint import Checkpoint
from distml.engine.combine import check_op
from distml.engine.comm import (Communicator, PeerAborted, Security, connect_mesh, open_listener,
                                security_settings)
from distml.engine.context import (Context, FitResult, Program, Recovery, merge_pieces, run_program,
                                   split_by_destination)
from distml.engine.faults import FaultSpec
from distml.engine.memory import IngestBudget, RankMeter, ingest_budget
from distml.engine.partition import Partition
from distml.engine.partition_store import StoreMiss
from distml.engine.recovery import is_transient
from distml.engine.rendezvous import RendezvousClient, RendezvousServer
from distml.engine.spark_errors import (original_exception, spark_failure,
                                        wrap_executor_errors)
from distml.errors import DataError, FitError, ParamError
from distml.frames.arrow_input import InputLayout, batches_to_partition
from distml.frames.capacity import (allocation_wait, dynamic_allocation_on, task_slots,
                                    wait_for_slots)
from distml.frames.spark_input import conf_get, prepare, resolve_ranks, with_partitions

log = logging.getLogger("distml")

DEFAULT_TIMEOUT = 1800.0  # seconds a rank waits on a peer; failures propagate long before


class BarrierContext(Context):
    def __init__(self, comm: Communicator, partition: Partition,
                 client: RendezvousClient | None = None, recovery: Recovery | None = None,
                 fault: FaultSpec | None = None):
        super().__init__(recovery)
        self.comm, self.partition, self.client = comm, partition, client
        self.num_partitions = comm.size
        self.fault = fault

    def _emit(self, entry: dict) -> None:
        # Every rank runs the same loop; rank 0 alone tells the driver, as the round ends.
        if self.comm.rank == 0 and self.client is not None:
            self.client.progress(entry)

    def _writes(self) -> bool:
        return self.comm.rank == 0  # it sends the checkpoint to the driver, which writes it

    def _checkpointed(self) -> None:
        # Rank 0 returns once the driver has written the checkpoint; the others wait for it
        # here, so no rank starts the next iteration (and fails in it) before the checkpoint
        # of this one is complete.
        self.comm.allreduce(np.zeros(1), "sum")

    def _local(self, fn, args):
        if self.fault is not None:  # the test hook (engine.faults): fail as a lost rank would
            self.fault.check(self.comm.rank, self.iteration + 1, self.recovery.attempt)
        return fn(self.partition, *args)

    def map_reduce(self, fn, *args, op="sum"):
        check_op(op)
        return self.comm.allreduce(self._local(fn, args), op)

    def map_collect(self, fn, *args):
        return self.comm.allgather(self._local(fn, args))

    def map_update(self, fn, *args, op="sum"):
        return self.map_reduce(fn, *args, op=op)

    def repartition(self, fn, into):
        pieces = self._local(split_by_destination, (fn, self.num_partitions))
        self.partition.state[into] = merge_pieces(self.comm.alltoall(pieces))


class RankInput:
    """Where a rank's partition comes from: converted from the stage's Arrow batches (and,
    with a resident ``key``, kept in this host's store for later fits; ``unstored`` hears of
    a partition the store could not take), or, with ``reuse``, mapped back from the store."""

    def __init__(self, layout: InputLayout, key: str | None = None, limit: int = 0,
                 reuse: bool = False, unstored=None, budget: IngestBudget | None = None):
        self.layout, self.key, self.limit = layout, key, limit
        self.reuse, self.unstored, self.budget = reuse, unstored, budget

    def partition(self, items, rank: int) -> Partition:
        if self.reuse:
            return partition_store.read(self.key, rank, {})  # StoreMiss: the driver ingests
        part = batches_to_partition(items, self.layout, rank, self.budget)
        if self.key is None:
            return part
        if not resident.store(self.key, part, self.limit):
            self.unstored.add(1)
            return part
        # The fit reads the stored copy, so the host holds the rows once, not twice (the
        # store's pages are memory too: /dev/shm counts against the container).
        return partition_store.read(self.key, rank, {})

    def emit(self, result: Any, rank: int):
        """The result as the stage returns it: Arrow batches from ``mapInArrow``, rows from
        the RDD stage of a reuse."""
        for batch in results.to_batches(result, rank):
            yield tuple(batch.column(i)[0].as_py() for i in range(3)) if self.reuse else batch


def run_rank(rank: int, size: int, items, program: Program, params: dict,
             source: RankInput, client: RendezvousClient, security: Security, timeout: float,
             recovery: Recovery, fault: FaultSpec | None):
    """One rank's part of a collective fit, once its task knows its rank and the rank count:
    read its partition, join the mesh, run the program; yields what the stage returns."""
    if client.duplicate:  # a second copy of a rank that is running: it does not join
        client.wait_for_end()
        return
    comm = None
    meter = RankMeter.start()
    try:
        part = source.partition(items, rank)
        listener = open_listener(client.local_host)
        peers = client.register(listener.getsockname()[1], size)
        comm = connect_mesh(rank, peers, listener, security, timeout)
        recovery.save = client.checkpoint
        ctx = BarrierContext(comm, part, client, recovery, fault)
        result = run_program(program, ctx, params, source.layout.features_name)
        result.memory = comm.allgather(meter.report(part, source.budget))
        client.done()
    except BaseException as e:
        client.report_failure(e, origin=not isinstance(e, PeerAborted))
        if comm is not None:
            comm.abort(f"{type(e).__name__}: {e}")
        raise
    finally:
        if comm is not None:
            comm.close()
        client.close()
    if rank == 0:
        yield from source.emit(result, rank)


def _rank_task(program: Program, params: dict, source: RankInput,
               driver: tuple[str, int] | None, security: Security, timeout: float,
               recovery: Recovery, size: int | None):
    """The function every task of the stage runs; it closes over plain values only. A barrier
    stage's tasks learn the rank count from Spark (``size`` None); an ordinary stage's are told
    it (the gang engine). Without a ``driver`` to meet at, the ranks meet by allGather."""

    def task(items):
        from pyspark import BarrierTaskContext, TaskContext

        from distml.engine.faults import task_fault

        if size is None:
            tctx = BarrierTaskContext.get()
            rank, count = tctx.partitionId(), len(tctx.getTaskInfos())
        else:
            rank, count = TaskContext.get().partitionId(), size
        if driver is None:  # a Spark Connect client: the ranks meet in the stage
            from distml.engine.gather_rendezvous import GatherRendezvous
            client = GatherRendezvous(rank, recovery.save)
        else:
            client = RendezvousClient(driver, security, rank, timeout)
        yield from run_rank(rank, count, items, program, params, source, client, security,
                            timeout, recovery, task_fault())

    return task


class BarrierEngine:
    """The fit in one barrier stage. ``GangEngine`` (``engine.gang``) runs the same ranks in an
    ordinary stage, through the hooks ``_check_allowed``, ``_ranks``, ``_start`` and
    ``barrier``."""

    barrier = True

    def __init__(self, spark: SparkSession, num_workers: int = 0,
                 timeout: float | None = None):
        self.spark, self.num_workers = spark, num_workers
        self.timeout = float(timeout or conf_get(spark, "spark.distml.timeout",
                                                 str(DEFAULT_TIMEOUT)))

    def _check_allowed(self) -> None:
        if dynamic_allocation_on(self.spark):
            if frames.is_connect(self.spark):
                raise ParamError(
                    "engine='barrier' cannot run on this Spark Connect server: dynamic "
                    "allocation is on, where Spark refuses barrier stages; use engine='jobs' "
                    "or 'auto' (which picks it there)")
            raise ParamError(
                "engine='barrier' cannot run while dynamic allocation is on (Spark refuses "
                "barrier stages there): use engine='gang' or 'auto', or set "
                "spark.dynamicAllocation.enabled=false for this application")

    def _ranks(self, df: DataFrame, prepared: DataFrame, recovery: Recovery) -> int:
        num_workers = self.num_workers
        if recovery.attempt > 0 and num_workers > task_slots(self.spark):
            # A retry after a lost executor: give the cluster a moment to replace it.
            have = wait_for_slots(self.spark, num_workers, allocation_wait(self.spark))
            if have < num_workers:
                num_workers = have
                log.warning("distml: the cluster runs %d tasks at once now (numWorkers=%d): "
                            "this attempt runs on %d ranks", have, self.num_workers, have)
        return resolve_ranks(self.spark, prepared, num_workers, barrier=True)

    def _start(self, ranks: int) -> dict:
        """What the rendezvous knows before the stage starts (nothing, for a barrier stage)."""
        return {}

    def fit(self, program: Program, params: dict, df: DataFrame, spec,
            recovery: Recovery | None = None) -> FitResult:
        recovery = recovery or Recovery()
        self._check_allowed()
        prepared, layout = prepare(df, spec)
        layout = dataclasses.replace(layout, fingerprint=recovery.fingerprints)
        ranks = self._ranks(df, prepared, recovery)
        prepared = with_partitions(prepared, ranks, source=df)
        budget = ingest_budget(self.spark, program, ranks)
        if frames.is_connect(self.spark):
            return self._connect_stage(program, params, RankInput(layout, budget=budget),
                                       recovery, prepared)
        sc = self.spark.sparkContext
        key = resident.key_of(frames.of(df), spec, ranks, layout.features_kind)
        limit = resident.limit_bytes(self.spark) if key else 0
        if resident.is_complete(key, ranks):
            try:
                indices = sc.parallelize(range(ranks), ranks)
                result = self._stage(
                    program, params, RankInput(layout, key, reuse=True, budget=budget), recovery,
                    ranks,
                    lambda task: (indices.barrier() if self.barrier else indices)
                    .mapPartitions(task).collect())
                resident.note_reused(key)
                result.resident = True
                return result
            except StoreMiss:  # a rank's host lacks its partition: ingest, and store again
                log.info("distml: a rank found no resident partition on its host; the fit "
                         "reads the DataFrame")
                resident.forget(key)
        unstored = sc.accumulator(0)
        result = self._stage(
            program, params, RankInput(layout, key, limit, unstored=unstored, budget=budget),
            recovery, ranks,
            lambda task: prepared.mapInArrow(task, results.CHUNK_SCHEMA,
                                             barrier=self.barrier).collect())
        if key is not None:
            resident.mark(key, ranks, stored=unstored.value == 0)
        return result

    def _connect_stage(self, program: Program, params: dict, source: RankInput,
                       recovery: Recovery, prepared: DataFrame) -> FitResult:
        """The stage from a Spark Connect client, which executors may not reach: the ranks
        meet by allGather (``engine.gather_rendezvous``), a failing rank's exception comes
        back in Spark's error, and rank 0 writes the checkpoints itself (``recovery.save`` is
        then a ``checkpoint.RankWriter``, shipped with the task)."""
        security = security_settings(self.spark, secrets.token_bytes(32))
        shipped = dataclasses.replace(
            recovery, interval=recovery.interval if recovery.checkpoints else 0)
        task = wrap_executor_errors(_rank_task(program, params, source, None, security,
                                               self.timeout, shipped, None))
        try:
            rows = prepared.mapInArrow(task, results.CHUNK_SCHEMA, barrier=True).collect()
        except Exception as e:
            raise (original_exception(e) or spark_failure(e, "the fit's stage")) from None
        return _result_of(rows, source)

    def _stage(self, program: Program, params: dict, source: RankInput, recovery: Recovery,
               ranks: int, collect: Callable) -> FitResult:
        """One stage of the program (``collect(task)`` runs it) with its rendezvous."""
        sc = self.spark.sparkContext
        advertise = conf_get(self.spark, "spark.driver.host")
        bind = conf_get(self.spark, "spark.driver.bindAddress", advertise)
        security = security_settings(self.spark, secrets.token_bytes(32))
        tag = f"distml-fit-{uuid.uuid4().hex}"
        save = recovery.save
        server = RendezvousServer(
            security, self.timeout, bind, cancel=lambda: sc.cancelJobsWithTag(tag),
            on_checkpoint=(lambda _, msg: save(Checkpoint.from_wire(msg))) if save else None,
            **self._start(ranks))
        # The tasks get the attempt's settings without the driver's writer: rank 0 sends its
        # checkpoints to the server above, which writes them.
        shipped = dataclasses.replace(
            recovery, save=None, interval=recovery.interval if recovery.checkpoints else 0)
        task = _rank_task(program, params, source, (advertise, server.address[1]),
                          security, self.timeout, shipped, None if self.barrier else ranks)
        sc.addJobTag(tag)
        try:
            rows = collect(task)
            if rows:  # (no task ran, no rank will report: the wait would be its timeout)
                server.wait_done(timeout=5.0)
        except Exception as e:
            if server.abandoned is not None:
                raise GangNotStarted(server.abandoned) from None
            error = _fit_error(server, e)
            server.drain(timeout=10.0)  # the checkpoints rank 0 sent before the failure
            raise error from None
        finally:
            sc.removeJobTag(tag)
            server.close()
        return _result_of(rows, source)


def _result_of(rows: list, source: RankInput) -> FitResult:
    if not rows:  # the stage had no tasks: Spark planned the input as no partitions
        raise DataError(f"the input has 0 rows: nothing to fit on column "
                        f"'{source.layout.features_name}'")
    return results.from_rows(rows)[0]


def _fit_error(server: RendezvousServer, err: Exception) -> BaseException:
    """The first failing rank's own exception, else the Python error inside Spark's."""
    deadline = time.monotonic() + 2.0
    failure = server.first_failure(reported=True)
    while failure is None and time.monotonic() < deadline:
        time.sleep(0.05)  # the report may trail the stage failure by a moment
        failure = server.first_failure(reported=True)
    failure = failure or server.first_failure()
    if failure is not None:
        exc = failure.to_exception()
        log.debug("distml: rank %d failed:\n%s", failure.rank, failure.traceback)
        if isinstance(exc, FitError) or not is_transient(exc):
            return exc  # its own type: a DataError stays a DataError, and is not retried
        return FitError(f"rank {failure.rank} failed: {failure.message}")
    original = original_exception(err)
    if original is not None:
        return original
    return spark_failure(err, "the fit's stage")


class GangNotStarted(Exception):
    """Not all ranks of an ordinary stage started within the start timeout (``engine.gang``,
    which then runs the fit on the jobs engine)."""
