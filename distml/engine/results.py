"""Shipping pickled objects out of tasks as Arrow rows (chunked under Arrow's 2 GiB cell)."""
from __future__ import annotations

import pickle
from collections import defaultdict
from typing import Any, Iterable

import pyarrow as pa

CHUNK_SCHEMA = "part int, chunk int, data binary"
_CHUNK = 64 << 20


def to_batches(obj: Any, part: int = 0) -> Iterable[pa.RecordBatch]:
    blob = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    for i, start in enumerate(range(0, max(len(blob), 1), _CHUNK)):
        yield pa.RecordBatch.from_arrays(
            [pa.array([part], pa.int32()), pa.array([i], pa.int32()),
             pa.array([blob[start:start + _CHUNK]], pa.binary())], ["part", "chunk", "data"])


def from_rows(rows: Iterable) -> dict[int, Any]:
    """{part: object} from the rows ``to_batches`` made, in any order."""
    chunks: dict[int, list] = defaultdict(list)
    for part, chunk, data in rows:
        chunks[part].append((chunk, bytes(data)))
    return {part: pickle.loads(b"".join(d for _, d in sorted(c)))
            for part, c in sorted(chunks.items())}
