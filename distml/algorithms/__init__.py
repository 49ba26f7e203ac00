"""One package per algorithm family: thin estimator classes over engine-agnostic programs."""
from distml.lazy import lazy_namespace

__getattr__, __dir__, __all__ = lazy_namespace(__name__, {
    ".classification": ["LogisticRegression", "LogisticRegressionModel", "NaiveBayes",
                        "NaiveBayesModel", "MultilayerPerceptronClassifier",
                        "MultilayerPerceptronClassificationModel"],
    ".clustering": ["KMeans", "KMeansModel", "LDA", "LDAModel", "LocalLDAModel",
                    "DistributedLDAModel"],
    ".decomposition": ["SVD", "SVDModel", "computeSVD"],
    ".recommendation": ["ALS", "ALSModel"],
    ".regression": ["LinearRegression", "LinearRegressionModel"],
    ".tree": ["DecisionTreeClassifier", "DecisionTreeClassificationModel",
              "DecisionTreeRegressor", "DecisionTreeRegressionModel", "RandomForestClassifier",
              "RandomForestClassificationModel", "RandomForestRegressor",
              "RandomForestRegressionModel", "GBTClassifier", "GBTClassificationModel",
              "GBTRegressor", "GBTRegressionModel"]})
