"""The training program of KMeans: k-means|| or random initialization, then Lloyd's iterations.

Every Lloyd iteration is one round: each rank assigns its rows to the nearest centre and sums
them per centre (weights, sums, cost), the sums are allreduced, and every rank computes the same
new centres. k-means|| (Bahmani et al., MLlib's default) keeps each row's distance to the
candidates so far in the partition's state, samples about 2k new candidates per step from all
ranks in proportion to it, weights the candidates by the rows nearest them, and seeds the k
centres from the weighted candidates with k-means++ and a few local Lloyd iterations. All
randomness comes from the seed and the partition index, so every engine picks the same centres.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from distml.engine.memory import MemoryUse
from distml.errors import DataError
from distml.gpu.backend import place_rows
from distml.kernels.kmeans import (COSINE, assign, kmeans_plus_plus, lloyd_sums, local_lloyd,
                                   new_centers, squared_row_norms, unit_rows)

LOCAL_LLOYD_ITERATIONS = 30  # on the weighted candidates, as MLlib's LocalKMeans
# Seedings tried on the weighted candidates, the cheapest kept: the candidates are a few dozen
# rows, so a try costs next to nothing. Measured on digits (k=10, seeds 0-4): one try (MLlib's)
# ended 1.7% above scikit-learn's mean inertia, ten tries 0.4% below it.
LOCAL_RESTARTS = 10


def _rows(part, measure, backend):
    """(X, ||x||^2, w) on the rank's backend, unit rows for cosine; made once per partition."""
    key = ("kmeans rows", measure, backend)
    source, rows = part.device_cache.get(key, (None, None))
    if source is not part.X:
        X = unit_rows(part.X) if measure == COSINE else part.X
        placed = place_rows(X, None, part.weights(), backend)
        rows = (placed.X, squared_row_norms(placed.X), placed.w)
        part.device_cache[key] = (part.X, rows)
    return rows


def _zero_rows(part):
    return int(np.count_nonzero(squared_row_norms(part.X) == 0))


def _rows_at(part, wanted, measure):
    """The rows of this partition at the offsets ``wanted[partition index]``, dense."""
    offsets = wanted.get(part.index, [])
    X = part.X[np.asarray(offsets, dtype=np.int64)]
    X = unit_rows(X) if measure == COSINE else X
    return X.toarray() if sp.issparse(X) else np.asarray(X)


def _pick_rows(ctx, indices: np.ndarray, measure) -> np.ndarray:
    """Rows at global positions ``indices`` (partition order), in that order."""
    starts = np.cumsum([0] + ctx.input.rows_per_partition)
    owner = np.searchsorted(starts, indices, side="right") - 1
    wanted = {int(p): (indices[owner == p] - starts[p]).tolist() for p in np.unique(owner)}
    rows = np.vstack(ctx.map_collect(_rows_at, wanted, measure))
    order = np.argsort(np.concatenate([np.flatnonzero(owner == p) for p in sorted(wanted)]))
    return rows[order]


def _update_cost(part, centers, measure, backend):
    """Each row's distance to its nearest candidate so far, kept in the partition's state."""
    X, row_sq, w = _rows(part, measure, backend)
    _, nearest = assign(X, row_sq, place_rows(centers, None, None, backend).X, measure)
    cost = part.state.get("kmeans_cost")
    part.state["kmeans_cost"] = nearest if cost is None else np.minimum(cost, nearest)
    return float(part.weights() @ part.state["kmeans_cost"])


def _sample_candidates(part, total_cost, oversampling, seed, step, measure):
    """Rows drawn with probability min(1, l w cost / total cost): k-means||'s step."""
    rng = np.random.default_rng([seed, step, part.index])
    cost = part.state["kmeans_cost"]
    chosen = rng.random(cost.size) < oversampling * part.weights() * cost / total_cost
    X = part.X[np.flatnonzero(chosen)]
    X = unit_rows(X) if measure == COSINE else X
    return X.toarray() if sp.issparse(X) else np.asarray(X)


def _candidate_weights(part, candidates, measure, backend):
    X, row_sq, w = _rows(part, measure, backend)
    nearest, _ = assign(X, row_sq, place_rows(candidates, None, None, backend).X, measure)
    return np.bincount(nearest, weights=part.weights(), minlength=candidates.shape[0])


def _lloyd_step(part, centers, measure, backend):
    X, row_sq, w = _rows(part, measure, backend)
    return lloyd_sums(X, row_sq, w, place_rows(centers, None, None, backend).X, measure)


def _cluster_sizes(part, centers, measure, backend):
    X, row_sq, _ = _rows(part, measure, backend)
    nearest, best = assign(X, row_sq, place_rows(centers, None, None, backend).X, measure)
    return np.bincount(nearest, minlength=centers.shape[0]).astype(np.float64), \
        float(part.weights() @ best)


def _kmeans_parallel_init(ctx, params, rng, seed) -> np.ndarray:
    k, measure, backend = params["k"], params["distanceMeasure"], params["backend"]
    candidates = _pick_rows(ctx, rng.integers(ctx.input.num_rows, size=1), measure)
    total_cost = ctx.map_update(_update_cost, candidates, measure, backend)
    for step in range(params["initSteps"]):
        if total_cost <= 0:
            break
        new = np.vstack(ctx.map_collect(_sample_candidates, total_cost, 2.0 * k, seed, step,
                                        measure))
        if new.shape[0] == 0:
            continue
        candidates = np.vstack([candidates, new])
        if step + 1 < params["initSteps"]:  # the costs matter only for a next sampling step
            total_cost = ctx.map_update(_update_cost, new, measure, backend)
    if candidates.shape[0] <= k:
        return candidates
    weights = ctx.map_reduce(_candidate_weights, candidates, measure, backend)
    best, best_cost = None, np.inf
    for _ in range(LOCAL_RESTARTS):
        centers = local_lloyd(candidates, weights, kmeans_plus_plus(candidates, weights, k, rng,
                                                                    measure),
                              LOCAL_LLOYD_ITERATIONS, measure)
        cost = float(weights @ assign(candidates, squared_row_norms(candidates), centers,
                                      measure)[1])
        if cost < best_cost:
            best, best_cost = centers, cost
    return best


def _converged(old: np.ndarray, new: np.ndarray, tol: float, measure: str) -> bool:
    if measure == COSINE:
        return bool(np.all(1.0 - np.sum(old * new, axis=1) <= tol))
    return bool(np.all(np.sum((old - new) ** 2, axis=1) <= tol * tol))


def _initial_centers(ctx, params: dict) -> np.ndarray:
    k, measure, n = params["k"], params["distanceMeasure"], ctx.input.num_rows
    seed = params["seed"] % (1 << 63)
    rng = np.random.default_rng(seed)
    if params["initMode"] == "random":
        centers = _pick_rows(ctx, np.sort(rng.choice(n, size=k, replace=False)), measure)
    else:
        centers = _kmeans_parallel_init(ctx, params, rng, seed)
    if centers.shape[0] < k:  # fewer distinct rows than k: repeat the last
        centers = np.vstack([centers, np.repeat(centers[-1:], k - centers.shape[0], axis=0)])
    return centers


def kmeans(ctx, params: dict) -> dict:
    k, measure, backend = params["k"], params["distanceMeasure"], params["backend"]
    features = params["featuresCol"]
    zero_rows = ctx.map_reduce(_zero_rows) if measure == COSINE else 0
    if zero_rows:
        raise DataError(f"column '{features}' has {zero_rows} zero vectors; the cosine "
                        "distance is not defined for them")
    n = ctx.input.num_rows
    if n < k:
        raise DataError(f"column '{features}' has {n} rows, fewer than k = {k} clusters")
    saved = ctx.resume()  # the centres after a Lloyd iteration, and its number
    if saved is not None:
        centers, iteration = saved["centers"], saved["iteration"]
    else:
        centers, iteration = _initial_centers(ctx, params), 0
    while iteration < params["maxIter"]:
        weights, sums, cost = ctx.map_reduce(_lloyd_step, centers, measure, backend)
        updated = new_centers(weights, sums, centers, measure)
        iteration += 1
        ctx.report(iteration=iteration, cost=cost)
        done = _converged(centers, updated, params["tol"], measure)
        centers = updated
        if done:
            break
        ctx.checkpoint(iteration, lambda: {"centers": centers, "iteration": iteration})
    sizes, cost = ctx.map_reduce(_cluster_sizes, centers, measure, backend)
    return {"clusterCenters": centers, "clusterSizes": sizes.astype(np.int64),
            "trainingCost": np.float64(cost), "numIter": np.int64(iteration)}


# Measured by benchmarks/bench_memory.py (1.12x and 10 MiB), rounded up: what the ranks hold
# the fit to before loading their rows (engine.memory).
kmeans.memory_use = MemoryUse(1.15, 32 << 20)
