"""Damped Newton against scipy on an L2-penalized logistic loss, and its loss-only last step."""
import numpy as np
import pytest
from scipy.optimize import minimize
from scipy.special import expit

from distml.optim import minimize_newton


@pytest.fixture(scope="module")
def problem():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(400, 5))
    y = (X @ np.array([1.0, -2.0, 0.5, 0.0, 1.5]) + rng.logistic(size=400) > 0).astype(float)
    return X, y


class CountingObjective:
    """Mean logistic loss + 0.01/2 ||x||^2, counting full and loss-only evaluations."""

    def __init__(self, X, y):
        self.X, self.y, self.full_calls, self.value_calls = X, y, 0, 0

    def value(self, x):
        self.value_calls += 1
        m = self.X @ x
        return float(np.mean(np.logaddexp(0.0, m) - self.y * m) + 0.005 * x @ x)

    def value_grad(self, x):
        m = self.X @ x
        p = expit(m)
        loss = float(np.mean(np.logaddexp(0.0, m) - self.y * m) + 0.005 * x @ x)
        return loss, self.X.T @ (p - self.y) / len(self.y) + 0.01 * x, p

    def __call__(self, x):
        self.full_calls += 1
        loss, grad, p = self.value_grad(x)
        H = (self.X * (p * (1 - p))[:, None]).T @ self.X / len(self.y) + 0.01 * np.eye(x.size)
        return loss, grad, H


def reference_minimum(X, y):
    f = CountingObjective(X, y)
    return minimize(lambda x: f.value_grad(x)[:2], np.zeros(X.shape[1]), jac=True,
                    method="L-BFGS-B", options={"ftol": 1e-15, "gtol": 1e-12}).x


def test_newton_reaches_scipys_minimum(problem):
    X, y = problem
    st = minimize_newton(CountingObjective(X, y), np.zeros(5), tol=1e-12)
    assert st["converged"] and st["reason"] == "Newton decrement below tol"
    np.testing.assert_allclose(st["x"], reference_minimum(X, y), atol=1e-7)
    # Non-increasing, but for the few ulps of rounding the line search tolerates at the end.
    assert all(b <= a + 1e-14 * abs(a) for a, b in zip(st["history"], st["history"][1:]))


def test_last_step_checked_by_value_alone_saves_one_full_evaluation(problem):
    X, y = problem
    full, lean = CountingObjective(X, y), CountingObjective(X, y)
    a = minimize_newton(full, np.zeros(5), tol=1e-10)
    b = minimize_newton(lean, np.zeros(5), tol=1e-10, final_loss=lean.value)
    np.testing.assert_array_equal(a["x"], b["x"])
    assert a["iteration"] == b["iteration"]
    np.testing.assert_allclose(a["history"], b["history"], rtol=1e-15)
    assert lean.full_calls == full.full_calls - 1 and lean.value_calls == 1


def test_a_rejected_value_only_step_falls_back_to_the_line_search(problem):
    X, y = problem
    f = CountingObjective(X, y)
    st = minimize_newton(f, np.zeros(5), tol=1e-10, final_loss=lambda x: np.inf)
    np.testing.assert_allclose(st["x"], reference_minimum(X, y), atol=1e-7)
    assert st["converged"]
