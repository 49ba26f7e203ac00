"""MLlib's early-stopping rule for boosting (GradientBoostedTrees.boost), written out for tests:
the reference a validationIndicatorCol fit must agree with."""


def mllib_stopping_count(losses, tol: float) -> int:
    """How many trees MLlib keeps given the validation loss after each tree: it stops when a
    tree improves the best loss by less than ``tol * max(loss, 0.01)``, and keeps the trees up
    to the best loss."""
    best_error, best = losses[0], 1
    for m in range(1, len(losses)):
        if best_error - losses[m] < tol * max(losses[m], 0.01):
            break
        if losses[m] < best_error:
            best_error, best = losses[m], m + 1
    return best
