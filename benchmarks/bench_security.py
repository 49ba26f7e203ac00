"""What issue 18's protections cost, on the barrier engine.

- The input fingerprint: every partition's rows hashed (XXH3-128) while they arrive, taken by
  every fit that checkpoints. Measured two ways: the hash alone on one rank's share of the
  rows (250k x 50 at 500k rows on two ranks), and LogisticRegression and KMeans fitted with
  checkpointInterval=10 against -1 (-1 takes no fingerprint).
- Encryption of the collective frames (AES-GCM), which distml turns on when Spark encrypts its
  own traffic: LogisticRegression (500k x 50) and ALS (bench_als's ratings, the fit whose
  frames are largest: ratings exchanged once, factors gathered every half-iteration) with
  ``spark.distml.encryption`` true against false (frames authenticated only).
Contenders alternate; each keeps its best time.
"""
from __future__ import annotations

import time

import numpy as np

from benchmarks import bench_als
from benchmarks.common import best_of, dense_frame, report
from distml import ALS, KMeans, LogisticRegression
from distml.engine.partition import PartitionDigest

ENCRYPT = "spark.distml.encryption"


def _hash_seconds(n: int, d: int, rounds: int) -> float:
    X = np.random.default_rng(0).normal(size=(n, d))
    y = np.ones(n)
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        digest = PartitionDigest()
        for lo in range(0, n, 10_000):  # batch by batch, as Arrow delivers them
            digest.add(X[lo:lo + 10_000], y[lo:lo + 10_000])
        digest.hexdigest()
        best = min(best, time.perf_counter() - start)
    return best


def run(spark, n: int, d: int, rounds: int, out: str) -> dict:
    df, _, _ = dense_frame(spark, n, d)
    ratings, _ = bench_als.ratings_frame(spark, bench_als.RATINGS)
    share = n // spark.sparkContext.defaultParallelism
    results = {"XXH3-128 of one rank's rows (hash only)": {
        "seconds": round(_hash_seconds(share, d, rounds), 4), "rows": share}}
    fits = {
        "LogisticRegression": (lambda **kw: LogisticRegression(**kw), df),
        "KMeans": (lambda **kw: KMeans(k=10, seed=1, **kw), df),
        "ALS": (lambda **kw: ALS(rank=bench_als.RANK, regParam=0.1, seed=1, **kw), ratings),
    }
    for name in ("LogisticRegression", "KMeans"):
        make, data = fits[name]

        def fingerprinted(interval, make=make, data=data):
            def fit():
                make(engine="barrier", checkpointInterval=interval).fit(data)
                return dict
            return fit
        timed = best_of({"on": fingerprinted(10), "off": fingerprinted(-1)}, rounds)
        results[f"{name}: checkpoints with fingerprint / off"] = _pair(timed, "on", "off")
    for name in ("LogisticRegression", "ALS"):
        make, data = fits[name]

        def encrypted(flag, make=make, data=data):
            def fit():
                spark.conf.set(ENCRYPT, flag)
                try:
                    make(engine="barrier", checkpointInterval=-1).fit(data)
                finally:
                    spark.conf.unset(ENCRYPT)
                return dict
            return fit
        timed = best_of({"true": encrypted("true"), "false": encrypted("false")}, rounds)
        results[f"{name}: encrypted / authenticated only"] = _pair(timed, "true", "false")
    report(f"Cost of the fingerprint and of encryption, barrier engine, "
           f"{spark.sparkContext.master}", results, out,
           {"rows": n, "features": d, "rounds": rounds, "ratings": bench_als.RATINGS})
    return results


def _pair(timed: dict, on: str, off: str) -> dict:
    a, b = timed[on]["seconds"], timed[off]["seconds"]
    return {"seconds": a, "seconds_without": b,
            "overhead_percent": round(100.0 * (a / b - 1.0), 2)}
