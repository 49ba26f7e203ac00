"""The driver-side meeting point of a barrier fit, and the ranks' error channel back to it.

Each rank connects once (authenticated), says where it listens, and gets every rank's address
when all have arrived — one round trip instead of ``BarrierTaskContext.allGather`` (which sleeps
about a second per call). The connection stays open for the fit: a rank that fails sends its
exception here, so the driver raises the original cause (and can cancel the stage at once)
rather than Spark's wrapped stack trace.

Every connection is authenticated as the mesh's are (``comm``): strangers are handshaken on a
bounded pool with a short limit and the accept loop keeps going whatever they do; messages are
``wire`` frames (a failure is its type name, message and traceback text, never a pickle).

The first copy of a rank to connect holds that rank for the fit. A second copy (a speculative
task, or a re-attempt of one that already joined) is told it is a duplicate and does not join;
it waits, task still running, until the fit ends (``RendezvousClient.wait_for_end``), so Spark
never takes its empty output for the rank's. A rank whose connection ends without "done" or a
failure report (its executor was lost) fails the fit at once, as a reported failure does.
With ``expected`` ranks and a ``start_timeout`` (the gang engine's ordinary stage, where Spark
may not run all tasks at once), the fit is abandoned when not all ranks have connected that
long after the first did: ``abandoned`` says why, and the connected ranks are told to stop.
"""
from __future__ import annotations

import logging
import socket
import threading
import time
from dataclasses import dataclass
from typing import Callable

from distml.engine.comm import (DATA, Channel, HandshakePool, PeerAborted, Security,
                                connect_auth, send_without_delay)
from distml.engine.spark_errors import describe_exception, rebuild_exception
from distml.errors import CollectiveError

log = logging.getLogger("distml")


@dataclass
class RankFailure:
    rank: int
    origin: bool          # False when the rank only stopped because a peer failed
    message: str
    traceback: str
    described: dict       # the exception as ``spark_errors.describe_exception`` gives it

    def to_exception(self) -> BaseException:
        return rebuild_exception(self.described)

    def to_wire(self) -> dict:
        return {"rank": self.rank, "origin": self.origin, "exception": self.described}

    @classmethod
    def from_wire(cls, rank: int, msg: dict) -> "RankFailure":
        described = {k: str(v) for k, v in dict(msg["exception"]).items()}
        return cls(rank, bool(msg["origin"]),
                   f"{described['type'].rpartition('.')[2]}: {described['message']}",
                   described.get("traceback", ""), described)


def describe_failure(rank: int, exc: BaseException, origin: bool) -> RankFailure:
    described = describe_exception(exc)
    return RankFailure(rank, origin, f"{type(exc).__name__}: {exc}", described["traceback"],
                       described)


class RendezvousServer:
    """Runs on the driver for one fit."""

    def __init__(self, security: Security, timeout: float, host: str,
                 cancel: Callable[[], None] | None = None,
                 on_checkpoint: Callable[[int, dict], None] | None = None,
                 expected: int | None = None, start_timeout: float | None = None):
        # The stage's task count: told by the ranks of a barrier stage, known beforehand for
        # the gang engine's stage (whose tasks do not know it).
        self.num_ranks: int | None = expected
        self.security, self.timeout = security, timeout
        self.cancel, self.on_checkpoint = cancel, on_checkpoint
        self.start_timeout = start_timeout
        self.abandoned: str | None = None  # why the ranks did not all start, if they did not
        self._threads: list[threading.Thread] = []
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.bind((host, 0))
        self._listener.listen(1024)
        self.address = (host, self._listener.getsockname()[1])
        self._lock = threading.Lock()
        self._conns: dict[int, Channel] = {}
        self._duplicates: list[Channel] = []  # second copies of ranks, held until the end
        self._first_connected: float | None = None
        self._table: dict[int, tuple[str, int]] = {}
        self.failures: list[RankFailure] = []
        # Ranks whose connection ended without a word: a failure too, but the last resort of
        # ``first_failure``, since a rank that reported its own error may be read a moment
        # after its peers' connections close (Spark kills a barrier stage's other tasks).
        self.lost: list[RankFailure] = []
        self._done: set[int] = set()
        self._all_done = threading.Event()
        self._closed = False
        self._handshakes = HandshakePool(security, self._authenticated)
        threading.Thread(target=self._accept_loop, daemon=True, name="distml-rdv").start()

    def first_failure(self, reported: bool = False) -> RankFailure | None:
        """The failure to raise: the first a rank reported as its own, else the first reported,
        else (unless ``reported``) the first lost rank."""
        with self._lock:
            origin = [f for f in self.failures if f.origin]
            return (origin or self.failures or ([] if reported else self.lost) or [None])[0]

    def wait_done(self, timeout: float) -> None:
        """Wait until every rank's "done" was read, i.e. every report it sent before it was
        delivered (the fit's result can reach the driver before this thread reads them)."""
        self._all_done.wait(timeout)

    def drain(self, timeout: float) -> None:
        """Wait until the ranks' connections are read to their end (the ranks are gone), so
        every checkpoint a rank sent before a failure is written."""
        deadline = time.monotonic() + timeout
        for t in list(self._threads):
            t.join(max(0.0, deadline - time.monotonic()))

    def close(self) -> None:
        self._closed = True
        self._handshakes.close()
        try:
            self._listener.close()
        except OSError:
            pass
        for c in list(self._conns.values()) + self._duplicates:
            c.close()

    def _accept_loop(self) -> None:
        while not self._closed:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                if self._closed:
                    return
                time.sleep(0.05)  # e.g. out of file descriptors: keep serving the ranks
                continue
            try:
                send_without_delay(conn)
            except OSError:  # reset already: the handshake fails and closes it
                pass
            self._handshakes.submit(conn)

    def _authenticated(self, rank: int, channel: Channel) -> None:
        """A rank proved the secret: admit it and serve it on a thread of its own (one per
        rank), or tell it why it does not join."""
        with self._lock:
            refusal = None
            if self._closed:
                refusal = ("abort", -1, "the fit has ended")
            elif self.abandoned is not None:
                refusal = ("abort", -1, self.abandoned)
            elif self.failures or self.lost:
                first = (self.failures or self.lost)[0]
                refusal = ("abort", first.rank, first.message)
            elif rank in self._conns:
                refusal = ("duplicate",)
                self._duplicates.append(channel)
            else:
                self._conns[rank] = channel
                if self._first_connected is None:
                    self._first_connected = time.monotonic()
                    if self.start_timeout is not None:
                        threading.Thread(target=self._watch_start, daemon=True,
                                         name="distml-rdv-start").start()
        try:
            channel.send(refusal or ("admitted",), DATA, lock_timeout=2.0)
        except (OSError, CollectiveError):
            pass
        if refusal is not None:
            if refusal[0] == "duplicate":
                log.info("distml: a second copy of rank %d (a speculative or re-attempted "
                         "task) connected; it does not join the fit", rank)
            else:
                channel.close()
            return
        channel.settimeout(None)  # a fit may run for hours; this channel only listens
        thread = threading.Thread(target=self._serve, args=(rank, channel), daemon=True,
                                  name=f"distml-rdv-{rank}")
        thread.start()  # before it is listed: drain() on another thread joins what it lists
        self._threads.append(thread)

    def _serve(self, rank: int, channel: Channel) -> None:
        try:
            while True:
                _, msg = channel.recv(f"rank {rank}")
                what = msg[0]
                if what == "register":
                    self._register(rank, (channel.sock.getpeername()[0], int(msg[1])),
                                   int(msg[2]))
                elif what == "failure":
                    self._failed(RankFailure.from_wire(rank, msg[1]))
                elif what == "checkpoint":
                    self._checkpoint(int(msg[1]), msg[2])
                    channel.send(("checkpointed", msg[1]), DATA)
                elif what == "progress":
                    from distml.engine.progress import deliver
                    deliver(msg[1])
                elif what == "done":
                    with self._lock:
                        self._done.add(rank)
                        if self.num_ranks is not None and len(self._done) >= self.num_ranks:
                            self._all_done.set()
                    return
        except (CollectiveError, OSError, LookupError, TypeError, ValueError):
            self._lost(rank)

    def _lost(self, rank: int) -> None:
        """The rank's connection ended without "done": unless it reported why, or the fit is
        over, its task is gone (a lost executor, a killed task) and the fit cannot go on."""
        with self._lock:
            if self._closed or rank in self._done or any(f.rank == rank for f in self.failures):
                return
        self._failed(describe_failure(rank, CollectiveError(
            f"the task of rank {rank} ended without reporting (its executor was lost, or the "
            "task was killed)"), origin=True), lost=True)

    def _watch_start(self) -> None:
        """Abandon the fit when not every rank has connected ``start_timeout`` seconds after
        the first: the cluster is not running them all at once, and the ones running would
        wait on the rest for ever."""
        deadline = self._first_connected + self.start_timeout
        while not self._closed and time.monotonic() < deadline:
            with self._lock:
                if len(self._conns) >= (self.num_ranks or 0):
                    return
            time.sleep(min(0.1, max(0.0, deadline - time.monotonic())))
        with self._lock:
            if (self._closed or len(self._conns) >= (self.num_ranks or 0) or self.failures
                    or self.lost):
                return
            self.abandoned = (f"only {len(self._conns)} of {self.num_ranks} ranks started "
                              f"within {self.start_timeout:g} s of the first")
            waiting = list(self._conns.values())
        for c in waiting:
            try:
                c.send(("abort", -1, self.abandoned), DATA, lock_timeout=2.0)
            except (OSError, CollectiveError):
                pass
        if self.cancel is not None:
            self.cancel()

    def _register(self, rank: int, address: tuple[str, int], size: int) -> None:
        with self._lock:
            self.num_ranks = size
            self._table[rank] = address
            if len(self._table) < self.num_ranks:
                return
            table = [self._table[r] for r in range(self.num_ranks)]
            conns = list(self._conns.values())
        for c in conns:
            c.send(("peers", table), DATA)

    def _checkpoint(self, iteration: int, checkpoint: dict) -> None:
        if self.on_checkpoint is None:
            return
        try:
            self.on_checkpoint(iteration, checkpoint)
        except Exception as e:  # the fit goes on; only its protection is lost
            log.warning("distml: could not write the checkpoint of iteration %d: %s: %s",
                        iteration, type(e).__name__, e)

    def _failed(self, failure: RankFailure, lost: bool = False) -> None:
        with self._lock:
            (self.lost if lost else self.failures).append(failure)
            waiting = list(self._conns.values())
        # Ranks still waiting for the address table would otherwise wait out the timeout.
        for c in waiting:
            try:
                c.send(("abort", failure.rank, failure.message), DATA, lock_timeout=2.0)
            except (OSError, CollectiveError):
                pass
        if self.cancel is not None:
            self.cancel()


class RendezvousClient:
    """A rank's connection to the driver's RendezvousServer."""

    def __init__(self, address: tuple[str, int], security: Security, rank: int,
                 timeout: float):
        self.rank, self.timeout = rank, timeout
        self.sock = socket.create_connection(address, timeout=min(timeout, 60.0))
        send_without_delay(self.sock)
        self.channel = connect_auth(self.sock, security, rank)
        _, msg = self.channel.recv("the driver")
        if msg[0] == "abort":
            raise PeerAborted(f"rank {msg[1]} failed: {msg[2]}" if msg[1] >= 0 else msg[2])
        # Another copy of this rank (the original of a speculative task, or the first attempt
        # of a re-attempted one) holds it: this copy must not join.
        self.duplicate = msg[0] == "duplicate"

    def wait_for_end(self) -> None:
        """A duplicate's wait: until the driver closes the connection, as the fit ends. Its
        task keeps running till then, so it neither ends the rank's task (Spark would take
        its output and kill the rank) nor is launched again."""
        self.sock.settimeout(None)
        try:
            while True:
                self.channel.recv("the driver")
        except CollectiveError:
            return

    @property
    def local_host(self) -> str:
        """This rank's address on the interface that reaches the driver: peers can reach it."""
        return self.sock.getsockname()[0]

    def register(self, port: int, size: int) -> list[tuple[str, int]]:
        """Announce this rank's port and the stage's task count; get every rank's address."""
        self.channel.send(("register", port, size))
        self.sock.settimeout(self.timeout)
        start = time.monotonic()
        try:
            _, msg = self.channel.recv("the driver")
        except CollectiveError as e:
            raise CollectiveError(f"rank {self.rank}: no address table from the driver after "
                                  f"{time.monotonic() - start:.0f} s: {e}") from e
        if msg[0] == "abort":
            raise PeerAborted(f"rank {msg[1]} failed: {msg[2]}" if msg[1] >= 0 else msg[2])
        return [tuple(a) for a in msg[1]]

    def report_failure(self, exc: BaseException, origin: bool) -> None:
        try:
            self.sock.settimeout(5.0)
            self.channel.send(("failure", describe_failure(self.rank, exc, origin).to_wire()),
                              lock_timeout=5.0)
        except (OSError, ValueError, CollectiveError):  # best effort: the task fails anyway
            pass

    def checkpoint(self, checkpoint) -> None:
        """Rank 0's checkpoint (an ``engine.checkpoint.Checkpoint``, sent as ``wire`` data);
        returns once the driver has written it."""
        self.channel.send(("checkpoint", checkpoint.iteration, checkpoint.to_wire()))
        _, msg = self.channel.recv("the driver")
        if msg[0] == "abort":
            raise PeerAborted(f"rank {msg[1]} failed: {msg[2]}")

    def progress(self, entry: dict) -> None:
        """One round's report, for the driver's progress display (lost reports are fine)."""
        try:
            self.channel.send(("progress", entry))
        except (OSError, CollectiveError):
            pass

    def done(self) -> None:
        try:
            self.channel.send(("done",))
        except (OSError, CollectiveError):
            pass

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass
