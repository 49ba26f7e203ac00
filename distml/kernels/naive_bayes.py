"""Naive Bayes: per-class sufficient statistics of a block of rows, and the model from them.

The statistics are sums (weights and feature sums per class; for the Gaussian model, per-class
moments merged by Chan's update), so partitions combine them in one round. The formulas are
pyspark.ml's (checked against it): priors smoothed as log((n_c + l) / (n + K l)) except for
the Gaussian model (log(n_c / n)); multinomial and complement likelihoods smoothed by l per
feature, Bernoulli's by l per outcome; Gaussian variances get 1e-9 times the largest feature
variance added, as scikit-learn's ``var_smoothing``.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.special import logsumexp

from distml.gpu.backend import beside, to_numpy
from distml.kernels.statistics import merge_moments, weighted_group_sums, weighted_moments

MODEL_TYPES = ("multinomial", "bernoulli", "gaussian", "complement")
GAUSSIAN_VAR_SMOOTHING = 1e-9


def class_moments(X, y, w, num_classes: int) -> list[dict]:
    """Per class, the weighted moments of its rows (the fields of ``weighted_moments``), as
    numpy, for ``merge_moments`` to combine across partitions.

    Dense rows (on any backend): two passes of one-hot products, the second over the rows
    centred on their class's mean in this partition, so variances do not cancel for large
    means. CSR rows: ``weighted_moments`` of each class's rows (numpy; centring densifies).
    """
    if sp.issparse(X):
        y, w = np.asarray(y), np.asarray(w)
        return [weighted_moments(X[y == c], w[y == c]) for c in range(num_classes)]
    weight, sums = weighted_group_sums(X, y, w, num_classes)
    mean = np.divide(sums, weight[:, None], out=np.zeros_like(sums), where=weight[:, None] > 0)
    centred = X - beside(X, mean)[y.astype("int64")]
    _, m2 = weighted_group_sums(centred * centred, y, w, num_classes)
    labels, w_np = np.asarray(to_numpy(y)).astype(np.int64), np.asarray(to_numpy(w))
    count = np.bincount(labels, minlength=num_classes).astype(np.float64)
    weight_sq = np.bincount(labels, weights=w_np * w_np, minlength=num_classes)
    return [{"count": np.float64(count[c]), "weight_sum": np.float64(weight[c]),
             "weight_sq_sum": np.float64(weight_sq[c]), "mean": mean[c], "m2": m2[c]}
            for c in range(num_classes)]


def fit_naive_bayes(model_type: str, smoothing: float, class_weight: np.ndarray,
                    feature_sums: np.ndarray | None = None,
                    moments: list[dict] | None = None) -> dict:
    """pi (K), theta (K x d) and sigma (K x d, Gaussian only) from the merged statistics."""
    K = class_weight.size
    total = class_weight.sum()
    if model_type == "gaussian":
        pi = np.log(class_weight / total)
        theta = np.stack([m["mean"] for m in moments])
        variance = np.stack([m["m2"] / m["weight_sum"] for m in moments])
        overall = merge_moments(moments)
        epsilon = GAUSSIAN_VAR_SMOOTHING * float(np.max(overall["m2"] / overall["weight_sum"]))
        return {"pi": pi, "theta": theta, "sigma": variance + epsilon}
    d = feature_sums.shape[1]
    pi = np.log(class_weight + smoothing) - np.log(total + K * smoothing)
    if model_type == "multinomial":
        theta = np.log(feature_sums + smoothing) - \
            np.log(feature_sums.sum(axis=1, keepdims=True) + d * smoothing)
    elif model_type == "bernoulli":
        theta = np.log(feature_sums + smoothing) - np.log(class_weight + 2 * smoothing)[:, None]
    else:  # complement: the other classes' counts, negated log frequencies
        complement = feature_sums.sum(axis=0) - feature_sums + smoothing
        theta = -np.log(complement / complement.sum(axis=1, keepdims=True))
    return {"pi": pi, "theta": theta, "sigma": np.zeros((0, 0))}


def naive_bayes_raw(X, model_type: str, pi: np.ndarray, theta: np.ndarray,
                    sigma: np.ndarray) -> np.ndarray:
    """pyspark.ml's rawPrediction: the joint log likelihood per class (complement: its
    log-softmax; Gaussian: without the constant -d/2 log(2 pi))."""
    if model_type == "multinomial":
        return np.asarray(X @ theta.T) + pi
    if model_type == "bernoulli":
        log_absent = np.log1p(-np.exp(theta))
        return np.asarray(X @ (theta - log_absent).T) + (pi + log_absent.sum(axis=1))
    if model_type == "complement":
        J = np.asarray(X @ theta.T)
        return J - logsumexp(J, axis=1, keepdims=True)
    X = X.toarray() if sp.issparse(X) else X
    quadratic = np.column_stack([((X - theta[c]) ** 2) @ (1.0 / sigma[c])
                                 for c in range(theta.shape[0])])
    return pi - 0.5 * np.log(sigma).sum(axis=1) - 0.5 * quadratic
