"""LinearRegression by L-BFGS over the data: huber loss, and squared loss past 4,096 features.

MLlib's l-bfgs path, written for the engines: one round of moments (the features' and the
label's weighted means and unbiased deviations), then one round per objective evaluation, each
rank summing its rows' loss and gradient (``kernels.least_squares.residual_loss_grad``), the
driver stepping (``optim.lbfgs``: L-BFGS, OWL-QN with an L1 part). As in MLlib the coefficients
are optimized on standardized features (centred as well with an intercept, which only
reconditions the problem) and, for squared loss, a standardized label: the optimum is the one
``solve_normal_equations`` reaches from the Gram matrix (tested), in O(d) memory per rank. For
huber the label is not standardized, the penalty is L2 only, and the scale sigma is a
parameter, kept positive as MLlib's L-BFGS-B bound keeps it: a trial point with sigma <= 0 is
infinitely bad, so the line search steps back. (It was log sigma once: positive for free, but
the objective, jointly convex in the coefficients and sigma, is not in log sigma, and on
correlated features that fit was still far from the optimum after 100 iterations where
MLlib's converged in 20.)
"""
from __future__ import annotations

import numpy as np

from distml.errors import DataError
from distml.kernels.least_squares import residual_loss_grad, weighted_moments
from distml.optim.lbfgs import minimize_lbfgs


def _moments(part):
    return weighted_moments(part.X, part.y, part.weights())


def _loss_grad(part, u, offset, loss, epsilon, sigma, y_shift, y_scale):
    y = part.y if (y_shift, y_scale) == (0.0, 1.0) else (part.y - y_shift) / y_scale
    return residual_loss_grad(part.X, y, part.w, u, offset, loss, epsilon, sigma)


def fit_by_lbfgs(ctx, params: dict) -> dict:
    counts, wx, wx2 = ctx.map_reduce(_moments)
    _, weight_sum, weight_sq_sum, wy, wy2 = (float(v) for v in counts)
    if weight_sum <= 0:
        raise DataError("every row has weight 0: nothing to fit")
    unbiased = weight_sum - weight_sq_sum / weight_sum  # MLlib's l-bfgs: unbiased deviations
    correction = weight_sum / unbiased if unbiased > 0 else 1.0
    x_mean, y_mean = wx / weight_sum, wy / weight_sum
    x_std = np.sqrt(np.maximum(wx2 / weight_sum - x_mean ** 2, 0.0) * correction)
    y_std = float(np.sqrt(max(wy2 / weight_sum - y_mean ** 2, 0.0) * correction))
    huber, fit_intercept = params["loss"] == "huber", params["fitIntercept"]
    d = x_mean.size
    if not huber and y_std == 0.0 and fit_intercept:  # MLlib: the label is its own intercept
        return _result(np.zeros(d), y_mean, 1.0, [0.0], 0)
    y_shift, y_scale = (0.0, 1.0) if huber else (y_mean if fit_intercept else 0.0,
                                                  y_std or abs(y_mean) or 1.0)
    active = np.flatnonzero(x_std > 0)  # features with no spread keep coefficient 0
    s = x_std[active]
    centre = x_mean[active] if fit_intercept else np.zeros(active.size)
    # the penalty is on standardized coefficients, or on the original ones (scaled by 1/s)
    q = np.ones(active.size) if params["standardization"] else 1.0 / s
    reg, alpha = params["regParam"], params["elasticNetParam"]
    effective = reg if huber else reg / y_scale
    l1, l2 = effective * alpha, effective * (1.0 - alpha)
    k = active.size

    def unpack(theta):
        beta = theta[:k]
        b = theta[k] if fit_intercept else 0.0
        sigma = float(theta[-1]) if huber else 1.0
        return beta, b, sigma

    def objective(theta):
        beta, b, sigma = unpack(theta)
        if sigma <= 0.0:  # outside huber's domain: the line search steps back, no pass made
            return np.inf, np.zeros_like(theta)
        u = np.zeros(d)
        u[active] = beta / s
        loss_sum, grad_u, grad_offset, grad_sigma = ctx.map_reduce(
            _loss_grad, u, b - float(centre @ (beta / s)), "huber" if huber else "squared",
            params["epsilon"], sigma, y_shift, y_scale)
        # d offset / d beta = -centre / s: the centring moves with the coefficients
        grad_beta = (grad_u[active] - centre * grad_offset) / s / weight_sum \
            + l2 * q * q * beta
        grad = [grad_beta] + ([[grad_offset / weight_sum]] if fit_intercept else []) + \
            ([[grad_sigma / weight_sum]] if huber else [])
        value = loss_sum / weight_sum + 0.5 * l2 * float((q * beta) @ (q * beta))
        return value, np.concatenate(grad)

    theta0 = np.zeros(k + (1 if fit_intercept else 0) + (1 if huber else 0))
    if huber:  # MLlib's start: every standardized coefficient, the intercept and sigma at 1
        theta0[:] = 1.0
        if fit_intercept:  # (the intercept of the centred features that is 1 uncentred)
            theta0[k] = 1.0 + float(np.sum(centre / s))
    state = minimize_lbfgs(objective, theta0,
                           l1=np.concatenate([l1 * q, np.zeros(theta0.size - k)]),
                           max_iter=params["maxIter"], tol=params["tol"],
                           # MLlib fits huber by L-BFGS-B, which adds this test at a fixed
                           # 1e-5; that is 10 * tol at the default tol, and a tighter tol
                           # tightens it here, so that asking for one is not ignored
                           projected_gradient_tol=min(1e-5, 10 * params["tol"]) if huber
                           else None,
                           on_iteration=lambda st: ctx.report(iteration=st["iteration"],
                                                              loss=st["history"][-1]))
    beta, b, sigma = unpack(state["x"])
    coefficients = np.zeros(d)
    coefficients[active] = beta / s * y_scale
    intercept = (y_shift + y_scale * b - float(coefficients[active] @ centre)) \
        if fit_intercept else 0.0
    return _result(coefficients, intercept, sigma, state["history"], state["iteration"])


def _result(coefficients, intercept, scale, history, iterations) -> dict:
    return {"coefficients": coefficients, "intercept": np.float64(intercept),
            "scale": np.float64(scale), "diagInvAtWA": np.zeros(0),
            "objectiveHistory": np.asarray(history, dtype=np.float64),
            "totalIterations": np.int64(iterations)}
