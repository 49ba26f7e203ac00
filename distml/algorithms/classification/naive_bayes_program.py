"""The training program of NaiveBayes: one round of per-class sums, then the model on every rank.

Labels must be integers 0..K-1. Feature values are checked in the same pass: multinomial and
complement need them non-negative, Bernoulli needs 0 or 1. Each partition sums over the classes
it holds (its own K); the merge pads to the largest. The per-class sums and moments run on the
rank's array backend (sparse rows stay numpy).
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from distml.errors import DataError
from distml.gpu.backend import partition_rows
from distml.kernels.naive_bayes import class_moments, fit_naive_bayes
from distml.kernels.statistics import (MAX_CLASSES, count_bad_labels, merge_moments,
                                       weighted_group_sums, weighted_moments)


def _bad_values(X, model_type: str) -> int:
    values = X.data if sp.issparse(X) else X
    if model_type in ("multinomial", "complement"):
        return int(np.count_nonzero(values < 0))
    if model_type == "bernoulli":
        return int(np.count_nonzero((values != 0) & (values != 1)))
    return 0


def _partition_statistics(part, model_type, backend):
    y = part.y
    stats = {"bad_labels": count_bad_labels(y),
             "bad_values": _bad_values(part.X, model_type)}
    if stats["bad_labels"] or stats["bad_values"]:
        return stats
    num_classes = int(y.max()) + 1 if y.size else 0
    X, y_on, w_on, _ = partition_rows(part, backend)
    if model_type == "gaussian":
        stats["moments"] = class_moments(X, y_on, w_on, num_classes)
    else:
        stats["class_weight"], stats["feature_sums"] = weighted_group_sums(X, y_on, w_on,
                                                                           num_classes)
    return stats


def _check(checks: list[dict], params: dict) -> None:
    label, features, model_type = params["labelCol"], params["featuresCol"], params["modelType"]
    bad_labels = sum(c["bad_labels"] for c in checks)
    if bad_labels:
        raise DataError(f"column '{label}' has {bad_labels} labels that are not integers "
                        f"0..K-1 (K at most {MAX_CLASSES}); index labels with StringIndexer")
    bad_values = sum(c["bad_values"] for c in checks)
    if bad_values:
        rule = "0 or 1" if model_type == "bernoulli" else "non-negative"
        raise DataError(f"column '{features}' has {bad_values} values that are not {rule}, "
                        f"as modelType='{model_type}' requires")


def naive_bayes(ctx, params: dict) -> dict:
    model_type = params["modelType"]
    checks = ctx.map_collect(_partition_statistics, model_type, params["backend"])
    _check(checks, params)
    d = ctx.input.num_features
    if model_type == "gaussian":
        num_classes = max(len(c["moments"]) for c in checks)
        empty = weighted_moments(np.zeros((0, d)))
        moments = [merge_moments([c["moments"][k] if k < len(c["moments"]) else empty
                                  for c in checks]) for k in range(num_classes)]
        class_weight = np.array([float(m["weight_sum"]) for m in moments])
    else:
        num_classes = max(c["class_weight"].size for c in checks)
        class_weight, feature_sums = np.zeros(num_classes), np.zeros((num_classes, d))
        for c in checks:  # partition order, so every engine adds in the same order
            class_weight[:c["class_weight"].size] += c["class_weight"]
            feature_sums[:c["class_weight"].size] += c["feature_sums"]
    if class_weight.sum() <= 0:
        raise DataError("every row has weight 0: nothing to fit")
    if model_type == "gaussian":
        empty_classes = np.flatnonzero(class_weight <= 0)
        if empty_classes.size:
            raise DataError(f"column '{params['labelCol']}' has no rows of positive weight for "
                            f"class {int(empty_classes[0])} of 0..{num_classes - 1}; the "
                            "Gaussian model needs every class")
        model = fit_naive_bayes(model_type, params["smoothing"], class_weight, moments=moments)
    else:
        model = fit_naive_bayes(model_type, params["smoothing"], class_weight, feature_sums)
    return model
