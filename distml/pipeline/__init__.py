"""Params, Estimator/Model/Transformer, pipelines, feature transformers, evaluators, tuning,
statistics, save/load."""
from distml.lazy import lazy_namespace

__getattr__, __dir__, __all__ = lazy_namespace(__name__, {
    ".base": ["Estimator", "HasEngine", "Model", "Transformer"],
    ".feature": ["PCA", "PCAModel", "StandardScaler", "StandardScalerModel"],
    ".stat": ["Summarizer", "SummaryResult"],
    ".pipeline": ["Pipeline", "PipelineModel"],
    ".evaluation": ["BinaryClassificationEvaluator", "ClusteringEvaluator",
                    "MulticlassClassificationEvaluator", "RegressionEvaluator"],
    ".tuning": ["CrossValidator", "CrossValidatorModel", "ParamGridBuilder",
                "TrainValidationSplit", "TrainValidationSplitModel"]})
