"""LDA's ``optimizer="em"``: MLlib's MAP-EM (Asuncion et al., 2009), without the graph.

MLlib keeps a GraphX graph of documents and terms whose vertices hold topic counts: N_dk on a
document, N_wk on a term, with totals N_k. Every iteration each (document, term) pair with
count c gets its smoothed topic responsibilities

    gamma_dwk = (N_wk + eta - 1) (N_dk + alpha - 1) / (N_k + W (eta - 1)),  normalized over k,

and the new N_dk and N_wk are the sums of c gamma over the pair's document and term. Here a
rank keeps its documents' N_dk in its partition state and one allreduce per iteration sums the
k x W term counts: the graph's two message directions become a local sum and a collective.

The start is MLlib's: the pairs of each partition, in row order, draw their responsibilities
from ``java.util.Random(partition index + seed)``, k uniforms normalized, so a fit of the same
partitions starts, and ends, where pyspark.ml's does. The model is the term counts N_wk (its
``topicsMatrix``), with MLlib's training log likelihood and log prior.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from distml.errors import DataError
from distml.kernels.jvm_random import java_random_doubles

STATE = "lda em"
_CHUNK = 1 << 20  # (document, term) pairs per block: bounds the k-wide temporaries


def map_em(ctx, params: dict, counts_of) -> dict:
    """The training program's EM path; ``counts_of(part)`` is a partition's CSR counts."""
    k, vocab = params["k"], ctx.input.num_features
    alpha, eta = float(params["docConcentration"][0]), float(params["topicConcentration"])
    terms, document_frequency = ctx.map_update(_start, counts_of, k, params["seed"])
    present = document_frequency > 0
    if not present.any():
        raise DataError(f"column '{params['featuresCol']}' holds no term counts: every "
                        "document is empty")
    first = 1
    saved = ctx.resume()
    if saved is not None:
        terms, first = saved["terms"], saved["iteration"] + 1
        ctx.map_update(_restore, saved["documents"])
    for iteration in range(first, params["maxIter"] + 1):
        terms = ctx.map_update(_step, counts_of, terms, alpha, eta, vocab)
        ctx.report(iteration=iteration)
        if ctx.checkpoints_at(iteration):
            documents = ctx.map_collect(_document_counts)
            ctx.checkpoint(iteration, lambda: {"terms": terms, "documents": documents,
                                               "iteration": iteration})
    likelihood, document_prior = ctx.map_reduce(_training_bounds, counts_of, terms, alpha,
                                                eta, vocab)
    phi = (terms[present] + eta - 1.0) / (terms.sum(axis=0) + vocab * (eta - 1.0))
    log_prior = float(document_prior + (eta - 1.0) * np.log(phi).sum())
    return {"topics": terms.T.copy(), "docConcentration": np.full(k, alpha),
            "topicConcentration": np.float64(eta), "trainingLogLikelihood": likelihood,
            "logPrior": np.float64(log_prior)}


class _Pairs:
    """A partition's nonzero (document, term, count) pairs, documents in order and terms
    ascending, with the 0/1 matrices that sum pair values per document and per term. Built
    once per partition: every iteration reuses them."""

    def __init__(self, X):
        rows = np.repeat(np.arange(X.shape[0]), np.diff(X.indptr))
        keep = X.data != 0
        self.rows, self.cols, self.counts = rows[keep], X.indices[keep], X.data[keep]
        pairs, ones = np.arange(self.rows.size), np.ones(self.rows.size)
        self.by_document = sp.csr_matrix((ones, (self.rows, pairs)),
                                         shape=(X.shape[0], self.rows.size))
        self.by_term = sp.csr_matrix((ones, (self.cols, pairs)),
                                     shape=(X.shape[1], self.rows.size))


def _pairs(part, counts_of) -> _Pairs:
    X = counts_of(part)
    source, pairs = part.device_cache.get("lda em pairs", (None, None))
    if source is not X:
        pairs = _Pairs(X)
        part.device_cache["lda em pairs"] = (X, pairs)
    return pairs


def _blocks(rows: np.ndarray):
    for start in range(0, rows.size, _CHUNK):
        yield slice(start, start + _CHUNK)


def _start(part, counts_of, k, seed):
    """MLlib's random start: each pair's k uniforms from the partition's java.util.Random,
    normalized, times its count; N_dk kept, the partition's N_wk and term presence summed."""
    pairs = _pairs(part, counts_of)
    rows, counts = pairs.rows, pairs.counts
    # Long addition, as the JVM's partIndex + seed wraps
    generator_seed = (part.index + seed + (1 << 63)) % (1 << 64) - (1 << 63)
    gamma = java_random_doubles(generator_seed, rows.size * k).reshape(rows.size, k)
    gamma /= gamma.sum(axis=1, keepdims=True)
    return _sums(part, pairs, gamma * counts[:, None]), \
        np.bincount(pairs.cols, minlength=pairs.by_term.shape[0])


def _step(part, counts_of, terms, alpha, eta, vocab):
    pairs = _pairs(part, counts_of)
    rows, cols, counts = pairs.rows, pairs.cols, pairs.counts
    documents, k = part.state[STATE], terms.shape[1]
    smoothed_totals = terms.sum(axis=0) + vocab * (eta - 1.0)
    scaled = np.empty((rows.size, k))
    for block in _blocks(rows):
        gamma = (terms[cols[block]] + (eta - 1.0)) * (documents[rows[block]] + (alpha - 1.0)) \
            / smoothed_totals
        gamma *= (1.0 / gamma.sum(axis=1))[:, None]
        scaled[block] = gamma * counts[block, None]
    return _sums(part, pairs, scaled)


def _sums(part, pairs: _Pairs, scaled):
    """Keep the new N_dk in the partition; return its share of N_wk. Both sums are sparse
    products of the pairs' 0/1 matrices (np.add.at took 3x longer)."""
    part.state[STATE] = pairs.by_document @ scaled
    return pairs.by_term @ scaled


def _document_counts(part):
    return part.state[STATE]


def _restore(part, documents):
    part.state[STATE] = documents[part.index]


def _training_bounds(part, counts_of, terms, alpha, eta, vocab):
    """MLlib's DistributedLDAModel.logLikelihood (the tokens' log probability under the
    smoothed counts) and the documents' share of its logPrior."""
    pairs = _pairs(part, counts_of)
    rows, cols, counts = pairs.rows, pairs.cols, pairs.counts
    documents = part.state[STATE]
    phi = (terms + (eta - 1.0)) / (terms.sum(axis=0) + vocab * (eta - 1.0))
    smoothed = documents + (alpha - 1.0)
    theta = smoothed / smoothed.sum(axis=1, keepdims=True)
    likelihood = 0.0
    for block in _blocks(rows):
        token = np.einsum("ij,ij->i", phi[cols[block]], theta[rows[block]])
        likelihood += float(counts[block] @ np.log(token))
    occupied = np.diff(pairs.by_document.indptr) > 0  # MLlib's graph: non-empty documents
    prior = (alpha - 1.0) * float(np.log(theta[occupied]).sum())
    return np.array([likelihood, prior])
