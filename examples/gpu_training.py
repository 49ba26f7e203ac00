"""Train on GPUs from Spark: LogisticRegression's kernels and a Gluon MLP on each task's GPU.

Each barrier task (rank) computes on the GPU Spark assigned to it, MXNet arrays on
``mx.gpu(i)``, and the ranks allreduce their gradients over TCP. Submit it to a cluster whose
executors have GPUs, one GPU per task::

    spark-submit \\
      --conf spark.executor.resource.gpu.amount=1 \\
      --conf spark.task.resource.gpu.amount=1 \\
      --conf spark.executor.resource.gpu.discoveryScript=./get_gpu_resources.sh \\
      --files examples/get_gpu_resources.sh \\
      --conf spark.dynamicAllocation.enabled=false \\
      examples/gpu_training.py --output s3://bucket/models/digits-mlp

(distml and the ``mxnet`` extra must be installed on the nodes, or shipped as the README says;
install ``mxnet-cu112`` instead of ``mxnet`` there for CUDA.) Without ``--input`` it trains on
scikit-learn's bundled digits; with it, on a parquet dataset with a vector ``features`` column
and a ``label`` column. ``--master local[2]`` runs it on this machine, where no GPU means
MXNet on the CPU (one warning per rank says so). It prints where every rank computed, and
exits 1 if held-out accuracy falls below 0.9.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time

import numpy as np
from pyspark.ml.evaluation import MulticlassClassificationEvaluator
from pyspark.ml.linalg import Vectors
from pyspark.sql import SparkSession

from distml import (LogisticRegression, MultilayerPerceptronClassificationModel,
                    MultilayerPerceptronClassifier)


def load_data(spark, path: str | None):
    if path:
        return spark.read.parquet(path).randomSplit([0.75, 0.25], seed=0)
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    X, y = load_digits(return_X_y=True)
    splits = train_test_split(X / 16.0, y, test_size=0.25, random_state=0, stratify=y)
    return [spark.createDataFrame([(Vectors.dense(r), float(t)) for r, t in zip(X, y)],
                                  ["features", "label"]).cache()
            for X, y in ((splits[0], splits[2]), (splits[1], splits[3]))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--master", help="run on this master (default: spark-submit's)")
    parser.add_argument("--input", help="parquet with 'features' and 'label' (default: digits)")
    parser.add_argument("--output", help="where to save the MLP (default: a temporary folder)")
    parser.add_argument("--backend", default="auto", choices=["auto", "mxnet", "numpy"])
    parser.add_argument("--hidden", type=int, default=64, help="hidden layer size")
    parser.add_argument("--epochs", type=int, default=40)
    args = parser.parse_args(argv)

    if args.master:
        from distml.frames import local_session
        spark = local_session(args.master, app_name="distml-gpu")
    else:
        spark = SparkSession.builder.appName("distml-gpu").getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    train, test = load_data(spark, args.input)
    num_features = len(train.first()["features"])
    num_classes = int(train.agg({"label": "max"}).first()[0]) + 1
    evaluator = MulticlassClassificationEvaluator(metricName="accuracy")

    start = time.perf_counter()
    lr = LogisticRegression(regParam=0.001, backend=args.backend).fit(train)
    lr_accuracy = evaluator.evaluate(lr.transform(test))
    print(f"LogisticRegression: {time.perf_counter() - start:.2f} s, held-out accuracy "
          f"{lr_accuracy:.3f}, ranks on {', '.join(lr.summary.devices)}")

    mlp = MultilayerPerceptronClassifier(layers=[num_features, args.hidden, num_classes],
                                         solver="adam", stepSize=0.01, maxIter=args.epochs,
                                         seed=1, backend=args.backend)
    start = time.perf_counter()
    model = mlp.fit(train)
    accuracy = evaluator.evaluate(model.transform(test))
    print(f"MultilayerPerceptronClassifier {mlp.getLayers()}: {args.epochs} epochs in "
          f"{time.perf_counter() - start:.2f} s, final loss "
          f"{model.summary.objectiveHistory[-1]:.4f}, held-out accuracy {accuracy:.3f}, "
          f"ranks on {', '.join(model.summary.devices)}")

    output = args.output or tempfile.mkdtemp(prefix="distml-gpu-") + "/mlp"
    model.write().overwrite().save(output)
    reloaded = MultilayerPerceptronClassificationModel.load(output)
    same = np.array_equal(reloaded.weights.toArray(), model.weights.toArray())
    print(f"saved to {output} and loaded back: weights {'identical' if same else 'DIFFER'}")
    spark.stop()
    return 0 if same and min(accuracy, lr_accuracy) >= 0.9 else 1


if __name__ == "__main__":
    sys.exit(main())
