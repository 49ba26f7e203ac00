"""The training program of a decision tree: binned once, grown level by level.

Rounds: one checks the labels and categorical values and gathers a row sample for the split
thresholds; one bins every partition's rows (kept in the partition's state with each row's
node id and label statistics) and sums the root's histogram; then one round per level: each
rank routes its rows through the previous level's splits and sums histograms for the open
nodes, the histograms are allreduced, and every rank picks the same splits. The children's
statistics come from their parent's histogram, so the last level needs no round. (Every round
is a Spark job on the jobs engine, ~0.1 s each: so no round is spent on what another can
carry.)
"""
from __future__ import annotations

import numpy as np

from distml.errors import DataError, ParamError
from distml.kernels.statistics import MAX_CLASSES, count_bad_labels
from distml.kernels.tree import (VARIANCE, RowTargets, best_splits, best_subsets, bin_order,
                                 bin_rows, impurity,
                                 node_histograms, node_threshold, node_weight,
                                 split_thresholds)

# Rows sampled for the split thresholds: MLlib's max(maxBins^2, 10000).
MIN_SAMPLE_ROWS = 10000


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


def _checks_and_sample(part, classification, categorical, stride):
    X = part.X[::stride]
    return (_checks(part, classification, categorical),
            X.toarray() if hasattr(X, "toarray") else np.asarray(X))


def _bin(part, thresholds, num_classes):
    part.state["tree_bins"] = bin_rows(part.X, thresholds)
    part.state["tree_targets"] = RowTargets(part.y, part.weights(), num_classes)
    part.state["tree_node"] = np.zeros(part.num_rows, dtype=np.int32)


def _bin_and_root_histogram(part, thresholds, num_classes, num_bins):
    _bin(part, thresholds, num_classes)
    return _level(part, None, np.zeros(1, dtype=np.int64), 1, num_bins)


def _level(part, routing, slot_of_node, num_slots, num_bins):
    """Route rows through the last level's splits, then histogram the open nodes."""
    bins, node = part.state["tree_bins"], part.state["tree_node"]
    if routing is not None:
        feature, goes_left, left, right = routing  # goes_left[node, bin]
        f = feature[node]
        moving = np.flatnonzero(f >= 0)
        go_left = goes_left[node[moving], bins[moving, f[moving]]]
        node[moving] = np.where(go_left, left[node[moving]], right[node[moving]])
    return node_histograms(bins, slot_of_node[node], part.state["tree_targets"], num_slots,
                           num_bins)


def _route(part, feature, goes_left, left, right):
    """Each row from the root down through every split made so far (a resumed fit's rows)."""
    bins, node = part.state["tree_bins"], np.zeros(part.num_rows, dtype=np.int32)
    moving = np.flatnonzero(feature[node] >= 0)
    while moving.size:
        at = node[moving]
        go_left = goes_left[at, bins[moving, feature[at]]]
        node[moving] = np.where(go_left, left[at], right[at])
        moving = moving[feature[node[moving]] >= 0]
    part.state["tree_node"] = node


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
                                           stride))
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


def decision_tree(ctx, params: dict) -> dict:
    classification = params["impurity"] != VARIANCE
    n, d = ctx.input.num_rows, ctx.input.num_features
    stride = max(1, n // max(params["maxBins"] ** 2, MIN_SAMPLE_ROWS))
    categorical, num_classes, sample = _checked_input(ctx, params, classification, stride)
    thresholds, bin_values = split_thresholds(sample, params["maxBins"])
    for j, arity in categorical.items():  # category c is bin c: thresholds between integers
        thresholds[j], bin_values[j] = np.arange(arity - 1) + 0.5, None
    is_categorical = np.zeros(d, dtype=bool)
    is_categorical[list(categorical)] = True
    # multiclass features with few categories: every subset is tried, for as few categories
    # as MLlib tries them (floor(log2(maxBins // 2 + 1)) + 1: 5 at maxBins 32); other
    # categorical features split an ordering of their categories
    max_unordered = int(np.log2(min(params["maxBins"], n) // 2 + 1) + 1)
    exhaustive = {j: a for j, a in categorical.items() if classification and num_classes > 2
                  and a <= max_unordered}
    skip = np.zeros(d, dtype=bool)
    skip[list(exhaustive)] = True
    num_bins = max(t.size for t in thresholds) + 1

    criterion, max_depth = params["impurity"], params["maxDepth"]
    # The thresholds come from a per-partition row sample, so the grown levels are valid only
    # on as many ranks as wrote them (ctx.resume checks the rank count for every program).
    saved = ctx.resume()
    if saved is not None:
        open_nodes, pairs, hist = (saved[k] for k in ("open", "pairs", "hist"))
        tree = _Tree.from_state(saved["tree"])
        total_weight, first = saved["total_weight"], saved["iteration"]
        ctx.map_update(_bin, thresholds, num_classes)
        ctx.map_update(_route, *tree.routing(num_bins))  # rows to the open nodes
        routing = None
    else:
        tree, open_nodes, routing, pairs, first = _Tree(), [0], None, [], 0
        tree.add(None, 0)
        hist = ctx.map_update(_bin_and_root_histogram, thresholds, num_classes, num_bins)
    for depth in range(first, max_depth + 1):
        if 0 < depth < max_depth:
            hist = _children_histograms(ctx, tree, pairs, hist, routing, num_bins)
        if depth == 0:
            tree.stats[0] = hist[0, 0].sum(axis=0)
            total_weight = float(node_weight(tree.stats[0], criterion))
            if total_weight <= 0:
                raise DataError("every row has weight 0: nothing to fit")
        if depth == max_depth:
            break
        order = bin_order(hist, criterion, is_categorical)
        ordered = np.take_along_axis(hist, order[..., None], axis=2) if is_categorical.any() \
            else hist
        rules = (criterion, params["minInstancesPerNode"],
                 params["minWeightFractionPerNode"] * total_weight, params["minInfoGain"])
        feature, position, gain = best_splits(ordered, *rules, skip=skip)
        subsets = {j: best_subsets(hist[:, j, :arity], *rules)
                   for j, arity in exhaustive.items()}
        routing_feature = np.full(len(tree.stats), -1, dtype=np.int64)
        goes_left = np.zeros((len(tree.stats), num_bins), dtype=bool)
        children, pairs = [], []
        for slot, node in enumerate(open_nodes):
            f, best = int(feature[slot]), float(gain[slot])
            for j, (subset_gain, _) in sorted(subsets.items()):  # ties: lowest feature
                if subset_gain[slot] > best or (subset_gain[slot] == best > -np.inf and j < f):
                    f, best = j, float(subset_gain[slot])
            if f < 0 or best == -np.inf or impurity(tree.stats[node], criterion) <= 0:
                continue
            if f in subsets:
                left_bins = np.flatnonzero(subsets[f][1][slot])
            else:
                b = int(position[slot])
                left_bins = np.sort(order[slot, f, :b + 1])
            left_stats = hist[slot, f, left_bins].sum(axis=0)
            if is_categorical[f]:
                split = {"categories": left_bins, "arity": categorical[f]}
            else:
                split = {"threshold": node_threshold(hist[slot, f], b, thresholds[f],
                                                     bin_values[f])}
            left, right = tree.split(node, f, split, best, left_stats,
                                     tree.stats[node] - left_stats, depth + 1, left_bins)
            routing_feature[node] = f
            goes_left[node, left_bins] = True
            children += [left, right]
            pairs.append((slot, left, right))
        if not children:
            break
        # rows sit in this level's nodes, so the split arrays need cover only those ids
        routing = (routing_feature, goes_left, np.asarray(tree.left, dtype=np.int64),
                   np.asarray(tree.right, dtype=np.int64))
        open_nodes = children
        ctx.report(iteration=depth + 1, nodes=len(children))
        ctx.checkpoint(depth + 1, lambda: {"tree": tree.to_state(), "open": open_nodes,
                                           "pairs": pairs,
                                           "hist": hist, "total_weight": total_weight,
                                           "iteration": depth + 1})
    nodes = tree.arrays(criterion, num_classes)
    nodes = prune_equal_leaves(nodes, classification) if params.get("prune", True) else nodes
    return dict(nodes, numFeatures=np.int64(ctx.input.num_features))


def _predictions(nodes: dict, classification: bool) -> np.ndarray:
    stats = nodes["stats"]
    if classification:
        return stats[:, :-1].argmax(axis=1).astype(np.float64)
    return np.divide(stats[:, 1], stats[:, 0], out=np.zeros(len(stats)), where=stats[:, 0] > 0)


def prune_equal_leaves(nodes: dict, classification: bool) -> dict:
    """MLlib's pruning: a split whose two children are leaves predicting the same value is
    undone (bottom-up, so it cascades), and unreachable nodes are dropped, keeping
    breadth-first order. pyspark.ml's trees are pruned this way; scikit-learn's are not."""
    feature, left, right = nodes["feature"].copy(), nodes["left"].copy(), nodes["right"].copy()
    prediction = _predictions(nodes, classification)
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
        self.feature, self.threshold, self.gain, self.categories = [], [], [], []
        self.left, self.right, self.stats, self.depth = [], [], [], []
        self.left_bins = []  # the bins that go left at each split node

    def to_state(self) -> dict:
        """The tree as plain lists (of arrays, numbers, None), for a checkpoint."""
        return dict(vars(self))

    @classmethod
    def from_state(cls, state: dict) -> "_Tree":
        tree = cls()
        for name in vars(tree):
            setattr(tree, name, list(state[name]))
        return tree

    def add(self, stats, depth) -> int:
        self.left_bins.append(None)
        self.feature.append(-1)
        self.threshold.append(0.0)
        self.categories.append(None)
        self.gain.append(0.0)
        self.left.append(-1)
        self.right.append(-1)
        self.stats.append(stats)
        self.depth.append(depth)
        return len(self.stats) - 1

    def split(self, node, feature, split, gain, left_stats, right_stats, depth, left_bins):
        """``split``: {"threshold": t} (x <= t goes left) or {"categories": the left set,
        "arity": the feature's number of categories}; ``left_bins``: the bins going left."""
        left, right = self.add(left_stats, depth), self.add(right_stats, depth)
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

    def arrays(self, criterion, num_classes) -> dict:
        stats = np.array(self.stats)
        # categorical splits as a membership table: left_categories[node, c] when category c
        # goes left; num_categories[node] is the feature's arity (-1 for a threshold split)
        width = max([a for c in self.categories if c is not None for a in (c[1],)] + [0])
        left_categories = np.zeros((len(stats), width), dtype=bool)
        num_categories = np.full(len(stats), -1, dtype=np.int64)
        for node, split in enumerate(self.categories):
            if split is not None:
                left_categories[node, split[0]] = True
                num_categories[node] = split[1]
        return {"feature": np.array(self.feature, dtype=np.int64),
                "leftCategories": left_categories, "numCategories": num_categories,
                "threshold": np.array(self.threshold), "gain": np.array(self.gain),
                "left": np.array(self.left, dtype=np.int64),
                "right": np.array(self.right, dtype=np.int64),
                "stats": stats, "impurity": impurity(stats, criterion),
                "numClasses": np.int64(num_classes)}
