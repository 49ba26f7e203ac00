"""ALS fit: distml (barrier, jobs) vs pyspark.ml, explicit feedback.

1,250,000 ratings of 20,000 users x 10,000 items, a rank-10 matrix (user factors
N(0, 1/10), item factors N(0, 1)) plus N(0, 0.5^2) noise, split 80/20 (seeds stated), so each
fit trains on ~1,000,000 ratings; rank 10, regParam 0.1, maxIter 10 for both (pyspark.ml's
defaults). Held-out RMSE is computed after the clock stops by each model's own ``transform``
and pyspark.ml's RegressionEvaluator, cold-start rows dropped. scikit-learn has no ALS. The
sizes are fixed: ``--rows`` and ``--features`` do not apply.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from pyspark.ml.evaluation import RegressionEvaluator
from pyspark.ml.recommendation import ALS as SparkALS

from benchmarks.common import add_speedups, best_of, report
from distml import ALS

USERS, ITEMS, RANK = 20_000, 10_000, 10
RATINGS = 1_250_000


def ratings_frame(spark, count: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    U = rng.normal(scale=RANK ** -0.5, size=(USERS, RANK))
    V = rng.normal(scale=1.0, size=(ITEMS, RANK))
    flat = rng.choice(USERS * ITEMS, count, replace=False)
    user, item = flat // ITEMS, flat % ITEMS
    rating = (U[user] * V[item]).sum(axis=1) + rng.normal(0.0, 0.5, count)
    frame = pd.DataFrame({"user": user.astype(np.int32), "item": item.astype(np.int32),
                          "rating": rating})
    spark.conf.set("spark.sql.execution.arrow.pyspark.enabled", "true")
    df = spark.createDataFrame(frame).repartition(spark.sparkContext.defaultParallelism)
    train, test = df.randomSplit([0.8, 0.2], seed=7)
    train, test = train.cache(), test.cache()
    train.count(), test.count()
    return train, test


def run(spark, n: int, d: int, rounds: int, out: str) -> dict:
    train, test = ratings_frame(spark, RATINGS)
    rmse = RegressionEvaluator(metricName="rmse", labelCol="rating")
    params = dict(rank=RANK, regParam=0.1, maxIter=10, seed=1, coldStartStrategy="drop")

    def quality(model):
        return lambda: {"heldout_rmse": rmse.evaluate(model.transform(test))}

    def distml(engine):
        return lambda: quality(ALS(engine=engine, **params).fit(train))

    def pyspark_ml():
        return quality(SparkALS(**params).fit(train))

    results = best_of({"distml (barrier)": distml("barrier"), "distml (jobs)": distml("jobs"),
                       "pyspark.ml": pyspark_ml}, rounds)
    add_speedups(results)
    trained = train.count()
    report(f"ALS fit, {trained:,} ratings ({USERS:,} users x {ITEMS:,} items), rank {RANK}, "
           f"10 iterations, {spark.sparkContext.master}", results, out,
           {"ratings_trained": trained, "ratings_held_out": test.count(), "users": USERS,
            "items": ITEMS, "rank": RANK, "rounds": rounds})
    return results
