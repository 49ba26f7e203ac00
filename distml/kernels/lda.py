"""LDA's kernels: the variational E-step over term-count rows, the variational bound, and the
updates of the topics (lambda) and of the document concentration (alpha).

The E-step is Hoffman, Blei and Bach's (scikit-learn's and MLlib's): per document, topic
weights gamma start at 1 and iterate gamma = alpha + exp(E[log theta]) * sum_j (c_j / phi_j)
exp(E[log beta_{., j}]) over the document's nonzero terms j until their mean change is below
``tol`` (at most ``max_iter`` rounds); phi_j = exp(E[log theta]) . exp(E[log beta_{., j}]).
Its topic-term statistics are sum_d outer(exp(E[log theta_d]), c_d / phi_d).

Two ways to run it, giving the same numbers to rounding:
- ``estep_documents`` (numba, ``lda_loops``): the CPU path, each document for its own rounds.
- ``padded_estep``: documents padded to their chunk's longest, batched products over the
  chunk, a document frozen once it converges. Written once for numpy and ``mxnet.numpy``: the
  MXNet backend's path and the readable reference of the compiled loop.
"""
from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import scipy.sparse as sp
from scipy.special import digamma, gammaln, logsumexp, polygamma

from distml.gpu.backend import NUMPY, namespace, to_numpy
from distml.kernels.padding import gathered, padded_rows

MAX_DOC_ITER = 100        # MLlib's and scikit-learn's bound on a document's rounds
DOC_TOL = 1e-3            # their mean-change tolerance
PADDED_SLOTS = 1 << 16    # terms (real and padding) per chunk on the padded path
EPS = 1e-100


def dirichlet_expectation(a: np.ndarray) -> np.ndarray:
    """E[log x] under Dirichlet(a), along the last axis."""
    return digamma(a) - digamma(a.sum(axis=-1, keepdims=True))


def as_csr(X: Any) -> sp.csr_matrix:
    """Term counts as CSR with sorted, canonical indices (dense rows keep only nonzeros)."""
    csr = sp.csr_matrix(X, dtype=np.float64)
    csr.sum_duplicates()
    csr.sort_indices()
    return csr


def estep(X: sp.csr_matrix, exp_beta: np.ndarray, alpha: np.ndarray, want_stats: bool,
          start: np.ndarray | None = None, backend: Any = NUMPY, placed: Any = None
          ) -> tuple[np.ndarray, np.ndarray | None]:
    """(gamma: documents x k, stats: k x vocabulary or None) for CSR rows ``X``.

    ``exp_beta`` is exp(E[log beta]) (k x vocabulary). Each document's gamma starts from its
    row of ``start`` (training draws it at random, as MLlib and scikit-learn do), or from 1
    when None (inference, deterministic, as scikit-learn's transform).
    On a backend other than numpy, ``placed`` is ``place_documents(X, backend)``, kept by the
    caller across rounds.
    """
    exp_beta_t = np.ascontiguousarray(exp_beta.T)
    gamma = np.ones((X.shape[0], alpha.size)) if start is None else start.copy()
    if backend is NUMPY:
        from distml.kernels.lda_loops import estep_documents  # numba: imported late

        stats_t = np.zeros(exp_beta_t.shape if want_stats else (0, alpha.size))
        estep_documents(X.indptr, X.indices, X.data, exp_beta_t, alpha, MAX_DOC_ITER, DOC_TOL,
                        gamma, start is not None, stats_t, want_stats)
        return gamma, (stats_t.T if want_stats else None)
    if placed is None:
        placed = place_documents(X, backend)
    beta_dev, alpha_dev = backend.asarray(exp_beta_t), backend.asarray(alpha)
    for rows, arrays in placed:
        gamma[rows] = to_numpy(padded_estep(beta_dev, alpha_dev, *arrays,
                                            backend.asarray(gamma[rows]))[0])
    return gamma, (topic_stats(X, gamma, exp_beta) if want_stats else None)


class PaddedDocuments(NamedTuple):
    rows: np.ndarray    # documents in the chunk
    ids: np.ndarray     # (documents, L) term ids, 0 where padded
    counts: np.ndarray  # (documents, L), 0 where padded


def padded_documents(X: sp.csr_matrix, max_slots: int = PADDED_SLOTS) -> list[PaddedDocuments]:
    """The documents in padded chunks (``padding.padded_rows``)."""
    return [PaddedDocuments(c.rows, gathered(X.indices, c).astype(np.int64),
                            gathered(X.data, c, 0.0))
            for c in padded_rows(X.indptr, max_slots)]


def place_documents(X: sp.csr_matrix, backend: Any) -> list[tuple]:
    """``padded_documents`` of X, their arrays copied to the backend's device."""
    return [(c.rows, [backend.asarray(c.ids), backend.asarray(c.counts)])
            for c in padded_documents(X)]


def padded_estep(exp_beta_t: Any, alpha: Any, ids: Any, counts: Any, gamma: Any,
                 max_iter: int = MAX_DOC_ITER, tol: float = DOC_TOL) -> tuple[Any, Any]:
    """(gamma, exp(E[log theta])) of one padded chunk from the start ``gamma``, on the
    arrays' backend.

    Documents run in lock-step; one whose mean change falls below ``tol`` keeps its values
    from then on, so each ends where the per-document loop would. Empty documents end at
    ``alpha``, as there.
    """
    xp = namespace(exp_beta_t)
    terms = exp_beta_t[ids]                                   # (documents, L, k)
    empty = counts.sum(axis=1) == 0
    exp_theta = _exp_expectation(gamma)
    norm = xp.matmul(terms, exp_theta[..., None])[..., 0] + EPS
    active = ~empty
    for _ in range(max_iter):
        acc = xp.matmul(xp.swapaxes(terms, 1, 2), (counts / norm)[..., None])[..., 0]
        updated = alpha + exp_theta * acc
        change = xp.abs(updated - gamma).mean(axis=1)
        keep = active[:, None]
        gamma = xp.where(keep, updated, gamma)
        exp_theta = xp.where(keep, _exp_expectation(gamma), exp_theta)
        norm = xp.where(keep, xp.matmul(terms, exp_theta[..., None])[..., 0] + EPS, norm)
        active = active & (change >= tol)
        if not bool(active.any()):
            break
    gamma = xp.where(empty[:, None], alpha, gamma)
    return gamma, exp_theta


def _exp_expectation(gamma: Any) -> Any:
    xp = namespace(gamma)
    return xp.exp(digamma_series(gamma) - digamma_series(gamma.sum(axis=1, keepdims=True)))


def digamma_series(x: Any) -> Any:
    """psi(x) for x > 0 with array operations only (``mxnet.numpy`` has no digamma): ten
    steps of the recurrence, then the asymptotic series (error below 1e-14 at x >= 10)."""
    xp = namespace(x)
    shift = sum(1.0 / (x + i) for i in range(10))
    y = x + 10.0
    f = 1.0 / (y * y)
    return xp.log(y) - 0.5 / y - f * (1.0 / 12 - f * (1.0 / 120 - f * (
        1.0 / 252 - f * (1.0 / 240 - f * (1.0 / 132))))) - shift


def topic_stats(X: sp.csr_matrix, gamma: np.ndarray, exp_beta: np.ndarray) -> np.ndarray:
    """sum_d outer(exp(E[log theta_d]), c_d / phi_d) (k x vocabulary), from converged gamma:
    one sparse product, c / phi being a matrix of X's shape."""
    exp_theta = np.exp(dirichlet_expectation(gamma))
    rows = np.repeat(np.arange(X.shape[0]), np.diff(X.indptr))
    norm = np.einsum("ij,ij->i", exp_theta[rows], exp_beta[:, X.indices].T) + EPS
    ratio = sp.csr_matrix((X.data / norm, X.indices, X.indptr), shape=X.shape)
    return np.asarray((ratio.T @ exp_theta).T)


def document_bounds(X: sp.csr_matrix, gamma: np.ndarray, log_beta: np.ndarray,
                    alpha: np.ndarray, block_terms: int = 1 << 18) -> np.ndarray:
    """Each document's part of the variational bound (MLlib's ``logLikelihoodBound``):
    E[log p(w_d | theta, beta)] + E[log p(theta_d | alpha) - log q(theta_d | gamma_d)].
    ``log_beta`` is E[log beta] (k x vocabulary). Empty documents contribute 0."""
    log_theta = dirichlet_expectation(gamma)
    rows = np.repeat(np.arange(X.shape[0]), np.diff(X.indptr))
    words = np.zeros(X.shape[0])
    for start in range(0, X.nnz, block_terms):  # nnz x k scores, a block at a time
        span = slice(start, start + block_terms)
        scores = log_theta[rows[span]] + log_beta[:, X.indices[span]].T
        words += np.bincount(rows[span], X.data[span] * logsumexp(scores, axis=1),
                             minlength=X.shape[0])
    prior = ((alpha - gamma) * log_theta).sum(axis=1) + \
        (gammaln(gamma) - gammaln(alpha)).sum(axis=1) + \
        gammaln(alpha.sum()) - gammaln(gamma.sum(axis=1))
    return np.where(np.diff(X.indptr) > 0, words + prior, 0.0)


def topics_bound(lam: np.ndarray, eta: float) -> float:
    """E[log p(beta | eta) - log q(beta | lambda)], the corpus-level part of the bound."""
    log_beta = dirichlet_expectation(lam)
    vocab = lam.shape[1]
    return float(((eta - lam) * log_beta).sum() + (gammaln(lam) - gammaln(eta)).sum()
                 + (gammaln(eta * vocab) - gammaln(lam.sum(axis=1))).sum())


def alpha_step(alpha: np.ndarray, log_theta_sum: np.ndarray, documents: int,
               rho: float) -> np.ndarray:
    """MLlib's Newton step on the document concentration (``updateAlpha``): the Dirichlet
    MLE given sum_d E[log theta_d] over ``documents`` non-empty documents, damped by ``rho``;
    kept only if every entry stays positive."""
    gradient = documents * (-dirichlet_expectation(alpha) + log_theta_sum / documents)
    c = documents * polygamma(1, alpha.sum())
    q = -documents * polygamma(1, alpha)
    b = (gradient / q).sum() / (1.0 / c + (1.0 / q).sum())
    step = -(gradient - b) / q
    updated = alpha + rho * step
    return updated if (updated > 0).all() else alpha
