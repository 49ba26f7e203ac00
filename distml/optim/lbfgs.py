"""L-BFGS, and OWL-QN for an added L1 term, with the state in one dict of arrays.

Why not scipy.optimize: scipy has no OWL-QN (the L1 path MLlib uses), and its L-BFGS keeps
its curvature pairs inside the call, so a fit could not be checkpointed between iterations and
resumed bit for bit after an executor is lost. Each iteration here costs one objective
evaluation (one map_reduce) when the unit step is accepted, which is the common case.

OWL-QN (Andrew & Gao, 2007) minimizes f(x) + sum_j l1[j] |x_j| for smooth f: a pseudo-gradient
replaces the gradient, the L-BFGS direction is kept within the current orthant, and each trial
point is projected back onto it, with a backtracking Armijo line search (as breeze's OWL-QN).
With l1 all zero it is plain L-BFGS with a weak Wolfe line search (as breeze's L-BFGS takes a
strong Wolfe one): a step must also flatten the slope (curvature 0.9), or it is lengthened, so
the curvature pairs stay informative; halving alone took twice MLlib's iterations on
correlated features.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

Objective = Callable[[np.ndarray], tuple[float, np.ndarray]]

_ARMIJO = 1e-4
_WOLFE = 0.9
_MAX_BACKTRACKS = 40
_HISTORY = 10  # convergence looks at the improvement over the last 10 iterations, as breeze


def _pseudo_gradient(x: np.ndarray, g: np.ndarray, l1: np.ndarray) -> np.ndarray:
    pg = g.copy()
    pos, neg, zero = x > 0, x < 0, x == 0
    pg[pos] += l1[pos]
    pg[neg] -= l1[neg]
    right, left = g[zero] + l1[zero], g[zero] - l1[zero]
    pg[zero] = np.where(right < 0, right, np.where(left > 0, left, 0.0))
    return pg


def _two_loop(state: dict, q: np.ndarray) -> np.ndarray:
    """H q for the L-BFGS inverse Hessian built from the stored (s, y) pairs."""
    count, head, memory = int(state["count"]), int(state["head"]), state["S"].shape[0]
    order = [(head - 1 - i) % memory for i in range(count)]  # newest first
    alpha = np.zeros(memory)
    q = q.copy()
    for i in order:
        alpha[i] = state["rho"][i] * (state["S"][i] @ q)
        q -= alpha[i] * state["Y"][i]
    if count:
        newest = order[0]
        y = state["Y"][newest]
        q *= (state["S"][newest] @ y) / (y @ y)
    for i in reversed(order):
        beta = state["rho"][i] * (state["Y"][i] @ q)
        q += (alpha[i] - beta) * state["S"][i]
    return q


def init_state(x0: np.ndarray, memory: int = 10) -> dict:
    n = x0.size
    return {"x": np.array(x0, dtype=np.float64), "S": np.zeros((memory, n)),
            "Y": np.zeros((memory, n)), "rho": np.zeros(memory), "count": 0, "head": 0,
            "iteration": 0, "history": [], "converged": False, "reason": ""}


def minimize_lbfgs(objective: Objective, x0: np.ndarray, l1: np.ndarray | None = None,
                   max_iter: int = 100, tol: float = 1e-6, memory: int = 10,
                   state: dict | None = None,
                   on_iteration: Callable[[dict], None] | None = None,
                   projected_gradient_tol: float | None = None) -> dict:
    """Minimize ``objective(x) + sum(l1 * |x|)``; ``objective`` returns (value, gradient).

    Stops after ``max_iter`` iterations, when the objective improved by at most ``tol``
    (relative) over the last 10 iterations, when the (pseudo-)gradient's norm is at most
    ``max(tol * |objective|, 1e-8)`` (breeze's gradient test, which MLlib's L-BFGS and OWL-QN
    stop on too), when its largest entry is below ``projected_gradient_tol`` (breeze's L-BFGS-B
    test, 1e-5 in MLlib's huber fit; its bounds are never active here), or when no step
    decreases the objective any more. Returns the state dict; ``state["x"]`` is the solution
    and ``state["history"]`` the objective (with the L1 term) after every iteration, starting
    with the initial point. Pass a saved ``state`` to resume where it stopped.
    """
    st = state if state is not None else init_state(x0, memory)
    x = st["x"]
    l1 = np.zeros_like(x) if l1 is None else np.asarray(l1, dtype=np.float64)
    use_l1 = bool(np.any(l1 > 0))
    f, g = objective(x)
    F = f + float(l1 @ np.abs(x))
    if not st["history"]:
        st["history"].append(F)
    while st["iteration"] < max_iter:
        pg = _pseudo_gradient(x, g, l1) if use_l1 else g
        if not np.any(pg):
            st["converged"], st["reason"] = True, "zero gradient"
            break
        # Without these tests a converged fit goes on until the value test's window has
        # passed, its line searches backtracking ~20 times each at the limit of precision.
        if float(np.linalg.norm(pg)) <= max(tol * abs(F), 1e-8):
            st["converged"], st["reason"] = True, "gradient converged"
            break
        if projected_gradient_tol is not None and np.abs(pg).max() < projected_gradient_tol:
            st["converged"], st["reason"] = True, "projected gradient converged"
            break
        direction = -_two_loop(st, pg)
        if use_l1:
            direction[np.sign(direction) != np.sign(-pg)] = 0.0
            orthant = np.where(x != 0, np.sign(x), np.sign(-pg))
        slope = float(pg @ direction)
        if slope >= 0:  # not a descent direction (lost curvature): restart from steepest descent
            st["count"] = 0
            direction = -pg
            slope = float(pg @ direction)
        step = 1.0 if st["count"] else min(1.0, 1.0 / np.linalg.norm(pg))
        low, high = 0.0, np.inf
        for _ in range(_MAX_BACKTRACKS):
            x_new = x + step * direction
            if use_l1:
                x_new[np.sign(x_new) != orthant] = 0.0
            f_new, g_new = objective(x_new)
            F_new = f_new + float(l1 @ np.abs(x_new))
            decrease = float(pg @ (x_new - x)) if use_l1 else step * slope
            if not (np.isfinite(F_new) and F_new <= F + _ARMIJO * decrease):
                high = step
            elif not use_l1 and float(g_new @ direction) < _WOLFE * slope:
                low = step  # still descending steeply: the step was too short
            else:
                break
            step = 0.5 * (low + high) if np.isfinite(high) else 2.0 * step
        else:
            st["converged"], st["reason"] = True, "no step decreases the objective"
            break
        s, y = x_new - x, g_new - g
        sy = float(s @ y)
        if sy > 1e-10 * float(y @ y):
            i = int(st["head"])
            st["S"][i], st["Y"][i], st["rho"][i] = s, y, 1.0 / sy
            st["head"] = (i + 1) % st["S"].shape[0]
            st["count"] = min(int(st["count"]) + 1, st["S"].shape[0])
        x, f, g, F = x_new, f_new, g_new, F_new
        st["x"] = x
        st["iteration"] += 1
        st["history"].append(F)
        if on_iteration is not None:
            on_iteration(st)
        recent = st["history"][-(_HISTORY + 1):]
        if (max(recent) - F) / max(abs(F), 1e-8) <= tol and len(st["history"]) > 1:
            st["converged"], st["reason"] = True, "objective converged"
            break
    return st
