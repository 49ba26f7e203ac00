"""The training program of MultilayerPerceptronClassifier: data-parallel, synchronous.

Every rank holds the same flat weight vector. Each step, every rank computes the loss and
gradient of its own rows (all of them for "l-bfgs", its next mini-batch for "gd" and "adam"),
one allreduce sums them, and every rank applies the same update, so the weights stay identical
everywhere without ever being broadcast. Kernels run on the rank's backend: the Gluon network
on MXNet (the task's GPU, or the CPU), or the numpy reference.
"""
from __future__ import annotations

import math

import numpy as np

from distml.errors import DataError, ParamError
from distml.gpu.backend import NUMPY, partition_rows
from distml.kernels.perceptron import initial_weights, perceptron_loss_grad, weight_count
from distml.optim.adam import adam_init, adam_step
from distml.optim.lbfgs import minimize_lbfgs

# Full-batch passes work through a partition in blocks of this many rows, which bounds the
# activations' memory (on a GPU too) without a Python loop per row block of pyspark's size.
FULL_BATCH_ROWS = 8192


def _input_check(part, num_classes):
    """Label checks and the partition's weight sum."""
    y, w = part.y, part.weights()
    bad = int(np.count_nonzero((y != np.floor(y)) | (y < 0) | (y >= num_classes)))
    return {"bad": bad, "weight_sum": float(w.sum())}


def _loss_grad(rows, weights, layers, index):
    """Loss and gradient sums over ``rows[index]`` (a slice or an index array)."""
    X, y, w, backend = rows
    if backend is NUMPY:
        return perceptron_loss_grad(weights, layers, X[index], y[index], w[index])
    from distml.kernels.perceptron_gluon import gluon_loss_grad
    if not isinstance(index, slice):
        index = backend.asarray(index)
    return gluon_loss_grad(weights, layers, X[index], y[index], w[index])


def _full_loss_grad(part, weights, layers, backend):
    rows = partition_rows(part, backend)
    loss, grad = 0.0, np.zeros(weights.size)
    for start in range(0, part.num_rows, FULL_BATCH_ROWS):
        block_loss, block_grad = _loss_grad(rows, weights, layers,
                                            slice(start, start + FULL_BATCH_ROWS))
        loss, grad = loss + block_loss, grad + block_grad
    return loss, grad


def _batch_rows(part, seed, epoch, step, steps_per_epoch):
    """This partition's rows of one step: its epoch's own shuffle cut into equal parts.

    The shuffle depends on (seed, epoch, partition index) only, so every engine and every
    retry draws the same batches.
    """
    key = ("epoch order", seed, epoch)
    order = part.device_cache.get(key)
    if order is None:
        part.device_cache.pop(("epoch order", seed, epoch - 1), None)
        order = np.random.default_rng([seed, epoch, part.index]).permutation(part.num_rows)
        part.device_cache[key] = order
    size = math.ceil(part.num_rows / steps_per_epoch)
    return np.sort(order[step * size:(step + 1) * size])


def _batch_loss_grad(part, weights, layers, backend, seed, epoch, step, steps_per_epoch):
    rows = _batch_rows(part, seed, epoch, step, steps_per_epoch)
    if rows.size == 0:
        return 0.0, np.zeros(weights.size), 0.0
    loss, grad = _loss_grad(partition_rows(part, backend), weights, layers, rows)
    return loss, grad, float(part.weights()[rows].sum())


def multilayer_perceptron(ctx, params: dict) -> dict:
    layers = [int(v) for v in params["layers"]]
    label = params["labelCol"]
    seed = params["seed"] % (1 << 63)  # pyspark.ml seeds may be negative; numpy's may not
    if ctx.input.num_features != layers[0]:
        raise DataError(f"layers[0] is {layers[0]} but column '{params['featuresCol']}' holds "
                        f"vectors of {ctx.input.num_features} features; the first layer must "
                        "be the feature count")
    checks = ctx.map_collect(_input_check, layers[-1])
    bad = sum(c["bad"] for c in checks)
    if bad:
        raise DataError(f"column '{label}' has {bad} labels that are not integers in "
                        f"0..{layers[-1] - 1} (the output layer has {layers[-1]} units)")
    weight_sum = sum(c["weight_sum"] for c in checks)
    if weight_sum <= 0:
        raise DataError("every row has weight 0: nothing to fit")

    x0 = params["initialWeights"]
    if x0 is None:
        x0 = initial_weights(layers, params["seed"])
    elif x0.size != weight_count(layers):
        raise ParamError(f"initialWeights has {x0.size} values; layers {layers} need "
                         f"{weight_count(layers)}")

    saved = ctx.resume()  # the optimizer's state dict (with Adam's moments), as checkpointed

    def on_iteration(state):
        ctx.report(iteration=state["iteration"], loss=state["history"][-1])
        ctx.checkpoint(state["iteration"], lambda: state)

    if params["solver"] == "l-bfgs":
        def objective(x):
            loss, grad = ctx.map_reduce(_full_loss_grad, x, layers, params["backend"])
            return loss / weight_sum, grad / weight_sum

        state = minimize_lbfgs(objective, x0, max_iter=params["maxIter"], tol=params["tol"],
                               state=saved, on_iteration=on_iteration)
    else:
        state = _minibatch_descent(ctx, params, layers, seed, x0, weight_sum, on_iteration,
                                   saved)
    return {"weights": state["x"], "layers": np.asarray(layers, dtype=np.int64),
            "objectiveHistory": np.asarray(state["history"]),
            "totalIterations": np.int64(state["iteration"])}


def _minibatch_descent(ctx, params, layers, seed, x, weight_sum, on_iteration,
                       saved=None) -> dict:
    """Synchronous mini-batch SGD ("gd") or Adam ("adam"); an iteration is one epoch.

    An epoch is ``ceil(largest partition / blockSize)`` steps; at each step every partition
    contributes an equal share of its rows, so a global batch is about blockSize rows per
    rank. Stops after ``maxIter`` epochs, or when an epoch moved the weights by at most
    ``tol`` relative to their norm (MLlib's GradientDescent rule).
    """
    backend = params["backend"]
    steps = max(1, math.ceil(max(ctx.input.rows_per_partition) / params["blockSize"]))
    adam = adam_init(x) if params["solver"] == "adam" else None
    state = {"x": x, "history": [], "iteration": 0, "adam": adam}
    if saved is not None:
        state = saved
        x, adam = saved["x"], saved["adam"]
    for epoch in range(state["iteration"], params["maxIter"]):
        start, epoch_loss = x, 0.0
        for step in range(steps):
            loss, grad, batch_weight = ctx.map_reduce(_batch_loss_grad, x, layers, backend,
                                                      seed, epoch, step, steps)
            if batch_weight <= 0:
                continue
            epoch_loss += loss
            grad = grad / batch_weight
            with np.errstate(over="ignore", invalid="ignore"):  # checked after the epoch
                x = adam_step(adam, x, grad, params["stepSize"]) if adam is not None else \
                    x - params["stepSize"] * grad
        if not np.all(np.isfinite(x)):
            raise ParamError(f"the weights diverged in epoch {epoch + 1} (stepSize "
                            f"{params['stepSize']} is too large for this data)")
        state.update(x=x, iteration=epoch + 1)
        state["history"].append(epoch_loss / weight_sum)
        on_iteration(state)
        if np.linalg.norm(x - start) <= params["tol"] * max(np.linalg.norm(x), 1.0):
            break
    return state
