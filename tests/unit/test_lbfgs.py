"""The optimizer against scipy on smooth problems and against a lasso solution with L1."""
import numpy as np
import pytest
from scipy.optimize import minimize

from distml.optim import minimize_lbfgs


def rosenbrock(x):
    f = np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)
    g = np.zeros_like(x)
    g[:-1] = -400 * x[:-1] * (x[1:] - x[:-1] ** 2) - 2 * (1 - x[:-1])
    g[1:] += 200 * (x[1:] - x[:-1] ** 2)
    return f, g


def test_smooth_minimum_matches_scipy():
    x0 = np.array([-1.2, 1.0, -0.5, 0.8])
    st = minimize_lbfgs(rosenbrock, x0, max_iter=2000, tol=1e-15)
    ref = minimize(rosenbrock, x0, jac=True, method="L-BFGS-B",
                   options={"ftol": 1e-15, "gtol": 1e-12, "maxiter": 2000}).x
    np.testing.assert_allclose(st["x"], ref, atol=1e-6)
    np.testing.assert_allclose(st["x"], np.ones(4), atol=1e-6)
    assert st["converged"] and st["history"][-1] < 1e-10
    assert all(b <= a for a, b in zip(st["history"], st["history"][1:]))


def test_l1_solution_has_lasso_optimality(rng=np.random.default_rng(0)):
    A = rng.normal(size=(60, 8))
    b = A @ np.array([2.0, 0, 0, -1.5, 0, 0, 0, 0.5]) + 0.1 * rng.normal(size=60)
    lam = 5.0

    def least_squares(x):
        r = A @ x - b
        return 0.5 * r @ r, A.T @ r

    st = minimize_lbfgs(least_squares, np.zeros(8), l1=np.full(8, lam), max_iter=500,
                        tol=1e-14)
    x = st["x"]
    g = A.T @ (A @ x - b)
    # KKT conditions of the lasso: g_j = -lam * sign(x_j) where x_j != 0, |g_j| <= lam else.
    nz = x != 0
    np.testing.assert_allclose(g[nz], -lam * np.sign(x[nz]), atol=1e-5)
    assert np.all(np.abs(g[~nz]) <= lam + 1e-6)
    assert 0 < nz.sum() < 8


def test_resuming_from_a_saved_state_gives_the_same_bits():
    x0 = np.array([-1.2, 1.0, -0.5, 0.8])
    full = minimize_lbfgs(rosenbrock, x0, max_iter=40, tol=0.0)
    import copy
    part = minimize_lbfgs(rosenbrock, x0, max_iter=15, tol=0.0)
    resumed = minimize_lbfgs(rosenbrock, x0, max_iter=40, tol=0.0, state=copy.deepcopy(part))
    assert resumed["x"].tobytes() == full["x"].tobytes()
    assert resumed["history"] == full["history"]


@pytest.mark.parametrize("max_iter", [0, 1, 3])
def test_max_iter_is_respected(max_iter):
    st = minimize_lbfgs(rosenbrock, np.array([-1.2, 1.0]), max_iter=max_iter, tol=0.0)
    assert st["iteration"] == max_iter and len(st["history"]) == max_iter + 1


def _counted(objective):
    calls = []

    def counted(x):
        calls.append(1)
        return objective(x)
    return counted, calls


def test_stops_on_the_gradient_as_breeze_does():
    """Breeze's gradient test (||g|| <= max(tol |f|, 1e-8)), which MLlib's L-BFGS stops on:
    once met, no further iteration runs. Without it the fit went on until the value test's
    10-iteration window had passed, each line search backtracking ~20 times at the limit of
    precision."""
    A = np.diag(np.linspace(1.0, 20.0, 6))
    b = np.arange(1.0, 7.0)

    def quadratic(x):  # minimum -0.5 b A^-1 b, far from 0, so |f| sets the bound
        return 0.5 * x @ A @ x - b @ x, A @ x - b

    objective, calls = _counted(quadratic)
    st = minimize_lbfgs(objective, np.zeros(6), tol=1e-6)
    assert st["reason"] == "gradient converged"
    f, g = quadratic(st["x"])
    assert np.linalg.norm(g) <= 1e-6 * abs(f)
    # stopped at the first iterate that passed: the one before it had not
    assert len(calls) <= st["iteration"] + 3  # unit steps accepted, no backtracking spree
    np.testing.assert_allclose(st["x"], np.linalg.solve(A, b), rtol=1e-5)


def test_projected_gradient_test_stops_at_its_threshold():
    """L-BFGS-B's test as MLlib's huber fit uses it: the largest gradient entry below the
    threshold ends the fit, earlier than the relative tests would."""
    def stretched(x):
        return 0.5 * np.sum(np.arange(1.0, 5.0) * (x - 3.0) ** 2), np.arange(1.0, 5.0) * (x - 3.0)

    loose = minimize_lbfgs(stretched, np.zeros(4), tol=1e-12, projected_gradient_tol=1e-3)
    tight = minimize_lbfgs(stretched, np.zeros(4), tol=1e-12)
    assert loose["reason"] == "projected gradient converged"
    assert np.abs(stretched(loose["x"])[1]).max() < 1e-3
    assert tight["reason"] != "projected gradient converged"
    assert np.abs(stretched(tight["x"])[1]).max() < np.abs(stretched(loose["x"])[1]).max()


def test_accepted_steps_satisfy_the_wolfe_curvature_condition():
    """Without an L1 part a step must also flatten the slope along it to 0.9 of its start (as
    breeze's L-BFGS requires, strongly): from a start where the unit step barely moves, the
    step is lengthened instead of accepted. Armijo's test alone accepts the unit step."""
    def shallow(x):  # curvature 0.01: the first gradient step of length 1 goes 1% of the way
        return 0.005 * x @ x, 0.01 * x

    x0 = np.array([10.0])
    x1 = minimize_lbfgs(shallow, x0, max_iter=1, tol=0.0)["x"]
    step = x1 - x0
    assert shallow(x1)[0] < shallow(x0)[0]
    assert shallow(x1)[1] @ step >= 0.9 * (shallow(x0)[1] @ step)
