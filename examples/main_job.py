"""The README's main job: the ``distml`` command end to end on a real dataset.

Writes scikit-learn's bundled breast-cancer data as parquet (a stratified 75/25 split), then
runs ``distml train`` with ``examples/specs/breast_cancer.yaml`` (StandardScaler ->
LogisticRegression), prints its held-out metrics beside scikit-learn's on the same split,
and runs ``distml evaluate``, ``distml predict`` and ``distml describe`` on the saved model.
It checks itself: the accuracies must agree within 2 points, and the predictions read back
must equal the evaluation's, or it exits 1.

Run it with ``make main`` or ``python examples/main_job.py [--master local[2]]``; with
``--remote sc://host:port`` every command runs as a Spark Connect client of that server, and
the data, model and predictions go in ``--work`` (default: a new local temp folder, which only
a server on this machine reaches).
"""
from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import sys
import tempfile

import numpy as np
import pandas as pd
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score, roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from distml.cli.main import main as distml

SPEC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "specs", "breast_cancer.yaml")


def run(*argv: str) -> dict:
    """``distml ARGV`` in this process (one Spark session for all four commands)."""
    print("$ distml " + " ".join(argv))
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = distml(list(argv))
    print(out.getvalue().rstrip())
    if code != 0:
        sys.exit(code)
    return json.loads(out.getvalue()) if argv[0] != "describe" else {}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--master", default="local[*]")
    where.add_argument("--remote", help="a Spark Connect server, sc://host:port")
    parser.add_argument("--work", help="folder for the data, model and predictions")
    args = parser.parse_args(argv)
    session = ["--remote", args.remote] if args.remote else ["--master", args.master]
    data = load_breast_cancer(as_frame=True)
    frame = data.frame.rename(columns=lambda c: c.replace(" ", "_")).rename(
        columns={"target": "label"})
    frame["label"] = frame["label"].astype(float)
    train, test = train_test_split(frame, test_size=0.25, stratify=frame["label"],
                                   random_state=0)
    work = args.work or tempfile.mkdtemp(prefix="distml-main-")
    paths = {name: f"{work.rstrip('/')}/{name}.parquet" for name in ("train", "test")}
    spark = _connect(args.remote) if args.remote else None
    for name, part in (("train", train), ("test", test)):
        if spark is None:
            part.to_parquet(paths[name])
        else:  # the server's storage
            spark.createDataFrame(part).write.parquet(paths[name])
    model, predictions = f"{work.rstrip('/')}/model", f"{work.rstrip('/')}/predictions"

    trained = run("train", "--spec", SPEC, "--input", paths["train"], "--test", paths["test"],
                  "--output", model, *session)["metrics"]
    columns = [c for c in frame.columns if c != "label"]
    sk = make_pipeline(StandardScaler(), LogisticRegression(C=1 / (0.01 * len(train)),
                                                           max_iter=1000))
    sk.fit(train[columns], train["label"])
    sk_metrics = {"accuracy": accuracy_score(test["label"], sk.predict(test[columns])),
                  "f1": f1_score(test["label"], sk.predict(test[columns]), average="weighted"),
                  "areaUnderROC": roc_auc_score(test["label"],
                                                sk.predict_proba(test[columns])[:, 1])}
    print(f"\n{'held-out metric':<16}{'distml':>10}{'scikit-learn':>14}")
    for name, value in trained.items():
        print(f"{name:<16}{value:>10.4f}{sk_metrics[name]:>14.4f}")
    evaluated = run("evaluate", "--model", model, "--input", paths["test"], *session)
    run("predict", "--model", model, "--input", paths["test"], "--output", predictions,
        *session)
    run("describe", "--model", model, *(["--remote", args.remote] if args.remote else []))
    scored = (pd.read_parquet(predictions) if spark is None
              else spark.read.parquet(predictions).select("label", "prediction").toPandas())
    accuracy = float((scored["prediction"] == scored["label"]).mean())
    checks = [abs(trained["accuracy"] - sk_metrics["accuracy"]) <= 0.02,
              np.isclose(evaluated["accuracy"], trained["accuracy"]),
              np.isclose(accuracy, evaluated["accuracy"])]
    print(f"\npredictions read back: accuracy {accuracy:.4f}; model and data in {work}")
    if not all(checks):
        print("main job: a check failed", file=sys.stderr)
        return 1
    print("main job: all checks passed")
    return 0


def _connect(remote: str):
    from pyspark.sql import SparkSession
    return SparkSession.builder.remote(remote).getOrCreate()


if __name__ == "__main__":
    sys.exit(main())
