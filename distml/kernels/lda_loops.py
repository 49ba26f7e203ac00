"""LDA's variational E-step on the CPU, compiled with numba.

Why numba here: every document iterates its own fixed point (up to 100 rounds, stopping when
its topic weights change by less than the tolerance), over only its nonzero terms. numpy can
batch documents only by padding them to a common length and running every document for as
many rounds as the slowest needs (the MXNet path does, ``kernels.lda``); a compiled loop runs
each document for its own rounds on a k x terms buffer that stays in cache. Imported lazily,
as ``tree_loops``.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

EPS = 1e-100  # added to each term's normalizer, as scikit-learn and MLlib do


@njit(cache=True, nogil=True, inline="always")
def digamma(x):
    """psi(x) for x > 0: the recurrence up to x >= 10, then the asymptotic series (error
    below 1e-14 there)."""
    result = 0.0
    while x < 10.0:
        result -= 1.0 / x
        x += 1.0
    f = 1.0 / (x * x)
    return result + math.log(x) - 0.5 / x - f * (1.0 / 12 - f * (1.0 / 120 - f * (
        1.0 / 252 - f * (1.0 / 240 - f * (1.0 / 132)))))


@njit(cache=True, nogil=True, inline="always")
def _exp_expectation(gamma, out):
    """out = exp(E[log theta]) under Dirichlet(gamma)."""
    total = digamma(gamma.sum())
    for t in range(gamma.size):
        out[t] = math.exp(digamma(gamma[t]) - total)


@njit(cache=True, nogil=True)
def estep_documents(indptr, indices, data, exp_beta_t, alpha, max_iter, tol, gamma_out,
                    start_given, stats_t, want_stats):
    """Each document's variational topic weights into ``gamma_out`` (rows), and, when
    ``want_stats``, its expected topic-term counts added into ``stats_t`` (vocabulary x k).

    ``exp_beta_t`` is exp(E[log beta]) transposed (vocabulary x k), so a term's k values
    are one contiguous row. A document starts from its row of ``gamma_out`` when
    ``start_given``, else from weights 1 (scikit-learn's transform); an empty one ends at the
    prior ``alpha``.
    """
    n = indptr.size - 1
    k = alpha.size
    longest = 0
    for d in range(n):
        longest = max(longest, indptr[d + 1] - indptr[d])
    terms = np.empty((longest, k))
    norm = np.empty(longest)
    exp_theta = np.empty(k)
    acc = np.empty(k)
    for d in range(n):
        start, m = indptr[d], indptr[d + 1] - indptr[d]
        gamma = gamma_out[d]
        if m == 0:
            gamma[:] = alpha
            continue
        for j in range(m):
            terms[j, :] = exp_beta_t[indices[start + j], :]
        if not start_given:
            gamma[:] = 1.0
        _exp_expectation(gamma, exp_theta)
        for j in range(m):
            norm[j] = np.dot(exp_theta, terms[j]) + EPS
        for _ in range(max_iter):
            acc[:] = 0.0
            for j in range(m):
                c = data[start + j] / norm[j]
                for t in range(k):
                    acc[t] += c * terms[j, t]
            change = 0.0
            for t in range(k):
                g = alpha[t] + exp_theta[t] * acc[t]
                change += abs(g - gamma[t])
                gamma[t] = g
            _exp_expectation(gamma, exp_theta)
            for j in range(m):
                norm[j] = np.dot(exp_theta, terms[j]) + EPS
            if change / k < tol:
                break
        if want_stats:
            for j in range(m):
                c = data[start + j] / norm[j]
                row = indices[start + j]
                for t in range(k):
                    stats_t[row, t] += exp_theta[t] * c
