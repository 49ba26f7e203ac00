"""A per-host store of partitions' arrays, shared by every Python worker on the host.

Why: on the jobs engine each round is a Spark job, and shipping a cached 100 MB partition from
the JVM to a Python worker costs ~0.4 s per job. Written once to files (in /dev/shm, i.e.
memory, where there is one) and read back by memory map, the arrays cost nothing per job. The
store is only a cache: the engine keeps a lineage that rebuilds any partition it lacks (see
``jobs.py``), so a missing entry is slow, never wrong.
"""
from __future__ import annotations

import os
import shutil
import tempfile
import uuid

import numpy as np
import scipy.sparse as sp

from distml.engine.partition import Partition


class StoreMiss(LookupError):
    """This host's store does not hold the partition (the task runs away from its data)."""


def store_root() -> str:
    base = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) \
        else tempfile.gettempdir()
    return os.path.join(base, "distml-partitions")


def _dir(fit_id: str, index: int) -> str:
    return os.path.join(store_root(), fit_id, str(index))


def write(fit_id: str, part: Partition, replace: bool = False) -> None:
    """Store a partition's arrays (not its state); atomic, so readers never see half.

    Without ``replace`` an existing entry is kept (a retried task writes the same content).
    """
    final = _dir(fit_id, part.index)
    tmp = f"{final}.tmp-{uuid.uuid4().hex[:8]}"
    os.makedirs(tmp)
    arrays = {"y": part.y, "w": part.w, "ids": part.ids}
    if sp.issparse(part.X):
        X = part.X.tocsr()
        arrays.update(X_data=X.data, X_indices=X.indices, X_indptr=X.indptr,
                      X_shape=np.array(X.shape))
    else:
        arrays["X"] = part.X
    for name, array in arrays.items():
        if array is not None:
            np.save(os.path.join(tmp, f"{name}.npy"), np.ascontiguousarray(array))
    if replace and os.path.isdir(final):
        # Readers holding memory maps of the old files keep them until they let go.
        old = f"{final}.old-{uuid.uuid4().hex[:8]}"
        os.rename(final, old)
        shutil.rmtree(old, ignore_errors=True)
    try:
        os.rename(tmp, final)
    except OSError:  # another attempt of the same task got there first: same content
        shutil.rmtree(tmp, ignore_errors=True)


def read(fit_id: str, index: int, state: dict) -> Partition:
    path = _dir(fit_id, index)
    if not os.path.isdir(path):
        raise StoreMiss(f"partition {index} of fit {fit_id} is not stored on this host")

    def load(name):
        f = os.path.join(path, f"{name}.npy")
        return np.load(f, mmap_mode="r") if os.path.exists(f) else None

    if os.path.exists(os.path.join(path, "X.npy")):
        X = load("X")
    else:
        shape = tuple(int(v) for v in load("X_shape"))
        X = sp.csr_matrix((load("X_data"), load("X_indices"), load("X_indptr")), shape=shape)
    return Partition(index, X, load("y"), load("w"), load("ids"), state)


def remove(fit_id: str, index: int | None = None) -> None:
    target = os.path.join(store_root(), fit_id) if index is None else _dir(fit_id, index)
    shutil.rmtree(target, ignore_errors=True)


def holds(fit_id: str, index: int) -> bool:
    return os.path.isdir(_dir(fit_id, index))

