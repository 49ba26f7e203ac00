"""Recommendation on Spark: ALS on a synthetic low-rank rating matrix, held-out RMSE, and each
user's top items.

    spark-submit examples/recommendation.py          # or: python examples/recommendation.py
"""
import argparse

import numpy as np
import pandas as pd

from _session import session
from distml import ALS, RegressionEvaluator

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--master")
parser.add_argument("--ratings", type=int, default=50_000)
args = parser.parse_args()
spark = session(args.master)
rng = np.random.default_rng(0)

users, items = rng.normal(size=(1000, 4)), rng.normal(size=(500, 4))
pairs = rng.choice(1000 * 500, args.ratings, replace=False)
u, i = pairs // 500, pairs % 500
ratings = spark.createDataFrame(pd.DataFrame({
    "user": u.astype(np.int32), "item": i.astype(np.int32),
    "rating": (users[u] * items[i]).sum(axis=1) + rng.normal(0, 0.3, args.ratings)}))
train, test = ratings.randomSplit([0.8, 0.2], seed=0)
model = ALS(rank=4, regParam=0.05, maxIter=10, coldStartStrategy="drop", seed=1).fit(train)
rmse = RegressionEvaluator(labelCol="rating").evaluate(model.transform(test))
print(f"ALS held-out rmse {rmse:.3f}")
for row in model.recommendForAllUsers(3).orderBy("user").limit(3).collect():
    print(f"  user {row['user']}: items {[r['item'] for r in row['recommendations']]}")
