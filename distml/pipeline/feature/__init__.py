from distml.pipeline.feature.standard_scaler import StandardScaler, StandardScalerModel

__all__ = ["StandardScaler", "StandardScalerModel"]
