"""Evaluation metrics on arrays (the reference for them is scikit-learn's, in the tests)."""
from __future__ import annotations

import numpy as np

_trapezoid = getattr(np, "trapezoid", None) or np.trapz  # numpy 2 renamed it


def roc_auc(scores: np.ndarray, labels: np.ndarray, weights: np.ndarray | None = None) -> float:
    """Area under the ROC curve, weighted, tied scores counted as half (trapezoids)."""
    w = np.ones_like(scores, dtype=np.float64) if weights is None else weights
    order = np.argsort(-scores, kind="mergesort")
    s, pos = scores[order], (labels[order] > 0.5) * w[order]
    neg = (labels[order] <= 0.5) * w[order]
    # One ROC point per distinct score: cumulative true and false positives.
    last_of_tie = np.r_[np.flatnonzero(np.diff(s)), s.size - 1]
    tp = np.r_[0.0, np.cumsum(pos)[last_of_tie]]
    fp = np.r_[0.0, np.cumsum(neg)[last_of_tie]]
    if tp[-1] == 0 or fp[-1] == 0:
        return float("nan")
    return float(_trapezoid(tp, fp) / (tp[-1] * fp[-1]))


def weighted_accuracy(predictions: np.ndarray, labels: np.ndarray,
                      weights: np.ndarray | None = None) -> float:
    w = np.ones_like(labels, dtype=np.float64) if weights is None else weights
    return float(w @ (predictions == labels) / w.sum())
