"""What the gang engine needs of the rendezvous, with the real rank body (``run_rank``) in
threads of this process: a second copy of a running rank (what ``spark.speculation`` or a
re-attempt launches) does not join and waits for the end; ranks that do not all start are
abandoned within the start timeout, never waited on; a rank whose connection drops fails the
fit at once. (Spark speculation itself cannot be provoked here: it never places a copy on the
host of the original, and every executor of this machine is on one host.)"""
import threading
import time
from types import SimpleNamespace

import numpy as np
import pytest

from distml.engine import results
from distml.engine.barrier import RankInput, run_rank
from distml.engine.comm import PeerAborted, Security
from distml.engine.context import Recovery
from distml.engine.local import LocalEngine
from distml.engine.partition import Partition
from distml.engine.rendezvous import RendezvousClient, RendezvousServer
from distml.errors import CollectiveError
from distml.frames import InputSpec

SECURITY = Security(b"g" * 32)
ROWS = [np.arange(12.0).reshape(6, 2), np.arange(12.0, 20.0).reshape(4, 2)]


def _sums(part):
    return part.X.sum(axis=0)


def sum_rows(ctx, params):
    return {"total": ctx.map_reduce(_sums), "rows": ctx.map_collect(lambda p: p.num_rows)}


class GatedInput(RankInput):
    """Each rank's rows, handed over once ``gate`` is set (so a test can act while every
    rank has connected but none has joined the mesh yet)."""

    def __init__(self, gate: threading.Event):
        super().__init__(SimpleNamespace(features_name="features"))
        self.gate = gate

    def partition(self, items, rank):
        assert self.gate.wait(10)
        return Partition(rank, ROWS[rank].copy())


def start_rank(server, rank, source, size=2, out=None):
    """A thread running one task of the stage: connect, then ``run_rank``; its output (the
    stage's rows) or its exception lands in ``out[key]``."""
    out = {} if out is None else out

    def task():
        try:
            client = RendezvousClient(server.address, SECURITY, rank, 10.0)
            out["client"] = client
            out["rows"] = list(run_rank(rank, size, None, sum_rows, {}, source, client,
                                        SECURITY, 10.0, Recovery(), None))
        except BaseException as e:
            out["error"] = e
        out["ended"] = time.monotonic()

    thread = threading.Thread(target=task, daemon=True)
    thread.start()
    return thread, out


def wait_until(condition, seconds=10.0):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def decode(rows):
    return results.from_rows(
        (b.column(0)[0].as_py(), b.column(1)[0].as_py(), b.column(2)[0].as_py())
        for b in rows)[0]


def test_a_second_copy_of_a_running_rank_does_not_join_and_waits_for_the_fit_to_end(caplog):
    gate = threading.Event()
    source = GatedInput(gate)
    server = RendezvousServer(SECURITY, 10.0, "127.0.0.1", expected=2, start_timeout=5.0)
    try:
        ranks = [start_rank(server, r, source) for r in (0, 1)]
        wait_until(lambda: len(server._conns) == 2)
        with caplog.at_level("INFO", logger="distml"):
            copy, copy_out = start_rank(server, 1, source)  # a speculative copy of rank 1
            wait_until(lambda: "client" in copy_out)
        assert copy_out["client"].duplicate
        assert "second copy of rank 1" in caplog.text
        gate.set()
        for thread, _ in ranks:
            thread.join(10)
        assert all("error" not in out for _, out in ranks), [o.get("error") for _, o in ranks]
        time.sleep(0.3)
        assert copy.is_alive()  # it neither ended (Spark would kill the rank) nor failed
        got = decode(ranks[0][1]["rows"])
        assert ranks[1][1]["rows"] == []
    finally:
        closed = time.monotonic()
        server.close()
    copy.join(10)
    assert not copy.is_alive() and copy_out["ended"] >= closed
    assert copy_out["rows"] == [] and "error" not in copy_out
    want = LocalEngine(2).fit(sum_rows, {}, [Partition(r, x.copy()) for r, x in
                                             enumerate(ROWS)], InputSpec("features"))
    assert got.values["total"].tobytes() == want.values["total"].tobytes()
    assert got.values["rows"] == [6, 4]
    assert server.failures == []


def test_a_copy_arriving_after_a_failure_is_told_to_stop():
    server = RendezvousServer(SECURITY, 10.0, "127.0.0.1", expected=2, start_timeout=5.0)
    try:
        first = RendezvousClient(server.address, SECURITY, 1, 10.0)
        first.report_failure(ValueError("bad rows in partition 1"), origin=True)
        wait_until(lambda: server.failures)
        with pytest.raises(PeerAborted, match="rank 1 failed: ValueError: bad rows"):
            RendezvousClient(server.address, SECURITY, 1, 10.0)  # Spark's re-attempt
        with pytest.raises(PeerAborted, match="rank 1 failed"):
            RendezvousClient(server.address, SECURITY, 0, 10.0)  # a rank starting late
        first.close()
    finally:
        server.close()


def test_ranks_that_do_not_all_start_are_abandoned_within_the_start_timeout():
    cancelled = threading.Event()
    server = RendezvousServer(SECURITY, 60.0, "127.0.0.1", cancel=cancelled.set, expected=3,
                              start_timeout=1.0)
    try:
        source = GatedInput(threading.Event())
        source.gate.set()
        started = [start_rank(server, r, source, size=3) for r in (0, 1)]  # rank 2 never runs
        for thread, _ in started:
            thread.join(10)
        # Ended by the abandonment: a hang would hold them for the 60 s collective timeout.
        assert not any(thread.is_alive() for thread, _ in started)
    finally:
        server.close()
    assert server.abandoned == "only 2 of 3 ranks started within 1 s of the first"
    assert cancelled.is_set()
    for _, out in started:
        assert isinstance(out["error"], PeerAborted) and "only 2 of 3" in str(out["error"])
    # The ranks only stopped because they were told to: no rank failed of its own.
    assert not any(f.origin for f in server.failures)


def test_a_rank_whose_connection_drops_fails_the_fit_at_once():
    cancelled = threading.Event()
    server = RendezvousServer(SECURITY, 60.0, "127.0.0.1", cancel=cancelled.set)
    try:
        rank0 = RendezvousClient(server.address, SECURITY, 0, 60.0)
        rank1 = RendezvousClient(server.address, SECURITY, 1, 60.0)
        wait_until(lambda: len(server._conns) == 2)
        rank1.sock.close()  # its executor died: no "done", no failure report
        wait_until(cancelled.is_set, 5.0)
        failure = server.first_failure()
        assert failure.rank == 1 and "ended without reporting" in failure.message
        assert isinstance(failure.to_exception(), CollectiveError)  # transient: retried
        # A report read after the drop still wins: it names the fit's real cause.
        assert server.first_failure(reported=True) is None
        rank0.report_failure(ValueError("bad rows in partition 0"), origin=True)
        wait_until(lambda: server.failures)
        assert "bad rows" in server.first_failure().message
        rank0.close()
        time.sleep(0.2)
        assert len(server.lost) == 1  # a rank that reported is not also lost
    finally:
        server.close()
