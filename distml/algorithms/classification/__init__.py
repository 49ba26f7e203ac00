from distml.algorithms.classification.logistic_regression import (LogisticRegression,
                                                                  LogisticRegressionModel)
from distml.algorithms.classification.summary import (BinaryLogisticRegressionTrainingSummary,
                                                      LogisticRegressionTrainingSummary)

__all__ = ["LogisticRegression", "LogisticRegressionModel",
           "LogisticRegressionTrainingSummary", "BinaryLogisticRegressionTrainingSummary"]
