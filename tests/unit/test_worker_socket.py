"""A Python task's connection to its executor acknowledges promptly (``engine.worker_socket``)."""
import socket
import sys

import pytest

from distml.engine.worker_socket import acknowledge_promptly

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="TCP_QUICKACK and /proc/self/fd are Linux's")


def test_every_tcp_connection_of_the_process_sends_without_delay():
    with socket.create_server(("127.0.0.1", 0)) as server:
        client = socket.create_connection(server.getsockname())
        accepted, _ = server.accept()
        unix_a, unix_b = socket.socketpair()
        try:
            for sock in (client, accepted):
                assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 0
            acknowledge_promptly()  # a listening and two Unix sockets are passed over
            for sock in (client, accepted):
                assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
                assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK) != 0
            client.sendall(b"still open")
            assert accepted.recv(16) == b"still open"  # the duplicates closed, not the sockets
        finally:
            for sock in (client, accepted, unix_a, unix_b):
                sock.close()
