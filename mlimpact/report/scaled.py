"""The summary of a source on an engine (DuckDB or Spark): the memory path's JSON from grouped counts.

:func:`summarize_engine` counts the score's global picture once (:func:`mlimpact.engine.tables.score_keys`),
then one ``GROUP BY`` for all rows and one per segment column, and hands the counts to the same metric
and document code as :func:`mlimpact.report.summarize.summarize`.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from mlimpact.engine.tables import binary_tables, score_keys
from mlimpact.io.build import score_range_note
from mlimpact.metrics.evaluate import in_metric_order, metric_names
from mlimpact.metrics.tables import losses_for_range, metrics_from_tables
from mlimpact.report.summarize import summary_document
from mlimpact.slices.engine_segments import engine_grouping, engine_segment_table

__all__ = ["summarize_engine"]


def summarize_engine(eds, *, segments=None, metrics=None, seed: int = 0, min_size: int = 30,
                     max_values: int | None = None, progress=None) -> dict:
    """:func:`mlimpact.report.summarize.summarize` for an :class:`mlimpact.engine.dataset.EngineDataset`.

    ``progress(done, total, what)`` is called as each query finishes.
    """
    columns = list(segments if segments is not None else eds.roles.segments)
    total = 2 + len(columns)
    say = progress or (lambda done, total, what: None)
    keys = score_keys(eds.backend, eds.spec)
    say(1, total, "score range and distinct scores")
    eds.spec = replace(eds.spec, losses=losses_for_range(keys.lo, keys.hi))
    note = score_range_note(eds.roles.score, keys.lo, keys.hi)
    if note and note not in eds.notes:
        eds.notes.append(note)
    metrics = list(metrics) if metrics else metric_names("binary", has_score=True,
                                                         probabilities=bool(eds.spec.losses), contract=True)
    threshold = eds.spec.threshold
    tables = binary_tables(eds.backend, eds.spec, keys, None)
    overall = in_metric_order(metrics_from_tables(tables, np.zeros(len(tables.n), dtype=np.int64), 1,
                                                  threshold=threshold, metrics=metrics, seed=seed), metrics)
    if not tables.exact:
        eds.notes.append(f"{keys.distinct:,} distinct scores: ROC AUC and average precision come from "
                         f"{tables.n_keys:,} score bins, each with its largest possible error (max_error)")
    say(2, total, "all rows")
    overall_value = dict(zip(overall["metric"], overall["value"], strict=True))
    seg_tables = {}
    for i, column in enumerate(columns):
        grouping = engine_grouping(eds, column, top_k=max_values)
        seg_tables[column] = engine_segment_table(eds, keys, grouping, metrics=metrics, overall_value=overall_value,
                                                  min_size=min_size, seed=seed, sort_by="metric")
        say(3 + i, total, f"segment column {column}")
    return summary_document(eds, eds.roles, overall, seg_tables, threshold=threshold,
                            source={"file": eds.name, "sha256": eds.fingerprint, "engine": eds.backend.name})
