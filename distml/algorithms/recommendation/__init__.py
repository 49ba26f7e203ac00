from distml.algorithms.recommendation.als import ALS, ALSModel

__all__ = ["ALS", "ALSModel"]
