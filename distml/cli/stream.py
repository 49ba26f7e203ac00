"""``distml predict --stream``: a saved model scoring the files that land in a folder.

The input folder is read as a Structured Streaming file source and the model's transform is
written to a parquet sink with a checkpoint. Without ``--interval`` the query takes every file
present that an earlier run did not (``trigger(availableNow=True)``) and the command exits, the
form a scheduler runs every hour; with ``--interval SECONDS`` it scores a micro-batch that
often until it is stopped (SIGTERM or Ctrl-C), as a long-running job.

What makes a rerun safe is Spark's, not distml's: the checkpoint records which files were
scored, and the parquet sink's log (``_spark_metadata``) which output files are committed, so a
reader through Spark sees each input row once, never a failed batch's files. An output folder
with no checkpoint of its own would break that (a new checkpoint restarts the batch numbers
the sink's log has seen), so it is refused unless ``--overwrite`` starts both over.
"""
from __future__ import annotations

import contextlib
import re
import signal
import threading
from typing import Any

from distml.cli.errors import EXIT_EXISTS, EXIT_MISSING, EXIT_USAGE, CommandError
from distml.errors import DataError
from distml.frames.hadoop_fs import filesystem


def checkpoint_of(output: str, checkpoint: str | None) -> str:
    """The checkpoint folder: the one given, else beside the output (as the model's metrics
    file is beside the model)."""
    return checkpoint or output.rstrip("/") + ".checkpoint"


@contextlib.contextmanager
def prepared_output(output: str, checkpoint: str, overwrite: bool):
    """Refuse an output the checkpoint does not account for, and on ``overwrite`` remove both.
    A query that fails before its output existed takes both away again: nothing is left
    half-written. One that fails resuming leaves them, for the rerun to retry its batch."""
    (out_fs, out_path), (ck_fs, ck_path) = filesystem(output), filesystem(checkpoint)
    if overwrite:
        out_fs.delete(out_path)
        ck_fs.delete(ck_path)
    elif out_fs.exists(out_path) and not ck_fs.exists(ck_path):
        raise CommandError(f"output '{output}' exists but its checkpoint '{checkpoint}' does "
                           "not; pass the --checkpoint of the query that wrote it, or "
                           "--overwrite to start both over", EXIT_EXISTS)
    fresh = not out_fs.exists(out_path) and not ck_fs.exists(ck_path)
    try:
        yield
    except BaseException:
        if fresh:
            out_fs.delete(out_path)
            ck_fs.delete(ck_path)
        raise


def read_stream(spark, path: str, fmt: str):
    """The folder as a file stream, with the schema of the files already there (a file
    stream needs one given, and inferring it per batch could change it mid-stream)."""
    if fmt == "libsvm":
        raise CommandError("--stream reads parquet or CSV folders; Spark's libsvm source "
                           "cannot be read as a stream", EXIT_USAGE)
    fs, target = filesystem(path)
    if not fs.is_folder(target):
        raise CommandError(f"input '{path}' is a file; --stream reads the folder that files "
                           "land in", EXIT_USAGE)
    if fmt == "csv":
        schema = spark.read.csv(path, header=True, inferSchema=True).schema
        return spark.readStream.schema(schema).csv(path, header=True)
    try:
        schema = spark.read.parquet(path).schema
    except Exception as e:  # an empty folder: nothing to take the schema from
        if "UNABLE_TO_INFER_SCHEMA" not in str(e):
            raise
        raise CommandError(f"input '{path}' has no parquet files yet to take the schema "
                           "from; start the stream once the first file has landed",
                           EXIT_MISSING) from None
    return spark.readStream.schema(schema).parquet(path)


def run_query(scored, output: str, checkpoint: str, interval: float | None) -> dict[str, Any]:
    """Write ``scored`` to the parquet sink until the files present are done (no interval)
    or the process is told to stop; the rows and batches it scored."""
    writer = (scored.writeStream.format("parquet").option("path", output)
              .option("checkpointLocation", checkpoint))
    writer = writer.trigger(availableNow=True) if interval is None else \
        writer.trigger(processingTime=f"{interval} seconds")
    query, stop = writer.start(), threading.Event()
    with _signals_set(stop):
        try:
            while not query.awaitTermination(1):
                if stop.is_set():
                    query.stop()  # between batches' commits: the next run goes on from there
        except Exception as e:  # the query failed: its cause, in one line
            raise DataError(f"the stream stopped: {_cause(e)}") from None
    # A classic session's progress reads as a dict, a Connect one's by attribute.
    rows = [int(getattr(p, "numInputRows", None) or p.get("numInputRows") or 0)
            for p in query.recentProgress]
    return {"rows": sum(rows), "batches": sum(1 for n in rows if n)}


@contextlib.contextmanager
def _signals_set(stop: threading.Event):
    """SIGTERM (a scheduler's stop) and SIGINT set ``stop`` while the query runs, so the
    command stops it and ends normally rather than dying mid-batch."""
    saved = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            saved[sig] = signal.signal(sig, lambda *_: stop.set())
    try:
        yield
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)


_STREAM_PREFIX = re.compile(r"^\[STREAM_FAILED\][^:]*terminated with exception:\s*")
_JVM_NOISE = (re.compile(r"^.*failed due to: "),  # a JVM UDF's wrapper, before its own error
              re.compile(r"^(\[[A-Z_.]+\] )+"),  # Spark's error classes
              re.compile(r"^[\w.$]+(Exception|Error): "),  # the Java class of the cause
              re.compile(r"\.? SQLSTATE: .*$|\s*=== Streaming Query ===.*$"))


def _cause(err: BaseException) -> str:
    """A failed query's cause: the executor's own exception where distml or Python raised
    it, else the innermost message of Spark's, in one line, without the query's ids."""
    from distml.engine.spark_errors import original_exception, python_error_summary
    original = original_exception(err)
    if original is not None:
        return str(original)
    text = str(err)
    if "Traceback (most recent call last)" in text:
        return python_error_summary(err)
    message = []
    for line in text.strip().splitlines():
        if line.startswith(("\tat ", "JVM stacktrace", "Caused by")) or not line.strip():
            break
        message.append(line.strip())
    cause = _STREAM_PREFIX.sub("", " ".join(message))
    for noise in _JVM_NOISE:
        cause = noise.sub("", cause)
    return cause or type(err).__name__
