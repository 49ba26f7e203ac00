"""The ``distml`` command: train, predict, evaluate and describe, for schedulers and shells.

    distml train --spec SPEC --input PATH --output DIR [--test PATH] [--overwrite]
    distml predict --model DIR --input PATH --output PATH [--overwrite]
    distml predict --stream --model DIR --input FOLDER --output FOLDER [--checkpoint DIR]
                   [--interval SECONDS] [--overwrite]
    distml evaluate --model DIR --input PATH [--metrics m1,m2]
    distml describe --model DIR [--remote sc://HOST:PORT]
    distml entry        # prints the file spark-submit runs: spark-submit [opts] FILE train ...

Inputs are parquet (a file or folder), CSV (header row, types inferred) or LibSVM, told by the
extension or ``--format``. Without ``--master`` a command runs on an embedded local Spark
session (``local[*]``), or on spark-submit's when run through it; with ``--remote sc://...`` it
runs as a Spark Connect client of that server, and every path names the cluster's storage.
A failure prints one line,
``distml: error: ...``, and exits non-zero: 2 for a bad spec or arguments, 3 for a missing
input or model, 4 for an output that exists (without ``--overwrite``), 1 for bad data or any
other failure. Outputs appear whole or not at all: models and predictions are written beside
their target and renamed into place (over Connect, which cannot rename, Spark's writers write
them in place and a failed one is removed). ``predict --stream`` scores the files landing in a
folder through Structured Streaming (``distml.cli.stream``): there Spark's checkpoint and
sink log make each committed batch appear whole.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import sys
import uuid
from typing import Any

from distml.cli.errors import EXIT_ERROR, EXIT_EXISTS, EXIT_MISSING, EXIT_USAGE, CommandError
from distml.cli.spec import JobSpec, SpecError, load_spec
from distml.errors import DataError, ParamError, PersistenceError

FORMATS = ("parquet", "csv", "libsvm")


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    _log_to_stderr()
    if args.command == "entry":
        from distml.cli import submit
        print(submit.__file__)
        return 0
    try:
        if getattr(args, "remote", None):
            _session(args)  # first: over Connect, even the path checks go through the server
        return _COMMANDS[args.command](args)
    except CommandError as e:
        return _fail(str(e), e.code)
    except SpecError as e:
        return _fail(str(e), EXIT_USAGE)
    except (DataError, ParamError, PersistenceError) as e:
        return _fail(str(e), EXIT_ERROR)
    except Exception as e:  # the scheduler gets one line; the traceback goes to the log
        logging.getLogger("distml").debug("distml command failed", exc_info=True)
        return _fail(f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}",
                     EXIT_ERROR)


def _log_to_stderr() -> None:
    """distml's INFO lines (a fit's progress among them) on stderr, as a job's log wants,
    unless something set up the distml logger already."""
    logger = logging.getLogger("distml")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False


def _fail(message: str, code: int) -> int:
    print(f"distml: error: {message}", file=sys.stderr)
    return code


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="distml", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    def session(p):
        where = p.add_mutually_exclusive_group()
        where.add_argument("--master",
                           help="Spark master (default: local[*], or spark-submit's)")
        where.add_argument("--remote", metavar="sc://HOST:PORT",
                           help="run as a Spark Connect client of this server")

    def common(p, output=True):
        session(p)
        p.add_argument("--format", choices=FORMATS, help="input format (default: by extension)")
        if output:
            p.add_argument("--overwrite", action="store_true", help="replace an existing output")

    train = sub.add_parser("train", help="fit a spec's pipeline and save the model")
    train.add_argument("--spec", required=True, help="job spec, YAML or JSON")
    train.add_argument("--input", required=True, help="training data")
    train.add_argument("--output", required=True, help="model directory to create")
    train.add_argument("--test", help="held-out data for the metrics (default: the input)")
    common(train)
    predict = sub.add_parser("predict", help="apply a saved model to a dataset")
    predict.add_argument("--model", required=True)
    predict.add_argument("--input", required=True)
    predict.add_argument("--output", required=True, help="parquet output to create")
    predict.add_argument("--stream", action="store_true",
                         help="read the input folder as a stream of landing files")
    predict.add_argument("--checkpoint", help="the stream's checkpoint folder "
                         "(default: OUTPUT.checkpoint)")
    predict.add_argument("--interval", type=_positive_seconds, metavar="SECONDS",
                         help="score new files this often until stopped (default: score "
                         "the files present, then exit)")
    common(predict)
    evaluate = sub.add_parser("evaluate", help="a saved model's metrics on a dataset")
    evaluate.add_argument("--model", required=True)
    evaluate.add_argument("--input", required=True)
    evaluate.add_argument("--metrics", help="comma-separated metric names (default: by model)")
    evaluate.add_argument("--label", help="label column (default: the model's)")
    common(evaluate, output=False)
    describe = sub.add_parser("describe", help="print a saved model's stages, params, metrics")
    describe.add_argument("--model", required=True)
    describe.add_argument("--remote", metavar="sc://HOST:PORT",
                          help="read the model through this Spark Connect server")
    sub.add_parser("entry", help="print the entry file for spark-submit")
    return parser


# --- commands -----------------------------------------------------------------------------------

def _train(args) -> int:
    spec = load_spec(args.spec)
    _check_output(args.output, args.overwrite)
    spark = _session(args)
    train = _read(spark, args.input, args.format)
    test = _read(spark, args.test, args.format) if args.test else train
    pipeline = _pipeline(spec)
    model = pipeline.fit(train)
    metrics = _metrics(model, test, spec.metrics, spec.label)
    report = {"metrics": metrics, "input": args.input, "test": args.test or args.input,
              "spec": os.path.abspath(args.spec)}
    # The metrics go in place first, through the model's filesystem, and are taken back if
    # the model's save fails: a failure leaves neither (nor a stale pair) behind.
    with _placed(_metrics_path(args.output), json.dumps(report, indent=2).encode()):
        model.write().overwrite().save(args.output) if args.overwrite \
            else model.save(args.output)
    print(json.dumps({"model": args.output, "metrics": metrics}))
    return 0


def _predict(args) -> int:
    if args.stream:
        return _predict_stream(args)
    if args.checkpoint or args.interval:
        raise CommandError("--checkpoint and --interval go with --stream", EXIT_USAGE)
    _check_output(args.output, args.overwrite)
    model = _load_model(args.model)
    spark = _session(args)
    out = model.transform(_read(spark, args.input, args.format))
    _write_parquet(out, args.output, args.overwrite)
    print(json.dumps({"predictions": args.output}))
    return 0


def _predict_stream(args) -> int:
    from distml.cli import stream
    model = _load_model(args.model)
    spark = _session(args)
    if not _exists(args.input):
        raise CommandError(f"input '{args.input}' not found", EXIT_MISSING)
    checkpoint = stream.checkpoint_of(args.output, args.checkpoint)
    source = stream.read_stream(spark, args.input, args.format or _format_of(args.input))
    with stream.prepared_output(args.output, checkpoint, args.overwrite):
        done = stream.run_query(model.transform(source), args.output, checkpoint,
                                args.interval)
    print(json.dumps({"predictions": args.output, "checkpoint": checkpoint, **done}))
    return 0


def _evaluate(args) -> int:
    model = _load_model(args.model)
    spark = _session(args)
    names = args.metrics.split(",") if args.metrics else None
    print(json.dumps(_metrics(model, _read(spark, args.input, args.format), names, args.label)))
    return 0


def _describe(args) -> int:
    model = _load_model(args.model)
    stages = getattr(model, "stages", [model])
    described = {"class": f"{type(model).__module__}.{type(model).__name__}",
                 "stages": [{"class": type(s).__name__, "uid": s.uid,
                             "params": {p.name: _plain(v) for p, v in s._paramMap.items()}}
                            for s in stages]}
    from distml.frames.hadoop_fs import filesystem
    fs, saved = filesystem(_metrics_path(args.model))
    if fs.exists(saved):
        described["metrics"] = json.loads(fs.read_bytes(saved))["metrics"]
    print(json.dumps(described, indent=2))
    return 0


_COMMANDS = {"train": _train, "predict": _predict, "evaluate": _evaluate,
             "describe": _describe}


# --- plumbing -----------------------------------------------------------------------------------

def _session(args):
    from pyspark.sql import SparkSession

    from distml.frames import local_session
    if args.remote:
        if not args.remote.startswith("sc://"):
            raise CommandError(f"--remote '{args.remote}' is not a Spark Connect address "
                               "(sc://host:port)", EXIT_USAGE)
        return SparkSession.builder.remote(args.remote).getOrCreate()
    if args.master is None and os.environ.get("PYSPARK_GATEWAY_PORT"):  # under spark-submit
        return SparkSession.builder.getOrCreate()
    return local_session(args.master or "local[*]", app_name="distml")


def _read(spark, path: str, fmt: str | None):
    if not _exists(path):
        raise CommandError(f"input '{path}' not found", EXIT_MISSING)
    fmt = fmt or _format_of(path)
    if fmt == "csv":
        return spark.read.csv(path, header=True, inferSchema=True)
    if fmt == "libsvm":
        return spark.read.format("libsvm").load(path)
    return spark.read.parquet(path)


def _positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not value > 0:
        raise argparse.ArgumentTypeError(f"'{text}' is not a positive number of seconds")
    return value


def _format_of(path: str) -> str:
    lowered = path.rstrip("/").lower()
    if lowered.endswith(".csv"):
        return "csv"
    if lowered.endswith((".libsvm", ".svm")):
        return "libsvm"
    return "parquet"


def _exists(path: str) -> bool:
    from distml.frames.hadoop_fs import filesystem
    fs, target = filesystem(path)
    return fs.exists(target)


def _check_output(path: str, overwrite: bool) -> None:
    if _exists(path) and not overwrite:
        raise CommandError(f"output '{path}' exists; pass --overwrite to replace it",
                           EXIT_EXISTS)


def _load_model(path: str):
    if not _exists(path):
        raise CommandError(f"model '{path}' not found", EXIT_MISSING)
    from distml.pipeline.persistence import load_instance, raw_metadata
    from distml.pipeline.pipeline import PipelineModel
    meta = raw_metadata(path)
    if meta["class"].endswith("PipelineModel"):
        return PipelineModel.load(path)
    return load_instance(path)


def _pipeline(spec: JobSpec):
    from distml.pipeline import Pipeline
    from distml.pipeline.feature import VectorAssembler
    stages = list(spec.stages)
    if spec.features:
        stages.insert(0, VectorAssembler(inputCols=spec.features, outputCol="features"))
    if spec.label is not None:
        for stage in stages:
            if stage.hasParam("labelCol"):
                stage._set(labelCol=spec.label)
    return Pipeline(stages=stages)


def _metrics(model, data, names: list[str] | None, label: str | None) -> dict:
    """The named metrics (or the defaults for the last stage's kind) of ``model`` on ``data``."""
    from distml.pipeline import evaluation
    last = model.stages[-1] if hasattr(model, "stages") else model
    label = label or (last.getOrDefault("labelCol") if last.hasParam("labelCol") else None)
    scored = model.transform(data)
    evaluators = {
        "accuracy": lambda: evaluation.MulticlassClassificationEvaluator(metricName="accuracy"),
        "f1": lambda: evaluation.MulticlassClassificationEvaluator(metricName="f1"),
        "areaUnderROC": lambda: evaluation.BinaryClassificationEvaluator(),
        "areaUnderPR": lambda: evaluation.BinaryClassificationEvaluator(
            metricName="areaUnderPR"),
        "rmse": lambda: evaluation.RegressionEvaluator(metricName="rmse"),
        "r2": lambda: evaluation.RegressionEvaluator(metricName="r2"),
        "mae": lambda: evaluation.RegressionEvaluator(metricName="mae"),
        "silhouette": lambda: evaluation.ClusteringEvaluator(),
    }
    if names is None:
        names = _default_metrics(last, scored)
    unknown = [n for n in names if n not in evaluators]
    if unknown:
        raise SpecError(f"unknown metric '{unknown[0]}'; choose from {sorted(evaluators)}")
    out = {}
    for name in names:
        evaluator = evaluators[name]()
        for param, column in (("labelCol", label),
                              ("predictionCol", _param(last, "predictionCol")),
                              ("rawPredictionCol", _param(last, "rawPredictionCol")),
                              ("featuresCol", _param(last, "featuresCol"))):
            if column is not None and evaluator.hasParam(param):
                evaluator._set(**{param: column})
        out[name] = float(evaluator.evaluate(scored))
    return out


def _param(stage, name: str) -> Any:
    return stage.getOrDefault(name) if stage.hasParam(name) else None


def _default_metrics(last, scored) -> list[str]:
    columns = set(scored.columns)
    if last.hasParam("rawPredictionCol") and last.getOrDefault("rawPredictionCol") in columns:
        classes = getattr(last, "numClasses", None)
        return ["accuracy", "f1"] + (["areaUnderROC"] if classes == 2 else [])
    if last.hasParam("labelCol") and last.hasParam("predictionCol"):
        return ["rmse", "r2"]
    if last.hasParam("featuresCol") and last.hasParam("predictionCol"):
        return ["silhouette"]
    return []


def _metrics_path(model_dir: str) -> str:
    return model_dir.rstrip("/") + ".metrics.json"


@contextlib.contextmanager
def _placed(path: str, data: bytes):
    """``data`` at ``path`` (written beside it, then renamed) for the block's duration: if the
    block fails, ``path`` holds what it held before."""
    from distml.frames.hadoop_fs import filesystem
    fs, target = filesystem(path)
    if not fs.can_rename:
        yield from _placed_in_place(fs, target, data)
        return
    tmp = f"{target}.distml-tmp-{uuid.uuid4().hex[:8]}"
    old = f"{target}.distml-old-{uuid.uuid4().hex[:8]}"
    fs.write_bytes(tmp, data)
    had_old = fs.exists(target)
    if had_old:
        fs.rename(target, old)
    fs.rename(tmp, target)
    try:
        yield
    except BaseException:
        fs.delete(target)
        if had_old:
            fs.rename(old, target)
        raise
    if had_old:
        fs.delete(old)


def _placed_in_place(fs, target: str, data: bytes):
    """``_placed`` without a rename (Spark Connect): the old file goes first."""
    fs.delete(target)
    fs.write_text(target, data.decode())
    try:
        yield
    except BaseException:
        fs.delete(target)
        raise


def _write_parquet(df, path: str, overwrite: bool) -> None:
    from distml.frames.hadoop_fs import filesystem, swap_into_place
    fs, target = filesystem(path)
    if not fs.can_rename:  # Spark Connect: Spark's writer, in place
        fs.write_dataframe(df, target, overwrite)
        return
    tmp = f"{target.rstrip('/')}.distml-tmp-{uuid.uuid4().hex[:12]}"
    try:
        df.write.parquet(tmp)
        if fs.exists(target) and overwrite:
            swap_into_place(fs, tmp, target)  # the old output goes only once the new is in
        else:
            fs.rename(tmp, target)
    except BaseException:
        if fs.exists(tmp):
            fs.delete(tmp)
        raise


def _plain(value: Any) -> Any:
    try:
        json.dumps(value)
        return value
    except TypeError:
        return str(value)


if __name__ == "__main__":
    sys.exit(main())
