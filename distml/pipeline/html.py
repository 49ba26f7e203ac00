"""Notebook display: an HTML table of a stage's params (set ones first), its training summary's
cheap figures, and a pipeline's stages in order."""
from __future__ import annotations

import html
from typing import Any

# Summary figures that cost nothing to show (no Spark job): lazily computed metrics such as
# areaUnderROC are left out on purpose.
_SUMMARY_FIGURES = ("totalIterations", "numIter", "trainingCost", "clusterSizes", "k",
                    "objectiveHistory")


def stage_html(stage: Any) -> str:
    rows = []
    params = sorted(stage.params, key=lambda p: (not stage.isSet(p), p.name))
    for p in params:
        if not stage.isDefined(p):
            continue
        value = stage.getOrDefault(p)
        shown = html.escape(_short(value))
        name = f"<b>{html.escape(p.name)}</b>" if stage.isSet(p) else html.escape(p.name)
        rows.append(f"<tr><td style='text-align:left'>{name}</td>"
                    f"<td style='text-align:left'>{shown}</td>"
                    f"<td style='text-align:left;color:#666'>{html.escape(p.doc)}</td></tr>")
    parts = [f"<div><b>{html.escape(type(stage).__name__)}</b> "
             f"<span style='color:#666'>{html.escape(stage.uid)}</span>",
             "<table><tr><th>param</th><th>value</th><th>meaning</th></tr>" + "".join(rows)
             + "</table>"]
    summary = _summary_rows(stage)
    if summary:
        parts.append("<b>training summary</b><table>" + summary + "</table>")
    devices = getattr(stage, "_devices", None)
    if devices:
        parts.append(f"<div>trained on {html.escape(', '.join(devices))}</div>")
    return "".join(parts) + "</div>"


def pipeline_html(pipeline: Any, stages: list) -> str:
    items = "".join("<li>" + (s._repr_html_() if hasattr(s, "_repr_html_")
                              else html.escape(repr(s))) + "</li>" for s in stages)
    return (f"<div><b>{html.escape(type(pipeline).__name__)}</b> "
            f"<span style='color:#666'>{html.escape(pipeline.uid)}</span>, "
            f"{len(stages)} stages<ol>{items}</ol></div>")


def _summary_rows(stage: Any) -> str:
    if not getattr(stage, "hasSummary", False):
        return ""
    summary = stage.summary
    rows = []
    for name in _SUMMARY_FIGURES:
        try:
            value = getattr(summary, name)
        except Exception:  # a figure this summary does not have
            continue
        if name == "objectiveHistory" and len(value):
            value = f"{len(value)} values, last {value[-1]:.6g}"
        rows.append(f"<tr><td style='text-align:left'>{name}</td>"
                    f"<td style='text-align:left'>{html.escape(_short(value))}</td></tr>")
    return "".join(rows)


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value) if not isinstance(value, str) else value
    return text if len(text) <= limit else text[:limit - 3] + "..."
