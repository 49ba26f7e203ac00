"""Model selection in one engine run: every fold x param map fitted and scored on the ranks.

pyspark.ml's CrossValidator filters the DataFrame per fold, fits each param map on the
training rows (each fit a Spark job that ingests its rows again), then scores the held-out
rows with a Python or JVM pass and an evaluator job. Here the rows are ingested once and the
whole procedure is one training program (``model_selection``):

- fold membership is a hash of each row's global position and the seed
  (``engine.row_views``), or the fold column; each fold's training rows are a view of the
  partitions already on the ranks;
- each (fold, param map) fit is the estimator's own training program on that view; within a
  fold the estimator may order the param maps as a path and start each fit from the one
  before (``Estimator._path_order``/``_warm_start``: LogisticRegression's regularization
  path);
- the held-out rows are scored by the model's array function (``Model._scores``) on the rank
  that holds them and reduced to the evaluator's sums (``Evaluator.partition_sums``); only
  the sums cross;
- the best param map is refitted on all rows in the same run.

``plan`` decides whether a validator can run this way; when it cannot (another estimator,
evaluator or stage) the caller falls back to pyspark.ml's procedure and logs why.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Callable

import numpy as np
from pyspark.ml import Estimator as _SparkEstimator
from pyspark.ml import Pipeline as _SparkPipeline
from pyspark.ml import PipelineModel as _SparkPipelineModel
from pyspark.ml import evaluation as spark_evaluation

from distml.engine.context import Context, run_program
from distml.engine.fit import fit_program
from distml.engine.row_views import RowGroups, RowView, ViewContext, forget, partition_offsets
from distml.frames import InputSpec
from distml.pipeline import evaluation
from distml.pipeline.base import Estimator


@dataclass
class RankFit:
    """One param map's fit, as the ranks run it."""

    estimator: Any    # the estimator with the param map applied (it builds the model)
    program: Callable
    params: dict
    features: str


@dataclass
class Plan:
    """What the run needs: the fits, the rows read, the evaluator, the data they are read from
    (for a Pipeline, the input with the stages before the estimator applied, once), and those
    stages."""

    fits: list
    spec: InputSpec
    evaluator: Any
    dataset: Any
    prefix: list
    pipeline: Any = None


def plan(estimator: Any, param_maps: list, evaluator: Any, dataset: Any,
         fold_col: str = "") -> tuple[Plan | None, str]:
    """(the plan, "") when the validator can run on the ranks, else (None, why not)."""
    prefix, final, pipeline = [], estimator, None
    if isinstance(estimator, _SparkPipeline):
        stages = estimator.getStages()
        if not stages:
            return None, "the Pipeline has no stages"
        prefix, final, pipeline = list(stages[:-1]), stages[-1], estimator
        fitted = [s for s in prefix if isinstance(s, _SparkEstimator)]
        if fitted:
            return None, (f"the Pipeline's stage {type(fitted[0]).__name__} is an estimator, "
                          "fitted per fold")
        foreign = [p for m in param_maps for p in m if p.parent != final.uid]
        if foreign:
            return None, f"a param map sets {foreign[0].name} of a stage before the last"
    if not isinstance(final, Estimator) or not final._tunes_on_ranks:
        return None, f"{type(final).__name__} does not run its fits on a subset of the rows"
    evaluator = _distml_evaluator(evaluator)
    if evaluator is None or evaluator.scored_inputs() is None:
        return None, "the evaluator's metric is not computed on the ranks"
    chosen = [final.copy(param_map) for param_map in param_maps or [{}]]
    for candidate in chosen:
        why = _columns_disagree(candidate, evaluator)
        if why:
            return None, why
    if len({c._input_spec() for c in chosen}) > 1:
        return None, "the param maps read different columns (one ingestion reads one set)"
    if prefix:
        dataset = _pipeline_model(pipeline, prefix).transform(dataset)
    fits = [RankFit(c, c._training_program(), c._all_program_params(dataset),
                    c._input_spec().features_name) for c in chosen]
    spec = chosen[0]._input_spec()
    if fold_col:
        if spec.id is not None:
            return None, "the estimator reads an id column; foldCol cannot ride along"
        spec = replace(spec, id=fold_col)
    return Plan(fits, spec, evaluator, dataset, prefix, pipeline), ""


def _distml_evaluator(evaluator: Any) -> Any:
    """distml's evaluator, or its equivalent for one of pyspark.ml's (same params, same
    metrics; distml's curves are exact where MLlib's down-sample, ``numBins``)."""
    if isinstance(evaluator, evaluation.Evaluator):
        return evaluator
    twins = {spark_evaluation.BinaryClassificationEvaluator:
             evaluation.BinaryClassificationEvaluator,
             spark_evaluation.MulticlassClassificationEvaluator:
             evaluation.MulticlassClassificationEvaluator,
             spark_evaluation.RegressionEvaluator: evaluation.RegressionEvaluator}
    twin = twins.get(type(evaluator))
    if twin is None:
        return None
    converted = twin()
    for param, value in evaluator.extractParamMap().items():
        if converted.hasParam(param.name) and value is not None:
            converted._set(**{param.name: value})
    return converted


def _columns_disagree(estimator: Any, evaluator: Any) -> str:
    """Why the evaluator would read other columns than the model writes, or ""."""
    if evaluator.getOrDefault("labelCol") != estimator.getOrDefault("labelCol"):
        return "the evaluator reads another label column than the estimator"
    weight = evaluator.weight_col()
    if weight is not None and weight != estimator._input_spec().weight:
        return f"the evaluator weighs rows by '{weight}', which the estimator does not read"
    for output, column in evaluator.scored_inputs().values():
        name = output + "Col"
        if not estimator.hasParam(name) or estimator.getOrDefault(name) != column:
            return f"the evaluator reads '{column}', which the model does not write as {output}"
    return ""


def run(plan_: Plan, rows: dict, splits: list, collect_sub_models: bool, label: str) -> dict:
    """Run the plan on the first fit's engine: {"metrics" (splits x fits), "best", "model",
    "subModels" (splits x fits, or None)}."""
    first = plan_.fits[0].estimator
    params = {"fits": plan_.fits, "rows": rows, "splits": splits,
              "order": first._path_order([f.estimator.extractParamMap() for f in plan_.fits]),
              "evaluator": plan_.evaluator, "subModels": collect_sub_models}
    result = fit_program(model_selection, params, plan_.dataset, plan_.spec, first.getEngine(),
                         first.getNumWorkers(), label=label)
    values = result.values
    best = int(values["best"])

    def model(index: int, fit_values: dict, rows=None, summarized: bool = False) -> Any:
        # Only the refit has a training summary: a sub model's would describe all rows,
        # not the fold it was trained on (its trainingInfo counts the fold's rows: ``rows``).
        fit = plan_.fits[index].estimator
        made = fit._model_from_result(
            replace(result, values=fit_values, summary=rows or result.summary),
            plan_.dataset, summarized)
        return made if plan_.pipeline is None else \
            _pipeline_model(plan_.pipeline, plan_.prefix + [made])

    subs = values["subValues"]
    return {"metrics": values["metrics"], "best": best,
            "model": model(best, values["bestValues"], summarized=True),
            "subModels": None if subs is None else
            [[model(i, v, rows) for i, (v, rows) in enumerate(row)] for row in subs]}


def _pipeline_model(pipeline: Any, stages: list) -> Any:
    """A PipelineModel of ``stages``, distml's for distml's Pipeline."""
    from distml.pipeline.pipeline import Pipeline, PipelineModel
    return (PipelineModel if isinstance(pipeline, Pipeline) else _SparkPipelineModel)(stages)


def best_index(metrics: np.ndarray, larger_is_better: bool) -> int:
    return int(np.argmax(metrics) if larger_is_better else np.argmin(metrics))


# --- on the ranks ------------------------------------------------------------------------------

def model_selection(ctx: Context, params: dict) -> dict:
    """The training program of a model selection: every split x fit, then the best refitted."""
    fits, evaluator, splits = params["fits"], params["evaluator"], params["splits"]
    rows = RowGroups(offsets=partition_offsets(ctx.input.rows_per_partition), **params["rows"])
    metrics = np.zeros((len(splits), len(fits)))
    sub_values = [[None] * len(fits) for _ in splits] if params["subModels"] else None
    for s, group in enumerate(splits):
        train, held_out = RowView(rows, group, inside=False), RowView(rows, group, inside=True)
        previous = None
        for step, i in enumerate(params["order"]):
            fit, name = fits[i], f"{s}.{i}"
            program_params = fit.params if previous is None else \
                {**fit.params, **fit.estimator._warm_start(previous)}
            fitted = run_program(fit.program, ViewContext(ctx, train, name), program_params,
                                 fit.features)
            values = fitted.values
            forget(ctx, keep=(train, held_out), fit=name)
            sums = ctx.map_collect(_held_out_sums, held_out, fit.estimator, values, evaluator)
            metrics[s, i] = evaluator.metric_from(sums)
            ctx.report(fit=s * len(fits) + step + 1, split=s, paramMap=i,
                       metric=float(metrics[s, i]))
            previous = values
            if sub_values is not None:
                sub_values[s][i] = (values, fitted.summary)
        forget(ctx)
    best = best_index(metrics.mean(axis=0), evaluator.isLargerBetter())
    refit = run_program(fits[best].program, ctx, fits[best].params, fits[best].features)
    return {"metrics": metrics, "best": np.int64(best), "bestValues": refit.values,
            "bestHistory": refit.history, "subValues": sub_values}


def _held_out_sums(part, held_out: RowView, estimator: Any, values: dict, evaluator: Any):
    """The evaluator's sums over this partition's held-out rows, scored by the fit's model."""
    rows = held_out.of(part)
    wanted = {key: output for key, (output, _) in evaluator.scored_inputs().items()}
    scores = estimator._model_from_values(values)._scores(frozenset(wanted.values()))(rows.X)
    arrays = {"y": rows.y, **{key: scores[output] for key, output in wanted.items()}}
    if evaluator.weight_col() is not None:
        arrays["w"] = rows.w
    return evaluator.partition_sums(arrays)
