"""Whole pipelines: a tabular and a text one, fitted, saved, loaded in a fresh process and
applied; tuned by CrossValidator over a 2x2 grid against a brute-force loop; and saved by
pyspark.ml's own Pipeline persistence."""
import os
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest
from pyspark.ml import Pipeline as SparkPipeline
from pyspark.ml import PipelineModel as SparkPipelineModel

from distml import LogisticRegression, NaiveBayes
from distml.pipeline import (BinaryClassificationEvaluator, CrossValidator,
                             MulticlassClassificationEvaluator, ParamGridBuilder, Pipeline,
                             PipelineModel)
from distml.pipeline import feature


def _tabular_frame(n=300, seed=0):
    rng = np.random.default_rng(seed)
    color = rng.choice(["red", "green", "blue", "black"], n)
    size = rng.choice(["s", "m", "l"], n)
    x1, x2 = rng.normal(size=n), rng.normal(5.0, 3.0, n)
    logit = 3.0 * (color == "red") - 2.0 * (size == "l") + 2.0 * x1 + 0.6 * (x2 - 5.0)
    label = (logit + rng.logistic(size=n) > 0).astype(float)
    return pd.DataFrame({"id": np.arange(n), "color": color, "size": size, "x1": x1,
                         "x2": x2, "label": label, "fold": np.arange(n) % 3})


def _tabular_pipeline():
    lr = LogisticRegression(maxIter=50)
    return Pipeline(stages=[
        feature.StringIndexer(inputCols=["color", "size"], outputCols=["ci", "si"]),
        feature.OneHotEncoder(inputCols=["ci", "si"], outputCols=["cv", "sv"]),
        feature.VectorAssembler(inputCols=["cv", "sv", "x1", "x2"], outputCol="raw"),
        feature.StandardScaler(inputCol="raw", outputCol="features"),
        lr]), lr


WORDS = {0: "apple banana cherry grape lemon mango orange peach pear plum".split(),
         1: "cat dog horse mouse rabbit sheep goat cow duck lion".split()}
SHARED = "the a and of with is very some".split()


def _text_frame(n=200, seed=1):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, n)
    texts = []
    for y in labels:
        own = rng.choice(WORDS[y], rng.integers(3, 8))
        other = rng.choice(WORDS[1 - y], rng.integers(0, 3))
        words = list(own) + list(other) + list(rng.choice(SHARED, 3))
        rng.shuffle(words)
        texts.append(" ".join(w.upper() if rng.random() < 0.2 else w for w in words) + "!")
    return pd.DataFrame({"id": np.arange(n), "text": texts, "label": labels.astype(float),
                         "fold": np.arange(n) % 3})


def _text_pipeline():
    vectorizer = feature.CountVectorizer(inputCol="words", outputCol="tf")
    nb = NaiveBayes()
    return Pipeline(stages=[
        feature.RegexTokenizer(inputCol="text", outputCol="tokens", pattern="\\W+"),
        feature.StopWordsRemover(inputCol="tokens", outputCol="words"),
        vectorizer,
        feature.IDF(inputCol="tf", outputCol="features"),
        nb]), vectorizer, nb


_APPLY = textwrap.dedent("""
    import sys
    import numpy as np, pandas as pd
    from distml.pipeline import PipelineModel
    model = PipelineModel.load(sys.argv[1])
    out = model.transform(pd.read_pickle(sys.argv[2])).sort_values("id")
    np.save(sys.argv[3], np.stack([out["prediction"].to_numpy(),
                                   np.stack([v.toArray() for v in out["probability"]])[:, 1]]))
""")


def _apply_in_fresh_process(path, frame, tmp_path):
    frame.to_pickle(tmp_path / "frame.pkl")
    script = tmp_path / "apply.py"
    script.write_text(_APPLY)
    subprocess.run([sys.executable, str(script), path, str(tmp_path / "frame.pkl"),
                    str(tmp_path / "out.npy")], check=True, timeout=300,
                   env={**os.environ, "PYTHONPATH": os.getcwd()})
    return np.load(tmp_path / "out.npy")


def _outputs(model, data):
    out = model.transform(data)
    out = out.orderBy("id").toPandas() if hasattr(out, "orderBy") else out.sort_values("id")
    return np.stack([out["prediction"].to_numpy(),
                     np.stack([v.toArray() for v in out["probability"]])[:, 1]])


@pytest.mark.parametrize("kind", ["tabular", "text"])
def test_fitted_saved_and_loaded_in_a_fresh_process_predicts_the_same(spark, tmp_path, kind):
    frame = _tabular_frame() if kind == "tabular" else _text_frame()
    pipeline = _tabular_pipeline()[0] if kind == "tabular" else _text_pipeline()[0]
    df = spark.createDataFrame(frame).repartition(2)
    model = pipeline.fit(df)
    path = str(tmp_path / "model")
    model.save(path)
    expected = _outputs(model, df)
    loaded = _apply_in_fresh_process(path, frame, tmp_path)  # pandas there, no JVM
    np.testing.assert_array_equal(loaded[0], expected[0])
    # On Spark the model scores in the JVM, which sums the margins in another order than
    # numpy: the last bits differ.
    np.testing.assert_allclose(loaded[1], expected[1], rtol=1e-12, atol=1e-14)
    assert (expected[0] == frame.sort_values("id")["label"]).mean() > 0.75
    # pyspark.ml reads distml's pipeline save (the same layout).
    np.testing.assert_array_equal(_outputs(SparkPipelineModel.load(path), df), expected)


def _brute_force_best(pipeline, grid, evaluator, data, spark_data):
    """The grid point with the best mean metric over the folds of the 'fold' column."""
    means = []
    for params in grid:
        scores = []
        for fold in range(3):
            if spark_data:
                train, held = data.where(f"fold != {fold}"), data.where(f"fold = {fold}")
            else:
                train, held = data[data["fold"] != fold], data[data["fold"] == fold]
            scores.append(evaluator.evaluate(pipeline.fit(train, params).transform(held)))
        means.append(np.mean(scores))
    best = np.argmax(means) if evaluator.isLargerBetter() else np.argmin(means)
    return int(best), means


def test_tabular_pipeline_cross_validation_matches_brute_force():
    # On pandas: the same stages and CrossValidator code path as on Spark, where pyspark.ml's
    # own CrossValidator runs (tests/spark/test_pyspark_interop.py); on Spark each of the 24
    # pipeline fits pays ~6 s of job and stage start-up on this tiny input.
    df = _tabular_frame()
    pipeline, lr = _tabular_pipeline()
    grid = ParamGridBuilder().addGrid(lr.regParam, [0.001, 0.5]) \
        .addGrid(lr.elasticNetParam, [0.0, 1.0]).build()
    evaluator = BinaryClassificationEvaluator()
    cv = CrossValidator(estimator=pipeline, estimatorParamMaps=grid, evaluator=evaluator,
                        numFolds=3, foldCol="fold", parallelism=2).fit(df)
    best, means = _brute_force_best(pipeline, grid, evaluator, df, spark_data=False)
    np.testing.assert_allclose(cv.avgMetrics, means, rtol=1e-9)
    assert int(np.argmax(cv.avgMetrics)) == best
    chosen = cv.bestModel.stages[-1]
    assert (chosen.getRegParam(), chosen.getElasticNetParam()) == \
        (grid[best][lr.regParam], grid[best][lr.elasticNetParam])


def test_text_pipeline_cross_validation_on_pandas_matches_brute_force():
    frame = _text_frame()
    pipeline, vectorizer, nb = _text_pipeline()
    grid = ParamGridBuilder().addGrid(nb.smoothing, [0.1, 5.0]) \
        .addGrid(vectorizer.minDF, [1.0, 15.0]).build()
    evaluator = MulticlassClassificationEvaluator(metricName="logLoss")
    cv = CrossValidator(estimator=pipeline, estimatorParamMaps=grid, evaluator=evaluator,
                        numFolds=3, foldCol="fold").fit(frame)
    best, means = _brute_force_best(pipeline, grid, evaluator, frame, spark_data=False)
    np.testing.assert_allclose(cv.avgMetrics, means, rtol=1e-12)
    assert int(np.argmin(cv.avgMetrics)) == best
    assert cv.bestModel.stages[-1].getSmoothing() == grid[best][nb.smoothing]
    assert cv.bestModel.stages[2].getMinDF() == grid[best][vectorizer.minDF]


def test_pyspark_pipeline_with_distml_transformers_saves_with_pyspark(spark, tmp_path):
    frame = _tabular_frame(120)
    df = spark.createDataFrame(frame).repartition(2)
    pipeline = SparkPipeline(stages=_tabular_pipeline()[0].getStages())
    model = pipeline.fit(df)
    model.write().overwrite().save(str(tmp_path / "spark-pipeline"))
    loaded = SparkPipelineModel.load(str(tmp_path / "spark-pipeline"))
    np.testing.assert_array_equal(_outputs(loaded, df), _outputs(model, df))
    # ...and distml reads pyspark.ml's save too.
    np.testing.assert_array_equal(
        _outputs(PipelineModel.load(str(tmp_path / "spark-pipeline")), df), _outputs(model, df))


def test_pipeline_of_distml_stages_saves_without_spark(tmp_path):
    frame = _tabular_frame(120)
    model = _tabular_pipeline()[0].fit(frame)
    model.save(str(tmp_path / "m"))
    loaded = PipelineModel.load(str(tmp_path / "m"))
    assert [type(s) for s in loaded.stages] == [type(s) for s in model.stages]
    np.testing.assert_array_equal(_outputs(loaded, frame), _outputs(model, frame))
    unfitted = _tabular_pipeline()[0]
    unfitted.save(str(tmp_path / "p"))
    assert [s.uid for s in Pipeline.load(str(tmp_path / "p")).getStages()] == \
        [s.uid for s in unfitted.getStages()]
