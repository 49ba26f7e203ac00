"""pyspark.ml's multilayer perceptron as an MXNet Gluon network: loss and gradient by autograd.

Same network, loss and flat weight layout as the numpy reference in
``distml.kernels.perceptron`` (tests hold the two to 1e-10): sigmoid hidden layers, softmax
output, weighted cross-entropy summed over rows. The weights live in the training program as
one numpy vector (every rank holds the same after each allreduce); each call copies them into
the network, runs forward and backward on the rank's device, and returns numpy.
"""
from __future__ import annotations

import threading

import numpy as np

from distml.gpu.mxnet_import import import_mxnet, use_numpy_semantics
from distml.kernels.perceptron import unpack_weights

# A Gluon block holds its gradients in its parameters, so threads (LocalEngine runs partitions
# on a pool) each get their own network.
_networks = threading.local()


def _network(layers: tuple[int, ...], ctx):
    cache = getattr(_networks, "by_shape", None)
    if cache is None:
        cache = _networks.by_shape = {}
    key = (layers, str(ctx))
    net = cache.get(key)
    if net is None:
        mx = import_mxnet()
        nn = mx.gluon.nn
        net = nn.Sequential()
        last = len(layers) - 2
        for i, (n_in, n_out) in enumerate(zip(layers[:-1], layers[1:])):
            net.add(nn.Dense(n_out, in_units=n_in, dtype="float64",
                             activation=None if i == last else "sigmoid"))
        # Zero init: the values are overwritten from the flat weights before every use (and
        # MXNet's random initializers cannot fill float64 parameters in numpy mode).
        net.initialize(mx.init.Zero(), ctx=ctx)
        cache[key] = net
    return net


def gluon_loss_grad(weights: np.ndarray, layers: list[int], X, y, w) -> tuple[float, np.ndarray]:
    """sum_i w_i * cross-entropy(softmax(net(X_i)), y_i) and its gradient in the flat layout.

    ``X``, ``y`` and ``w`` are ``mxnet.numpy`` arrays on the rank's device.
    """
    mx = import_mxnet()
    use_numpy_semantics(mx)
    net = _network(tuple(layers), X.ctx)
    dense = list(net)
    for block, (W, b) in zip(dense, unpack_weights(weights, layers)):
        block.weight.set_data(mx.np.array(W.T, dtype="float64", ctx=X.ctx))  # Gluon: out x in
        block.bias.set_data(mx.np.array(b, dtype="float64", ctx=X.ctx))
    with mx.autograd.record():
        log_p = mx.npx.log_softmax(net(X), axis=1)
        loss = -(w * mx.npx.pick(log_p, y, axis=1)).sum()
    loss.backward()
    grads = []
    for block in dense:
        grads += [block.weight.grad().asnumpy().T.ravel(), block.bias.grad().asnumpy()]
    return float(loss), np.concatenate(grads)
