"""BarrierEngine: the whole fit in one Spark barrier stage, primitives as TCP collectives.

Every task converts its Arrow batches to numpy once, meets the others through the driver's
rendezvous, and runs the same training loop in lock-step; map_reduce is a local call plus one
allreduce. This is what makes an iteration cost milliseconds instead of a Spark job.
"""
from __future__ import annotations

import logging
import secrets
import time
import uuid

from pyspark.sql import DataFrame, SparkSession

from distml.engine import results
from distml.engine.arrow_input import InputLayout, batches_to_partition
from distml.engine.combine import check_op
from distml.engine.comm import Communicator, PeerAborted, connect_mesh, open_listener
from distml.engine.context import (Context, FitResult, Program, merge_pieces, run_program,
                                   split_by_destination)
from distml.engine.partition import Partition
from distml.engine.rendezvous import RendezvousClient, RendezvousServer
from distml.engine.spark_errors import original_exception, python_error_summary
from distml.engine.spark_input import (conf_get, dynamic_allocation_on, prepare,
                                       resolve_ranks, with_partitions)
from distml.errors import DataError, FitError, ParamError

log = logging.getLogger("distml")

DEFAULT_TIMEOUT = 1800.0  # seconds a rank waits on a peer; failures propagate long before


class BarrierContext(Context):
    def __init__(self, comm: Communicator, partition: Partition,
                 client: RendezvousClient | None = None):
        super().__init__()
        self.comm, self.partition, self.client = comm, partition, client
        self.num_partitions = comm.size

    def _emit(self, entry: dict) -> None:
        # Every rank runs the same loop; rank 0 alone tells the driver, as the round ends.
        if self.comm.rank == 0 and self.client is not None:
            self.client.progress(entry)

    def map_reduce(self, fn, *args, op="sum"):
        check_op(op)
        return self.comm.allreduce(fn(self.partition, *args), op)

    def map_collect(self, fn, *args):
        return self.comm.allgather(fn(self.partition, *args))

    def map_update(self, fn, *args, op="sum"):
        return self.map_reduce(fn, *args, op=op)

    def repartition(self, fn, into):
        pieces = split_by_destination(self.partition, fn, self.num_partitions)
        self.partition.state[into] = merge_pieces(self.comm.alltoall(pieces))


def _barrier_task(program: Program, params: dict, layout: InputLayout,
                  driver: tuple[str, int], secret: bytes, timeout: float):
    """The function every barrier task runs; it closes over plain values only."""

    def task(batches):
        from pyspark import BarrierTaskContext

        tctx = BarrierTaskContext.get()
        rank, size = tctx.partitionId(), len(tctx.getTaskInfos())
        client = RendezvousClient(driver, secret, rank, timeout)
        comm = None
        try:
            part = batches_to_partition(batches, layout, rank)
            listener = open_listener(client.local_host)
            peers = client.register(listener.getsockname()[1], size)
            comm = connect_mesh(rank, peers, listener, secret, timeout)
            result = run_program(program, BarrierContext(comm, part, client), params,
                                 layout.features_name)
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
            yield from results.to_batches(result, rank)

    return task


class BarrierEngine:
    name = "barrier"

    def __init__(self, spark: SparkSession, num_workers: int = 0,
                 timeout: float | None = None):
        self.spark, self.num_workers = spark, num_workers
        self.timeout = float(timeout or conf_get(spark, "spark.distml.timeout",
                                                 str(DEFAULT_TIMEOUT)))

    def fit(self, program: Program, params: dict, df: DataFrame, spec) -> FitResult:
        if dynamic_allocation_on(self.spark):
            raise ParamError(
                "engine='barrier' cannot run while dynamic allocation is on (Spark refuses "
                "barrier stages there): use engine='jobs' or 'auto', or set "
                "spark.dynamicAllocation.enabled=false for this application")
        prepared, layout = prepare(df, spec)
        ranks = resolve_ranks(self.spark, prepared, self.num_workers, barrier=True)
        prepared = with_partitions(prepared, ranks, source=df)
        sc = self.spark.sparkContext
        advertise = conf_get(self.spark, "spark.driver.host")
        bind = conf_get(self.spark, "spark.driver.bindAddress", advertise)
        secret = secrets.token_bytes(32)
        tag = f"distml-fit-{uuid.uuid4().hex}"
        server = RendezvousServer(secret, self.timeout, bind,
                                  on_failure=lambda f: sc.cancelJobsWithTag(tag))
        task = _barrier_task(program, params, layout, (advertise, server.address[1]), secret,
                             self.timeout)
        sc.addJobTag(tag)
        try:
            rows = prepared.mapInArrow(task, results.CHUNK_SCHEMA, barrier=True).collect()
            server.wait_done(timeout=5.0)
        except Exception as e:
            raise _fit_error(server, e) from None
        finally:
            sc.removeJobTag(tag)
            server.close()
        if not rows:  # the stage had no tasks: Spark planned the input as no partitions
            raise DataError(f"the input has 0 rows: nothing to fit on column "
                            f"'{layout.features_name}'")
        return results.from_rows(rows)[0]


def _fit_error(server: RendezvousServer, err: Exception) -> BaseException:
    """The first failing rank's own exception, else the Python error inside Spark's."""
    deadline = time.monotonic() + 2.0
    failure = server.first_failure()
    while failure is None and time.monotonic() < deadline:
        time.sleep(0.05)  # the report may trail the stage failure by a moment
        failure = server.first_failure()
    if failure is not None:
        exc = failure.to_exception()
        log.debug("distml: rank %d failed:\n%s", failure.rank, failure.traceback)
        if isinstance(exc, (ValueError, TypeError, FitError)):
            return exc
        return FitError(f"rank {failure.rank} failed: {failure.message}")
    original = original_exception(err)
    if original is not None:
        return original
    return FitError(f"the barrier stage failed: {python_error_summary(err)}")
