"""The training program of a decision tree: binned once, grown level by level (``growth``)."""
from __future__ import annotations

import numpy as np

from distml.algorithms.tree.growth import (bin_and_root_histograms, bin_partition, grow,
                                           prepare_binning, tree_of)
from distml.engine.memory import MemoryUse
from distml.kernels.tree import VARIANCE


def decision_tree(ctx, params: dict) -> dict:
    classification = params["impurity"] != VARIANCE
    binning = prepare_binning(ctx, params, classification)
    # The thresholds come from a per-partition row sample, so the grown levels are valid only
    # on as many ranks as wrote them (ctx.resume checks the rank count for every program).
    nodes = grow(ctx, binning, params, 1,
                 start=lambda: ctx.map_update(bin_and_root_histograms, binning.thresholds,
                                              binning.num_classes, binning.num_bins),
                 restore=lambda: ctx.map_update(bin_partition, binning.thresholds,
                                                binning.num_classes))
    tree = tree_of(nodes, 0, params["impurity"], binning.num_classes, params.get("prune", True))
    return dict(tree, numFeatures=np.int64(ctx.input.num_features))


# Measured by benchmarks/bench_memory.py (1.18x and 114 MiB, numba's kernels), rounded up:
# what the ranks hold the fit to before loading their rows (engine.memory).
decision_tree.memory_use = MemoryUse(1.25, 128 << 20)
