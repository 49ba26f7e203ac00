"""Ranks as threads of this process, meeting through a real rendezvous (comm tests)."""
import threading

from distml.engine.comm import PeerAborted, Security, connect_mesh, open_listener
from distml.engine.rendezvous import RendezvousClient, RendezvousServer

SECRET = Security(b"s" * 32)


def run_ranks(size, body, secret=SECRET, timeout=10.0, before=None):
    """Start ``size`` ranks (threads) through a real rendezvous; return each rank's result.
    ``before(rank, listener)`` runs once a rank has opened its listener."""
    server = RendezvousServer(secret, timeout, "127.0.0.1")
    out, errors = [None] * size, [None] * size

    def rank_main(rank):
        client = RendezvousClient(server.address, secret, rank, timeout)
        listener = open_listener(client.local_host)
        if before is not None:
            before(rank, listener)
        comm = None
        try:
            peers = client.register(listener.getsockname()[1], size)
            comm = connect_mesh(rank, peers, listener, secret, timeout)
            out[rank] = body(comm)
            client.done()
        except BaseException as e:
            errors[rank] = e
            client.report_failure(e, origin=not isinstance(e, PeerAborted))
            if comm is not None:
                comm.abort(str(e))
        finally:
            if comm is not None:
                comm.close()
            client.close()

    threads = [threading.Thread(target=rank_main, args=(r,)) for r in range(size)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    server.close()
    return out, errors, server
