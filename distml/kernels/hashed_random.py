"""Random numbers indexed by position: the same draw for a row whichever partition holds it.

A generator seeded per partition gives draws that change with the partitioning; these are a
hash (splitmix64's finalizer) of (seed, stream, row, column), so a fit that draws per row (an
LDA mini-batch, a document's starting point) gives the same model on any number of ranks, and
a rank draws only its own rows, in O(its rows).
"""
from __future__ import annotations

import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def _mix(z: np.ndarray) -> np.ndarray:
    """splitmix64's finalizer: a bijection of uint64 whose outputs look independent."""
    with np.errstate(over="ignore"):
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def uniforms(seed: int, stream: int, rows: np.ndarray, width: int = 1) -> np.ndarray:
    """(rows, width) draws in [0, 1), a function of (seed, stream, row, column) only."""
    with np.errstate(over="ignore"):
        key = _mix(np.uint64(seed & 0xFFFFFFFFFFFFFFFF) * _GOLDEN
                   + _mix(np.uint64(stream & 0xFFFFFFFFFFFFFFFF) + _GOLDEN))
        counter = np.asarray(rows, dtype=np.uint64)[:, None] * np.uint64(width) + \
            np.arange(width, dtype=np.uint64)
        z = _mix((counter + np.uint64(1)) * _GOLDEN ^ key)
    return (z >> np.uint64(11)).astype(np.float64) * 2.0 ** -53
