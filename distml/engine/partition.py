"""The unit of data a training program sees: one partition's rows as arrays, plus its state."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp
import xxhash


@dataclass
class Partition:
    """One partition of the training data.

    ``X`` is a C-contiguous 2-d ndarray or a ``scipy.sparse.csr_matrix``; ``y``, ``w`` and
    ``ids`` are 1-d arrays aligned with its rows (or None when the fit has no such column).
    ``state`` holds what a program keeps beside the rows between rounds (tree node ids, LDA
    document parameters, a second view of the rows grouped by key). ``device_cache`` holds
    what a kernel derives from the rows and reuses across rounds (their copy on a GPU,
    ``distml.gpu.partition_rows``; an epoch's shuffle); it lives only as long as this object,
    and is never shipped or saved. ``digest`` is the hash of the rows' bytes
    (``PartitionDigest``), taken as they arrived when the fit asked for it.
    """

    index: int
    X: Any
    y: np.ndarray | None = None
    w: np.ndarray | None = None
    ids: np.ndarray | None = None
    state: dict = field(default_factory=dict)
    device_cache: dict = field(default_factory=dict, repr=False, compare=False)
    digest: str | None = field(default=None, repr=False, compare=False)

    def fingerprint(self) -> str:
        """The hash of this partition's rows (X, y, w, ids), computed now if ingestion did not."""
        if self.digest is None:
            hasher = PartitionDigest()
            if self.num_rows:
                hasher.add(self.X, self.y, self.w, self.ids)
            self.digest = hasher.hexdigest()
        return self.digest

    @property
    def num_rows(self) -> int:
        return int(self.X.shape[0])

    @property
    def num_features(self) -> int:
        return int(self.X.shape[1])

    @property
    def is_sparse(self) -> bool:
        return sp.issparse(self.X)

    def weights(self) -> np.ndarray:
        """The row weights, ones when the fit has no weight column."""
        if self.w is None:
            return np.ones(self.num_rows)
        return self.w

    def take(self, rows: np.ndarray) -> "Partition":
        """A partition holding only ``rows`` (an index or mask array), with an empty state."""
        pick = (lambda a: None if a is None else a[rows])
        return Partition(self.index, self.X[rows], pick(self.y), pick(self.w), pick(self.ids))


class PartitionDigest:
    """A hash of a partition's rows, fed one batch at a time as they arrive.

    The digest does not depend on how the rows were cut into batches: dense rows hash their
    bytes in row order; CSR rows their lengths, column indices (as int64) and values; labels,
    weights and ids their bytes. XXH3-128 (``xxhash``), not SHA-256: every checkpointing fit
    hashes all its rows, SHA-256 took 57 ms for a rank's 250k x 50 rows here and XXH3 3 ms
    (``benchmarks/bench_security.py``), and it overlaps the JVM's next batch only where a core
    is free. It guards against resuming on other data by accident;
    a planted checkpoint is kept out by the checkpoint folder's permissions.
    """

    _STREAMS = ("X", "lengths", "indices", "y", "w", "ids")

    def __init__(self) -> None:
        self._hashes = {name: xxhash.xxh3_128() for name in self._STREAMS}
        self._rows = 0
        self._width = -1
        self._layout: tuple = ()

    def add(self, X, y=None, w=None, ids=None) -> None:
        h = self._hashes
        if sp.issparse(X):
            X = X.tocsr()
            h["lengths"].update(np.diff(X.indptr).astype(np.int64))
            h["indices"].update(X.indices.astype(np.int64))
            h["X"].update(np.ascontiguousarray(X.data))
        else:
            h["X"].update(np.ascontiguousarray(X))
        for name, column in (("y", y), ("w", w), ("ids", ids)):
            if column is not None:
                h[name].update(_bytes_of(column))
        self._rows += X.shape[0]
        self._width = X.shape[1]
        self._layout = (sp.issparse(X), str(X.dtype), y is not None, w is not None,
                        ids is not None)

    def hexdigest(self) -> str:
        summary = [self._rows, self._width if self._rows else -1, list(self._layout)]
        summary += [h.hexdigest() for h in self._hashes.values()]
        return hashlib.sha256(json.dumps(summary).encode()).hexdigest()


def _bytes_of(column) -> bytes | np.ndarray:
    column = np.asarray(column)
    if column.dtype.kind in "biufc":
        return np.ascontiguousarray(column)
    return json.dumps([str(v) for v in column.tolist()]).encode()


def concat_rows(arrays: list) -> Any:
    """Stack row blocks (ndarrays or CSR matrices) in the order given."""
    if sp.issparse(arrays[0]):
        return sp.vstack(arrays, format="csr")
    return np.concatenate(arrays)
