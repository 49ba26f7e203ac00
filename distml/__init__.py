"""distml: Spark MLlib-compatible machine learning, trained partition-parallel at numpy speed.

Every public class is importable from here as well as from its subpackage::

    from distml import LogisticRegression, StandardScaler, Summarizer
"""
__version__ = "0.1.0"

from distml.algorithms import (LogisticRegression, LogisticRegressionModel,  # noqa: E402
                               MultilayerPerceptronClassificationModel,
                               MultilayerPerceptronClassifier, NaiveBayes,
                               NaiveBayesModel, SVD, SVDModel, computeSVD, KMeans,
                               KMeansModel, DecisionTreeClassifier,
                               DecisionTreeClassificationModel, DecisionTreeRegressor,
                               DecisionTreeRegressionModel, ALS, ALSModel, LDA, LDAModel)
from distml.errors import (CollectiveError, DataError, FitError,  # noqa: E402
                           MXNetUnavailableError, ParamError, PersistenceError)
from distml.pipeline import (PCA, Estimator, Model, PCAModel, StandardScaler,  # noqa: E402
                             StandardScalerModel, Summarizer, SummaryResult, Transformer)

__all__ = ["LogisticRegression", "LogisticRegressionModel", "MultilayerPerceptronClassifier",
           "MultilayerPerceptronClassificationModel", "NaiveBayes", "NaiveBayesModel", "SVD",
           "SVDModel", "computeSVD", "KMeans", "KMeansModel",
           "DecisionTreeClassifier", "DecisionTreeClassificationModel", "DecisionTreeRegressor",
           "DecisionTreeRegressionModel", "ALS", "ALSModel", "LDA", "LDAModel",
           "CollectiveError", "DataError",
           "FitError", "MXNetUnavailableError", "ParamError", "PersistenceError", "Estimator",
           "Model", "PCA", "PCAModel", "StandardScaler", "StandardScalerModel", "Summarizer",
           "SummaryResult", "Transformer"]
