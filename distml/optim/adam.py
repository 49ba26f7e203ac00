"""Adam (Kingma & Ba, 2015) on a flat parameter vector, its state one dict of arrays.

The state is plain arrays and counters, like L-BFGS's, so a fit can checkpoint it between
steps. Every rank applies the same step to the same allreduced gradient, so every rank holds
the same weights after each step.
"""
from __future__ import annotations

import numpy as np

BETA1, BETA2, EPSILON = 0.9, 0.999, 1e-8


def adam_init(x: np.ndarray) -> dict:
    return {"m": np.zeros_like(x), "v": np.zeros_like(x), "t": 0}


def adam_step(state: dict, x: np.ndarray, grad: np.ndarray, learning_rate: float) -> np.ndarray:
    """The next x; updates the moment estimates in ``state``."""
    state["t"] += 1
    t = state["t"]
    state["m"] = BETA1 * state["m"] + (1.0 - BETA1) * grad
    state["v"] = BETA2 * state["v"] + (1.0 - BETA2) * grad * grad
    m_hat = state["m"] / (1.0 - BETA1 ** t)
    v_hat = state["v"] / (1.0 - BETA2 ** t)
    return x - learning_rate * m_hat / (np.sqrt(v_hat) + EPSILON)
