"""TCP collectives between ranks in threads over loopback: results, auth, abort, timeouts."""
import socket
import threading
import time

import numpy as np
import pytest

from distml.engine.comm import AuthError, Security, connect_auth, connect_mesh, open_listener
from distml.engine.rendezvous import RendezvousClient, RendezvousServer
from distml.errors import CollectiveError
from ranks import SECRET, run_ranks


@pytest.mark.parametrize("size", [1, 2, 4])
def test_collectives_give_identical_results_on_every_rank(size):
    def body(comm):
        mine = np.arange(3, dtype=np.float64) * (comm.rank + 1) + 0.1
        return (comm.allreduce(mine, "sum"), comm.allreduce(mine, "max"),
                comm.allgather(comm.rank), comm.broadcast("hello" if comm.rank == 0 else None),
                comm.alltoall([(comm.rank, dest) for dest in range(comm.size)]))

    out, errors, _ = run_ranks(size, body)
    assert errors == [None] * size
    expected_sum = sum(np.arange(3.0) * (r + 1) + 0.1 for r in range(size))
    for rank, (s, m, g, b, a2a) in enumerate(out):
        assert s.tobytes() == out[0][0].tobytes()
        np.testing.assert_allclose(s, expected_sum)
        np.testing.assert_array_equal(m, np.arange(3.0) * size + 0.1)
        assert g == list(range(size)) and b == "hello"
        assert a2a == [(src, rank) for src in range(size)]


def test_large_alltoall_does_not_deadlock():
    big = np.ones(4_000_000)  # 32 MB each way, far beyond socket buffers

    def body(comm):
        got = comm.alltoall([big * comm.rank for _ in range(comm.size)])
        return [float(g[0]) for g in got]

    out, errors, _ = run_ranks(2, body)
    assert errors == [None, None]
    assert out == [[0.0, 1.0], [0.0, 1.0]]


def test_a_failing_rank_stops_the_others_promptly():
    def body(comm):
        if comm.rank == 2:
            raise ValueError("rank two gives up")
        return comm.allreduce(np.ones(1))

    start = time.monotonic()
    out, errors, server = run_ranks(3, body, timeout=60.0)
    assert time.monotonic() - start < 10
    assert isinstance(errors[2], ValueError)
    assert all(isinstance(e, CollectiveError) and "rank two gives up" in str(e)
               for e in errors[:2])
    deadline = time.monotonic() + 5.0  # the failing rank's own report may trail its peers'
    while not server.first_failure().origin and time.monotonic() < deadline:
        time.sleep(0.01)
    first = server.first_failure()
    assert first.rank == 2 and first.origin and "rank two gives up" in first.message
    assert isinstance(first.to_exception(), ValueError)


def test_a_silent_peer_times_out():
    def body(comm):
        if comm.rank == 1:
            time.sleep(3)
            return None
        return comm.recv(1)

    out, errors, _ = run_ranks(2, body, timeout=1.0)
    assert isinstance(errors[0], CollectiveError) and "timed out" in str(errors[0])


def test_a_connection_without_the_secret_is_refused():
    listener = open_listener("127.0.0.1")
    address = ("127.0.0.1", listener.getsockname()[1])
    holder = {}

    def rank0():
        holder["comm"] = connect_mesh(0, [address, None], listener, SECRET, 10.0)

    t = threading.Thread(target=rank0)
    t.start()
    intruder = socket.create_connection(address, timeout=5)
    with pytest.raises(AuthError):
        connect_auth(intruder, Security(b"wrong" * 8), 1)
    intruder.close()
    # The real rank 1 still gets in afterwards, and data flows.
    real = socket.create_connection(address, timeout=5)
    channel = connect_auth(real, SECRET, 1)
    t.join(10)
    from distml.engine.comm import Communicator
    rank1 = Communicator(1, 2, {0: channel}, 10.0)
    holder["comm"].send(1, "only for rank 1")
    assert rank1.recv(0) == "only for rank 1"
    holder["comm"].close()
    rank1.close()


def test_rendezvous_refuses_a_client_without_the_secret():
    server = RendezvousServer(SECRET, 5.0, "127.0.0.1")
    try:
        with pytest.raises(AuthError):
            RendezvousClient(server.address, Security(b"x" * 32), 0, 5.0)
        assert server._table == {}
    finally:
        server.close()


def test_rendezvous_connections_send_small_frames_without_delay():
    """Both ends turn Nagle's algorithm off: the server writes the handshake's proof and then
    the admission before the rank answers, and with Nagle on the second write waited for a
    delayed acknowledgement (~40 ms at the start of every barrier fit, a quarter of a fit on
    resident partitions; docs/design-notes.md)."""
    server = RendezvousServer(SECRET, 5.0, "127.0.0.1")
    try:
        client = RendezvousClient(server.address, SECRET, 0, 5.0)
        deadline = time.monotonic() + 5.0
        while not server._conns and time.monotonic() < deadline:
            time.sleep(0.01)
        for sock in (client.sock, server._conns[0].sock):
            assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
        client.close()
    finally:
        server.close()
