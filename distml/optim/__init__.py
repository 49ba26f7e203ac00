"""Optimizers a training program drives; their whole state is a dict of arrays."""
from distml.optim.lbfgs import minimize_lbfgs

__all__ = ["minimize_lbfgs"]
