"""Issue 18: what a stranger on the network can and cannot do to a fit's connections. Frames
are authenticated (and encrypted when asked), never pickles; silent or hostile connections
neither block nor exhaust a mesh or the rendezvous; a frame is capped; a rank's error crosses as
data, rebuilt from an allow-list."""
from __future__ import annotations

import base64
import pickle
import socket
import threading
import time

import numpy as np
import pytest

from distml.engine import comm, wire
from distml.engine.comm import (AuthError, FrameTooLarge, Security, accept_auth,
                                connect_auth, open_listener)
from distml.engine.rendezvous import RendezvousClient, RendezvousServer, describe_failure
from distml.engine.spark_errors import marked, original_exception
from distml.errors import DataError, FitError
from ranks import run_ranks

SECURITY = Security(b"k" * 32)


def channel_pair(client_security=SECURITY, server_security=SECURITY):
    """(client channel, server channel, client socket, server socket) over loopback."""
    listener = open_listener("127.0.0.1")
    out = {}

    def serve():
        conn, _ = listener.accept()
        out["server"] = accept_auth(conn, server_security)[1]
        out["sock"] = conn

    t = threading.Thread(target=serve)
    t.start()
    sock = socket.create_connection(listener.getsockname(), timeout=5)
    client = connect_auth(sock, client_security, 1)
    t.join(5)
    listener.close()
    return client, out["server"], sock, out["sock"]


class _Recorder:
    """A socket that remembers what was sent through it."""

    def __init__(self, sock):
        self.sock, self.sent = sock, []

    def sendall(self, data):
        self.sent.append(bytes(data))
        self.sock.sendall(data)

    def __getattr__(self, name):
        return getattr(self.sock, name)


class _RunsCode:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_frames_round_trip_arrays_and_structures_without_pickle():
    client, server, *_ = channel_pair()
    message = {"x": np.arange(6.0).reshape(2, 3), "t": (1, 2.5, "s", None, True),
               "l": [np.int64(3), np.float32(1.5)], 4: b"bytes"}
    client.send(message)
    _, got = server.recv("rank 1")
    np.testing.assert_array_equal(got["x"], message["x"])
    assert got["t"] == message["t"] and got[4] == b"bytes"
    assert got["l"][0].dtype == np.int64 and got["l"][1].dtype == np.float32
    got["x"][0, 0] = 7.0  # received arrays are writable, as unpickled ones were
    with pytest.raises(wire.WireError, match="cannot send"):
        client.send(_RunsCode("/tmp/x"))
    with pytest.raises(wire.WireError, match="dtype object"):
        client.send(np.array([_RunsCode("/tmp/x")], dtype=object))


def test_a_tampered_or_replayed_frame_fails_authentication():
    client, server, csock, _ = channel_pair()
    client.send(np.ones(4))
    server.recv("rank 1")
    # A stranger who can write into the connection (no key) sends a well-formed header.
    forged = comm._HEADER.pack(comm.DATA, 1, 8) + b"\0" * comm._TAG + b"\0" * (8 + comm._TAG)
    csock.sendall(forged)
    with pytest.raises(AuthError, match="failed authentication"):
        server.recv("rank 1")

    client, server, csock, _ = channel_pair()
    client.sock = recorder = _Recorder(csock)
    client.send(np.arange(3.0))
    server.recv("rank 1")
    csock.sendall(b"".join(recorder.sent))  # the same frame again: its sequence is stale
    with pytest.raises(AuthError):
        server.recv("rank 1")


def test_an_oversized_frame_is_refused_before_it_is_allocated():
    small = Security(SECURITY.secret, max_frame=1000)
    client, server, *_ = channel_pair(client_security=small, server_security=small)
    with pytest.raises(FrameTooLarge, match="spark.distml.maxFrameBytes"):
        client.send(np.zeros(1000))
    # A peer with a larger cap sends it anyway: the receiver refuses on the header alone.
    client, server, *_ = channel_pair(client_security=SECURITY, server_security=small)
    client.send(np.zeros(1000))
    with pytest.raises(FrameTooLarge, match="announced a message of"):
        server.recv("rank 1")
    from distml.engine.recovery import is_transient
    assert not is_transient(FrameTooLarge("x")) and not is_transient(MemoryError())


def test_encrypted_frames_carry_no_plaintext():
    secret = Security(b"e" * 32, encrypt=True)
    client, server, csock, _ = channel_pair(secret, secret)
    client.sock = recorder = _Recorder(csock)
    payload = np.frombuffer(b"TOP-SECRET-FEATURES" * 8, dtype=np.uint8)
    client.send(payload)
    _, got = server.recv("rank 1")
    assert got.tobytes() == payload.tobytes()
    assert b"TOP-SECRET" not in b"".join(recorder.sent)
    # Both ends must agree: an authenticating-only peer cannot read an encrypting one.
    client, server, *_ = channel_pair(Security(b"e" * 32, encrypt=True), Security(b"e" * 32))
    client.send(np.ones(3))
    with pytest.raises(AuthError):
        server.recv("rank 1")


def test_silent_connections_during_the_mesh_handshake_do_not_stop_it():
    strangers = []

    def silent_strangers(rank, listener):
        if rank == 0:  # connect and say nothing, before rank 1 does
            for _ in range(5):
                strangers.append(socket.create_connection(listener.getsockname()))

    start = time.monotonic()
    sums, errors, _ = run_ranks(2, lambda c: c.allreduce(np.ones(2) * c.rank), SECURITY,
                                timeout=2.0, before=silent_strangers)
    assert errors == [None, None]
    assert sums[0].tolist() == [1.0, 1.0] and time.monotonic() - start < 5
    for s in strangers:
        s.close()


def test_the_rendezvous_serves_the_ranks_past_silent_connections_and_thread_failures(
        monkeypatch):
    server = RendezvousServer(SECURITY, 5.0, "127.0.0.1")
    silent = [socket.create_connection(server.address) for _ in range(10)]
    real_submit = server._handshakes._pool.submit
    calls = []

    def failing_once(fn, *args):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("can't start new thread")
        return real_submit(fn, *args)

    monkeypatch.setattr(server._handshakes._pool, "submit", failing_once)
    doomed = socket.create_connection(server.address)  # its thread cannot start
    try:
        client = RendezvousClient(server.address, SECURITY, 0, 5.0)
        assert client.register(1234, 1) == [("127.0.0.1", 1234)]
        client.close()
    finally:
        for s in silent + [doomed]:
            s.close()
        server.close()


def test_a_rank_failure_crosses_as_data_and_is_rebuilt_from_the_allow_list():
    class LibraryError(ValueError):  # not on the list: rebuilt as its listed base
        pass

    failure = describe_failure(3, LibraryError("bad value"), origin=True)
    wire_form = wire.from_bytes(wire.to_bytes(failure.to_wire()))
    from distml.engine.rendezvous import RankFailure
    rebuilt = RankFailure.from_wire(3, wire_form).to_exception()
    assert type(rebuilt) is ValueError and "LibraryError: bad value" in str(rebuilt)
    data = RankFailure.from_wire(1, wire.from_bytes(wire.to_bytes(
        describe_failure(1, DataError("column 'x' has nulls"), True).to_wire())))
    assert type(data.to_exception()) is DataError
    # A type name that is not on the list is never imported.
    forged = {"rank": 0, "origin": True, "exception": {
        "type": "os.system", "base": "subprocess.Popen", "message": "echo pwned",
        "traceback": ""}}
    assert type(RankFailure.from_wire(0, forged).to_exception()) is FitError


def test_a_forged_error_marker_runs_no_code(tmp_path):
    marker = tmp_path / "code-ran"
    blob = base64.b64encode(pickle.dumps(_RunsCode(str(marker)))).decode()
    # E.g. a data value Spark echoes in its error text, crafted to look like distml's marker.
    err = RuntimeError(f"Py4JJavaError: bad value 'DISTML_EXC[{blob}]' in column x")
    assert original_exception(err) is None
    assert not marker.exists()
    # distml's own marker (appended last) still gives the executor's exception back.
    real = RuntimeError(f"... 'DISTML_EXC[{blob}]' ... {marked(DataError('column x'))}")
    got = original_exception(real)
    assert type(got) is DataError and str(got) == "column x"
    assert not marker.exists()


class _Conf:
    def __init__(self, values):
        self.values = values

    def get(self, key, default=None):
        return self.values.get(key, default)


@pytest.mark.parametrize("confs, encrypted", [
    ({}, False),
    ({"spark.authenticate": "true"}, False),  # authenticated always; encrypted on request
    ({"spark.network.crypto.enabled": "true"}, True),
    ({"spark.ssl.enabled": "true"}, True),
    ({"spark.network.crypto.enabled": "true", "spark.distml.encryption": "false"}, False),
    ({"spark.distml.encryption": "true"}, True),
])
def test_frames_are_encrypted_when_spark_encrypts_its_own_traffic(confs, encrypted):
    spark = type("Session", (), {"conf": _Conf(confs)})()
    settings = comm.security_settings(spark, b"x" * 32)
    assert settings.encrypt is encrypted and settings.max_frame == comm.DEFAULT_MAX_FRAME


def test_bad_security_confs_name_the_conf():
    from distml.errors import ParamError
    for confs, conf in (({"spark.distml.encryption": "maybe"}, "spark.distml.encryption"),
                        ({"spark.distml.maxFrameBytes": "-1"}, "spark.distml.maxFrameBytes")):
        spark = type("Session", (), {"conf": _Conf(confs)})()
        with pytest.raises(ParamError, match=conf):
            comm.security_settings(spark, b"x" * 32)
