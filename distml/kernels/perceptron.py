"""A multilayer perceptron in numpy: the readable reference beside the Gluon network.

The network is pyspark.ml's: sigmoid hidden layers, a softmax output layer, cross-entropy
loss. Its weights are one flat vector laid out as MLlib lays them out: for each layer, the
(out x in) matrix in column-major order (that is, the (in x out) matrix row by row), then the
out biases. ``distml.kernels.perceptron_gluon`` computes the same loss and gradient with MXNet
Gluon on a GPU; tests hold the two to 1e-10 of each other.

Sums, not means: partitions add their sums and the program divides once by the total weight.
"""
from __future__ import annotations

import numpy as np
from scipy.special import expit, log_softmax

from distml.kernels.jvm_random import hash_seed, next_doubles


def weight_count(layers: list[int]) -> int:
    return sum((n_in + 1) * n_out for n_in, n_out in zip(layers[:-1], layers[1:]))


def unpack_weights(weights: np.ndarray, layers: list[int]) -> list[tuple[np.ndarray, np.ndarray]]:
    """(W as in x out, b) per layer: views into the flat vector."""
    out, at = [], 0
    for n_in, n_out in zip(layers[:-1], layers[1:]):
        W = weights[at:at + n_in * n_out].reshape(n_in, n_out)
        at += n_in * n_out
        out.append((W, weights[at:at + n_out]))
        at += n_out
    return out


def initial_weights(layers: list[int], seed: int) -> np.ndarray:
    """MLlib's start from the same seed: every weight and bias of a layer uniform in
    +-2.4 / sqrt(in) (Bottou's heuristic for sigmoids), drawn in the flat vector's order from
    one Spark ``XORShiftRandom`` for the whole network, so pyspark.ml and distml start a fit
    with a given seed at the same point."""
    state = hash_seed(seed)
    parts = []
    for n_in, n_out in zip(layers[:-1], layers[1:]):
        draws, state = next_doubles(state, (n_in + 1) * n_out)
        parts.append((draws * 4.8 - 2.4) / np.sqrt(n_in))
    return np.concatenate(parts)


def perceptron_raw(weights: np.ndarray, layers: list[int], X) -> np.ndarray:
    """The output layer's inputs to the softmax (n x classes): pyspark.ml's rawPrediction."""
    a = X
    params = unpack_weights(weights, layers)
    for W, b in params[:-1]:
        a = expit(np.asarray(a @ W) + b)
    W, b = params[-1]
    return np.asarray(a @ W) + b


def perceptron_loss_grad(weights: np.ndarray, layers: list[int], X, y: np.ndarray,
                         w: np.ndarray) -> tuple[float, np.ndarray]:
    """sum_i w_i * cross-entropy(softmax(raw_i), y_i), and its gradient (backpropagation)."""
    params = unpack_weights(weights, layers)
    activations = [X]
    for W, b in params[:-1]:
        activations.append(expit(np.asarray(activations[-1] @ W) + b))
    W, b = params[-1]
    log_p = log_softmax(np.asarray(activations[-1] @ W) + b, axis=1)
    labels = y.astype(np.intp)
    rows = np.arange(labels.size)
    loss = -float(w @ log_p[rows, labels])
    delta = np.exp(log_p)  # d loss / d raw = w * (softmax - onehot)
    delta[rows, labels] -= 1.0
    delta *= w[:, None]
    grads = []
    for layer in range(len(params) - 1, -1, -1):
        W, _ = params[layer]
        a = activations[layer]
        grads.append((np.asarray(a.T @ delta), delta.sum(axis=0)))
        if layer:
            delta = (delta @ W.T) * a * (1.0 - a)  # a = sigmoid output of the layer below
    return loss, np.concatenate([g for gW, gb in reversed(grads) for g in (gW.ravel(), gb)])
