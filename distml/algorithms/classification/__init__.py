"""Classification estimators (pyspark.ml.classification's); the trees are in ``tree``."""
from distml.lazy import lazy_namespace

__getattr__, __dir__, __all__ = lazy_namespace(__name__, {
    ".logistic_regression": ["LogisticRegression", "LogisticRegressionModel"],
    ".naive_bayes": ["NaiveBayes", "NaiveBayesModel"],
    ".multilayer_perceptron": ["MultilayerPerceptronClassifier",
                               "MultilayerPerceptronClassificationModel"],
    ".summary": ["LogisticRegressionTrainingSummary", "BinaryLogisticRegressionTrainingSummary",
                 "MultilayerPerceptronClassificationTrainingSummary"]})
