"""The driver-side meeting point of a barrier fit, and the ranks' error channel back to it.

Each rank connects once (authenticated), says where it listens, and gets every rank's address
when all have arrived — one round trip instead of ``BarrierTaskContext.allGather`` (which sleeps
about a second per call). The connection stays open for the fit: a rank that fails sends its
exception here, so the driver raises the original cause (and can cancel the stage at once)
rather than Spark's wrapped stack trace.
"""
from __future__ import annotations

import logging
import pickle
import socket
import threading
import time
import traceback
from dataclasses import dataclass
from typing import Callable

from distml.engine.comm import (DATA, PeerAborted, accept_auth, connect_auth, recv_frame,
                                send_frame)
from distml.errors import CollectiveError

log = logging.getLogger("distml")


@dataclass
class RankFailure:
    rank: int
    origin: bool          # False when the rank only stopped because a peer failed
    message: str
    traceback: str
    exception: bytes | None   # the pickled exception, when it pickles

    def to_exception(self) -> BaseException:
        exc = None
        if self.exception is not None:
            try:
                exc = pickle.loads(self.exception)
            except Exception:
                exc = None
        if not isinstance(exc, BaseException):
            from distml.errors import FitError
            exc = FitError(self.message)
        return exc


def describe_failure(rank: int, exc: BaseException, origin: bool) -> RankFailure:
    try:
        pickled = pickle.dumps(exc)
        pickle.loads(pickled)
    except Exception:
        pickled = None
    return RankFailure(rank, origin, f"{type(exc).__name__}: {exc}",
                       "".join(traceback.format_exception(exc)), pickled)


class RendezvousServer:
    """Runs on the driver for one fit."""

    def __init__(self, secret: bytes, timeout: float, host: str,
                 on_failure: Callable[[RankFailure], None] | None = None,
                 on_checkpoint: Callable[[int, bytes], None] | None = None):
        self.num_ranks: int | None = None  # told by the ranks: the stage's real task count
        self.secret, self.timeout = secret, timeout
        self.on_failure, self.on_checkpoint = on_failure, on_checkpoint
        self._threads: list[threading.Thread] = []
        self._send_lock = threading.Lock()  # the serve threads and _failed share connections
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.bind((host, 0))
        self._listener.listen(1024)
        self.address = (host, self._listener.getsockname()[1])
        self._lock = threading.Lock()
        self._conns: dict[int, socket.socket] = {}
        self._table: dict[int, tuple[str, int]] = {}
        self.failures: list[RankFailure] = []
        self._done: set[int] = set()
        self._all_done = threading.Event()
        self._closed = False
        threading.Thread(target=self._accept_loop, daemon=True, name="distml-rdv").start()

    def first_failure(self) -> RankFailure | None:
        with self._lock:
            origin = [f for f in self.failures if f.origin]
            return (origin or self.failures or [None])[0]

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
        for s in [self._listener, *self._conns.values()]:
            try:
                s.close()
            except OSError:
                pass

    def _accept_loop(self) -> None:
        while not self._closed:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _serve(self, conn: socket.socket) -> None:
        conn.settimeout(30.0)
        try:
            rank = accept_auth(conn, self.secret)
        except (CollectiveError, OSError):
            return  # refused: not a rank of this fit
        conn.settimeout(None)  # a fit may run for hours; this channel only listens
        with self._lock:
            self._conns[rank] = conn
        try:
            while True:
                kind, msg = recv_frame(conn, f"rank {rank}")
                if msg[0] == "register":
                    self._register(rank, (conn.getpeername()[0], msg[1]), msg[2])
                elif msg[0] == "failure":
                    self._failed(msg[1])
                elif msg[0] == "checkpoint":
                    self._checkpoint(msg[1], msg[2])
                    with self._send_lock:
                        send_frame(conn, ("checkpointed", msg[1]), DATA)
                elif msg[0] == "progress":
                    from distml.engine.progress import deliver
                    deliver(msg[1])
                elif msg[0] == "done":
                    with self._lock:
                        self._done.add(rank)
                        if self.num_ranks is not None and len(self._done) >= self.num_ranks:
                            self._all_done.set()
                    return
        except (CollectiveError, OSError):
            return

    def _register(self, rank: int, address: tuple[str, int], size: int) -> None:
        with self._lock:
            self.num_ranks = size
            self._table[rank] = address
            if len(self._table) < self.num_ranks:
                return
            table = [self._table[r] for r in range(self.num_ranks)]
            conns = list(self._conns.values())
        with self._send_lock:
            for c in conns:
                send_frame(c, ("peers", table), DATA)

    def _checkpoint(self, iteration: int, data: bytes) -> None:
        if self.on_checkpoint is None:
            return
        try:
            self.on_checkpoint(iteration, data)
        except Exception as e:  # the fit goes on; only its protection is lost
            log.warning("distml: could not write the checkpoint of iteration %d: %s: %s",
                        iteration, type(e).__name__, e)

    def _failed(self, failure: RankFailure) -> None:
        with self._lock:
            self.failures.append(failure)
            waiting = [c for r, c in self._conns.items()]
        # Ranks still waiting for the address table would otherwise wait out the timeout.
        for c in waiting:
            try:
                with self._send_lock:
                    send_frame(c, ("abort", failure.rank, failure.message), DATA)
            except OSError:
                pass
        if self.on_failure is not None:
            self.on_failure(failure)


class RendezvousClient:
    """A rank's connection to the driver's RendezvousServer."""

    def __init__(self, address: tuple[str, int], secret: bytes, rank: int, timeout: float):
        self.rank, self.timeout = rank, timeout
        self.sock = socket.create_connection(address, timeout=min(timeout, 60.0))
        connect_auth(self.sock, secret, rank)

    @property
    def local_host(self) -> str:
        """This rank's address on the interface that reaches the driver: peers can reach it."""
        return self.sock.getsockname()[0]

    def register(self, port: int, size: int) -> list[tuple[str, int]]:
        """Announce this rank's port and the stage's task count; get every rank's address."""
        send_frame(self.sock, ("register", port, size))
        self.sock.settimeout(self.timeout)
        start = time.monotonic()
        try:
            _, msg = recv_frame(self.sock, "the driver")
        except CollectiveError as e:
            raise CollectiveError(f"rank {self.rank}: no address table from the driver after "
                                  f"{time.monotonic() - start:.0f} s: {e}") from e
        if msg[0] == "abort":
            raise PeerAborted(f"rank {msg[1]} failed: {msg[2]}")
        return [tuple(a) for a in msg[1]]

    def report_failure(self, exc: BaseException, origin: bool) -> None:
        try:
            self.sock.settimeout(5.0)
            send_frame(self.sock, ("failure", describe_failure(self.rank, exc, origin)))
        except OSError:
            pass

    def checkpoint(self, iteration: int, data: bytes) -> None:
        """Rank 0's checkpoint (a pickled ``engine.checkpoint.Checkpoint``); returns once the
        driver has written it."""
        send_frame(self.sock, ("checkpoint", iteration, data))
        _, msg = recv_frame(self.sock, "the driver")
        if msg[0] == "abort":
            raise PeerAborted(f"rank {msg[1]} failed: {msg[2]}")

    def progress(self, entry: dict) -> None:
        """One round's report, for the driver's progress display (lost reports are fine)."""
        try:
            send_frame(self.sock, ("progress", entry))
        except OSError:
            pass

    def done(self) -> None:
        try:
            send_frame(self.sock, ("done",))
        except OSError:
            pass

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass
