"""Growing decision trees on binned rows, level by level, any number of trees at once.

A decision tree, a forest and each round of boosting share this: one round checks the labels
and categorical values and gathers a row sample for the split thresholds (``prepare_binning``);
a caller's round bins every partition's rows (kept in the partition's state with, per tree,
each row's node id and its multiplicity in that tree's sample) and returns the roots'
histograms; then ``grow`` runs one round per level for every tree together: each rank routes
its rows through the previous level's splits and sums histograms for the open nodes of all the
trees, the histograms are allreduced, and every rank picks the same splits. Node ids are
global over the trees, so a forest's level is one pass and one allreduce, as MLlib's node-group
batching but without a Spark job per group. The children's statistics come from their parent's
histogram, so the last level needs no round. (Every round is a Spark job on the jobs engine,
~0.1 s each: so no round is spent on what another can carry.)
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from distml.errors import DataError, ParamError
from distml.kernels.hashed_random import uniforms
from distml.kernels.statistics import MAX_CLASSES, count_bad_labels
from distml.kernels.tree import (VARIANCE, RowTargets, best_splits, best_subsets, bin_order,
                                 bin_rows, impurity, node_histograms, node_threshold,
                                 node_weight, split_thresholds)

# Rows sampled for the split thresholds: MLlib's max(maxBins^2, 10000).
MIN_SAMPLE_ROWS = 10000


@dataclass
class Binning:
    """What every tree of a fit shares: the features' split thresholds (bin b holds the values
    between thresholds b - 1 and b), the categorical features, the label's number of classes
    (0 for a real label)."""

    thresholds: list[np.ndarray]
    bin_values: list[np.ndarray | None]  # the value of each bin, when bins hold one value
    categorical: dict[int, int]  # feature -> number of categories (category c is bin c)
    exhaustive: dict[int, int]  # categorical features whose every subset is tried
    num_classes: int

    @property
    def num_bins(self) -> int:
        return max(t.size for t in self.thresholds) + 1

    def categorical_mask(self, keys) -> np.ndarray:
        mask = np.zeros(len(self.thresholds), dtype=bool)
        mask[list(keys)] = True
        return mask


def prepare_binning(ctx, params: dict, classification: bool) -> Binning:
    """One round: labels, weights and categorical values checked on every rank and a row
    sample gathered (every ``stride``-th row, MLlib's sample size; of the training rows only
    when ``params["validate"]``: rows whose id column is set are boosting's validation rows);
    the thresholds follow."""
    n = ctx.input.num_rows
    stride = max(1, n // max(params["maxBins"] ** 2, MIN_SAMPLE_ROWS))
    categorical, num_classes, sample = _checked_input(ctx, params, classification, stride)
    thresholds, bin_values = split_thresholds(sample, params["maxBins"])
    for j, arity in categorical.items():  # category c is bin c: thresholds between integers
        thresholds[j], bin_values[j] = np.arange(arity - 1) + 0.5, None
    # multiclass features with few categories: every subset is tried, for as few categories
    # as MLlib tries them (floor(log2(maxBins // 2 + 1)) + 1: 5 at maxBins 32); other
    # categorical features split an ordering of their categories
    max_unordered = int(np.log2(min(params["maxBins"], n) // 2 + 1) + 1)
    exhaustive = {j: a for j, a in categorical.items() if classification and num_classes > 2
                  and a <= max_unordered}
    return Binning(thresholds, bin_values, categorical, exhaustive, num_classes)


# --- on the ranks ------------------------------------------------------------------------------

def bin_partition(part, thresholds, num_classes, counts_of=None) -> None:
    """The partition's rows as bins, its label statistics, and every tree's node ids (tree t's
    rows at its root, node t) and row multiplicities (``counts_of(part)``: trees x rows
    uint8; one tree, every row once, when None)."""
    part.state["tree_bins"] = bin_rows(part.X, thresholds)
    part.state["tree_targets"] = RowTargets(part.y, part.weights(), num_classes)
    counts = np.ones((1, part.num_rows), dtype=np.uint8) if counts_of is None else \
        counts_of(part)
    part.state["tree_count"] = counts
    part.state["tree_node"] = np.repeat(np.arange(counts.shape[0], dtype=np.int32)[:, None],
                                        part.num_rows, axis=1)


def bin_and_root_histograms(part, thresholds, num_classes, num_bins, counts_of=None):
    bin_partition(part, thresholds, num_classes, counts_of)
    trees = part.state["tree_count"].shape[0]
    return level_histograms(part, None, np.arange(trees), trees, num_bins)


def level_histograms(part, routing, slot_of_node, num_slots, num_bins):
    """Route every tree's rows through the last level's splits, then histogram the nodes
    that have a slot (-1: not histogrammed)."""
    from distml.kernels.tree_loops import route

    bins, node = part.state["tree_bins"], part.state["tree_node"]
    if routing is not None:
        route(bins, node, *routing, False)
    return node_histograms(bins, slot_of_node[node], part.state["tree_targets"],
                           part.state["tree_count"], num_slots, num_bins)


def route_to_leaves(part, feature, goes_left, left, right):
    """Every row of every tree down through every split made so far (a resumed fit's rows;
    boosting's rows after a tree)."""
    from distml.kernels.tree_loops import route

    route(part.state["tree_bins"], part.state["tree_node"], feature, goes_left, left, right,
          True)


def sample_counts(seed: int, num_trees: int, rate: float, with_replacement: bool,
                  positions: np.ndarray) -> np.ndarray:
    """(trees x rows) uint8: each row's multiplicity in each tree's sample, MLlib's
    BaggedPoint: Poisson(rate) draws with replacement, Bernoulli(rate) without. A function of
    the rows' global positions, so any partitioning draws the same samples."""
    if rate >= 1.0 and not with_replacement:
        return np.ones((num_trees, positions.size), dtype=np.uint8)
    counts = np.empty((num_trees, positions.size), dtype=np.uint8)
    if with_replacement:  # inverse of Poisson(rate)'s distribution function
        k = np.arange(64)
        log_pmf = k * np.log(rate) - rate - np.cumsum(np.log(np.maximum(k, 1)))
        cdf = np.cumsum(np.exp(log_pmf))
    for t in range(num_trees):
        u = uniforms(seed, t, positions)[:, 0]
        counts[t] = np.searchsorted(cdf, u, side="right") if with_replacement else u < rate
    return counts


# --- on the driver -----------------------------------------------------------------------------

def grow(ctx, binning: Binning, params: dict, num_trees: int, start: Callable[[], np.ndarray],
         restore: Callable[[], None] | None = None, features_per_node: int = 0,
         seed: int = 0) -> "Nodes":
    """Grow ``num_trees`` trees together on the rows ``start()`` binned, whose roots'
    histograms it returns (trees x features x bins x S); the trees' nodes.

    ``params``: maxDepth, impurity, minInstancesPerNode, minWeightFractionPerNode (of each
    tree's total weight), minInfoGain. ``features_per_node`` (0: all) features are drawn at
    random for each node's split, as MLlib's featureSubsetStrategy: one draw per level on the
    driver from (seed, depth), so every engine and rank count picks the same. With
    ``restore`` (which re-bins the rows, for a resumed fit), every level is an iteration for
    progress and checkpoints; without, the caller reports (boosting: a tree an iteration).
    """
    criterion, max_depth = params["impurity"], params["maxDepth"]
    num_bins, d = binning.num_bins, len(binning.thresholds)
    is_categorical = binning.categorical_mask(binning.categorical)
    searched = ~binning.categorical_mask(binning.exhaustive)
    saved = ctx.resume() if restore is not None else None
    if saved is not None:
        open_nodes, pairs, hist = (saved[k] for k in ("open", "pairs", "hist"))
        nodes, first = Nodes.from_state(saved["nodes"]), saved["iteration"]
        restore()
        ctx.map_update(route_to_leaves, *nodes.routing(num_bins))  # rows to the open nodes
        routing = None
    else:
        nodes, open_nodes, routing, pairs, first = Nodes(), list(range(num_trees)), None, [], 0
        for t in range(num_trees):
            nodes.add(None, 0, t)
        hist = start()
        for t in range(num_trees):
            nodes.stats[t] = hist[t, 0].sum(axis=0)
        if not (node_weight(np.array(nodes.stats), criterion) > 0).any():
            raise DataError("every row has weight 0: nothing to fit")
    tree_weight = params["minWeightFractionPerNode"] * node_weight(
        np.array(nodes.stats[:num_trees]), criterion)
    for depth in range(first, max_depth):
        if depth > 0:
            hist = _children_histograms(ctx, nodes, pairs, hist, routing, num_bins)
        order = bin_order(hist, criterion, is_categorical)
        ordered = np.take_along_axis(hist, order[..., None], axis=2) if is_categorical.any() \
            else hist
        drawn = _feature_subsets(seed, depth, len(open_nodes), d, features_per_node) \
            if 0 < features_per_node < d else None
        allowed = searched if drawn is None else searched & drawn
        min_weight = tree_weight[np.asarray(nodes.tree)[open_nodes]]
        rules = (criterion, params["minInstancesPerNode"], min_weight, params["minInfoGain"])
        feature, position, gain = best_splits(ordered, *rules, allowed=allowed)
        subsets = {j: best_subsets(hist[:, j, :arity], *rules)
                   for j, arity in binning.exhaustive.items()}
        pure = impurity(np.array([nodes.stats[node] for node in open_nodes]), criterion) <= 0
        routing_feature = np.full(len(nodes.stats), -1, dtype=np.int64)
        goes_left = np.zeros((len(nodes.stats), num_bins), dtype=bool)
        children, pairs = [], []
        for slot, node in enumerate(open_nodes):
            f, best = int(feature[slot]), float(gain[slot])
            for j, (subset_gain, _) in sorted(subsets.items()):  # ties: lowest feature
                if drawn is not None and not drawn[slot, j]:
                    continue
                if subset_gain[slot] > best or (subset_gain[slot] == best > -np.inf and j < f):
                    f, best = j, float(subset_gain[slot])
            if f < 0 or best == -np.inf or pure[slot]:
                continue
            if f in subsets:
                left_bins = np.flatnonzero(subsets[f][1][slot])
            else:
                b = int(position[slot])
                left_bins = np.sort(order[slot, f, :b + 1])
            left_stats = hist[slot, f, left_bins].sum(axis=0)
            if is_categorical[f]:
                split = {"categories": left_bins, "arity": binning.categorical[f]}
            else:
                split = {"threshold": node_threshold(hist[slot, f], b, binning.thresholds[f],
                                                     binning.bin_values[f])}
            left, right = nodes.split(node, f, split, best, left_stats,
                                      nodes.stats[node] - left_stats, depth + 1, left_bins)
            routing_feature[node] = f
            goes_left[node, left_bins] = True
            children += [left, right]
            pairs.append((slot, left, right))
        if not children:
            break
        # rows sit in this level's nodes, so the split arrays need cover only those ids
        routing = (routing_feature, goes_left, np.asarray(nodes.left, dtype=np.int64),
                   np.asarray(nodes.right, dtype=np.int64))
        open_nodes = children
        if restore is not None:
            ctx.report(iteration=depth + 1, nodes=len(children))
            ctx.checkpoint(depth + 1, lambda: {"nodes": nodes.to_state(), "open": open_nodes,
                                               "pairs": pairs, "hist": hist,
                                               "iteration": depth + 1})
    return nodes


def _feature_subsets(seed: int, depth: int, slots: int, d: int, k: int) -> np.ndarray:
    """(slots x d): ``k`` features drawn without replacement for each open node."""
    keys = np.random.default_rng([seed & 0xFFFFFFFFFFFFFFFF, depth]).random((slots, d))
    chosen = np.argpartition(keys, k - 1, axis=1)[:, :k]
    mask = np.zeros((slots, d), dtype=bool)
    np.put_along_axis(mask, chosen, True, axis=1)
    return mask


def _level_round(ctx, nodes, open_nodes, routing, num_bins) -> np.ndarray:
    """One round: route the rows, then histogram the rows of ``open_nodes`` (slot = list
    order)."""
    slot_of_node = np.full(len(nodes.stats), -1, dtype=np.int64)
    slot_of_node[open_nodes] = np.arange(len(open_nodes))
    return ctx.map_update(level_histograms, routing, slot_of_node, len(open_nodes), num_bins)


def _children_histograms(ctx, nodes, pairs, parent_hist, routing, num_bins) -> np.ndarray:
    """The histograms of every (left, right) child pair, in that order, from one round that
    histograms only the child with fewer rows: its sibling's is the parent's minus its own
    (LightGBM's subtraction trick; it halves the rows read per level)."""
    smaller = [left if nodes.stats[left][-1] <= nodes.stats[right][-1] else right
               for _, left, right in pairs]
    computed = _level_round(ctx, nodes, smaller, routing, num_bins)
    hist = np.empty((2 * len(pairs),) + parent_hist.shape[1:])
    for i, ((parent, left, _), small) in enumerate(zip(pairs, smaller)):
        small_at, big_at = (2 * i, 2 * i + 1) if small == left else (2 * i + 1, 2 * i)
        hist[small_at] = computed[i]
        hist[big_at] = parent_hist[parent] - computed[i]
    return hist


def _checked_input(ctx, params: dict, classification: bool, stride: int
                   ) -> tuple[dict[int, int], int, np.ndarray]:
    """The categorical features' arities, the number of classes and a row sample (every
    ``stride``-th row), after one round that checks labels, weights and categorical values on
    every rank."""
    label, features = params["labelCol"], params["featuresCol"]
    d = ctx.input.num_features
    categorical = {j: a for j, a in params["categoricalFeatures"].items() if a > 0}
    for j, arity in categorical.items():
        if j >= d:
            raise ParamError(f"categoricalFeatures names feature {j}, but column '{features}' "
                             f"has {d} features")
        if arity > params["maxBins"]:
            raise ParamError(f"maxBins ({params['maxBins']}) must be at least the number of "
                             f"categories of feature {j} ({arity})")
    checks, samples = zip(*ctx.map_collect(_checks_and_sample, classification, categorical,
                                           stride, params.get("validate", False)))
    bad_categories: dict[int, int] = {}
    for c in checks:
        for j, count in c["bad_categories"].items():
            bad_categories[j] = bad_categories.get(j, 0) + count
    if bad_categories:
        j = min(bad_categories)
        raise DataError(f"column '{features}' feature {j} is categorical with "
                        f"{categorical[j]} categories, but {bad_categories[j]} values are not "
                        f"integers 0..{categorical[j] - 1}")
    if classification and sum(c["bad_labels"] for c in checks):
        raise DataError(f"column '{label}' has {sum(c['bad_labels'] for c in checks)} labels "
                        f"that are not integers 0..K-1 (K at most {MAX_CLASSES}); index labels "
                        "with StringIndexer")
    if sum(c["non_finite_labels"] for c in checks):
        raise DataError(f"column '{label}' has NaN or infinite labels")
    num_classes = max(2, max(c["num_classes"] for c in checks)) if classification else 0
    return categorical, num_classes, np.vstack(samples)


def _checks(part, classification, categorical):
    y = part.y
    bad_categories = {}
    for j, arity in categorical.items():
        column = part.X[:, [j]].toarray().ravel() if hasattr(part.X, "toarray") else part.X[:, j]
        bad = int(np.count_nonzero((column != np.floor(column)) | (column < 0) |
                                   (column >= arity)))
        if bad:
            bad_categories[j] = bad
    return {"bad_labels": count_bad_labels(y) if classification else 0,
            "non_finite_labels": int(np.count_nonzero(~np.isfinite(y))),
            "num_classes": int(y.max()) + 1 if classification and y.size else 0,
            "bad_categories": bad_categories}


def _checks_and_sample(part, classification, categorical, stride, held_out):
    X = part.X[~part.ids.astype(bool)] if held_out and part.ids is not None else part.X
    X = X[::stride]
    return (_checks(part, classification, categorical),
            X.toarray() if hasattr(X, "toarray") else np.asarray(X))


# --- the trees' nodes --------------------------------------------------------------------------

class Nodes:
    """The nodes of one or more trees, in the order they are made (level by level): the roots
    first (tree t's root is node t), children after parents."""

    def __init__(self):
        self.feature, self.threshold, self.gain, self.categories = [], [], [], []
        self.left, self.right, self.stats, self.depth, self.tree = [], [], [], [], []
        self.left_bins = []  # the bins that go left at each split node

    def to_state(self) -> dict:
        """The nodes as plain lists (of arrays, numbers, None), for a checkpoint."""
        return dict(vars(self))

    @classmethod
    def from_state(cls, state: dict) -> "Nodes":
        nodes = cls()
        for name in vars(nodes):
            setattr(nodes, name, list(state[name]))
        return nodes

    def add(self, stats, depth, tree) -> int:
        self.left_bins.append(None)
        self.feature.append(-1)
        self.threshold.append(0.0)
        self.categories.append(None)
        self.gain.append(0.0)
        self.left.append(-1)
        self.right.append(-1)
        self.stats.append(stats)
        self.depth.append(depth)
        self.tree.append(tree)
        return len(self.stats) - 1

    def split(self, node, feature, split, gain, left_stats, right_stats, depth, left_bins):
        """``split``: {"threshold": t} (x <= t goes left) or {"categories": the left set,
        "arity": the feature's number of categories}; ``left_bins``: the bins going left."""
        tree = self.tree[node]
        left, right = self.add(left_stats, depth, tree), self.add(right_stats, depth, tree)
        self.feature[node], self.gain[node] = feature, gain
        self.left_bins[node] = left_bins
        self.threshold[node] = split.get("threshold", 0.0)
        if "categories" in split:
            self.categories[node] = (split["categories"], split["arity"])
        self.left[node], self.right[node] = left, right
        return left, right

    def routing(self, num_bins) -> tuple:
        """(feature, goes_left[node, bin], left, right) of every split so far."""
        goes_left = np.zeros((len(self.stats), num_bins), dtype=bool)
        for node, bins in enumerate(self.left_bins):
            if bins is not None:
                goes_left[node, bins] = True
        return (np.array(self.feature, dtype=np.int64), goes_left,
                np.array(self.left, dtype=np.int64), np.array(self.right, dtype=np.int64))

    def tree_arrays(self, tree: int, criterion: str, num_classes: int) -> dict:
        """Tree ``tree``'s nodes as arrays, renumbered from 0 in the order they were made."""
        ids = np.flatnonzero(np.asarray(self.tree) == tree)
        new_id = np.full(len(self.stats), -1, dtype=np.int64)
        new_id[ids] = np.arange(ids.size)
        stats = np.array([self.stats[i] for i in ids])
        categories = [self.categories[i] for i in ids]
        # categorical splits as a membership table: left_categories[node, c] when category c
        # goes left; num_categories[node] is the feature's arity (-1 for a threshold split)
        width = max([c[1] for c in categories if c is not None] + [0])
        left_categories = np.zeros((ids.size, width), dtype=bool)
        num_categories = np.full(ids.size, -1, dtype=np.int64)
        for node, split in enumerate(categories):
            if split is not None:
                left_categories[node, split[0]] = True
                num_categories[node] = split[1]
        left, right = np.array(self.left, dtype=np.int64)[ids], \
            np.array(self.right, dtype=np.int64)[ids]
        return {"feature": np.array(self.feature, dtype=np.int64)[ids],
                "leftCategories": left_categories, "numCategories": num_categories,
                "threshold": np.array(self.threshold)[ids], "gain": np.array(self.gain)[ids],
                "left": np.where(left >= 0, new_id[np.maximum(left, 0)], -1),
                "right": np.where(right >= 0, new_id[np.maximum(right, 0)], -1),
                "stats": stats, "impurity": impurity(stats, criterion),
                "numClasses": np.int64(num_classes)}

    def leaf_means(self) -> np.ndarray:
        """Each node's mean label (regression statistics: w, w y, w y^2, count)."""
        return node_predictions({"stats": np.array(self.stats)}, classification=False)


def node_predictions(nodes: dict, classification: bool) -> np.ndarray:
    stats = nodes["stats"]
    if classification:
        return stats[:, :-1].argmax(axis=1).astype(np.float64)
    return np.divide(stats[:, 1], stats[:, 0], out=np.zeros(len(stats)), where=stats[:, 0] > 0)


def prune_equal_leaves(nodes: dict, classification: bool) -> dict:
    """MLlib's pruning: a split whose two children are leaves predicting the same value is
    undone (bottom-up, so it cascades), and unreachable nodes are dropped, keeping
    breadth-first order. pyspark.ml's trees are pruned this way; scikit-learn's are not."""
    feature, left, right = nodes["feature"].copy(), nodes["left"].copy(), nodes["right"].copy()
    prediction = node_predictions(nodes, classification)
    for node in range(len(feature) - 1, -1, -1):
        a, b = left[node], right[node]
        if a >= 0 and feature[a] < 0 and feature[b] < 0 and prediction[a] == prediction[b]:
            feature[node], left[node], right[node] = -1, -1, -1
    keep = [0]
    for node in keep:  # breadth first over what is still reachable
        if left[node] >= 0:
            keep += [left[node], right[node]]
    keep = np.sort(np.array(keep, dtype=np.int64))
    new_id = np.full(len(feature), -1, dtype=np.int64)
    new_id[keep] = np.arange(keep.size)
    out = {name: (value[keep] if isinstance(value, np.ndarray) and value.ndim and
                  value.shape[0] == len(feature) else value) for name, value in nodes.items()}
    out["feature"] = feature[keep]
    out["left"] = np.where(left[keep] >= 0, new_id[np.maximum(left[keep], 0)], -1)
    out["right"] = np.where(right[keep] >= 0, new_id[np.maximum(right[keep], 0)], -1)
    pruned = out["feature"] < 0
    out["threshold"] = np.where(pruned, 0.0, out["threshold"])
    out["gain"] = np.where(pruned, 0.0, out["gain"])
    out["numCategories"] = np.where(pruned, -1, out["numCategories"])
    out["leftCategories"] = out["leftCategories"] & ~pruned[:, None]
    return out


def tree_of(nodes: Nodes, tree: int, criterion: str, num_classes: int, prune: bool) -> dict:
    """One finished tree's arrays, pruned as MLlib's when ``prune``."""
    arrays = nodes.tree_arrays(tree, criterion, num_classes)
    return prune_equal_leaves(arrays, criterion != VARIANCE) if prune else arrays
