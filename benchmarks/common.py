"""Shared benchmark plumbing: data made once, warm alternating timing, a table and JSON.

Timing rule (the project's habit): a first fit in a fresh JVM pays for class loading and JIT,
so contenders are alternated for several rounds and each keeps its best time.
"""
from __future__ import annotations

import json
import os
import platform
import time
from typing import Callable

import numpy as np


def dense_frame(spark, n: int, d: int, seed: int = 0, label: bool = True):
    """A cached DataFrame of n x d dense vectors (and a 0/1 label), plus the numpy arrays."""
    import pandas as pd
    from pyspark.ml.functions import array_to_vector

    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    coef = rng.normal(size=d)
    y = (X @ coef + rng.logistic(size=n) > 0).astype(np.float64)
    pdf = pd.DataFrame({"arr": list(X), "label": y})
    spark.conf.set("spark.sql.execution.arrow.pyspark.enabled", "true")
    parallelism = spark.sparkContext.defaultParallelism
    df = (spark.createDataFrame(pdf).repartition(parallelism)
          .select(array_to_vector("arr").alias("features"), "label").cache())
    df.count()
    return df, X, y


def best_of(contenders: dict[str, Callable[[], dict]], rounds: int) -> dict[str, dict]:
    """Run every contender ``rounds`` times, alternating; keep each one's fastest run."""
    best: dict[str, dict] = {}
    for _ in range(rounds):
        for name, run in contenders.items():
            start = time.perf_counter()
            quality = run()
            seconds = time.perf_counter() - start
            if name not in best or seconds < best[name]["seconds"]:
                best[name] = {"seconds": seconds, **quality}
    return best


def report(title: str, results: dict[str, dict], path: str, meta: dict) -> None:
    keys = sorted({k for r in results.values() for k in r} - {"seconds"})
    header = f"{'contender':<28}{'seconds':>10}" + "".join(f"{k:>16}" for k in keys)
    print(f"\n{title}\n{header}\n{'-' * len(header)}")
    for name, r in results.items():
        cells = "".join(f"{r.get(k, float('nan')):>16.6g}" if isinstance(r.get(k), float)
                        else f"{str(r.get(k, '')):>16}" for k in keys)
        print(f"{name:<28}{r['seconds']:>10.3f}{cells}")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump({"title": title, "machine": platform.platform(), "cpus": os.cpu_count(),
                   **meta, "results": results}, f, indent=2)
    print(f"(written to {path})")
