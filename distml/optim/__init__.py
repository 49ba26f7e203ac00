"""Optimizers a training program drives; their whole state is a dict of arrays."""
from distml.optim.adam import adam_init, adam_step
from distml.optim.lbfgs import minimize_lbfgs
from distml.optim.newton import minimize_newton

__all__ = ["adam_init", "adam_step", "minimize_lbfgs", "minimize_newton"]
