"""TCP collectives between the ranks of one barrier stage.

Every rank holds one authenticated socket to every other rank (a full mesh, built once per fit).
allreduce/allgather go through rank 0, which folds the contributions in rank order and sends the
one result back, so all ranks hold identical bits — the property the replicated training loop
needs. alltoall uses the direct links. Every blocking call has a timeout; a rank that fails
sends ABORT to all peers, so the others stop at their next collective instead of waiting.

Frames are pickled, but only after both sides proved they hold the fit's secret (HMAC
challenge-response both ways), so a stray connection can neither inject nor receive data.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import pickle
import socket
import struct
import threading
import time
from typing import Any

from distml.engine.combine import fold
from distml.errors import CollectiveError

MAGIC = b"DISTML1"
_HEADER = struct.Struct(">BQ")
DATA, ABORT = 1, 2


class AuthError(CollectiveError):
    """The peer did not prove it holds the fit's secret."""


class PeerAborted(CollectiveError):
    """Another rank failed first; this rank only stops because of it."""


def _mac(secret: bytes, *parts: bytes) -> bytes:
    return hmac.new(secret, b"".join(parts), hashlib.sha256).digest()


def recv_exact(sock: socket.socket, n: int, what: str = "peer") -> bytearray:
    buf = bytearray(n)
    view = memoryview(buf)
    got = 0
    while got < n:
        try:
            k = sock.recv_into(view[got:], n - got)
        except socket.timeout as e:
            raise CollectiveError(f"timed out waiting for {what}") from e
        except OSError as e:
            raise CollectiveError(f"connection to {what} failed: {e}") from e
        if k == 0:
            raise CollectiveError(f"{what} closed the connection (its task ended or failed)")
        got += k
    return buf


def accept_auth(sock: socket.socket, secret: bytes) -> int:
    """Server side of the handshake; returns the rank the peer announced."""
    nonce = os.urandom(16)
    sock.sendall(MAGIC + nonce)
    reply = recv_exact(sock, 4 + 16 + 32, "connecting peer")
    rank_bytes, peer_nonce, mac = bytes(reply[:4]), bytes(reply[4:20]), bytes(reply[20:])
    if not hmac.compare_digest(mac, _mac(secret, b"c", nonce, rank_bytes, peer_nonce)):
        sock.close()
        raise AuthError("a connection without the fit's secret was refused")
    sock.sendall(_mac(secret, b"s", peer_nonce))
    return int.from_bytes(rank_bytes, "big", signed=True)


def connect_auth(sock: socket.socket, secret: bytes, rank: int) -> None:
    """Client side of the handshake: prove the secret, and check that the server holds it too."""
    hello = recv_exact(sock, len(MAGIC) + 16, "server")
    if bytes(hello[:len(MAGIC)]) != MAGIC:
        raise AuthError("the server is not a distml rank")
    nonce = bytes(hello[len(MAGIC):])
    rank_bytes = rank.to_bytes(4, "big", signed=True)
    my_nonce = os.urandom(16)
    sock.sendall(rank_bytes + my_nonce + _mac(secret, b"c", nonce, rank_bytes, my_nonce))
    try:
        proof = bytes(recv_exact(sock, 32, "server"))
    except CollectiveError as e:
        raise AuthError("the server refused this connection: it does not hold the same "
                        "secret") from e
    if not hmac.compare_digest(proof, _mac(secret, b"s", my_nonce)):
        raise AuthError("the server could not prove it holds the fit's secret")


def send_frame(sock: socket.socket, obj: Any, kind: int = DATA) -> None:
    payload = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    header = _HEADER.pack(kind, len(payload))
    if len(payload) < 65536:  # one segment for the small, frequent messages
        sock.sendall(header + payload)
    else:  # no copy of a large payload just to prepend 9 bytes
        sock.sendall(header)
        sock.sendall(payload)


def recv_frame(sock: socket.socket, what: str) -> tuple[int, Any]:
    kind, length = _HEADER.unpack(bytes(recv_exact(sock, _HEADER.size, what)))
    return kind, pickle.loads(recv_exact(sock, length, what))


class Communicator:
    """Collectives over a mesh of authenticated sockets; ``links[peer]`` for every other rank."""

    def __init__(self, rank: int, size: int, links: dict[int, socket.socket], timeout: float):
        self.rank, self.size, self.links, self.timeout = rank, size, links, timeout

    # point to point
    def send(self, peer: int, obj: Any) -> None:
        try:
            send_frame(self.links[peer], obj)
        except OSError as e:
            raise CollectiveError(f"rank {self.rank}: sending to rank {peer} failed: {e}") from e

    def recv(self, peer: int) -> Any:
        kind, obj = recv_frame(self.links[peer], f"rank {peer}")
        if kind == ABORT:
            raise PeerAborted(f"rank {obj[0]} failed: {obj[1]}")
        return obj

    # collectives
    def allreduce(self, value: Any, op: Any = "sum") -> Any:
        """Fold every rank's value in rank order on rank 0; all ranks get the same result."""
        gathered = self.gather(value)
        return self.broadcast(fold(gathered, op) if self.rank == 0 else None)

    def gather(self, value: Any) -> list | None:
        if self.rank != 0:
            self.send(0, value)
            return None
        return [value] + [self.recv(r) for r in range(1, self.size)]

    def allgather(self, value: Any) -> list:
        return self.broadcast(self.gather(value))

    def broadcast(self, value: Any, root: int = 0) -> Any:
        if self.rank == root:
            for r in range(self.size):
                if r != root:
                    self.send(r, value)
            return value
        return self.recv(root)

    def barrier(self) -> None:
        self.allgather(None)

    def alltoall(self, pieces: list) -> list:
        """Send ``pieces[r]`` to rank r; return what every rank sent here, in rank order."""
        errors: list[BaseException] = []

        def send_all() -> None:
            try:
                for r in range(self.size):
                    if r != self.rank:
                        self.send(r, pieces[r])
            except BaseException as e:  # surfaced below, after the receives
                errors.append(e)

        # Sends in a thread: two ranks sending large pieces to each other at once would
        # otherwise both block in sendall with full socket buffers.
        sender = threading.Thread(target=send_all, daemon=True)
        sender.start()
        received = [pieces[r] if r == self.rank else self.recv(r) for r in range(self.size)]
        sender.join(self.timeout)
        if errors:
            raise errors[0]
        return received

    def abort(self, message: str) -> None:
        """Tell every peer this rank failed; best effort, never raises."""
        for sock in self.links.values():
            try:
                sock.settimeout(2.0)
                send_frame(sock, (self.rank, message), ABORT)
            except OSError:
                pass

    def close(self) -> None:
        for sock in self.links.values():
            try:
                sock.close()
            except OSError:
                pass


def open_listener(host: str) -> socket.socket:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind((host, 0))
    listener.listen(128)
    return listener


def connect_mesh(rank: int, addresses: list[tuple[str, int]], listener: socket.socket,
                 secret: bytes, timeout: float) -> Communicator:
    """Link this rank to every other: accept from higher ranks, connect to lower ones."""
    size = len(addresses)
    links: dict[int, socket.socket] = {}
    deadline = time.monotonic() + timeout
    failures: list[BaseException] = []

    def accept_higher() -> None:
        want = size - 1 - rank
        while want > 0:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                failures.append(CollectiveError(
                    f"rank {rank}: timed out waiting for {want} peer connections"))
                return
            listener.settimeout(remaining)
            try:
                conn, _ = listener.accept()
            except OSError as e:
                failures.append(CollectiveError(f"rank {rank}: accepting peers failed: {e}"))
                return
            conn.settimeout(min(timeout, 30.0))
            try:
                peer = accept_auth(conn, secret)
            except CollectiveError:
                continue  # refused: not a rank of this fit; keep waiting for the real ones
            if not rank < peer < size or peer in links:
                conn.close()
                continue
            _tune(conn, timeout)
            links[peer] = conn
            want -= 1

    acceptor = threading.Thread(target=accept_higher, daemon=True)
    acceptor.start()
    try:
        for peer in range(rank):
            sock = socket.create_connection(addresses[peer], timeout=timeout)
            connect_auth(sock, secret, rank)
            _tune(sock, timeout)
            links[peer] = sock
    except OSError as e:
        raise CollectiveError(f"rank {rank}: connecting to rank {peer} at "
                              f"{addresses[peer]} failed: {e}") from e
    acceptor.join(max(0.0, deadline - time.monotonic()) + 1.0)
    listener.close()
    if failures:
        raise failures[0]
    return Communicator(rank, size, links, timeout)


def _tune(sock: socket.socket, timeout: float) -> None:
    sock.settimeout(timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
