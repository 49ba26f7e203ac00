"""Runs the examples in pyspark.ml's own class docstrings, with distml's classes in their place.

pyspark.ml tests those examples with ``doctest`` from each module's ``_test()``; this module
rebuilds the globals those functions build (the module's namespace, ``spark``, ``sc``,
``temp_path``, feature.py's ``stringIndDf``) and its option flags, then swaps in every class
distml exports under the same name, both in the globals and in the examples' own
``from pyspark.ml.<module> import ...`` lines. ``use_distml=False`` runs the untouched
pyspark.ml examples, the baseline the distml run is compared with.
"""
from __future__ import annotations

import doctest
import importlib
import inspect
import os
import re
from dataclasses import dataclass, field

import distml

# The pyspark.ml modules whose classes distml can stand in for.
MODULES = ("classification", "regression", "clustering", "feature", "recommendation",
           "evaluation", "stat", "tuning", "pipeline", "base")

# The flags each module's own _test() passes to doctest.
_FLAGS = {"stat": doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE}
_DEFAULT_FLAGS = doctest.ELLIPSIS

# {class: (examples passed, examples run, excused failures)}, filled by the test module and
# printed by tests/conftest.py at the end of the run.
REPORT: dict = {}

_IMPORT = re.compile(r"^(\s*)from pyspark\.ml(?:\.\w+)* import (.+)$", re.MULTILINE)


def twin_classes():
    """``{name: module}`` for every class distml exports under a pyspark.ml class's name."""
    twins = {}
    for module_name in MODULES:
        module = importlib.import_module(f"pyspark.ml.{module_name}")
        for name, cls in vars(module).items():
            if (inspect.isclass(cls) and cls.__module__ == module.__name__
                    and name in distml.__all__ and inspect.isclass(getattr(distml, name))):
                twins[name] = module_name
    return twins


@dataclass
class Failure:
    index: int          # the example's position in the class docstring
    source: str
    detail: str


@dataclass
class ClassRun:
    name: str
    attempted: int = 0
    failures: list = field(default_factory=list)

    @property
    def passed(self):
        return self.attempted - len(self.failures)


def example_sources(name, module_name) -> list[str]:
    """The sources of pyspark.ml's class ``name``'s docstring examples, stripped."""
    return [example.source.strip() for example in _doctest(name, module_name).examples]


def _doctest(name, module_name):
    module = importlib.import_module(f"pyspark.ml.{module_name}")
    return doctest.DocTestParser().get_doctest(
        inspect.getdoc(getattr(module, name)) or "", {}, name, None, 0)


def run_class_examples(name, module_name, spark, temp_path, data_folder, use_distml=True):
    """Run pyspark.ml's class ``name``'s docstring examples; returns a :class:`ClassRun`.

    The examples' ``data/mllib/...`` paths are read under ``data_folder`` (see
    :func:`write_multiclass_libsvm`): the JVM resolves a relative path against its own
    working folder, which a test cannot move.
    """
    module = importlib.import_module(f"pyspark.ml.{module_name}")
    test = _doctest(name, module_name)
    test.globs = _globals(module, spark, temp_path, use_distml)
    for example in test.examples:
        example.source = example.source.replace('"data/mllib/', f'"{data_folder}/data/mllib/')
        if use_distml:
            example.source = _IMPORT.sub(_import_distml_too, example.source)
    runner = _RecordingRunner(optionflags=_FLAGS.get(module_name, _DEFAULT_FLAGS))
    runner.run(test, out=lambda text: None, clear_globs=True)
    run = ClassRun(name, attempted=len(test.examples))
    run.failures = runner.recorded
    return run


def string_indexer_frame(spark):
    """feature.py's ``stringIndDf``: six rows of ids and string labels in two partitions."""
    from pyspark.sql import Row
    rows = [Row(id=0, label="a"), Row(id=1, label="b"), Row(id=2, label="c"),
            Row(id=3, label="a"), Row(id=4, label="a"), Row(id=5, label="c")]
    return spark.createDataFrame(spark.sparkContext.parallelize(rows, 2))


def write_multiclass_libsvm(folder):
    """Write ``data/mllib/sample_multiclass_classification_data.txt`` under ``folder``.

    Spark's copy is the iris data in LibSVM format with each feature scaled to [-1, 1] by
    its min and max, six significant digits, zeros left out, and the labels setosa 1,
    versicolor 2, virginica 0; this builds the same from scikit-learn's bundled iris. Spark's
    copy holds the UCI file's two known typos, which scikit-learn corrected (its
    ``load_iris`` notes say so): rows 35 and 38 both read 4.9, 3.1, 1.5, 0.1 there.
    """
    from sklearn.datasets import load_iris
    X, y = load_iris(return_X_y=True)
    X[[34, 37]] = [4.9, 3.1, 1.5, 0.1]
    low, high = X.min(axis=0), X.max(axis=0)
    scaled = 2.0 * (X - low) / (high - low) - 1.0
    labels = {0: 1, 1: 2, 2: 0}
    path = os.path.join(folder, "data", "mllib", "sample_multiclass_classification_data.txt")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        for row, label in zip(scaled, y):
            pairs = " ".join(f"{j + 1}:{v:.6g}" for j, v in enumerate(row) if v != 0.0)
            f.write(f"{labels[int(label)]} {pairs}\n")
    return path


def _globals(module, spark, temp_path, use_distml):
    globs = dict(vars(module))
    globs.update(spark=spark, sc=spark.sparkContext, temp_path=temp_path)
    if module.__name__ == "pyspark.ml.feature":
        # feature.py's _test() runs in its __main__ block, whose imports the examples see.
        from pyspark.sql import Row
        globs.update(Row=Row, stringIndDf=string_indexer_frame(spark))
    if use_distml:
        globs.update({n: getattr(distml, n) for n in list(globs)
                      if n in distml.__all__ and inspect.isclass(getattr(distml, n))})
    return globs


def _import_distml_too(match):
    """``from pyspark.ml.x import A, B`` then ``from distml import A`` for the names distml has."""
    names = match.group(2)
    ours = [n.strip() for n in names.strip("() ").split(",")
            if n.strip() in distml.__all__ and inspect.isclass(getattr(distml, n.strip()))]
    line = match.group(0)
    # One line: doctest compiles each example as a single interactive statement.
    return line + (f"; from distml import {', '.join(ours)}" if ours else "")


class _RecordingRunner(doctest.DocTestRunner):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.recorded = []

    def report_failure(self, out, test, example, got):
        self.recorded.append(Failure(test.examples.index(example), example.source.strip(),
                                     f"expected {example.want.strip()!r}, got {got.strip()!r}"))

    def report_unexpected_exception(self, out, test, example, exc_info):
        self.recorded.append(Failure(test.examples.index(example), example.source.strip(),
                                     f"raised {exc_info[0].__name__}: {exc_info[1]}"))
