"""The training program of LogisticRegression: MLlib's objective, one map_reduce per iteration.

Objective (pyspark.ml's): (1/W) sum_i w_i loss_i + regParam * ((1 - a)/2 ||b||^2 + a ||b||_1),
a = elasticNetParam, intercepts unpenalized. As in MLlib, the optimizer works on standardized
coefficients (x_j / std_j; with standardization=False the penalty is re-weighted so the
objective is that of the raw features), and with an intercept it centres the features through
the intercept, which conditions the problem without touching the (possibly sparse) data.

The per-iteration kernels (loss, gradient, Hessian) run on the rank's array backend
(``params["backend"]``: numpy, or MXNet on the task's GPU; ``distml.gpu``); each partition's
rows are copied to the device once, and only numpy crosses between ranks.
"""
from __future__ import annotations

import numpy as np

from distml.engine.context import Context
from distml.engine.memory import MemoryUse
from distml.engine.partition import concat_rows
from distml.errors import DataError
from distml.gpu.backend import partition_rows, place_rows
from distml.kernels.logistic import (binary_logistic_loss, binary_logistic_loss_grad,
                                     binary_logistic_loss_grad_hess, multinomial_loss_grad)
from distml.kernels.statistics import (MAX_CLASSES, count_bad_labels, merge_moments,
                                       weighted_moments)
from distml.optim.lbfgs import minimize_lbfgs
from distml.optim.newton import minimize_newton

# Newton's Hessian is (d+1)^2 and costs n*d^2 per pass; above this many coefficients L-BFGS's
# cheaper passes win even where it needs more of them.
NEWTON_MAX_COEFFICIENTS = 512


def _input_statistics(part, sample_stride=0):
    """Label checks, the class histogram (weighted) and the features' moments: one pass.
    With a ``sample_stride``, Newton's row sample (``_row_sample``) comes in the same pass."""
    y, w = part.y, part.weights()
    bad = count_bad_labels(y)
    hist = np.bincount(y.astype(np.intp), weights=w) if y.size and not bad else np.zeros(0)
    return {"bad": bad, "hist": hist, "moments": weighted_moments(part.X, w),
            "sample": _row_sample(part, sample_stride) if sample_stride else None}


def _merge_input_statistics(parts: list[dict]) -> tuple[int, np.ndarray, dict]:
    hist = np.zeros(max(p["hist"].size for p in parts))
    for p in parts:  # partition order, so every engine adds in the same order
        hist[:p["hist"].size] += p["hist"]
    return (sum(p["bad"] for p in parts), hist,
            merge_moments([p["moments"] for p in parts]))


def _binary_loss(part, beta, intercept, backend):
    X, y, w, on = partition_rows(part, backend)
    return binary_logistic_loss(X, y, w, on.asarray(beta), intercept)


def _binary_loss_grad(part, beta, intercept, backend):
    X, y, w, on = partition_rows(part, backend)
    return binary_logistic_loss_grad(X, y, w, on.asarray(beta), intercept)


# Newton's Hessian from at most about this many rows per partition (every k-th row): the
# gradient stays exact, so the optimum is the same, while a pass costs ~1/k of the n*d^2.
# Measured at 250k x 50 per partition: a full pass 84 ms, a gradient alone 24 ms.
HESSIAN_ROWS = 16384
# Newton first solves on a row sample gathered to every rank (one round), then finishes on all
# rows: the sample's optimum is within sampling noise of the full one, from where Newton
# converges in 2-3 steps, so a fit costs ~4 passes over the data instead of ~8, and the warm
# start costs one round whatever the engine (on the jobs engine a round is a Spark job).
# The sample is every k-th row, about this many rows in all (from 8k to 64k rows the full-data
# steps were 3 alike on 500k x 50), at most ~8 MB of features (every rank receives all of it),
# at least 32 rows per feature, and at most a quarter of the data (small data saves nothing).
WARM_START_ROWS = 16384
WARM_START_MAX_VALUES = 1 << 20
WARM_START_ROWS_PER_FEATURE = 32
WARM_START_MIN_STRIDE = 4
# The warm start's Hessian from every 8th row of the sample (~4k rows): its steps need only to
# land near the optimum, and the whole sample's Hessian cost as much as the passes it saves.
# (The full-data steps keep their own: each rank's from its rows, inside the pass. The
# sample's, computed alike on every rank, cost more, and from 4k rows they took a step more.)
SAMPLE_HESSIAN_STRIDE = 8


def _binary_loss_grad_hess(part, beta, intercept, backend):
    stride = max(1, part.num_rows // HESSIAN_ROWS)
    X, y, w, on = partition_rows(part, backend)
    return binary_logistic_loss_grad_hess(X, y, w, on.asarray(beta), intercept,
                                          hessian_stride=stride)


def _row_sample(part, stride):
    """Rows 0, k, 2k, ... of the partition, each weighted k times: unbiased for its sums."""
    return part.X[::stride], part.y[::stride], part.weights()[::stride] * stride


def _warm_start_stride(num_rows: int, num_features: int) -> int:
    """The sample's k (every k-th row of each partition), or 0 when no warm start pays."""
    sample_rows = min(WARM_START_ROWS, WARM_START_MAX_VALUES // max(num_features, 1))
    if sample_rows < WARM_START_ROWS_PER_FEATURE * num_features:
        return 0
    stride = num_rows // sample_rows
    return stride if stride >= WARM_START_MIN_STRIDE else 0


def _multinomial_loss_grad(part, B, b, backend):
    X, y, w, on = partition_rows(part, backend)
    return multinomial_loss_grad(X, y, w, on.asarray(B), on.asarray(b))


def resolve_family(family: str, num_classes: int, label: str) -> bool:
    """True for multinomial. Same rules as pyspark.ml."""
    if family == "binomial":
        if num_classes > 2:
            raise DataError(f"family='binomial' needs labels 0 and 1 in column '{label}', "
                            f"found {num_classes} classes (labels up to {num_classes - 1}); "
                            "use family='multinomial' or 'auto'")
        return False
    if family == "multinomial":
        return True
    return num_classes > 2


def _uses_newton(params: dict, num_features: int, multinomial: bool) -> bool:
    """Newton where asked, or by default for a smooth binomial objective of few coefficients;
    else L-BFGS (OWL-QN with an L1 penalty)."""
    smooth = params["regParam"] * params["elasticNetParam"] == 0.0
    optimizer = params.get("optimizer", "auto")
    return optimizer == "newton" or (optimizer == "auto" and smooth and not multinomial
                                     and num_features + 1 <= NEWTON_MAX_COEFFICIENTS)


def logistic_regression(ctx: Context, params: dict) -> dict:
    label, backend = params["labelCol"], params.get("backend", "numpy")
    d = ctx.input.num_features
    # Model selection passes the statistics of the fit before on the same rows
    # (``_warm_start``): one pass fewer per param map. Otherwise the pass that takes them
    # also gathers Newton's warm-start sample where Newton may run: a round fewer (on the jobs
    # engine a round is a Spark job, ~0.1 s), for a sample of at most ~8 MB that a
    # multinomial fit then leaves unused.
    statistics = params.get("inputStatistics")
    samples = None
    if statistics is None:
        stride = (_warm_start_stride(ctx.input.num_rows, d)
                  if _uses_newton(params, d, params["family"] == "multinomial")
                  and ctx.recovery.resume is None else 0)
        collected = ctx.map_collect(_input_statistics, stride)
        statistics = _merge_input_statistics(collected)
        if stride:
            samples = (stride, [p["sample"] for p in collected])
    bad, hist, moments = statistics
    if bad > 0:
        raise DataError(f"column '{label}' has {bad} labels that are not integers "
                        f"0..K-1 (K at most {MAX_CLASSES}); index string or arbitrary labels "
                        "with StringIndexer first")
    weight_sum = float(moments["weight_sum"])
    if weight_sum <= 0:
        raise DataError("every row has weight 0: nothing to fit")
    num_classes = hist.size
    multinomial = resolve_family(params["family"], num_classes, label)
    num_classes = max(num_classes, 2)
    hist = np.pad(hist, (0, num_classes - hist.size))
    mean, m2 = moments["mean"], moments["m2"]
    present = np.flatnonzero(hist > 0)
    if present.size < 2:
        raise DataError(f"column '{label}' holds a single class ({float(present[0])}) among "
                        "rows of positive weight; logistic regression needs at least two")
    denominator = weight_sum - float(moments["weight_sq_sum"]) / weight_sum
    std = np.sqrt(np.maximum(m2 / denominator, 0.0)) if denominator > 0 else np.zeros(d)
    inv_std = np.divide(1.0, std, out=np.zeros(d), where=std != 0)

    fit_intercept = params["fitIntercept"]
    reg, alpha = params["regParam"], params["elasticNetParam"]
    sets = num_classes if multinomial else 1
    scaled_mean = (mean * inv_std) if fit_intercept else np.zeros(d)
    l2 = reg * (1.0 - alpha)
    l2_weight = np.ones(d) if params["standardization"] else inv_std * inv_std
    l1_coef = reg * alpha * (np.ones(d) if params["standardization"] else inv_std)
    n_coef = sets * d

    def unpack(x):
        C = x[:n_coef].reshape(sets, d)  # standardized coefficients
        shifted = x[n_coef:] if fit_intercept else np.zeros(sets)
        # Centring through the intercept: margins use (x - mean)/std, i.e. this intercept.
        return C, shifted - C @ scaled_mean

    def objective(x):
        C, b = unpack(x)
        if multinomial:
            loss, G, gb = ctx.map_reduce(_multinomial_loss_grad, C * inv_std, b, backend)
        else:
            loss, g, gb = ctx.map_reduce(_binary_loss_grad, C[0] * inv_std, float(b[0]),
                                          backend)
            G, gb = g[None, :], np.array([gb])
        loss, G, gb = loss / weight_sum, G / weight_sum, np.atleast_1d(gb) / weight_sum
        grad_C = G * inv_std - np.outer(gb, scaled_mean)
        if l2 > 0:
            loss += 0.5 * l2 * float(np.sum(l2_weight * C * C))
            grad_C = grad_C + l2 * l2_weight * C
        grad = np.concatenate([grad_C.ravel(), gb if fit_intercept else []])
        return loss, grad

    x0 = np.zeros(n_coef + (sets if fit_intercept else 0))
    if fit_intercept:
        if multinomial:
            raw = np.log1p(hist)
            x0[n_coef:] = raw - raw.mean()
        else:
            x0[n_coef] = np.log(hist[1] / hist[0])
    l1 = np.concatenate([np.tile(l1_coef, sets), np.zeros(x0.size - n_coef)])
    # A neighbouring param map's solution (model selection, ``_warm_start``), in the
    # optimizer's own coordinates. L-BFGS starts there; Newton starts its row-sample stage
    # there (from a penalty 10x away, Newton on all rows took 5 steps where the sample stage
    # left it 3: the sample's optimum is the closer start).
    initial = params.get("initialSolution")
    if initial is not None and np.shape(initial) == x0.shape:
        x0 = np.array(initial, dtype=np.float64)

    def newton_objective(sums):
        """Binomial only: Newton's objective from ``sums(beta, intercept)`` -> (loss, gradient,
        intercept gradient, Hessian) of u = (beta, b) = A x; then g = A'g_u, H = A'H_u A."""
        def objective_with_hessian(x):
            C, b = unpack(x)
            loss, g_beta, g_b, H_u = sums(C[0] * inv_std, float(b[0]))
            A = np.zeros((d + 1, x.size))
            A[np.arange(d), np.arange(d)] = inv_std
            if fit_intercept:
                A[d, :d], A[d, d] = -scaled_mean, 1.0
            grad = A.T @ np.concatenate([g_beta, [g_b]]) / weight_sum
            hess = A.T @ H_u @ A / weight_sum
            if l2 > 0:
                penalty = l2 * l2_weight
                grad[:d] += penalty * C[0]
                hess[np.arange(d), np.arange(d)] += penalty
            return binomial_value(loss, C), grad, hess
        return objective_with_hessian

    def binomial_value(loss_sum, C):
        value = loss_sum / weight_sum
        if l2 > 0:
            value += 0.5 * l2 * float(l2_weight @ (C[0] * C[0]))
        return value

    def full_data_value(x):
        """The binomial objective's value alone: one product per row block, no gradient."""
        C, b = unpack(x)
        loss = ctx.map_reduce(_binary_loss, C[0] * inv_std, float(b[0]), backend)
        return binomial_value(loss, C)

    use_newton = _uses_newton(params, d, multinomial)
    method = "newton" if use_newton else "lbfgs"
    # The optimizer's whole state is its checkpoint; a resumed fit skips the warm start.
    saved = ctx.resume()
    if saved is not None and saved.get("optimizer") != method:
        saved = None

    def on_iteration(state):
        ctx.report(iteration=state["iteration"], loss=state["history"][-1])
        ctx.checkpoint(state["iteration"], lambda: {"optimizer": method, **state})

    if use_newton:
        stride = _warm_start_stride(ctx.input.num_rows, d) if saved is None else 0
        if stride:
            if samples is None or samples[0] != stride:
                samples = (stride, ctx.map_collect(_row_sample, stride))
            sample = place_rows(*[concat_rows(a) for a in zip(*samples[1])], backend)

            def sample_sums(beta, intercept):
                return binary_logistic_loss_grad_hess(
                    sample.X, sample.y, sample.w, sample.backend.asarray(beta), intercept,
                    hessian_stride=SAMPLE_HESSIAN_STRIDE)

            # Solving past the sample's own noise (relative ~d / sample rows) buys nothing.
            warm = minimize_newton(newton_objective(sample_sums), x0,
                                   max_iter=params["maxIter"], tol=max(params["tol"], 1e-4))
            x0 = warm["x"]

        def full_data_sums(beta, intercept):
            return ctx.map_reduce(_binary_loss_grad_hess, beta, intercept, backend)

        state = minimize_newton(newton_objective(full_data_sums), x0,
                                max_iter=params["maxIter"], tol=params["tol"], state=saved,
                                on_iteration=on_iteration, final_loss=full_data_value)
    else:
        state = minimize_lbfgs(objective, x0, l1=l1, max_iter=params["maxIter"],
                               tol=params["tol"], state=saved, on_iteration=on_iteration)
    C, b = unpack(state["x"])
    coefficients = C * inv_std
    if multinomial and reg == 0.0:
        coefficients = coefficients - coefficients.mean(axis=0)  # identifiable, as MLlib
    if multinomial and fit_intercept:
        b = b - b.mean()
    return {"coefficientMatrix": coefficients, "interceptVector": b if fit_intercept
            else np.zeros(sets), "numClasses": np.int64(num_classes),
            "isMultinomial": np.bool_(multinomial),
            "objectiveHistory": np.asarray(state["history"]),
            "totalIterations": np.int64(state["iteration"]), "solution": state["x"],
            "inputStatistics": statistics}


# Measured by benchmarks/bench_memory.py (1.11x and 12 MiB), rounded up: what the ranks hold the fit
# to before loading their rows (engine.memory).
logistic_regression.memory_use = MemoryUse(1.15, 32 << 20)
