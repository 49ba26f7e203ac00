"""Every example runs (on small data, in this test session's Spark), and so does the notebook,
cell by cell, headlessly."""
import json
import os
import runpy
import sys

import pytest

EXAMPLES = os.path.join(os.path.dirname(__file__), "..", "..", "examples")

RUNS = {"main_job.py": ["--master", "local[2]"],
        "classification.py": ["--rows", "400"], "clustering.py": ["--rows", "600"],
        "decomposition.py": ["--rows", "500"], "trees.py": [],
        "recommendation.py": ["--ratings", "5000"],
        "pipeline_tuning.py": ["--rows", "300", "--folds", "2"],
        "streaming_scoring.py": ["--files", "4"]}


@pytest.mark.parametrize("script", sorted(RUNS))
def test_example_runs(spark, script, capsys, monkeypatch):
    monkeypatch.setattr(sys, "argv", [script] + RUNS[script])
    monkeypatch.syspath_prepend(EXAMPLES)
    try:
        runpy.run_path(os.path.join(EXAMPLES, script), run_name="__main__")
    except SystemExit as e:  # main_job.py ends with sys.exit(main())
        assert e.code in (0, None), f"{script} exited with {e.code}"
    out = capsys.readouterr().out
    assert out.strip(), f"{script} printed nothing"


def test_every_example_is_tested():
    scripts = {f for f in os.listdir(EXAMPLES) if f.endswith(".py") and not f.startswith("_")}
    tested_elsewhere = {"gpu_training.py"}  # tests/spark/test_gpu_example.py
    assert scripts - tested_elsewhere == set(RUNS)


def test_notebook_runs_headlessly(spark, capsys):
    with open(os.path.join(EXAMPLES, "walkthrough.ipynb")) as f:
        notebook = json.load(f)
    namespace = {"__name__": "__main__"}
    for cell in notebook["cells"]:
        if cell["cell_type"] == "code":
            exec(compile("".join(cell["source"]), "walkthrough.ipynb", "exec"), namespace)
    out = capsys.readouterr().out
    assert "held-out accuracy" in out and "reloaded model predicts the same: True" in out
    assert "LogisticRegressionModel" in namespace["model"]._repr_html_()
    assert len(namespace["figure"].axes) == 1
