"""The training program of LinearRegression: one round of sufficient statistics, then the
penalized normal equations solved on the driver.

Objective (pyspark.ml's, both of its solvers):

    (1/2W) sum_i w_i (y_i - x_i.b - b0)^2 + regParam * (a sum_j s_j |b_j|
                                                        + (1 - a)/(2 sigma_y) sum_j (s_j b_j)^2)

with a = elasticNetParam, s_j the feature's standard deviation when ``standardization`` (else
1) and sigma_y the label's: MLlib standardizes the label as well, which leaves the L1 term as
written and divides the L2 term by sigma_y. The standard deviations are those of the solver
pyspark.ml would use (``uses_lbfgs``): weighted population ones for its normal solver,
unbiased ones for its l-bfgs. Each rank sums w [x, y] and w [x, y][x, y]^T over its rows
(``kernels.least_squares``); one allreduce, and the driver solves: Cholesky without an L1
part, coordinate descent with one. Up to ``MAX_FEATURES`` features (MLlib's normal-solver
bound: the statistics are d^2); past it, and for huber loss, L-BFGS over the data
(``linear_regression_lbfgs``).
"""
from __future__ import annotations

import numpy as np
import scipy.linalg

from distml.errors import DataError, ParamError
from distml.algorithms.regression.linear_regression_lbfgs import fit_by_lbfgs
from distml.gpu.backend import partition_rows
from distml.kernels.least_squares import elastic_net_descent, weighted_gram

MAX_FEATURES = 4096


def _statistics(part, backend):
    X, y, w, _ = partition_rows(part, backend)
    return weighted_gram(X, y, None if part.w is None else w)


def linear_regression(ctx, params: dict) -> dict:
    d = ctx.input.num_features
    if params["loss"] == "huber" or d > MAX_FEATURES:
        if params["solver"] == "normal":
            why = "huber loss" if params["loss"] == "huber" else \
                f"{d} features (column '{params['featuresCol']}'; at most {MAX_FEATURES})"
            raise ParamError(f"solver='normal' cannot fit {why}: use solver='auto' or 'l-bfgs'")
        return fit_by_lbfgs(ctx, params)
    counts, sums, gram = ctx.map_reduce(_statistics, params["backend"])
    weight_sum, weight_sq_sum = float(counts[1]), float(counts[2])
    if weight_sum <= 0:
        raise DataError("every row has weight 0: nothing to fit")
    return solve_normal_equations(sums / weight_sum, gram / weight_sum, weight_sum,
                                  weight_sq_sum, params)


def solve_normal_equations(means: np.ndarray, second: np.ndarray, weight_sum: float,
                           weight_sq_sum: float, params: dict) -> dict:
    """The fit from the weighted means of z = [x, y] and of z z^T (label last)."""
    d = means.size - 1
    fit_intercept = params["fitIntercept"]
    x_mean, y_mean = means[:d], means[d]
    variance = np.maximum(np.diag(second) - means * means, 0.0)
    if uses_lbfgs(params):  # MLlib's l-bfgs path standardizes by the unbiased deviations
        unbiased = weight_sum - weight_sq_sum / weight_sum
        variance = variance * (weight_sum / unbiased) if unbiased > 0 else variance
    x_std, y_std = np.sqrt(variance[:d]), float(np.sqrt(variance[d]))
    reg, alpha = params["regParam"], params["elasticNetParam"]
    if y_std == 0.0:
        if fit_intercept:  # MLlib: a constant label is its own intercept
            return _result(np.zeros(d), y_mean, None, [0.0], 0)
        if reg > 0:
            raise ParamError(f"column '{params['labelCol']}' is constant, so its standard "
                             "deviation is 0 and the model cannot be regularized (MLlib "
                             "standardizes the label): set regParam=0")
        y_std = abs(y_mean) or 1.0
    C = second[:d, :d] - (np.outer(x_mean, x_mean) if fit_intercept else 0.0)
    c = second[:d, d] - (x_mean * y_mean if fit_intercept else 0.0)
    y_second = second[d, d] - (y_mean * y_mean if fit_intercept else 0.0)
    # Features with no spread are left out (coefficient 0), as MLlib's standardization does.
    active = np.flatnonzero(x_std > 0) if fit_intercept else np.flatnonzero(np.diag(C) > 0)
    scale = np.where(x_std > 0, x_std, 1.0) if params["standardization"] else np.ones(d)
    s = scale[active]
    C_s, c_s = C[np.ix_(active, active)] / np.outer(s, s), c[active] / s
    l1, l2 = reg * alpha, reg * (1.0 - alpha) / y_std
    if l1 > 0:
        u, sweeps = elastic_net_descent(C_s, c_s, l1, l2)
    else:
        u, sweeps = _solve_symmetric(C_s + l2 * np.eye(active.size), c_s), 1
    # MLlib's standard errors come from its normal solver without an L1 part only.
    inverse_diagonal = None if l1 > 0 or uses_lbfgs(params) else \
        _inverse_diagonal(means, second, active, s, l2, fit_intercept, weight_sum)
    coefficients = np.zeros(d)
    coefficients[active] = u / s
    intercept = float(y_mean - x_mean @ coefficients) if fit_intercept else 0.0
    objective = 0.5 * (y_second - 2 * u @ c_s + u @ C_s @ u) + l1 * np.abs(u).sum() \
        + 0.5 * l2 * u @ u
    return _result(coefficients, intercept, inverse_diagonal, [float(objective)], sweeps)


def uses_lbfgs(params: dict) -> bool:
    """Whether pyspark.ml would fit with its l-bfgs solver: asked for, or "auto" with an L1
    part (its normal solver serves only L2 penalties then)."""
    l1 = params["regParam"] * params["elasticNetParam"] > 0
    return params["solver"] == "l-bfgs" or (params["solver"] == "auto" and l1)


def _solve_symmetric(system: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """Cholesky; a singular system (collinear features, no penalty) gets the least-squares
    solution of minimum norm, where MLlib's Cholesky would fall back to an iterative solver."""
    try:
        return scipy.linalg.cho_solve(scipy.linalg.cho_factor(system), rhs)
    except np.linalg.LinAlgError:
        return np.linalg.lstsq(system, rhs, rcond=None)[0]


def _inverse_diagonal(means, second, active, s, l2, fit_intercept, weight_sum):
    """The diagonal of (A^T W A)^-1 on the original scale, the intercept last: MLlib's
    ``diagInvAtWA``, from which the summary's standard errors come (A: the features, and a
    column of ones with an intercept; the penalty on the features' part)."""
    d, k = means.size - 1, active.size
    A = np.ones((k + 1, k + 1)) if fit_intercept else np.ones((k, k))
    A[:k, :k] = second[np.ix_(active, active)] / np.outer(s, s) + l2 * np.eye(k)
    if fit_intercept:
        A[:k, k] = A[k, :k] = means[active] / s
    try:
        inverse = np.diag(scipy.linalg.inv(A))
    except (np.linalg.LinAlgError, ValueError):
        return None
    out = np.zeros(d + (1 if fit_intercept else 0))
    out[active] = inverse[:k] / (weight_sum * s * s)
    if fit_intercept:
        out[d] = inverse[k] / weight_sum
    return out


def _result(coefficients, intercept, inverse_diagonal, history, iterations) -> dict:
    return {"coefficients": coefficients, "intercept": np.float64(intercept),
            "diagInvAtWA": (np.zeros(0) if inverse_diagonal is None else inverse_diagonal),
            "objectiveHistory": np.asarray(history), "totalIterations": np.int64(iterations),
            "scale": np.float64(1.0)}
