"""Shipping a pickled object out of a task as Arrow rows (chunked under Arrow's 2 GiB cell)."""
from __future__ import annotations

import pickle
from typing import Any, Iterable

import pyarrow as pa

CHUNK_SCHEMA = "chunk int, data binary"
_CHUNK = 256 << 20


def to_batches(obj: Any) -> Iterable[pa.RecordBatch]:
    blob = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    for i, start in enumerate(range(0, max(len(blob), 1), _CHUNK)):
        yield pa.RecordBatch.from_arrays(
            [pa.array([i], pa.int32()), pa.array([blob[start:start + _CHUNK]], pa.binary())],
            ["chunk", "data"])


def from_rows(rows: Iterable) -> Any:
    parts = sorted((r[0], bytes(r[1])) for r in rows)
    return pickle.loads(b"".join(p[1] for p in parts))
