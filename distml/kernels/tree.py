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
    """n x d bin indices (uint16): the number of the feature's thresholds below the value."""
    X = X.toarray() if sp.issparse(X) else X
    bins = np.empty(X.shape, dtype=np.uint16)
    for j, t in enumerate(thresholds):
        bins[:, j] = np.searchsorted(t, X[:, j], side="left")
    return bins


def row_statistics(y: np.ndarray, w: np.ndarray, num_classes: int) -> np.ndarray:
    """n x S: weighted class counts (or w, wy, wy^2 when ``num_classes`` is 0), then 1."""
    if num_classes:
        stats = np.zeros((y.size, num_classes + 1))
        stats[np.arange(y.size), y.astype(np.intp)] = w
    else:
        stats = np.column_stack([w, w * y, w * y * y, np.zeros(y.size)])
    stats[:, -1] = 1.0
    return stats


def node_histograms(bins: np.ndarray, slot: np.ndarray, stats: np.ndarray, num_slots: int,
                    num_bins: int) -> np.ndarray:
    """(slots x features x bins x S) sums of ``stats`` over the rows in each open node's slot
    (rows with slot -1 are in finished nodes and left out)."""
    open_rows = slot >= 0
    bins, slot, stats = bins[open_rows], slot[open_rows], stats[open_rows]
    n, d = bins.shape
    S = stats.shape[1]
    hist = np.zeros((num_slots, d, num_bins, S))
    base = slot.astype(np.int64) * num_bins
    size = num_slots * num_bins
    for j in range(d):
        index = base + bins[:, j]
        for s in range(S):
            hist[:, j, :, s] = np.bincount(index, weights=stats[:, s],
                                           minlength=size).reshape(num_slots, num_bins)
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


def best_splits(hist: np.ndarray, criterion: str, min_instances: int, min_weight: float,
                min_gain: float):
    """Per slot: (feature, bin, gain) of the best split, feature -1 where none qualifies.

    Gain = impurity(parent) - (w_L impurity(L) + w_R impurity(R)) / w, MLlib's. Ties go to the
    lowest feature index, then the lowest threshold. A split qualifies when both sides hold at
    least ``min_instances`` rows and ``min_weight`` weight and its gain exceeds ``min_gain``
    (is at least it when that is 0, so zero-gain splits are not made).
    """
    left = np.cumsum(hist, axis=2)[:, :, :-1, :]  # slots x d x (B-1) x S
    total = hist.sum(axis=2)[:, :1, None, :]  # the node's stats, same for every feature
    right = total - left
    w_left, w_right = node_weight(left, criterion), node_weight(right, criterion)
    w_total = node_weight(total, criterion)
    with np.errstate(invalid="ignore", divide="ignore"):
        gain = impurity(total, criterion) - (w_left * impurity(left, criterion) +
                                             w_right * impurity(right, criterion)) / w_total
    ok = ((left[..., -1] >= min_instances) & (right[..., -1] >= min_instances) &
          (w_left >= min_weight) & (w_right >= min_weight) & np.isfinite(gain) &
          (gain > min_gain))
    gain = np.where(ok, gain, -np.inf)
    slots = hist.shape[0]
    flat = gain.reshape(slots, -1)
    best = flat.argmax(axis=1)  # first maximum: lowest feature, then lowest bin
    best_gain = flat[np.arange(slots), best]
    feature, bin_ = np.divmod(best, gain.shape[2])
    feature = np.where(np.isfinite(best_gain), feature, -1)
    return feature, bin_, best_gain
