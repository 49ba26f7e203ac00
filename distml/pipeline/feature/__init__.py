from distml.pipeline.feature.pca import PCA, PCAModel
from distml.pipeline.feature.standard_scaler import StandardScaler, StandardScalerModel

__all__ = ["PCA", "PCAModel", "StandardScaler", "StandardScalerModel"]
