"""The training program of a decision tree: binned once, grown level by level.

Rounds: one gathers a row sample for the split thresholds; one bins every partition's rows
(kept in the partition's state with each row's node id and label statistics); then one round
per level: each rank routes its rows through the previous level's splits and sums histograms
for the open nodes, the histograms are allreduced, and every rank picks the same splits. The
children's statistics come from their parent's histogram, so the last level needs no round.
"""
from __future__ import annotations

import numpy as np

from distml.errors import DataError
from distml.kernels.statistics import MAX_CLASSES, count_bad_labels
from distml.kernels.tree import (VARIANCE, RowTargets, best_splits, bin_rows, impurity,
                                 node_histograms, node_threshold, node_weight,
                                 split_thresholds)

# Rows sampled for the split thresholds: MLlib's max(maxBins^2, 10000).
MIN_SAMPLE_ROWS = 10000


def _checks(part, classification):
    y, w = part.y, part.weights()
    return {"bad_labels": count_bad_labels(y) if classification else 0,
            "non_finite_labels": int(np.count_nonzero(~np.isfinite(y))),
            "negative_weights": int(np.count_nonzero(w < 0)),
            "num_classes": int(y.max()) + 1 if classification and y.size else 0}


def _sample(part, stride):
    X = part.X[::stride]
    return X.toarray() if hasattr(X, "toarray") else np.asarray(X)


def _bin(part, thresholds, num_classes):
    part.state["tree_bins"] = bin_rows(part.X, thresholds)
    part.state["tree_targets"] = RowTargets(part.y, part.weights(), num_classes)
    part.state["tree_node"] = np.zeros(part.num_rows, dtype=np.int32)


def _level(part, routing, slot_of_node, num_slots, num_bins):
    """Route rows through the last level's splits, then histogram the open nodes."""
    bins, node = part.state["tree_bins"], part.state["tree_node"]
    if routing is not None:
        feature, bin_, left, right = routing
        f = feature[node]
        moving = np.flatnonzero(f >= 0)
        go_left = bins[moving, f[moving]] <= bin_[node[moving]]
        node[moving] = np.where(go_left, left[node[moving]], right[node[moving]])
    return node_histograms(bins, slot_of_node[node], part.state["tree_targets"], num_slots,
                           num_bins)


def decision_tree(ctx, params: dict) -> dict:
    classification = params["impurity"] != VARIANCE
    label = params["labelCol"]
    checks = ctx.map_collect(_checks, classification)
    if classification and sum(c["bad_labels"] for c in checks):
        raise DataError(f"column '{label}' has {sum(c['bad_labels'] for c in checks)} labels "
                        f"that are not integers 0..K-1 (K at most {MAX_CLASSES}); index labels "
                        "with StringIndexer")
    if sum(c["non_finite_labels"] for c in checks):
        raise DataError(f"column '{label}' has NaN or infinite labels")
    if sum(c["negative_weights"] for c in checks):
        raise DataError(f"column '{params['weightCol']}' has negative weights")
    num_classes = max(2, max(c["num_classes"] for c in checks)) if classification else 0

    n, d = ctx.input.num_rows, ctx.input.num_features
    stride = max(1, n // max(params["maxBins"] ** 2, MIN_SAMPLE_ROWS))
    thresholds, bin_values = split_thresholds(np.vstack(ctx.map_collect(_sample, stride)),
                                              params["maxBins"])
    num_bins = max(t.size for t in thresholds) + 1
    ctx.map_update(_bin, thresholds, num_classes)

    criterion, max_depth = params["impurity"], params["maxDepth"]
    tree = _Tree()
    open_nodes, routing, pairs = [0], None, []
    tree.add(None, 0)
    for depth in range(max_depth + 1):
        if depth == 0:
            hist = _level_histograms(ctx, tree, [0], routing, num_bins)
        elif depth < max_depth:
            hist = _children_histograms(ctx, tree, pairs, hist, routing, num_bins)
        if depth == 0:
            tree.stats[0] = hist[0, 0].sum(axis=0)
            total_weight = float(node_weight(tree.stats[0], criterion))
            if total_weight <= 0:
                raise DataError("every row has weight 0: nothing to fit")
        if depth == max_depth:
            break
        feature, bin_, gain = best_splits(
            hist, criterion, params["minInstancesPerNode"],
            params["minWeightFractionPerNode"] * total_weight, params["minInfoGain"])
        routing_feature = np.full(len(tree.stats), -1, dtype=np.int64)
        routing_bin = np.zeros(len(tree.stats), dtype=np.int64)
        children, pairs = [], []
        for slot, node in enumerate(open_nodes):
            f = int(feature[slot])
            if f < 0 or impurity(tree.stats[node], criterion) <= 0:
                continue
            b = int(bin_[slot])
            left_stats = hist[slot, f, :b + 1].sum(axis=0)
            threshold = node_threshold(hist[slot, f], b, thresholds[f], bin_values[f])
            left, right = tree.split(node, f, threshold, float(gain[slot]), left_stats,
                                     tree.stats[node] - left_stats, depth + 1)
            routing_feature[node], routing_bin[node] = f, b
            children += [left, right]
            pairs.append((slot, left, right))
        if not children:
            break
        # rows sit in this level's nodes, so the split arrays need cover only those ids
        routing = (routing_feature, routing_bin, np.asarray(tree.left, dtype=np.int64),
                   np.asarray(tree.right, dtype=np.int64))
        open_nodes = children
    return tree.arrays(criterion, num_classes)


def _level_histograms(ctx, tree, nodes, routing, num_bins) -> np.ndarray:
    """One round: route the rows, then histogram the rows of ``nodes`` (slot = list order)."""
    slot_of_node = np.full(len(tree.stats), -1, dtype=np.int64)
    slot_of_node[nodes] = np.arange(len(nodes))
    return ctx.map_update(_level, routing, slot_of_node, len(nodes), num_bins)


def _children_histograms(ctx, tree, pairs, parent_hist, routing, num_bins) -> np.ndarray:
    """The histograms of every (left, right) child pair, in that order, from one round that
    histograms only the child with fewer rows: its sibling's is the parent's minus its own
    (LightGBM's subtraction trick; it halves the rows read per level)."""
    smaller = [left if tree.stats[left][-1] <= tree.stats[right][-1] else right
               for _, left, right in pairs]
    computed = _level_histograms(ctx, tree, smaller, routing, num_bins)
    hist = np.empty((2 * len(pairs),) + parent_hist.shape[1:])
    for i, ((parent, left, _), small) in enumerate(zip(pairs, smaller)):
        small_at, big_at = (2 * i, 2 * i + 1) if small == left else (2 * i + 1, 2 * i)
        hist[small_at] = computed[i]
        hist[big_at] = parent_hist[parent] - computed[i]
    return hist


class _Tree:
    """Nodes in the order they are made (breadth first): root 0, children after parents."""

    def __init__(self):
        self.feature, self.threshold, self.gain = [], [], []
        self.left, self.right, self.stats, self.depth = [], [], [], []

    def add(self, stats, depth) -> int:
        self.feature.append(-1)
        self.threshold.append(0.0)
        self.gain.append(0.0)
        self.left.append(-1)
        self.right.append(-1)
        self.stats.append(stats)
        self.depth.append(depth)
        return len(self.stats) - 1

    def split(self, node, feature, threshold, gain, left_stats, right_stats, depth):
        left, right = self.add(left_stats, depth), self.add(right_stats, depth)
        self.feature[node], self.threshold[node], self.gain[node] = feature, threshold, gain
        self.left[node], self.right[node] = left, right
        return left, right

    def arrays(self, criterion, num_classes) -> dict:
        stats = np.array(self.stats)
        return {"feature": np.array(self.feature, dtype=np.int64),
                "threshold": np.array(self.threshold), "gain": np.array(self.gain),
                "left": np.array(self.left, dtype=np.int64),
                "right": np.array(self.right, dtype=np.int64),
                "stats": stats, "impurity": impurity(stats, criterion),
                "numClasses": np.int64(num_classes)}
