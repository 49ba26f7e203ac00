"""Ranks that meet inside their barrier stage, for a Spark Connect client.

A Connect client is a thin process (a laptop, a notebook service) that executors may have no
route to, so the driver-side ``RendezvousServer`` cannot be where ranks meet. Here they find
each other with one ``BarrierTaskContext.allGather`` of their addresses per fit (about a
second; the server's single round trip is the faster way where the driver is reachable) and
link the same authenticated mesh (``comm.connect_mesh``). The rest of what the server does
goes elsewhere:
- a failure is the task's own error: ``spark_errors`` carries the exception's type and
  message in Spark's error text to the client, which rebuilds it;
- progress goes to rank 0's executor log (logger ``distml``), and every round's report is in
  the fit's summary once the fit returns;
- checkpoints are written by rank 0 itself, into storage every executor reaches
  (``checkpoint.RankWriter``), and the client reads them for a retry.

Implements the part of ``rendezvous.RendezvousClient`` that ``barrier.run_rank`` uses.
"""
from __future__ import annotations

import json
import logging
import socket

from distml.errors import ParamError

log = logging.getLogger("distml")


class GatherRendezvous:
    """A rank's view of its stage: every rank's address by ``allGather``."""

    duplicate = False  # a barrier stage reruns all its tasks together: no rank is a copy

    def __init__(self, rank: int, save=None):
        from pyspark import BarrierTaskContext
        self.rank, self.task, self._save = rank, BarrierTaskContext.get(), save

    @property
    def local_host(self) -> str:
        """This rank's address as Spark knows its executor (which the driver, and so its
        peers, reach), as an IP: the listener binds to it."""
        host = self.task.getTaskInfos()[self.rank].address.rsplit(":", 1)[0]
        return socket.gethostbyname(host)

    def register(self, port: int, size: int) -> list[tuple[str, int]]:
        addresses = [json.loads(m) for m in self.task.allGather(
            json.dumps([self.local_host, port]))]
        return [(str(host), int(p)) for host, p in addresses]

    def checkpoint(self, checkpoint) -> None:
        """Rank 0's checkpoint, written before it returns (its peers wait in the context's
        allreduce)."""
        if self._save is None:
            raise ParamError("this fit writes no checkpoints: no directory was set")
        self._save(checkpoint)

    def progress(self, entry: dict) -> None:
        log.info("distml: rank 0: %s", entry)

    def wait_for_end(self) -> None:
        pass

    def report_failure(self, exc: BaseException, origin: bool) -> None:
        pass  # the task's own error reaches the client

    def done(self) -> None:
        pass

    def close(self) -> None:
        pass
