"""Regression estimators (pyspark.ml.regression's); the regression trees are in ``tree``."""
from distml.lazy import lazy_namespace

__getattr__, __dir__, __all__ = lazy_namespace(__name__, {
    ".linear_regression": ["LinearRegression", "LinearRegressionModel",
                           "LinearRegressionSummary", "LinearRegressionTrainingSummary"]})
