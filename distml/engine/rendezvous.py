"""The driver-side meeting point of a barrier fit, and the ranks' error channel back to it.

Each rank connects once (authenticated), says where it listens, and gets every rank's address
when all have arrived — one round trip instead of ``BarrierTaskContext.allGather`` (which sleeps
about a second per call). The connection stays open for the fit: a rank that fails sends its
exception here, so the driver raises the original cause (and can cancel the stage at once)
rather than Spark's wrapped stack trace.

Every connection is authenticated as the mesh's are (``comm``): strangers are handshaken on a
bounded pool with a short limit and the accept loop keeps going whatever they do; messages are
``wire`` frames (a failure is its type name, message and traceback text, never a pickle).
"""
from __future__ import annotations

import logging
import socket
import threading
import time
from dataclasses import dataclass
from typing import Callable

from distml.engine.comm import (DATA, Channel, HandshakePool, PeerAborted, Security,
                                connect_auth)
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
                 on_failure: Callable[[RankFailure], None] | None = None,
                 on_checkpoint: Callable[[int, dict], None] | None = None):
        self.num_ranks: int | None = None  # told by the ranks: the stage's real task count
        self.security, self.timeout = security, timeout
        self.on_failure, self.on_checkpoint = on_failure, on_checkpoint
        self._threads: list[threading.Thread] = []
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.bind((host, 0))
        self._listener.listen(1024)
        self.address = (host, self._listener.getsockname()[1])
        self._lock = threading.Lock()
        self._conns: dict[int, Channel] = {}
        self._table: dict[int, tuple[str, int]] = {}
        self.failures: list[RankFailure] = []
        self._done: set[int] = set()
        self._all_done = threading.Event()
        self._closed = False
        self._handshakes = HandshakePool(security, self._authenticated)
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
        self._handshakes.close()
        try:
            self._listener.close()
        except OSError:
            pass
        for c in list(self._conns.values()):
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
            self._handshakes.submit(conn)

    def _authenticated(self, rank: int, channel: Channel) -> None:
        """A rank proved the secret: serve it on a thread of its own (one per rank)."""
        with self._lock:
            if rank in self._conns or self._closed:  # a second copy of a rank is not served
                channel.close()
                return
            self._conns[rank] = channel
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
            return

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

    def _failed(self, failure: RankFailure) -> None:
        with self._lock:
            self.failures.append(failure)
            waiting = list(self._conns.values())
        # Ranks still waiting for the address table would otherwise wait out the timeout.
        for c in waiting:
            try:
                c.send(("abort", failure.rank, failure.message), DATA, lock_timeout=2.0)
            except (OSError, CollectiveError):
                pass
        if self.on_failure is not None:
            self.on_failure(failure)


class RendezvousClient:
    """A rank's connection to the driver's RendezvousServer."""

    def __init__(self, address: tuple[str, int], security: Security, rank: int,
                 timeout: float):
        self.rank, self.timeout = rank, timeout
        self.sock = socket.create_connection(address, timeout=min(timeout, 60.0))
        self.channel = connect_auth(self.sock, security, rank)

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
            raise PeerAborted(f"rank {msg[1]} failed: {msg[2]}")
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
