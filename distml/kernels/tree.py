"""Decision trees on binned features: bin edges, per-node histograms, best splits, impurity.

A feature's split candidates are thresholds t_0 < t_1 < ...; a value's bin is the number of
thresholds below it, so "bin <= b" is "x <= t_b". Per row, the statistics a histogram sums are
the label's (classification: weighted one-hot counts per class; regression: w, w y, w y^2) plus
the raw row count (for minInstancesPerNode). Histograms are (open nodes x features x bins x
stats): sums, so partitions add them in one allreduce per level.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

GINI, ENTROPY, VARIANCE = "gini", "entropy", "variance"


def split_thresholds(sample: np.ndarray, max_bins: int
                     ) -> tuple[list[np.ndarray], list[np.ndarray | None]]:
    """Per feature, the candidate thresholds from a sample of its values, and (when every bin
    holds one value) the bins' values.

    With at most ``max_bins`` distinct values: the midpoints between consecutive ones (every
    split a sorting tree like scikit-learn's could make), and bin j holds the j-th value.
    Otherwise ``max_bins - 1`` thresholds at evenly spaced quantiles of the sample, each the
    midpoint between the quantile's value and the next larger distinct value.
    """
    thresholds, bin_values = [], []
    for column in sample.T:
        values = np.unique(column)
        if values.size <= max_bins:
            thresholds.append((values[:-1] + values[1:]) / 2.0)
            bin_values.append(values)
            continue
        ranks = np.linspace(0, values.size - 1, max_bins + 1)[1:-1]
        at = np.unique(np.floor(ranks).astype(np.int64))
        thresholds.append((values[at] + values[at + 1]) / 2.0)
        bin_values.append(None)
    return thresholds, bin_values


def node_threshold(hist_feature: np.ndarray, split_bin: int, thresholds: np.ndarray,
                   bin_values: np.ndarray | None) -> float:
    """The threshold of a split after bin ``split_bin`` of one node's feature histogram.

    When bins hold single values, it is the midpoint between the node's largest value on the
    left and smallest on the right (scikit-learn's choice; the node's rows split the same way,
    and unseen values between them go where a sorting tree would send them).
    """
    if bin_values is None:
        return float(thresholds[split_bin])
    occupied = np.flatnonzero(hist_feature[:, -1] > 0)
    low = occupied[occupied <= split_bin].max()
    high = occupied[occupied > split_bin].min()
    return float((bin_values[low] + bin_values[high]) / 2.0)


def bin_rows(X, thresholds: list[np.ndarray]) -> np.ndarray:
    """n x d bin indices: the number of the feature's thresholds below the value; uint8 when
    every feature has at most 255 thresholds (maxBins <= 256, the usual case: an eighth of the
    float64 rows, not a quarter), else uint16."""
    from distml.kernels.tree_loops import bin_dense, padded_thresholds

    most = max([t.size for t in thresholds] + [0])
    bins = np.empty(X.shape, dtype=np.uint8 if most <= 255 else np.uint16)
    if most > _COUNTED_THRESHOLDS:
        for j, t in enumerate(thresholds):  # many bins: a binary search beats counting
            column = X[:, [j]].toarray().ravel() if sp.issparse(X) else X[:, j]
            bins[:, j] = np.searchsorted(t, column, side="left")
        return bins
    table = padded_thresholds(thresholds)
    if sp.issparse(X):  # a block of rows at a time, so only a block is ever dense
        for start in range(0, X.shape[0], _SPARSE_BLOCK_ROWS):
            block = X[start:start + _SPARSE_BLOCK_ROWS].toarray()
            bin_dense(block, table, bins[start:start + block.shape[0]])
    else:
        bin_dense(np.ascontiguousarray(X, dtype=np.float64), table, bins)
    return bins


_SPARSE_BLOCK_ROWS = 8192
# Up to this many thresholds a feature's bin is a count of comparisons (vectorized, no
# mispredicted branches); beyond, numpy's binary search.
_COUNTED_THRESHOLDS = 128


class RowTargets:
    """What a row adds to a histogram, kept compact: its class index and weight
    (classification), or w, w y and w y^2 (regression); the row count is added too."""

    def __init__(self, y: np.ndarray, w: np.ndarray, num_classes: int):
        self.num_classes = num_classes
        self.w = np.ascontiguousarray(w, dtype=np.float64)
        if num_classes:
            self.label = y.astype(np.int64)
        else:
            self.wy, self.wy2 = self.w * y, self.w * y * y

    @property
    def num_stats(self) -> int:
        return (self.num_classes or 3) + 1


def node_histograms(bins: np.ndarray, slot: np.ndarray, targets: RowTargets, count: np.ndarray,
                    num_slots: int, num_bins: int) -> np.ndarray:
    """(slots x features x bins x S) sums over every tree's rows whose ``slot`` (trees x rows)
    is >= 0 (rows of nodes not histogrammed this level have slot -1), each ``count`` times
    (trees x rows, uint8: its multiplicity in that tree's sample).

    One compiled pass over the rows in memory order per tree (``tree_loops``).
    """
    from distml.kernels.tree_loops import class_histograms, regression_histograms

    hist = np.zeros((num_slots, bins.shape[1], num_bins, targets.num_stats))
    slot = slot.astype(np.int64)
    if targets.num_classes:
        class_histograms(bins, slot, targets.label, targets.w, count, targets.num_classes, hist)
    else:
        regression_histograms(bins, slot, targets.w, targets.wy, targets.wy2, count, hist)
    return hist


def impurity(stats: np.ndarray, criterion: str) -> np.ndarray:
    """Impurity of nodes from their summed statistics (last axis: S, count last)."""
    if criterion == VARIANCE:
        w, wy, wy2 = stats[..., 0], stats[..., 1], stats[..., 2]
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = wy / w
            return np.where(w > 0, np.maximum(wy2 / w - mean * mean, 0.0), 0.0)
    counts = stats[..., :-1]
    total = counts.sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = counts / total[..., None]
        if criterion == GINI:
            value = 1.0 - (p * p).sum(axis=-1)
        else:
            value = -(np.where(p > 0, p * np.log2(np.where(p > 0, p, 1.0)), 0.0)).sum(axis=-1)
    return np.where(total > 0, value, 0.0)


def node_weight(stats: np.ndarray, criterion: str) -> np.ndarray:
    return stats[..., 0] if criterion == VARIANCE else stats[..., :-1].sum(axis=-1)


def bin_order(hist: np.ndarray, criterion: str, categorical: np.ndarray) -> np.ndarray:
    """(slots x features x bins) order in which a split's left side takes the bins: their own
    order for continuous features; for categorical ones, MLlib's ordering by centroid (the
    share of class 1 for binary classification, the mean for regression, the impurity
    otherwise), empty categories last. Splitting that order after position b gives, for binary
    classification and regression, the best of all category subsets (Breiman's theorem)."""
    slots, d, B, _ = hist.shape
    order = np.broadcast_to(np.arange(B), (slots, d, B)).copy()
    if not categorical.any():
        return order
    stats = hist[:, categorical]
    with np.errstate(invalid="ignore", divide="ignore"):
        if criterion == VARIANCE:
            centroid = stats[..., 1] / stats[..., 0]
        elif stats.shape[-1] == 3:  # two classes
            centroid = stats[..., 1] / (stats[..., 0] + stats[..., 1])
        else:
            centroid = impurity(stats, criterion)
    centroid = np.where(stats[..., -1] > 0, centroid, np.inf)
    order[:, categorical] = np.argsort(centroid, axis=2, kind="stable")
    return order


def best_splits(hist: np.ndarray, criterion: str, min_instances: int, min_weight,
                min_gain: float, allowed: np.ndarray | None = None):
    """Per slot: (feature, position, gain) of the best split, feature -1 where none qualifies;
    the left side takes the first ``position + 1`` bins of ``hist``'s bin axis. Only features
    where ``allowed`` (slots x features) is set are searched (a forest's feature subsets;
    categorical features whose subsets ``best_subsets`` searches are left out).

    Gain = impurity(parent) - (w_L impurity(L) + w_R impurity(R)) / w, MLlib's. Ties go to the
    lowest feature index, then the lowest position. A split qualifies when both sides hold at
    least ``min_instances`` rows and ``min_weight`` weight (a number, or one per slot) and its
    gain exceeds ``min_gain`` (so zero-gain splits are not made).
    """
    if allowed is not None and np.ndim(allowed) == 2:
        searched = allowed.sum(axis=1).max()
        if searched < hist.shape[1]:  # a forest's few features per node: search only those
            return _best_of_subsets(hist, criterion, min_instances, min_weight, min_gain,
                                    allowed, int(searched))
    min_weight = np.reshape(min_weight, (-1, 1, 1))
    left = np.cumsum(hist, axis=2)[:, :, :-1, :]  # slots x d x (B-1) x S
    total = hist.sum(axis=2)[:, :1, None, :]  # the node's stats, same for every feature
    gain = split_gains(left, total - left, total, criterion, min_instances, min_weight,
                       min_gain)
    if allowed is not None:  # (features,) or (slots x features)
        gain[~np.broadcast_to(allowed, gain.shape[:2])] = -np.inf
    slots = hist.shape[0]
    flat = gain.reshape(slots, -1)
    best = flat.argmax(axis=1)  # first maximum: lowest feature, then lowest bin
    best_gain = flat[np.arange(slots), best]
    feature, position = np.divmod(best, gain.shape[2])
    feature = np.where(np.isfinite(best_gain), feature, -1)
    return feature, position, best_gain


def _best_of_subsets(hist, criterion, min_instances, min_weight, min_gain, allowed, width):
    """``best_splits`` over each slot's allowed features only (at most ``width`` of them),
    gathered in index order so that ties still go to the lowest feature."""
    features = np.argsort(~allowed, axis=1, kind="stable")[:, :width]
    valid = np.take_along_axis(allowed, features, axis=1)
    gathered = np.take_along_axis(hist, features[:, :, None, None], axis=1)
    feature, position, gain = best_splits(gathered, criterion, min_instances, min_weight,
                                          min_gain, allowed=valid if not valid.all() else None)
    picked = features[np.arange(len(features)), np.maximum(feature, 0)]
    return np.where(feature >= 0, picked, -1), position, gain


def split_gains(left: np.ndarray, right: np.ndarray, total: np.ndarray, criterion: str,
                min_instances: int, min_weight, min_gain: float) -> np.ndarray:
    """The gain of each candidate split (stats on the last axis), -inf where it does not
    qualify (``best_splits`` says when it does)."""
    w_left, w_right = node_weight(left, criterion), node_weight(right, criterion)
    with np.errstate(invalid="ignore", divide="ignore"):
        gain = impurity(total, criterion) - (w_left * impurity(left, criterion) +
                                             w_right * impurity(right, criterion)) / \
            node_weight(total, criterion)
    ok = ((left[..., -1] >= min_instances) & (right[..., -1] >= min_instances) &
          (w_left >= min_weight) & (w_right >= min_weight) & np.isfinite(gain) &
          (gain > min_gain))
    return np.where(ok, gain, -np.inf)


def subset_masks(arity: int) -> np.ndarray:
    """Every split of ``arity`` categories into two non-empty sides, once: the left sides
    are the non-empty subsets of categories 0..arity-2 (subset u holds the bits of u)."""
    ids = np.arange(1, 2 ** (arity - 1))
    return ((ids[:, None] >> np.arange(arity)) & 1).astype(bool)


def best_subsets(category_hist: np.ndarray, criterion: str, min_instances: int,
                 min_weight, min_gain: float) -> tuple[np.ndarray, np.ndarray]:
    """Per slot: (gain, left categories as a bool mask) of the best of all subset splits of
    one categorical feature (slots x categories x S); MLlib's search for multiclass features
    with few categories. Ties go to the lowest subset number. ``min_weight``: a number or one
    per slot."""
    min_weight = np.reshape(min_weight, (-1, 1))
    masks = subset_masks(category_hist.shape[1])
    left = np.einsum("um,smk->suk", masks.astype(np.float64), category_hist)
    total = category_hist.sum(axis=1)[:, None, :]
    gain = split_gains(left, total - left, total, criterion, min_instances, min_weight,
                       min_gain)
    best = gain.argmax(axis=1)
    return gain[np.arange(gain.shape[0]), best], masks[best]
