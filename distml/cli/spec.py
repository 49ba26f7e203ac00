"""Job specs: the pipeline a ``distml train`` fits, in YAML or JSON.

    label: label                 # the label column (omit for unsupervised stages)
    features: [x1, x2, x3]       # numeric columns assembled into "features" first (optional)
    stages:                      # in order; each a class of distml (or a dotted pyspark.ml
      - StandardScaler:          #   path) with its params
          inputCol: features
          outputCol: scaled
      - LogisticRegression: {featuresCol: scaled, regParam: 0.01}
    metrics: [accuracy, areaUnderROC]   # optional; defaults follow the last stage's kind

Every problem is a ``SpecError`` with one line saying what and where.
"""
from __future__ import annotations

import importlib
import json
import os
from dataclasses import dataclass, field
from typing import Any

from distml.errors import ParamError


class SpecError(ValueError):
    """A job spec that cannot be run: its message is one line naming the problem."""


@dataclass
class JobSpec:
    stages: list = field(default_factory=list)
    label: str | None = None
    features: list[str] | None = None
    metrics: list[str] | None = None


def load_spec(path: str) -> JobSpec:
    if not os.path.exists(path):
        raise SpecError(f"spec file '{path}' not found")
    with open(path) as f:
        text = f.read()
    is_yaml = path.endswith((".yaml", ".yml"))
    try:
        if is_yaml:
            import yaml
            raw = yaml.safe_load(text)
        else:
            raw = json.loads(text)
    except Exception as e:  # the parsers' own errors say line and column
        raise SpecError(f"spec '{path}' is not valid {'YAML' if is_yaml else 'JSON'}: "
                        f"{str(e).splitlines()[0]}") from None
    return parse_spec(raw, path)


def parse_spec(raw: Any, where: str = "spec") -> JobSpec:
    if not isinstance(raw, dict):
        raise SpecError(f"{where}: the spec must be a mapping with a 'stages' list")
    unknown = set(raw) - {"stages", "label", "features", "metrics"}
    if unknown:
        raise SpecError(f"{where}: unknown key(s) {sorted(unknown)}; the keys are stages, label, "
                        "features, metrics")
    stages = raw.get("stages")
    if not isinstance(stages, list) or not stages:
        raise SpecError(f"{where}: 'stages' must be a non-empty list of stages")
    features = raw.get("features")
    if features is not None and (not isinstance(features, list) or
                                 not all(isinstance(c, str) for c in features)):
        raise SpecError(f"{where}: 'features' must be a list of column names")
    metrics = raw.get("metrics")
    if metrics is not None and not isinstance(metrics, list):
        raise SpecError(f"{where}: 'metrics' must be a list of metric names")
    return JobSpec([_stage(entry, i, where) for i, entry in enumerate(stages)],
                   raw.get("label"), features, metrics)


def _stage(entry: Any, index: int, where: str):
    if isinstance(entry, dict) and "type" in entry:
        name, params = entry["type"], entry.get("params", {})
    elif isinstance(entry, dict) and len(entry) == 1:
        (name, params), = entry.items()
    else:
        raise SpecError(f"{where}: stage {index} must be {{Name: {{params}}}} or "
                        "{type: Name, params: {...}}")
    params = params or {}
    if not isinstance(params, dict):
        raise SpecError(f"{where}: stage {index} ({name}): params must be a mapping")
    cls = _stage_class(str(name), index, where)
    stage = cls()
    for key, value in params.items():
        if not stage.hasParam(key):
            raise SpecError(f"{where}: stage {index} ({name}) has no param '{key}'")
        try:
            stage._set(**{key: value})
        except (TypeError, ValueError, ParamError) as e:
            raise SpecError(f"{where}: stage {index} ({name}) param '{key}': {e}") from None
    return stage


def _stage_class(name: str, index: int, where: str) -> type:
    from pyspark.ml import Estimator, Transformer

    import distml
    if "." in name and name.startswith(("pyspark.ml.", "distml.")):
        module, _, attr = name.rpartition(".")
        try:
            cls = getattr(importlib.import_module(module), attr)
        except (ImportError, AttributeError):
            cls = None
    else:
        cls = None if "." in name else getattr(distml, name, None)
    if not (isinstance(cls, type) and issubclass(cls, (Estimator, Transformer))):
        raise SpecError(f"{where}: stage {index}: unknown stage '{name}' (a distml class such "
                        "as LogisticRegression, or a dotted path such as "
                        "pyspark.ml.feature.Bucketizer)")
    return cls
