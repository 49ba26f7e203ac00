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
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    coef = rng.normal(size=d)
    y = (X @ coef + rng.logistic(size=n) > 0).astype(np.float64)
    return frame_of(spark, X, y), X, y


def frame_of(spark, X: np.ndarray, y: np.ndarray):
    """A cached DataFrame of the rows of X as dense vectors ("features") and y ("label"), in
    as many partitions as the session runs tasks at once."""
    import pandas as pd
    from pyspark.ml.functions import array_to_vector

    pdf = pd.DataFrame({"arr": list(X), "label": y})
    spark.conf.set("spark.sql.execution.arrow.pyspark.enabled", "true")
    parallelism = spark.sparkContext.defaultParallelism
    df = (spark.createDataFrame(pdf).repartition(parallelism)
          .select(array_to_vector("arr").alias("features"), "label").cache())
    df.count()
    return df


def best_of(contenders: dict[str, Callable[[], Callable[[], dict]]], rounds: int
            ) -> dict[str, dict]:
    """Run every contender ``rounds`` times, alternating; keep each one's fastest run.

    A contender fits and returns a function that measures the fit's quality; that function
    runs after the clock stops, so quality checks never count as fit time.
    """
    best: dict[str, dict] = {}
    names = list(contenders)
    for round_ in range(rounds):
        # Rotated each round: the first fit of a round was measured slower (the previous
        # round's cleanup), which would otherwise always fall on the same contender.
        shift = round_ % len(names)
        for name in names[shift:] + names[:shift]:
            run = contenders[name]
            start = time.perf_counter()
            measure = run()
            seconds = time.perf_counter() - start
            quality = measure()
            if name not in best or seconds < best[name]["seconds"]:
                best[name] = {"seconds": seconds, **quality}
    return best


def report(title: str, results: dict[str, dict], path: str, meta: dict) -> None:
    keys = sorted({k for r in results.values() for k in r} - {"seconds"})
    widths = {k: max(16, len(k) + 2) for k in keys}
    header = f"{'contender':<28}{'seconds':>10}" + "".join(f"{k:>{widths[k]}}" for k in keys)
    print(f"\n{title}\n{header}\n{'-' * len(header)}")
    for name, r in results.items():
        cells = "".join(f"{r.get(k, float('nan')):>{widths[k]}.6g}" if isinstance(r.get(k), float)
                        else f"{str(r.get(k, '')):>{widths[k]}}" for k in keys)
        print(f"{name:<28}{r['seconds']:>10.3f}{cells}")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump({"title": title, "machine": platform.platform(), "cpus": os.cpu_count(),
                   **meta, "results": results}, f, indent=2)
    print(f"(written to {path})")


def _nothing(ctx, params):
    return {}


def ingestion_floor(df, label: str | None = None) -> Callable[[], Callable[[], dict]]:
    """A contender that only moves the rows into numpy: a barrier fit whose program does
    nothing, the floor under any one-pass fit (with the label column when the fit reads it)."""
    from distml.frames import InputSpec
    from distml.engine.fit import fit_program

    def run():
        fit_program(_nothing, {}, df, InputSpec("features", label=label), engine="barrier")
        return dict
    return run


def add_speedups(results: dict[str, dict]) -> None:
    """Each contender's speed relative to pyspark.ml's (its seconds over theirs, inverted)."""
    base = results["pyspark.ml"]["seconds"]
    for r in results.values():
        r["speedup_vs_pyspark_ml"] = round(base / r["seconds"], 2)
