from distml.algorithms.classification.logistic_regression import (LogisticRegression,
                                                                  LogisticRegressionModel)
from distml.algorithms.classification.multilayer_perceptron import (
    MultilayerPerceptronClassificationModel, MultilayerPerceptronClassifier)
from distml.algorithms.classification.naive_bayes import NaiveBayes, NaiveBayesModel
from distml.algorithms.classification.summary import (
    BinaryLogisticRegressionTrainingSummary, LogisticRegressionTrainingSummary,
    MultilayerPerceptronClassificationTrainingSummary)

__all__ = ["LogisticRegression", "LogisticRegressionModel", "NaiveBayes", "NaiveBayesModel",
           "MultilayerPerceptronClassifier",
           "MultilayerPerceptronClassificationModel", "LogisticRegressionTrainingSummary",
           "BinaryLogisticRegressionTrainingSummary",
           "MultilayerPerceptronClassificationTrainingSummary"]
