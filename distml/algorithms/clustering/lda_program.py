"""The training program of LDA: variational Bayes, online (mini-batches) or batch; the "em"
optimizer, MLlib's MAP-EM, is ``lda_em_program``.

Every rank keeps its documents as CSR term counts. An iteration is one round: each rank runs
the E-step (``kernels.lda``) on its documents in this iteration's mini-batch (online: each
document drawn with probability ``subsamplingRate``; batch: every document), and the k x vocabulary
topic-term statistics, the count of non-empty documents and their sum of E[log theta] are
allreduced. Every rank then applies the same update to the topics lambda (and, online with
``optimizeDocConcentration``, to alpha):

    online: lambda = (1 - rho) lambda + rho (eta + D / |batch| stats),  rho = (tau0 + t)^-kappa
    batch:  lambda = eta + stats

where stats already carries the factor exp(E[log beta]) and D counts every document (empty
ones too), as in MLlib.

The draws (which documents are in a mini-batch, each document's starting point) are hashed
from (seed, iteration, the document's position in the corpus), so the model is the same on
every engine and any number of ranks.
"""
from __future__ import annotations

import numpy as np

from distml.engine.memory import MemoryUse
from distml.errors import DataError
from distml.algorithms.clustering.lda_em_program import map_em
from distml.gpu.backend import rank_backend
from distml.kernels.hashed_random import uniforms
from distml.kernels.lda import (alpha_step, as_csr, dirichlet_expectation, estep,
                                place_documents)

ONLINE, EM, BATCH = "online", "em", "batch"


def lda(ctx, params: dict) -> dict:
    _check_counts(ctx, params["featuresCol"])
    if params["optimizer"] == EM:
        return map_em(ctx, params, _counts)
    k, vocab = params["k"], ctx.input.num_features
    documents = ctx.input.num_rows
    topics = initial_topics(k, vocab, params["seed"])
    alpha = np.asarray(params["docConcentration"], dtype=np.float64)
    eta = float(params["topicConcentration"])
    online = params["optimizer"] == ONLINE
    rate = params["subsamplingRate"] if online else 1.0
    offsets = np.cumsum([0] + ctx.input.rows_per_partition)[:-1].tolist()
    first = 1
    saved = ctx.resume()  # the draws hash the corpus position: any rank count resumes alike
    if saved is not None:
        topics, alpha, first = saved["topics"], saved["alpha"], saved["iteration"] + 1
    for iteration in range(first, params["maxIter"] + 1):
        exp_beta = np.exp(dirichlet_expectation(topics))
        stats, used, log_theta = ctx.map_reduce(_estep_round, exp_beta, alpha, params["seed"],
                                                iteration, rate, offsets, params["backend"])
        if used == 0:  # an empty mini-batch: nothing to learn from (MLlib skips it too)
            ctx.report(iteration=iteration, documents=0)
            continue
        stats = stats * exp_beta
        if online:
            rho = (params["learningOffset"] + iteration) ** -params["learningDecay"]
            topics = (1 - rho) * topics + rho * (eta + documents / used * stats)
            if params["optimizeDocConcentration"]:
                alpha = alpha_step(alpha, log_theta, used, rho)
        else:
            topics = eta + stats
        ctx.report(iteration=iteration, documents=int(used))
        ctx.checkpoint(iteration, lambda: {"topics": topics, "alpha": alpha,
                                           "iteration": iteration})
    return {"topics": topics, "docConcentration": alpha, "topicConcentration": np.float64(eta)}


def initial_topics(k: int, vocab: int, seed: int) -> np.ndarray:
    """lambda drawn from Gamma(100, 1/100), MLlib's and scikit-learn's choice, from ``seed``."""
    return np.random.default_rng(seed & 0xFFFFFFFFFFFFFFFF).gamma(100.0, 0.01, (k, vocab))


def _counts(part):
    """The partition's term counts as CSR, made once per partition object."""
    source, csr = part.device_cache.get("lda counts", (None, None))
    if source is not part.X:
        csr = as_csr(part.X)
        part.device_cache["lda counts"] = (part.X, csr)
    return csr


def _negative_counts(part):
    X = _counts(part)
    return int(np.count_nonzero(X.data < 0))


def _check_counts(ctx, column: str) -> None:
    negative = ctx.map_reduce(_negative_counts)
    if negative:
        raise DataError(f"column '{column}' has {negative} negative term counts; LDA reads "
                        "term counts (CountVectorizer's output), which are >= 0")


def _batch(part, seed, iteration, rate, first_row):
    """This iteration's documents of the partition: non-empty, and drawn when ``rate`` < 1."""
    X = _counts(part)
    chosen = np.diff(X.indptr) > 0
    if rate < 1.0:
        positions = first_row + np.arange(X.shape[0])
        chosen &= uniforms(seed, 2 * iteration, positions)[:, 0] < rate
    return np.flatnonzero(chosen)


def _estep_round(part, exp_beta, alpha, seed, iteration, rate, offsets, backend_name):
    first_row = offsets[part.index]
    rows = _batch(part, seed, iteration, rate, first_row)
    X = _counts(part)
    if rows.size < X.shape[0]:  # a mini-batch, or empty documents to leave out
        X = X[rows]
    backend = rank_backend(backend_name)
    placed = None if backend.name == "numpy" else _placed(part, X, rows, backend)
    # Starting points spread as MLlib's Gamma(100, 1/100) draws: mean 1, deviation 0.1.
    noise = uniforms(seed, 2 * iteration + 1, first_row + rows, alpha.size)
    start = 1.0 + 0.1 * np.sqrt(12.0) * (noise - 0.5)
    gamma, stats = estep(X, exp_beta, alpha, True, start, backend, placed)
    return stats, rows.size, dirichlet_expectation(gamma).sum(axis=0)


def _placed(part, X, rows, backend):
    """The batch's documents padded on the device; kept while the batch stays the same (batch
    mode's, every iteration)."""
    key = ("lda documents", backend.device)
    source, cached_rows, placed = part.device_cache.get(key, (None, None, None))
    if source is not part.X or not np.array_equal(cached_rows, rows):
        placed = place_documents(X, backend)
        part.device_cache[key] = (part.X, rows, placed)
    return placed


# Measured by benchmarks/bench_memory.py (1.11x and 59 MiB), rounded up: what the ranks hold the fit
# to before loading their rows (engine.memory).
lda.memory_use = MemoryUse(1.15, 96 << 20)
