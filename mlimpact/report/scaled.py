"""The summary of a source on an engine (DuckDB or Spark): the memory path's JSON from grouped counts.

:func:`summarize_engine` counts the score's global picture once (:func:`mlimpact.engine.tables.score_keys`),
then one ``GROUP BY`` for all rows and one per segment column, and hands the counts to the same metric
and document code as :func:`mlimpact.report.summarize.summarize`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mlimpact.engine.dataset import count_groupings
from mlimpact.io.build import score_range_note
from mlimpact.metrics.evaluate import in_metric_order, metric_names
from mlimpact.metrics.tables import engine_keys, metrics_from_tables
from mlimpact.report.summarize import summary_document
from mlimpact.slices.engine_named import engine_slice_summary
from mlimpact.slices.engine_segments import engine_groupings, engine_segment_table

__all__ = ["summarize_engine", "prepare_engine", "overall_table", "segments_table"]


def prepare_engine(eds):
    """The whole data's picture (:func:`mlimpact.engine.dataset.global_keys`); for a binary score, also the
    losses the scores allow and the note when they are not probabilities. Run once per engine dataset."""
    keys = engine_keys(eds)
    if eds.task == "binary":
        note = score_range_note(eds.roles.score, keys.lo, keys.hi)
        if note and note not in eds.notes:
            eds.notes.append(note)
    return keys


def summarize_engine(eds, *, segments=None, metrics=None, seed: int = 0, min_size: int = 30,
                     max_values: int | None = None, progress=None, slices=()) -> dict:
    """:func:`mlimpact.report.summarize.summarize` for an :class:`mlimpact.engine.dataset.EngineDataset`; with
    named ``slices``, also the CLI's ``named_slices`` (each slice against the rest, one more scan).

    ``progress(done, total, what)`` is called as each query finishes.
    """
    columns = list(segments if segments is not None else eds.roles.segments)
    total = 4
    say = progress or (lambda done, total, what: None)
    keys = prepare_engine(eds)
    say(1, total, {"regression": "truth and error quantiles", "multiclass": "rows and log-loss quantiles"}.get(
        eds.task, "score range and distinct scores"))
    if eds.task != "binary":
        metrics = list(metrics) if metrics else metric_names(eds.task, has_score=False, probabilities=False,
                                                             has_proba=bool(getattr(eds.spec, "probs", ())),
                                                             contract=True)
    else:
        metrics = list(metrics) if metrics else metric_names("binary", has_score=True,
                                                             probabilities=bool(eds.spec.losses), contract=True)
    threshold = eds.spec.threshold
    groupings = engine_groupings(eds, columns, top_k=max_values)
    say(2, total, "the values of the segment columns")
    counted = count_groupings(eds, keys, [(None, 1)] + [(g.sql, len(g.raw)) for g in groupings])
    say(3, total, "runs and cells of all rows and of every segment column (one scan)")
    tables = counted[0]
    overall = in_metric_order(metrics_from_tables(tables, np.zeros(len(tables.n), dtype=np.int64), 1,
                                                  threshold=threshold, metrics=metrics, seed=seed), metrics)
    if eds.task == "binary" and not all(t.exact for t in counted):
        coarsest = min(t.n_keys for t in counted if not t.exact)
        eds.notes.append(f"{keys.distinct:,} distinct scores: where a segment column has many values, ROC AUC and "
                         f"average precision come from score bins (at least {coarsest:,}), each with its largest "
                         "possible error (max_error)")
    overall_value = dict(zip(overall["metric"], overall["value"], strict=True))
    seg_tables = {g.column: engine_segment_table(eds, g, t, metrics=metrics, overall_value=overall_value,
                                                 min_size=min_size, seed=seed, sort_by="metric")
                  for g, t in zip(groupings, counted[1:], strict=True)}
    say(4, total, "metrics, intervals and tests")
    out = summary_document(eds, eds.roles, overall, seg_tables, threshold=threshold,
                           source={"file": eds.name, "sha256": eds.fingerprint, "engine": eds.backend.name})
    if slices:  # each against the rest, the memory path's default metrics
        out["named_slices"] = engine_slice_summary(eds, slices, threshold=threshold, seed=seed, keys=keys)
    return out


def overall_table(summary: dict) -> pd.DataFrame:
    """The summary's headline metrics as a table (metric, value, 95% interval, largest error where binned)."""
    rows = [{"metric": m, "value": c["value"], "low": c["low"], "high": c["high"], "max_error": c.get("max_error"),
             "note": c["note"]} for m, c in summary["overall"].items()]
    return pd.DataFrame(rows, columns=["metric", "value", "low", "high", "max_error", "note"])


def segments_table(summary: dict) -> pd.DataFrame:
    """The summary's per-segment metrics, one row per (column, value, metric), worst first as in the JSON."""
    rows = [{"column": s["column"], "value": s["value"], "n": s["n"], "positives": s["positives"], "small": s["small"],
             "metric": m, "metric_value": c["value"], "low": c["low"], "high": c["high"],
             "significantly_worse": c["significantly_worse"]}
            for s in summary["segments"] for m, c in s["metrics"].items()]
    return pd.DataFrame(rows, columns=["column", "value", "n", "positives", "small", "metric", "metric_value", "low",
                                       "high", "significantly_worse"])
