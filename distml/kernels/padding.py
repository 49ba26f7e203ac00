"""CSR rows of uneven length as padded blocks, for batched products on array backends.

Rows are sorted by length and cut into chunks of at most ``max_slots`` padded entries, each
chunk padded to its longest row, so padding wastes little. What ALS (a user's ratings) and LDA
(a document's terms) batch on ``mxnet.numpy``, which has no sparse matrices.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np


class PaddedRows(NamedTuple):
    rows: np.ndarray     # the chunk's rows
    offsets: np.ndarray  # (rows, L) positions in the CSR arrays, 0 where padded
    real: np.ndarray     # (rows, L) True for a real entry, False for padding


def padded_rows(indptr: np.ndarray, max_slots: int) -> list[PaddedRows]:
    lengths = np.diff(indptr)
    order = np.argsort(lengths, kind="stable")
    sorted_lengths = lengths[order]
    chunks, start = [], 0
    while start < order.size:
        window = sorted_lengths[start:start + max_slots]
        slots = np.arange(1, window.size + 1) * np.maximum(window, 1)
        end = start + max(1, int(np.searchsorted(slots, max_slots, side="right")))
        rows = order[start:end]
        width = max(1, int(sorted_lengths[end - 1]))
        real = np.arange(width) < lengths[rows][:, None]
        offsets = np.where(real, indptr[rows][:, None] + np.arange(width), 0)
        chunks.append(PaddedRows(rows, offsets, real))
        start = end
    return chunks


def gathered(values: np.ndarray, chunk: PaddedRows, fill=0):
    """``values`` (a CSR data or index array) at the chunk's offsets, ``fill`` where padded."""
    if values.size == 0:
        return np.full(chunk.offsets.shape, fill, dtype=values.dtype)
    return np.where(chunk.real, values[chunk.offsets], fill)
