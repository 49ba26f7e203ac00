"""TCP collectives between the ranks of one barrier stage.

Every rank holds one authenticated channel to every other rank (a full mesh, built once per
fit). allreduce/allgather go through rank 0, which folds the contributions in rank order and
sends the one result back, so all ranks hold identical bits — the property the replicated
training loop needs. alltoall uses the direct links. Every blocking call has a timeout; a rank
that fails sends ABORT to all peers, so the others stop at their next collective instead of
waiting.

A connection is a stranger until it proves it holds the fit's secret (HMAC challenge-response
both ways). The handshake also derives one AES-GCM key per direction, so every frame after it
is authenticated (its header before any buffer is allocated for it, then its payload, with a
sequence number against replay and reordering) and, when Spark encrypts its own traffic,
encrypted. Frames are never pickles: ``wire`` encodes arrays and small structures. A frame is
capped at ``spark.distml.maxFrameBytes``. Handshakes run on a small pool with a few seconds
each, at most ``MAX_PENDING`` at once, so silent or hostile connections neither block nor
exhaust a fit.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import socket
import struct
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from distml.engine import wire
from distml.engine.combine import fold
from distml.errors import CollectiveError, ParamError

MAGIC = b"DISTML2"
MAX_FRAME_CONF = "spark.distml.maxFrameBytes"
# A rank sends at most its share of the ratings (ALS's exchange) or of the model at once; 4 GiB
# is far above what the fits measured here send, and far below what would exhaust a host.
DEFAULT_MAX_FRAME = 4 << 30
HANDSHAKE_TIMEOUT = 5.0  # seconds a connection has to prove the secret
MAX_PENDING = 64         # handshakes in progress at once; more connections are closed at once
_SEGMENT = 4 << 20       # each authenticated (and maybe encrypted) piece of a frame
_HEADER = struct.Struct(">BQQ")  # kind, sequence number, payload length
_TAG = 16
_HEADER_PIECE = 0xFFFFFFFF
DATA, ABORT = 1, 2


class AuthError(CollectiveError):
    """The peer did not prove it holds the fit's secret, or a frame failed authentication."""


class PeerAborted(CollectiveError):
    """Another rank failed first; this rank only stops because of it."""


class FrameTooLarge(ParamError):
    """A frame above the cap: not retried, since the same fit would send it again."""


@dataclass(frozen=True)
class Security:
    """What every connection of one fit shares: the fit's secret (made per fit on the driver,
    shipped in the task closure over Spark's own channel), whether frames are encrypted, and
    the largest frame accepted."""

    secret: bytes
    encrypt: bool = False
    max_frame: int = DEFAULT_MAX_FRAME


ENCRYPT_CONF = "spark.distml.encryption"
# Spark's own settings that make its traffic encrypted: distml's follows them.
_SPARK_ENCRYPTION = ("spark.network.crypto.enabled", "spark.ssl.enabled")


def security_settings(spark, secret: bytes) -> Security:
    """A fit's Security from the session's confs: frames are encrypted when Spark encrypts its
    own traffic (or ``spark.distml.encryption`` says "true"; "false" keeps them authenticated
    only), and capped at ``spark.distml.maxFrameBytes``."""
    def conf(key: str, default: str) -> str:
        return str(spark.conf.get(key, default)).strip().lower()

    choice = conf(ENCRYPT_CONF, "auto")
    if choice not in ("auto", "true", "false"):
        raise ParamError(f"{ENCRYPT_CONF} must be auto, true or false, got {choice!r}")
    encrypt = (choice == "true" or
               (choice == "auto" and any(conf(k, "false") == "true" for k in _SPARK_ENCRYPTION)))
    value = conf(MAX_FRAME_CONF, str(DEFAULT_MAX_FRAME))
    try:
        max_frame = int(value)
    except ValueError:
        max_frame = 0
    if max_frame <= 0:
        raise ParamError(f"{MAX_FRAME_CONF} must be a positive number of bytes, got {value!r}")
    return Security(secret, encrypt, max_frame)


def _mac(secret: bytes, *parts: bytes) -> bytes:
    return hmac.new(secret, b"".join(parts), hashlib.sha256).digest()


def _nonce(sequence: int, piece: int) -> bytes:
    return struct.pack(">QI", sequence, piece)


def recv_exact(sock: socket.socket, n: int, what: str = "peer", into=None):
    buf = bytearray(n) if into is None else into
    view = memoryview(buf).cast("B")
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


class Channel:
    """One authenticated connection: frames with a sequence number, an AES-GCM tag on the
    header and on every piece of the payload, and the payload encrypted when asked."""

    def __init__(self, sock: socket.socket, send_key: bytes, recv_key: bytes,
                 security: Security):
        self.sock, self.security = sock, security
        self._send_aead, self._recv_aead = AESGCM(send_key), AESGCM(recv_key)
        self._send_seq = self._recv_seq = 0
        self._lock = threading.Lock()  # frames from several threads never interleave

    def send(self, obj: Any, kind: int = DATA, lock_timeout: float = -1) -> None:
        payload = b"".join(wire.to_buffers(obj))
        if len(payload) > self.security.max_frame:
            raise FrameTooLarge(
                f"a message of {len(payload)} bytes exceeds {MAX_FRAME_CONF} "
                f"({self.security.max_frame}); raise it for this application if the fit "
                "legitimately sends that much")
        if not self._lock.acquire(timeout=lock_timeout):
            raise CollectiveError("the connection is busy with another frame")
        try:
            self._send_locked(kind, payload)
        finally:
            self._lock.release()

    def _send_locked(self, kind: int, payload: bytes) -> None:
        aead, seq = self._send_aead, self._send_seq
        self._send_seq += 1
        header = _HEADER.pack(kind, seq, len(payload))
        parts: list = [header, aead.encrypt(_nonce(seq, _HEADER_PIECE), b"", header)]
        view = memoryview(payload)
        for i, start in enumerate(range(0, len(payload), _SEGMENT)):
            piece = view[start:start + _SEGMENT]
            if self.security.encrypt:
                parts.append(aead.encrypt(_nonce(seq, i), piece, None))
            else:
                parts += [piece, aead.encrypt(_nonce(seq, i), b"", piece)]
        if len(payload) < 65536:  # one segment for the small, frequent messages
            self.sock.sendall(b"".join(parts))
        else:
            for part in parts:
                self.sock.sendall(part)

    def recv(self, what: str) -> tuple[int, Any]:
        aead, seq = self._recv_aead, self._recv_seq
        head = recv_exact(self.sock, _HEADER.size + _TAG, what)
        header = bytes(head[:_HEADER.size])
        try:  # the expected sequence number is in the nonce: replays and reorders fail here
            aead.decrypt(_nonce(seq, _HEADER_PIECE), bytes(head[_HEADER.size:]), header)
        except InvalidTag:
            raise AuthError(f"a frame from {what} failed authentication") from None
        kind, _, length = _HEADER.unpack(header)
        if length > self.security.max_frame:
            raise FrameTooLarge(f"{what} announced a message of {length} bytes, above "
                                f"{MAX_FRAME_CONF} ({self.security.max_frame})")
        payload = np.empty(length, dtype=np.uint8)
        tag = bytearray(_TAG)
        for i, start in enumerate(range(0, length, _SEGMENT)):
            piece = memoryview(payload)[start:start + _SEGMENT]
            try:
                if self.security.encrypt:
                    sealed = recv_exact(self.sock, len(piece) + _TAG, what)
                    aead.decrypt_into(_nonce(seq, i), sealed, None, piece)
                else:
                    recv_exact(self.sock, len(piece), what, into=piece)
                    recv_exact(self.sock, _TAG, what, into=tag)
                    aead.decrypt(_nonce(seq, i), bytes(tag), piece)
            except InvalidTag:
                raise AuthError(f"a frame from {what} failed authentication") from None
        self._recv_seq += 1
        try:
            return kind, wire.from_buffer(payload)
        except wire.WireError as e:
            raise AuthError(f"an authenticated frame from {what} does not decode: {e}") from None

    def settimeout(self, seconds: float | None) -> None:
        self.sock.settimeout(seconds)

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass


def _keys(security: Security, server_nonce: bytes, client_nonce: bytes,
          rank_bytes: bytes) -> tuple[bytes, bytes]:
    """(client-to-server, server-to-client) keys, fresh per connection."""
    mode = b"encrypt" if security.encrypt else b"authenticate"
    base = (server_nonce, client_nonce, rank_bytes, mode)
    return (_mac(security.secret, b"distml key c2s", *base),
            _mac(security.secret, b"distml key s2c", *base))


def accept_auth(sock: socket.socket, security: Security) -> tuple[int, Channel]:
    """Server side of the handshake: the rank the peer announced, and the channel to it."""
    nonce = os.urandom(16)
    sock.sendall(MAGIC + nonce)
    reply = recv_exact(sock, 4 + 16 + 32, "connecting peer")
    rank_bytes, peer_nonce, mac = bytes(reply[:4]), bytes(reply[4:20]), bytes(reply[20:])
    if not hmac.compare_digest(mac, _mac(security.secret, b"c", nonce, rank_bytes, peer_nonce)):
        sock.close()
        raise AuthError("a connection without the fit's secret was refused")
    sock.sendall(_mac(security.secret, b"s", peer_nonce))
    c2s, s2c = _keys(security, nonce, peer_nonce, rank_bytes)
    return int.from_bytes(rank_bytes, "big", signed=True), Channel(sock, s2c, c2s, security)


def connect_auth(sock: socket.socket, security: Security, rank: int) -> Channel:
    """Client side of the handshake: prove the secret, and check that the server holds it too."""
    hello = recv_exact(sock, len(MAGIC) + 16, "server")
    if bytes(hello[:len(MAGIC)]) != MAGIC:
        raise AuthError("the server is not a distml rank")
    nonce = bytes(hello[len(MAGIC):])
    rank_bytes = rank.to_bytes(4, "big", signed=True)
    my_nonce = os.urandom(16)
    sock.sendall(rank_bytes + my_nonce
                 + _mac(security.secret, b"c", nonce, rank_bytes, my_nonce))
    try:
        proof = bytes(recv_exact(sock, 32, "server"))
    except CollectiveError as e:
        raise AuthError("the server refused this connection: it does not hold the same "
                        "secret") from e
    if not hmac.compare_digest(proof, _mac(security.secret, b"s", my_nonce)):
        raise AuthError("the server could not prove it holds the fit's secret")
    c2s, s2c = _keys(security, nonce, my_nonce, rank_bytes)
    return Channel(sock, c2s, s2c, security)


class HandshakePool:
    """Authenticates incoming connections concurrently, each within HANDSHAKE_TIMEOUT, at most
    MAX_PENDING at once (further connections are closed at once), so a stranger that connects
    and says nothing costs one slot for a few seconds instead of the fit's whole deadline."""

    def __init__(self, security: Security, on_channel, timeout: float = HANDSHAKE_TIMEOUT):
        self.security, self.on_channel = security, on_channel
        self.timeout = timeout
        self._slots = threading.BoundedSemaphore(MAX_PENDING)
        # A thread per pending handshake (started lazily, at most MAX_PENDING): a silent
        # stranger holds one slot, never the real ranks' turn.
        self._pool = ThreadPoolExecutor(max_workers=MAX_PENDING,
                                        thread_name_prefix="distml-handshake")

    def submit(self, conn: socket.socket) -> None:
        """Never raises: a connection that cannot be taken is closed."""
        if not self._slots.acquire(blocking=False):
            conn.close()
            return
        try:
            self._pool.submit(self._handshake, conn)
        except RuntimeError:  # no thread could start, or the pool is shut down
            self._slots.release()
            conn.close()

    def _handshake(self, conn: socket.socket) -> None:
        try:
            conn.settimeout(self.timeout)
            rank, channel = accept_auth(conn, self.security)
        except (CollectiveError, OSError):
            conn.close()  # refused: not a rank of this fit, or too slow to say so
            return
        finally:
            self._slots.release()
        try:
            self.on_channel(rank, channel)
        except Exception:
            channel.close()

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


class Communicator:
    """Collectives over a mesh of authenticated channels; ``links[peer]`` for every other rank."""

    def __init__(self, rank: int, size: int, links: dict[int, Channel], timeout: float):
        self.rank, self.size, self.links, self.timeout = rank, size, links, timeout

    # point to point
    def send(self, peer: int, obj: Any) -> None:
        try:
            self.links[peer].send(obj)
        except OSError as e:
            raise CollectiveError(f"rank {self.rank}: sending to rank {peer} failed: {e}") from e

    def recv(self, peer: int) -> Any:
        kind, obj = self.links[peer].recv(f"rank {peer}")
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
        for channel in self.links.values():
            try:
                channel.settimeout(2.0)
                channel.send((self.rank, message), ABORT, lock_timeout=2.0)
            except (OSError, CollectiveError, ParamError):
                pass

    def close(self) -> None:
        for channel in self.links.values():
            channel.close()


def open_listener(host: str) -> socket.socket:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind((host, 0))
    listener.listen(128)
    return listener


def connect_mesh(rank: int, addresses: list[tuple[str, int]], listener: socket.socket,
                 security: Security, timeout: float) -> Communicator:
    """Link this rank to every other: accept from higher ranks, connect to lower ones."""
    size = len(addresses)
    links: dict[int, Channel] = {}
    lock = threading.Lock()
    complete = threading.Event()
    wanted = set(range(rank + 1, size))
    deadline = time.monotonic() + timeout

    def take(peer: int, channel: Channel) -> None:
        with lock:
            if peer not in wanted or peer in links:  # not a higher rank, or a second copy
                channel.close()
                return
            _tune(channel.sock, timeout)
            links[peer] = channel
            if wanted <= links.keys():
                complete.set()

    handshakes = HandshakePool(security, take, min(timeout, HANDSHAKE_TIMEOUT))

    def accept_higher() -> None:
        while not complete.is_set():
            try:
                listener.settimeout(max(0.0, deadline - time.monotonic()))
                conn, _ = listener.accept()
            except OSError:  # closed once the mesh is complete, or the deadline passed
                return
            handshakes.submit(conn)

    if wanted:
        threading.Thread(target=accept_higher, daemon=True).start()
    else:
        complete.set()
    peer = -1
    try:
        for peer in range(rank):
            sock = socket.create_connection(addresses[peer], timeout=timeout)
            channel = connect_auth(sock, security, rank)
            _tune(sock, timeout)
            with lock:
                links[peer] = channel
        if not complete.wait(max(0.0, deadline - time.monotonic())):
            with lock:
                missing = len(wanted - links.keys())
            raise CollectiveError(f"rank {rank}: timed out waiting for {missing} peer "
                                  "connections")
    except OSError as e:
        raise CollectiveError(f"rank {rank}: connecting to rank {peer} at "
                              f"{addresses[peer]} failed: {e}") from e
    finally:
        complete.set()
        listener.close()  # ends the acceptor's accept()
        handshakes.close()
    return Communicator(rank, size, links, timeout)


def _tune(sock: socket.socket, timeout: float) -> None:
    sock.settimeout(timeout)
    send_without_delay(sock)


def send_without_delay(sock: socket.socket) -> None:
    """Turn Nagle's algorithm off on ``sock``. distml's connections carry small frames that are
    answered: with Nagle on, a side that writes twice before reading (a handshake's proof,
    then the rendezvous's admission) holds the second write until the first is acknowledged,
    and Linux delays that acknowledgement by up to 40 ms."""
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
