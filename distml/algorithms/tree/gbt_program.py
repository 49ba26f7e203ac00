"""The training program of gradient-boosted trees: MLlib's boosting, its state on the ranks.

Every rank keeps its rows' bins, the ensemble's prediction F and the validation flags in the
partition state, so an iteration is one tree's levels and nothing more: the round that
histograms a tree's root first routes the rows down the previous tree, adds its weighted leaf
values to F, sums the validation loss, and computes the new pseudo-residuals (the negative
gradient of the loss at F) that the tree fits. As MLlib: the first tree fits the label (2y - 1
for classification) with weight 1, the others the pseudo-residuals with weight ``stepSize``;
leaves predict the mean residual; with a validation set, boosting stops when the validation
loss improves by less than ``validationTol`` x max(loss, 0.01), and keeps the trees up to the
best one. An iteration is a tree: progress is reported and a checkpoint taken after each.
"""
from __future__ import annotations

import numpy as np

from distml.algorithms.tree.growth import (grow, level_histograms, prepare_binning,
                                           route_to_leaves, tree_of)
from distml.algorithms.tree.random_forest_program import features_per_node
from distml.errors import DataError
from distml.kernels.hashed_random import uniforms
from distml.kernels.tree import VARIANCE, RowTargets, bin_rows

LOGISTIC, SQUARED, ABSOLUTE = "logistic", "squared", "absolute"


def pseudo_residuals(loss: str, y: np.ndarray, F: np.ndarray) -> np.ndarray:
    """The negative gradient of MLlib's loss at F (y in {-1, 1} for "logistic")."""
    if loss == LOGISTIC:  # loss 2 log(1 + exp(-2 y F))
        return 4.0 * y / (1.0 + np.exp(np.minimum(2.0 * y * F, 700.0)))
    if loss == SQUARED:  # loss (y - F)^2
        return 2.0 * (y - F)
    return np.where(y - F < 0, -1.0, 1.0)  # loss |y - F|


def pointwise_loss(loss: str, y: np.ndarray, F: np.ndarray) -> np.ndarray:
    """MLlib's ``computeError`` per row."""
    if loss == LOGISTIC:
        return 2.0 * np.logaddexp(0.0, -2.0 * y * F)
    if loss == SQUARED:
        return (y - F) ** 2
    return np.abs(y - F)


def boosting_label(loss: str, y: np.ndarray) -> np.ndarray:
    return 2.0 * y - 1.0 if loss == LOGISTIC else y


def _boost_setup(part, thresholds, finished, loss):
    """Bin the rows once, and F from the trees a resumed fit already has."""
    part.state["tree_bins"] = bins = bin_rows(part.X, thresholds)
    validation = part.ids.astype(bool) if part.ids is not None else \
        np.zeros(part.num_rows, dtype=bool)
    part.state["gbt_validation"] = validation
    part.state["gbt_label"] = boosting_label(loss, part.y)
    F = np.zeros(part.num_rows)
    for routing, values, weight in finished:
        F += weight * _leaf_values(bins, routing, values)
    part.state["gbt_F"] = F


def _leaf_values(bins, routing, values):
    from distml.kernels.tree_loops import route
    node = np.zeros((1, bins.shape[0]), dtype=np.int32)
    route(bins, node, *routing, True)
    return values[node[0]]


def _boost_round(part, previous, loss, iteration, sampling, num_bins, histogram=True):
    """Add the previous tree (``previous``: its routing, leaf values and weight) to F; then,
    when ``histogram``, the new tree's targets and its root's histogram. Returns (histogram,
    the validation rows' weighted loss, their weight)."""
    w, F, y = part.weights(), part.state["gbt_F"], part.state["gbt_label"]
    validation = part.state["gbt_validation"]
    if previous is not None:
        routing, values, weight = previous
        route_to_leaves(part, *routing)
        F += weight * values[part.state["tree_node"][0]]
    val_w = w[validation]
    val_loss = float(np.dot(val_w, pointwise_loss(loss, y[validation], F[validation])))
    if not histogram:
        return None, val_loss, float(val_w.sum())
    targets = y if iteration == 0 else pseudo_residuals(loss, y, F)
    part.state["tree_targets"] = RowTargets(targets, w, 0)
    seed, rate, first_row = sampling[0], sampling[1], sampling[2][part.index]
    count = ~validation
    if rate < 1.0:  # MLlib samples each iteration's rows without replacement
        positions = first_row + np.arange(part.num_rows, dtype=np.int64)
        count &= uniforms(seed, iteration, positions)[:, 0] < rate
    part.state["tree_count"] = count.astype(np.uint8)[None, :]
    part.state["tree_node"] = np.zeros((1, part.num_rows), dtype=np.int32)
    hist = level_histograms(part, None, np.zeros(1, dtype=np.int64), 1, num_bins)
    return hist, val_loss, float(val_w.sum())


def gradient_boosted_trees(ctx, params: dict) -> dict:
    loss, classification = params["lossType"], params["classification"]
    binning = prepare_binning(ctx, params, classification)
    if classification and binning.num_classes > 2:
        raise DataError(f"GBTClassifier supports binary classification only; column "
                        f"'{params['labelCol']}' has {binning.num_classes} classes")
    tree_params = dict(params, impurity=VARIANCE)
    num_bins, max_iter = binning.num_bins, params["maxIter"]
    offsets = np.cumsum([0] + ctx.input.rows_per_partition)[:-1]
    sampling = (params["seed"], params["subsamplingRate"], offsets)
    validate = params["validate"]
    per_node = features_per_node(params["featureSubsetStrategy"], ctx.input.num_features, 1,
                                 False)
    saved = ctx.resume()
    trees, weights = (list(saved["trees"]), list(saved["weights"])) if saved else ([], [])
    best = tuple(saved["best"]) if saved else (np.inf, 0)
    first = len(trees)
    ctx.map_update(_boost_setup, binning.thresholds,
                   [(t["routing"], t["values"], w) for t, w in zip(trees, weights)], loss)
    previous = None
    for m in range(first, max_iter + 1):
        last = m == max_iter
        if last and not validate:
            break
        hist, val_loss, val_weight = ctx.map_update(_boost_round, previous, loss, m, sampling,
                                                    num_bins, not last)
        metrics = {}
        if validate and m > 0:  # the ensemble of the first m trees on the validation rows
            if val_weight <= 0:
                raise DataError(f"validationIndicatorCol '{params['validationIndicatorCol']}'"
                                " marks no rows (with positive weight) for validation")
            error = metrics["validationError"] = val_loss / val_weight
            if m == 1:
                best = (error, 1)
            elif best[0] - error < params["validationTol"] * max(error, 0.01):
                break
            elif error < best[0]:
                best = (error, m)
        if last:
            break
        if m == 0 and hist[0, 0, :, -1].sum() <= 0:
            raise DataError("no rows to train on: every row is in the validation set "
                            f"(validationIndicatorCol '{params['validationIndicatorCol']}')")
        nodes = grow(ctx, binning, tree_params, 1, start=lambda: hist,
                     features_per_node=per_node, seed=params["seed"] + m)
        weight = 1.0 if m == 0 else params["stepSize"]
        routing, values = nodes.routing(num_bins), nodes.leaf_means()
        trees.append({"routing": routing, "values": values,
                      "arrays": tree_of(nodes, 0, VARIANCE, 0, False)})
        weights.append(weight)
        previous = (routing, values, weight)
        ctx.report(iteration=m + 1, **metrics)
        ctx.checkpoint(m + 1, lambda: {"trees": trees, "weights": weights, "best": best})
    keep = best[1] if validate else len(trees)
    return {"trees": [t["arrays"] for t in trees[:keep]],
            "treeWeights": np.array(weights[:keep]),
            "numFeatures": np.int64(ctx.input.num_features),
            "numClasses": np.int64(2 if classification else 0)}

