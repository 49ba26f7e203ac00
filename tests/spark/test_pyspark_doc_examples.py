"""Issue 22: pyspark.ml's own documented examples run unchanged with distml's classes.

For every class distml exports under a pyspark.ml class's name, the examples in that class's
docstring in the installed pyspark.ml run as pyspark.ml's ``_test()`` runs them, with distml's
classes in their globals and imports (``helpers/pyspark_examples.py``); every example must
pass. The only exceptions are in ``EXCEPTIONS``, each with its reason; README's "Differences
from pyspark.ml" draws on the same list. The reference is each example's expected output as
pyspark.ml's docstring states it. The pass count per class is printed at the end of the run.
"""
import pytest

import pyspark_examples

pytestmark = pytest.mark.spark

_BAGGING = ("a forest's bootstrap samples are distml's draws, not MLlib's (commons-math's "
            "Poisson per partition): on the example's 2 rows the trees see other samples, so "
            "other trees can split. The model is a valid forest of other draws; a forest "
            "without sampling is pyspark.ml's (tests/spark/test_tree_ensembles_spark.py)")

# (class, the example's source) -> why distml's output may differ from the docstring's.
EXCEPTIONS = {
    ("KMeans", "model.clusterCenters()[0] == model2.clusterCenters()[0]"):
        "the docstring's expected output predates numpy 1.14's repr (dtype=bool is no longer "
        "printed): the example fails with pyspark.ml itself",
    ("KMeans", "model.clusterCenters()[1] == model2.clusterCenters()[1]"):
        "the same numpy repr change as the example before it",
    ("MultilayerPerceptronClassifier", "model.predictRaw(testDF.head().features)"):
        "the raw scores of a separable fit grow until the optimizer stops: distml starts at "
        "MLlib's weights and reaches the same predictions (probabilities 0.0/1.0, the same "
        "classes), but its L-BFGS (backtracking Armijo line search) stops at other scores "
        "than breeze's (strong Wolfe)",
    ("RandomForestClassifier", "model.predictRaw(test0.head().features)"):
        _BAGGING,
    ("RandomForestClassifier", "model.predictProbability(test0.head().features)"): _BAGGING,
    ("RandomForestRegressor", "model.featureImportances"): _BAGGING,
    ("RandomForestRegressor", "model.predict(test0.head().features)"): _BAGGING,
    ("RandomForestRegressor", "result.prediction"): _BAGGING,
}

TWINS = pyspark_examples.twin_classes()


@pytest.fixture(scope="module")
def data_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("spark_source_tree")
    pyspark_examples.write_multiclass_libsvm(str(folder))
    return str(folder)


@pytest.mark.parametrize("name", sorted(TWINS))
def test_pyspark_ml_examples_pass_with_distml(spark, data_folder, tmp_path, name):
    run = pyspark_examples.run_class_examples(name, TWINS[name], spark, str(tmp_path),
                                              data_folder)
    excused = [f for f in run.failures if (name, f.source) in EXCEPTIONS]
    unexpected = [f for f in run.failures if (name, f.source) not in EXCEPTIONS]
    pyspark_examples.REPORT[name] = (run.passed, run.attempted, len(excused))
    assert not unexpected, "\n".join(
        f"{name} example {f.index}: {f.source}\n    {f.detail}" for f in unexpected)


def test_every_exception_names_an_existing_example_and_says_why():
    assert len(EXCEPTIONS) <= 15
    for (name, source), reason in EXCEPTIONS.items():
        assert name in TWINS, name
        assert source in pyspark_examples.example_sources(name, TWINS[name]), (name, source)
        assert len(reason) > 40, (name, source)


def test_the_helper_sees_a_failing_example(spark, data_folder, tmp_path, monkeypatch):
    """The harness can fail: a distml class that lost a pyspark.ml method fails its example."""
    from distml import StandardScalerModel
    monkeypatch.delattr(StandardScalerModel, "setOutputCol")
    run = pyspark_examples.run_class_examples("StandardScaler", "feature", spark,
                                              str(tmp_path), data_folder)
    assert any("setOutputCol" in f.detail for f in run.failures)
