"""Random forests and gradient-boosted trees against scikit-learn (LocalEngine, no JVM).

References and tolerances (held-out quarter, random_state=0 split):
- RandomForestClassifier: scikit-learn's RandomForestClassifier with the same number of trees
  and depth (both draw sqrt(d) features per node and bootstrap samples), accuracy averaged
  over 5 seeds each, within 1 point, on breast cancer and digits.
- RandomForestRegressor: scikit-learn's RandomForestRegressor, same trees and depth,
  max_features = ceil(d / 3) (MLlib's "auto" for regression), R^2 averaged over 5 seeds,
  within 0.02 on diabetes.
- GBTClassifier: scikit-learn's GradientBoostingClassifier with the same depth, rounds and
  learning rate, accuracy within 1 point on breast cancer.
- GBTRegressor: scikit-learn's GradientBoostingRegressor running MLlib's boosting: its first
  tree fits the label with weight 1 (``init`` a tree of the same depth) and MLlib's squared
  loss has gradient 2(F - y), so the learning rate is 2 x stepSize. R^2 within 0.02 on
  diabetes. (scikit-learn's default boosting, starting from the mean, scores higher there, as
  it does against pyspark.ml's GBTRegressor: README, "Differences from pyspark.ml".)
"""
import math

import numpy as np
import pandas as pd
import pytest
from sklearn import ensemble
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits
from sklearn.metrics import r2_score
from sklearn.model_selection import train_test_split
from sklearn.tree import DecisionTreeRegressor as SkTree

from distml import (DataError, DecisionTreeClassifier, GBTClassifier, GBTRegressor, ParamError,
                    RandomForestClassifier, RandomForestRegressor)
from distml.algorithms.tree.growth import sample_counts
from distml.algorithms.tree.random_forest_program import features_per_node
from boosting import mllib_stopping_count

SEEDS = range(5)


def frame(X, y, **columns):
    return pd.DataFrame({"features": list(X), "label": np.asarray(y, dtype=float), **columns})


def split(loader):
    X, y = loader(return_X_y=True)
    return train_test_split(X, y, test_size=0.25, random_state=0)


def accuracy(model, X, y):
    return float((model.transform(frame(X, y))["prediction"].to_numpy() == y).mean())


def r2(model, X, y):
    return r2_score(y, model.transform(frame(X, y))["prediction"].to_numpy())


@pytest.mark.parametrize("loader", [load_breast_cancer, load_digits],
                         ids=["breast_cancer", "digits"])
def test_forest_classifier_within_a_point_of_scikit_learn(loader):
    X_train, X_test, y_train, y_test = split(loader)
    ours = np.mean([accuracy(RandomForestClassifier(numTrees=20, maxDepth=8, seed=s)
                             .fit(frame(X_train, y_train)), X_test, y_test) for s in SEEDS])
    theirs = np.mean([ensemble.RandomForestClassifier(n_estimators=20, max_depth=8,
                                                      random_state=s)
                      .fit(X_train, y_train).score(X_test, y_test) for s in SEEDS])
    assert abs(ours - theirs) <= 0.01, (ours, theirs)


def test_forest_regressor_within_002_r2_of_scikit_learn():
    X_train, X_test, y_train, y_test = split(load_diabetes)
    ours = np.mean([r2(RandomForestRegressor(numTrees=20, maxDepth=6, seed=s)
                       .fit(frame(X_train, y_train)), X_test, y_test) for s in SEEDS])
    theirs = np.mean([r2_score(y_test, ensemble.RandomForestRegressor(
        n_estimators=20, max_depth=6, max_features=math.ceil(X_train.shape[1] / 3),
        random_state=s).fit(X_train, y_train)
        .predict(X_test)) for s in SEEDS])
    assert abs(ours - theirs) <= 0.02, (ours, theirs)


def test_gbt_classifier_within_a_point_of_scikit_learn():
    X_train, X_test, y_train, y_test = split(load_breast_cancer)
    ours = accuracy(GBTClassifier(maxIter=50, maxDepth=3, stepSize=0.1)
                    .fit(frame(X_train, y_train)), X_test, y_test)
    theirs = ensemble.GradientBoostingClassifier(
        n_estimators=50, max_depth=3, learning_rate=0.1, random_state=0) \
        .fit(X_train, y_train).score(X_test, y_test)
    assert abs(ours - theirs) <= 0.01, (ours, theirs)


@pytest.mark.parametrize("depth, rounds, step", [(2, 50, 0.05), (3, 20, 0.1)])
def test_gbt_regressor_within_002_r2_of_scikit_learn_boosting_as_mllib(depth, rounds, step):
    X_train, X_test, y_train, y_test = split(load_diabetes)
    ours = r2(GBTRegressor(maxIter=rounds, maxDepth=depth, stepSize=step)
              .fit(frame(X_train, y_train)), X_test, y_test)
    theirs = r2_score(y_test, ensemble.GradientBoostingRegressor(
        n_estimators=rounds - 1, max_depth=depth, learning_rate=2 * step,
        init=SkTree(max_depth=depth), random_state=0).fit(X_train, y_train).predict(X_test))
    assert abs(ours - theirs) <= 0.02, (ours, theirs)


def test_one_tree_forest_without_sampling_is_the_decision_tree():
    X_train, _, y_train, _ = split(load_breast_cancer)
    data = frame(X_train, y_train)
    forest = RandomForestClassifier(numTrees=1, bootstrap=False, maxDepth=5).fit(data)
    tree = DecisionTreeClassifier(maxDepth=5).fit(data)
    for name, array in tree._nodes.items():
        np.testing.assert_array_equal(forest.trees[0]._nodes[name], array, err_msg=name)


def test_bagging_draws_poisson_and_bernoulli_multiplicities():
    positions = np.arange(200_000)
    poisson = sample_counts(7, 2, 0.7, True, positions).astype(float)
    assert poisson.shape == (2, positions.size)
    # Poisson(0.7): mean and variance 0.7, P(0) = exp(-0.7); 4 standard errors
    for row in poisson:
        assert abs(row.mean() - 0.7) < 4 * math.sqrt(0.7 / row.size)
        assert abs(row.var() - 0.7) < 0.01
        assert abs((row == 0).mean() - math.exp(-0.7)) < 0.005
    assert not np.array_equal(poisson[0], poisson[1])  # each tree its own sample
    bernoulli = sample_counts(7, 1, 0.3, False, positions)
    assert set(np.unique(bernoulli)) == {0, 1} and abs(bernoulli.mean() - 0.3) < 0.005
    assert (sample_counts(7, 3, 1.0, False, positions) == 1).all()
    # the draw is the row position's: any split of the rows draws the same
    np.testing.assert_array_equal(sample_counts(7, 2, 0.7, True, positions[1000:2000]),
                                  poisson[:, 1000:2000].astype(np.uint8))


@pytest.mark.parametrize("strategy, trees, classification, expected", [
    ("auto", 10, True, 6), ("auto", 10, False, 10), ("auto", 1, True, 30), ("all", 5, True, 30),
    ("sqrt", 5, False, 6), ("log2", 5, True, 5), ("onethird", 5, True, 10), ("7", 5, True, 7),
    ("0.25", 5, True, 8), ("1.0", 5, True, 30), ("50", 5, True, 30)])
def test_feature_subset_strategies_are_mllib_s(strategy, trees, classification, expected):
    assert features_per_node(strategy, 30, trees, classification) == expected


@pytest.mark.parametrize("strategy", ["half", "0", "-1", "1.5"])
def test_a_bad_feature_subset_strategy_is_a_param_error(strategy):
    X_train, _, y_train, _ = split(load_breast_cancer)
    with pytest.raises(ParamError, match="featureSubsetStrategy"):
        RandomForestClassifier(numTrees=2, featureSubsetStrategy=strategy).fit(
            frame(X_train, y_train))


def test_forest_nodes_split_only_on_their_drawn_features():
    """With one feature drawn per node, a forest's first splits spread over the features
    (the informative one alone would take every root without the draw)."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(500, 5))
    y = (X[:, 0] > 0).astype(float)
    forest = RandomForestClassifier(numTrees=30, maxDepth=1, featureSubsetStrategy="1",
                                    seed=3).fit(frame(X, y))
    roots = {int(t._nodes["feature"][0]) for t in forest.trees}
    assert len(roots) >= 4
    full = RandomForestClassifier(numTrees=5, maxDepth=1, featureSubsetStrategy="all",
                                  bootstrap=False).fit(frame(X, y))
    assert {int(t._nodes["feature"][0]) for t in full.trees} == {0}


def _tree_prediction(nodes, x) -> float:
    node = 0
    while nodes["feature"][node] >= 0:
        go_left = x[nodes["feature"][node]] <= nodes["threshold"][node]
        node = nodes["left"][node] if go_left else nodes["right"][node]
    weight, weighted_sum = nodes["stats"][node, 0], nodes["stats"][node, 1]
    return weighted_sum / weight


def _staged_squared_errors(model, X, y) -> list:
    total, losses = np.zeros(len(y)), []
    for tree, weight in zip(model.trees, model.treeWeights):
        total += weight * np.array([_tree_prediction(tree._nodes, x) for x in X])
        losses.append(float(np.mean((y - total) ** 2)))
    return losses


def test_gbt_early_stopping_keeps_the_trees_mllib_s_rule_picks():
    """validationIndicatorCol: the fit on all rows keeps the trees that a fit on the training
    rows alone grows, up to the best count by MLlib's rule, applied here to the validation
    losses evaluateEachIteration gives."""
    rng = np.random.default_rng(4)
    X_train = rng.uniform(-3, 3, size=(800, 3))
    y_train = 3 * np.sin(X_train[:, 0]) + X_train[:, 1] + rng.normal(0, 0.5, 800)
    held_out = rng.random(y_train.size) < 0.3
    tol, rounds = 0.01, 40
    alone = GBTRegressor(maxIter=rounds, maxDepth=2, stepSize=0.3).fit(
        frame(X_train[~held_out], y_train[~held_out]))
    # Reference losses computed here, not by distml's evaluateEachIteration: each tree walked
    # row by row from its node arrays, MLlib's squared error of the weighted sum so far.
    losses = _staged_squared_errors(alone, X_train[held_out], y_train[held_out])
    best = mllib_stopping_count(losses, tol)
    stopped = GBTRegressor(maxIter=rounds, maxDepth=2, stepSize=0.3, validationTol=tol,
                           validationIndicatorCol="held_out").fit(
        frame(X_train, y_train, held_out=held_out))
    kept = len(stopped.trees)
    assert kept != rounds, "every tree kept: the validation rows did not stop the fit"
    assert kept == best, (kept, best, losses)
    for ours, reference in zip(stopped.trees, alone.trees):
        np.testing.assert_allclose(ours._nodes["stats"], reference._nodes["stats"], rtol=1e-9,
                                   atol=1e-8)  # sums in another row order
        np.testing.assert_array_equal(ours._nodes["feature"], reference._nodes["feature"])


def test_evaluate_each_iteration_is_the_loss_of_the_partial_sums():
    X_train, X_test, y_train, y_test = split(load_breast_cancer)
    model = GBTClassifier(maxIter=5, maxDepth=2).fit(frame(X_train, y_train))
    losses = model.evaluateEachIteration(frame(X_test, y_test))
    margins = np.zeros(y_test.size)
    for k, (tree, weight) in enumerate(zip(model.trees, model.treeWeights)):
        margins += weight * np.array([tree.predict(x) for x in X_test])
        expected = np.mean(2 * np.log1p(np.exp(-2 * (2 * y_test - 1) * margins)))
        assert losses[k] == pytest.approx(expected, rel=1e-12)
    # and the model's probability is the logistic of twice the margin (MLlib's)
    raw = model.predictRaw(X_test[0])
    assert model.predictProbability(X_test[0])[1] == pytest.approx(
        1 / (1 + np.exp(-2 * raw[1])), rel=1e-12)
    assert raw[1] == pytest.approx(margins[0], rel=1e-12)


def test_gbt_classifier_refuses_more_than_two_classes():
    X_train, _, y_train, _ = split(load_digits)
    with pytest.raises(DataError, match="binary classification only.*10 classes"):
        GBTClassifier(maxIter=2).fit(frame(X_train, y_train))


def test_forest_subsampling_gives_different_trees_and_importances_sum_to_one():
    X_train, _, y_train, _ = split(load_breast_cancer)
    forest = RandomForestClassifier(numTrees=4, maxDepth=4, subsamplingRate=0.5, seed=2).fit(
        frame(X_train, y_train))
    roots = [t._nodes["stats"][0, -1] for t in forest.trees]  # rows drawn per tree
    assert len(set(roots)) == 4 and all(0.3 * y_train.size < r < 0.7 * y_train.size
                                         for r in roots)
    assert forest.featureImportances.toArray().sum() == pytest.approx(1.0)
    # MLlib's forest importances: per-tree normalized importances, summed, normalized
    per_tree = sum(t.featureImportances.toArray() for t in forest.trees)
    np.testing.assert_allclose(forest.featureImportances.toArray(),
                               per_tree / per_tree.sum(), rtol=1e-12)
