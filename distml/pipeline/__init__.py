"""Params, Estimator/Model/Transformer, feature transformers, statistics, save/load."""
from distml.pipeline.base import Estimator, HasEngine, Model, Transformer
from distml.pipeline.feature import StandardScaler, StandardScalerModel
from distml.pipeline.stat import Summarizer, SummaryResult

__all__ = ["Estimator", "HasEngine", "Model", "Transformer", "StandardScaler",
           "StandardScalerModel", "Summarizer", "SummaryResult"]
