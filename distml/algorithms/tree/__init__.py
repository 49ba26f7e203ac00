"""Decision trees, random forests and gradient-boosted trees, grown by one histogram program."""
from distml.lazy import lazy_namespace

__getattr__, __dir__, __all__ = lazy_namespace(__name__, {
    ".decision_tree": ["DecisionTreeClassifier", "DecisionTreeClassificationModel",
                       "DecisionTreeRegressor", "DecisionTreeRegressionModel"],
    ".ensemble": ["RandomForestClassifier", "RandomForestClassificationModel",
                  "RandomForestRegressor", "RandomForestRegressionModel", "GBTClassifier",
                  "GBTClassificationModel", "GBTRegressor", "GBTRegressionModel"]})
