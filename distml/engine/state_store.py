"""A partition's state on the jobs engine, kept beside its rows in the per-host store.

Why: the jobs engine caches each partition's state in a Spark RDD between rounds, and a
state can be large (a tree's binned rows and node ids, ALS's rating blocks, LDA's document
statistics). Spark's cache holds it pickled in the JVM, so every round paid a pickle, a copy
into the JVM and back, and an unpickle of all of it, for every partition: ~0.4 s a round for a
500k-row tree, where the round's own work takes milliseconds.

Pickle protocol 5 splits a state into a small pickle (its structure, scalars and small arrays)
and the raw buffers of its large arrays. The buffers go into one file of this host's store
(``partition_store.write_buffers``: /dev/shm where there is one, 0600 in the user's private
folder); the small pickle stays in Spark's cache, where the whole state was before. Reading
maps the file copy-on-write, so the program gets writable arrays at no copy and the file never
changes. The file holds raw array bytes, never a pickle.

Each round writes a new version; a task removes its partition's versions that no lineage can
need again (older than its input, except those of the lineage cuts, ``jobs.LINEAGE_CUT_EVERY``).
When Spark recomputes a lost state through the lineage, the recomputation writes the versions
again on the host it runs on. A state whose file is not on the task's host (the task ran away
from its host, which lost it) raises ``StateMiss``: the attempt fails and the driver runs it
again (``engine.recovery``). A host without room keeps the state in Spark's cache, as before.
"""
from __future__ import annotations

import pickle
from typing import Callable

from distml.engine import partition_store
from distml.engine.partition_store import StoreMiss
from distml.errors import FitError

SPILL_BYTES = 1 << 16  # smaller buffers stay in the pickle: a file per few KB costs more
_ALIGN = 64


class StateMiss(FitError):
    """A partition's stored state is not on this host: the fit's attempt runs again."""


class StoredState:
    """What Spark's cache holds for a state kept in the host store."""

    __slots__ = ("fit_id", "name", "pickled", "spans")

    def __init__(self, fit_id: str, name: str, pickled: bytes, spans: list):
        self.fit_id, self.name, self.pickled, self.spans = fit_id, name, pickled, spans

    def __getstate__(self):
        return self.fit_id, self.name, self.pickled, self.spans

    def __setstate__(self, values):
        self.fit_id, self.name, self.pickled, self.spans = values


def keep(state: dict, fit_id: str, index: int, version: int,
         needed: Callable[[int], bool]) -> dict | StoredState:
    """``state`` with its large buffers in this host's store (or as it is, when it has none
    or no room is left); removes partition ``index``'s versions for which ``needed`` is
    False."""
    buffers = []

    def out_of_band(buffer: pickle.PickleBuffer) -> bool:
        raw = buffer.raw()
        if raw.nbytes < SPILL_BYTES:
            return True  # in the pickle
        buffers.append(raw)
        return False

    pickled = pickle.dumps(state, protocol=5, buffer_callback=out_of_band)
    if not buffers:
        return state
    spans, size = [], 0
    for raw in buffers:
        start = -(-size // _ALIGN) * _ALIGN
        spans.append((start, raw.nbytes))
        size = start + raw.nbytes
    name = f"{index}-{version}"
    if not partition_store.write_buffers(fit_id, name, buffers, spans, size):
        return state
    partition_store.remove_buffers(
        fit_id, f"{index}-", keep=lambda other: needed(int(other.rpartition("-")[2])))
    return StoredState(fit_id, name, pickled, spans)


def restore(state: dict | StoredState) -> dict:
    """The state ``keep`` returned, as the program left it."""
    if not isinstance(state, StoredState):
        return state
    try:
        mapped = partition_store.map_buffers(state.fit_id, state.name)
    except StoreMiss as e:
        raise StateMiss(f"{e} (its task ran away from the host that held it); the fit runs "
                        "again") from None
    view = memoryview(mapped)
    return pickle.loads(state.pickled, buffers=[view[a:a + n] for a, n in state.spans])
