"""The training program of a random forest: every tree grown together, level by level.

Each rank bins its rows once and draws every tree's sample as row multiplicities (MLlib's
bagging: Poisson(subsamplingRate) counts with ``bootstrap``, Bernoulli without), from the
rows' global positions; then ``growth.grow`` runs one histogram pass and one allreduce per
level for all the trees, each node splitting on a random subset of the features.
"""
from __future__ import annotations

import functools
import math

import numpy as np

from distml.algorithms.tree.growth import (bin_and_root_histograms, bin_partition, grow,
                                           prepare_binning, sample_counts, tree_of)
from distml.errors import ParamError
from distml.kernels.tree import VARIANCE

STRATEGIES = ("auto", "all", "onethird", "sqrt", "log2")


def features_per_node(strategy: str, num_features: int, num_trees: int,
                      classification: bool) -> int:
    """How many features a node's split may use: MLlib's featureSubsetStrategy ("auto":
    every feature for one tree, else sqrt for classification and onethird for regression;
    "n" an integer count; "0.f" a fraction of the features)."""
    d = num_features
    if strategy == "auto":
        strategy = "all" if num_trees == 1 else "sqrt" if classification else "onethird"
    named = {"all": d, "onethird": math.ceil(d / 3), "sqrt": math.ceil(math.sqrt(d)),
             "log2": max(1, math.ceil(math.log2(d)))}
    if strategy in named:
        return max(1, min(d, named[strategy]))
    try:
        value = float(strategy)
    except ValueError:
        value = float("nan")
    if value >= 1 and value == int(value) and "." not in strategy:
        return min(d, int(value))
    if 0 < value <= 1:
        return max(1, math.ceil(value * d))
    raise ParamError(f"featureSubsetStrategy must be one of {', '.join(STRATEGIES)}, an "
                     f"integer n >= 1 or a fraction in (0, 1], got '{strategy}'")


def _forest_counts(seed, num_trees, rate, with_replacement, offsets, part):
    positions = offsets[part.index] + np.arange(part.num_rows, dtype=np.int64)
    return sample_counts(seed, num_trees, rate, with_replacement, positions)


def random_forest(ctx, params: dict) -> dict:
    classification = params["impurity"] != VARIANCE
    num_trees, d = params["numTrees"], ctx.input.num_features
    per_node = features_per_node(params["featureSubsetStrategy"], d, num_trees,
                                 classification)
    binning = prepare_binning(ctx, params, classification)
    offsets = np.cumsum([0] + ctx.input.rows_per_partition)[:-1]
    counts_of = functools.partial(_forest_counts, params["seed"], num_trees,
                                  params["subsamplingRate"], params["bootstrap"], offsets)
    nodes = grow(ctx, binning, params, num_trees,
                 start=lambda: ctx.map_update(bin_and_root_histograms, binning.thresholds,
                                              binning.num_classes, binning.num_bins,
                                              counts_of),
                 restore=lambda: ctx.map_update(bin_partition, binning.thresholds,
                                                binning.num_classes, counts_of),
                 features_per_node=per_node, seed=params["seed"])
    trees = [tree_of(nodes, t, params["impurity"], binning.num_classes, params["prune"])
             for t in range(num_trees)]
    return {"trees": trees, "treeWeights": np.ones(num_trees),
            "numFeatures": np.int64(d), "numClasses": np.int64(binning.num_classes)}
