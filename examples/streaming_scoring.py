"""Scoring a stream with a saved model: files land in a folder, predictions go to parquet.

1. ``distml train`` fits ``examples/specs/breast_cancer.yaml`` (VectorAssembler ->
   StandardScaler -> LogisticRegression) on 75% of scikit-learn's breast-cancer data and
   saves the model.
2. The other 25% lands in an input folder as small parquet files, a few at a time, as an
   upstream job would write them.
3. The folder is read as a stream (``spark.readStream``), scored by the saved model's
   ``transform`` and written to a parquet sink with a checkpoint, with
   ``trigger(availableNow=True)``: each run scores the files that landed since the last one
   and stops, the form an hourly scheduled job takes.
4. ``distml predict --stream`` does the same from the command line.

It checks itself: every landed row is scored exactly once, the streamed predictions equal the
saved model's transform of the same rows as a batch, and the command's equal the API's; else it
exits 1. Run it with ``python examples/streaming_scoring.py [--master local[2]] [--files 6]``.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile

import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split

from _session import session
from distml import PipelineModel
from main_job import run as _distml  # `distml ARGV` in this process; its JSON answer

SPEC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "specs", "breast_cancer.yaml")


def score_new_files(spark, model, incoming: str, predictions: str, checkpoint: str) -> int:
    """One scheduled run: the files that landed since the last run, scored and committed to
    the parquet sink. Returns how many rows it scored."""
    schema = spark.read.parquet(incoming).schema  # a file stream needs its schema given
    stream = spark.readStream.schema(schema).parquet(incoming)
    query = (model.transform(stream)
             .select("row_id", "label", "probability", "prediction")
             .writeStream.format("parquet")
             .option("path", predictions)
             .option("checkpointLocation", checkpoint)
             .trigger(availableNow=True)
             .start())
    query.awaitTermination()
    return int(sum(p["numInputRows"] for p in query.recentProgress))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--master", default=None, help="Spark master (default: local[*])")
    parser.add_argument("--files", type=int, default=6, help="how many files land")
    parser.add_argument("--work", help="folder for the data, model and predictions")
    args = parser.parse_args(argv)
    spark = session(args.master)
    work = args.work or tempfile.mkdtemp(prefix="distml-stream-")
    paths = {name: os.path.join(work, name) for name in
             ("train.parquet", "model", "incoming", "predictions", "checkpoint",
              "cli-predictions")}

    frame = load_breast_cancer(as_frame=True).frame
    frame = frame.rename(columns=lambda c: c.replace(" ", "_")).rename(
        columns={"target": "label"})
    frame["label"] = frame["label"].astype(float)
    frame.insert(0, "row_id", np.arange(len(frame)))
    train, held_out = train_test_split(frame, test_size=0.25, stratify=frame["label"],
                                       random_state=0)
    train.to_parquet(paths["train.parquet"], index=False)
    _distml("train", "--spec", SPEC, "--input", paths["train.parquet"],
            "--output", paths["model"])
    model = PipelineModel.load(paths["model"])

    os.makedirs(paths["incoming"])
    landings = [held_out.iloc[rows] for rows in np.array_split(np.arange(len(held_out)),
                                                                args.files)]
    scored = []
    for first, last in ((0, args.files // 2), (args.files // 2, args.files)):
        for i in range(first, last):
            landings[i].to_parquet(os.path.join(paths["incoming"], f"part-{i:03d}.parquet"),
                                   index=False)
        rows = score_new_files(spark, model, paths["incoming"], paths["predictions"],
                               paths["checkpoint"])
        scored.append(rows)
        print(f"run {len(scored)}: {last} files landed so far, {rows} new rows scored")

    _distml("predict", "--stream", "--model", paths["model"], "--input", paths["incoming"],
            "--output", paths["cli-predictions"])

    streamed = _by_row(spark.read.parquet(paths["predictions"]))
    batch = _by_row(model.transform(spark.read.parquet(paths["incoming"])))
    from_cli = _by_row(spark.read.parquet(paths["cli-predictions"]))
    accuracy = float(np.mean([r["prediction"] == r["label"] for r in streamed.values()]))
    checks = {
        "every landed row scored once": sum(scored) == len(held_out) == len(streamed),
        "streamed predictions equal the batch transform's": _same(streamed, batch),
        "distml predict --stream equals the API": _same(from_cli, batch),
    }
    print(f"\n{len(streamed)} rows scored in {len(scored)} runs; accuracy {accuracy:.4f}")
    for name, ok in checks.items():
        print(f"  {'ok ' if ok else 'FAILED'} {name}")
    print(f"model, data and predictions in {work}")
    return 0 if all(checks.values()) else 1


def _by_row(df) -> dict:
    rows = df.select("row_id", "label", "probability", "prediction").collect()
    return {r["row_id"]: {"label": r["label"], "prediction": r["prediction"],
                          "probability": r["probability"].toArray().tolist()} for r in rows}


def _same(got: dict, expected: dict) -> bool:
    """Equal bit for bit: the same JVM model computes both, on the same rows."""
    return got == expected

if __name__ == "__main__":
    sys.exit(main())
