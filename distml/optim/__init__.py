"""Optimizers a training program drives; their whole state is a dict of arrays."""
from distml.optim.lbfgs import minimize_lbfgs
from distml.optim.newton import minimize_newton

__all__ = ["minimize_lbfgs", "minimize_newton"]
