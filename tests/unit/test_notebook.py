"""What a notebook shows: HTML reprs of stages, models and pipelines, and summary plots."""
import io

import numpy as np
import pandas as pd
import pytest

from distml import (KMeans, LogisticRegression, MultilayerPerceptronClassifier, Pipeline,
                    StandardScaler)


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 3))
    return pd.DataFrame({"raw": list(X), "features": list(X),
                         "label": (X[:, 0] + 0.3 * rng.normal(size=120) > 0).astype(float)})


def test_html_reprs_show_params_summary_and_stages(data):
    lr = LogisticRegression(maxIter=30, regParam=0.1)
    text = lr._repr_html_()
    assert "<b>regParam</b>" in text and "0.1" in text and "elasticNetParam" in text
    model = Pipeline(stages=[StandardScaler(inputCol="raw", outputCol="scaled"),
                             lr.setFeaturesCol("scaled")]).fit(data)
    text = model._repr_html_()
    assert text.count("<li>") == 2 and "StandardScalerModel" in text
    assert "totalIterations" in text and "objectiveHistory" in text
    assert "trainingCost" in KMeans(k=2, seed=1).fit(data)._repr_html_()


def test_summary_plots_render(data):
    from matplotlib.figure import Figure
    binary = LogisticRegression(maxIter=30).fit(data).summary.plot()
    assert isinstance(binary, Figure) and len(binary.axes) == 2
    fpr, tpr = binary.axes[1].lines[0].get_data()
    assert fpr[0] == tpr[0] == 0.0 and fpr[-1] == tpr[-1] == 1.0
    assert "ROC" in binary.axes[1].get_title()
    mlp = MultilayerPerceptronClassifier(layers=[3, 4, 2], maxIter=20, seed=1).fit(data)
    figure = mlp.summary.plot()
    assert len(figure.axes) == 1 and len(figure.axes[0].lines[0].get_ydata()) == \
        len(mlp.summary.objectiveHistory)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    assert buffer.getvalue()[:4] == b"\x89PNG"
