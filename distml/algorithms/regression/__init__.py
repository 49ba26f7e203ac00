"""Regression estimators (pyspark.ml.regression's); the regression tree is in ``tree``."""
from distml.algorithms.regression.linear_regression import (LinearRegression,
                                                            LinearRegressionModel,
                                                            LinearRegressionSummary,
                                                            LinearRegressionTrainingSummary)

__all__ = ["LinearRegression", "LinearRegressionModel", "LinearRegressionSummary",
           "LinearRegressionTrainingSummary"]
