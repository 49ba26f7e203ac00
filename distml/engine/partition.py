"""The unit of data a training program sees: one partition's rows as arrays, plus its state."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp


@dataclass
class Partition:
    """One partition of the training data.

    ``X`` is a C-contiguous 2-d ndarray or a ``scipy.sparse.csr_matrix``; ``y``, ``w`` and
    ``ids`` are 1-d arrays aligned with its rows (or None when the fit has no such column).
    ``state`` holds what a program keeps beside the rows between rounds (tree node ids, LDA
    document parameters, a second view of the rows grouped by key). ``device_cache`` holds
    what a kernel derives from the rows and reuses across rounds (their copy on a GPU,
    ``distml.gpu.partition_rows``; an epoch's shuffle); it lives only as long as this object,
    and is never shipped or saved.
    """

    index: int
    X: Any
    y: np.ndarray | None = None
    w: np.ndarray | None = None
    ids: np.ndarray | None = None
    state: dict = field(default_factory=dict)
    device_cache: dict = field(default_factory=dict, repr=False, compare=False)

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
