"""What the Overview page says: headline numbers in words, the caption, confusion counts and chart titles.

Also :func:`subject_of`, the name of a positive case that the Overview, Difficulty and Review pages
use in their sentences.
"""

from __future__ import annotations

import pandas as pd

from mlimpact.format import format_cell, sentence, subject_name
from mlimpact.io import Dataset
from mlimpact.metrics import METRICS
from mlimpact.metrics.leading import headline_metrics
from mlimpact.report.summarize import metric_cell

__all__ = [
    "DATA_WARNING_MARKS",
    "subject_of",
    "metric_cells",
    "headline_rows",
    "rows_caption",
    "data_warnings",
    "all_metrics_table",
    "confusion_counts",
    "confusion_title",
    "mixup_title",
]

#: Notes about the data that the Overview repeats as warnings (they change what the numbers mean).
DATA_WARNING_MARKS = ("scores range", "only one class", "never occurs")


def subject_of(dataset: Dataset) -> str:
    """What a positive case is called in sentences (binary files); ``"positive"`` for other tasks."""
    return subject_name(dataset.roles.label, dataset.roles.positive) if dataset.task == "binary" else "positive"


def metric_cells(table: pd.DataFrame) -> dict[str, dict]:
    """``{metric: {"value", "low", "high", "note"}}`` from an ``evaluate`` table.

    >>> metric_cells(pd.DataFrame({"metric": ["recall"], "value": [0.5], "low": [0.4], "high": [0.6],
    ...                            "note": [None]}))
    {'recall': {'value': 0.5, 'low': 0.4, 'high': 0.6, 'note': None}}
    """
    return {r["metric"]: metric_cell(r) for r in table.to_dict("records")}


def headline_rows(task: str, cells: dict[str, dict], subject: str = "positive") -> list[dict[str, str]]:
    """The headline numbers: ``label``, ``value`` (without its interval) and a plain ``sentence`` each.

    >>> headline_rows("binary", {"recall": {"value": 0.8, "low": 0.7, "high": 0.9}}, "fraud")
    [{'metric': 'recall', 'label': 'Recall', 'value': '80.0%', 'sentence': 'Of the fraud cases, the model catches 80.0% (70.0–90.0%).'}]
    """
    return [{"metric": name, "label": METRICS[name].label, "value": format_cell(name, cells[name]).split(" (")[0],
             "sentence": sentence(name, cells[name], subject=subject)}
            for name in headline_metrics(task, cells)]


def rows_caption(dataset: Dataset, threshold: float) -> str:
    """``80,000 rows · threshold 0.5 · 95% intervals in brackets`` (and excluded rows, when any)."""
    caption = f"{dataset.n:,} rows"
    if dataset.task == "binary":
        caption += f" · threshold {threshold:g}"
    if dataset.n_excluded:
        caption += f" · {dataset.n_excluded:,} rows excluded (see Data)"
    return caption + " · 95% intervals in brackets"


def data_warnings(notes: list[str]) -> list[str]:
    """The notes worth a warning next to the headline numbers.

    >>> data_warnings(["column `y`: only one class (1) occurs", "3 values read as missing"])
    ['column `y`: only one class (1) occurs']
    """
    return [note for note in notes if any(mark in note for mark in DATA_WARNING_MARKS)]


def all_metrics_table(table: pd.DataFrame) -> pd.DataFrame:
    """Every metric with its label and the value as shown (``80.0% (70.0–90.0%)``), for the table and its CSV."""
    shown = table.assign(label=table["metric"].map(lambda m: METRICS[m].label),
                         shown=[format_cell(m, c) for m, c in ((r["metric"], metric_cell(r))
                                                                for r in table.to_dict("records"))])
    return shown[["label", "metric", "value", "low", "high", "n", "note", "shown"]]


def confusion_counts(conf: pd.DataFrame, subject: str) -> dict[str, int]:
    """True positives, false positives and actual positives from a binary ``confusion_table``.

    >>> conf = pd.DataFrame({"actual": ["not x", "not x", "x", "x"], "predicted": ["not x", "x", "not x", "x"],
    ...                      "rows": [50, 5, 3, 12]})
    >>> confusion_counts(conf, "x")
    {'true_positives': 12, 'false_positives': 5, 'positives': 15}
    """
    flagged = conf.predicted == subject
    return {"true_positives": int(conf.loc[(conf.actual == subject) & flagged, "rows"].iloc[0]),
            "false_positives": int(conf.loc[(conf.actual != subject) & flagged, "rows"].iloc[0]),
            "positives": int(conf.loc[conf.actual == subject, "rows"].sum())}


def confusion_title(conf: pd.DataFrame, subject: str) -> str:
    """The binary confusion chart's finding.

    >>> conf = pd.DataFrame({"actual": ["not x", "not x", "x", "x"], "predicted": ["not x", "x", "not x", "x"],
    ...                      "rows": [50, 5, 3, 1200]})
    >>> confusion_title(conf, "x")
    'Catches 1,200 of 1,203 x cases; flags 5 others'
    """
    c = confusion_counts(conf, subject)
    return f"Catches {c['true_positives']:,} of {c['positives']:,} {subject} cases; flags {c['false_positives']:,} others"


def mixup_title(conf: pd.DataFrame) -> str:
    """The multiclass confusion chart's finding: the most common mix-up (or that there is none).

    >>> conf = pd.DataFrame({"actual": ["a", "a", "b", "b"], "predicted": ["a", "b", "a", "b"], "rows": [5, 1, 3, 9]})
    >>> mixup_title(conf)
    'Most common mix-up: b sent to a (3 rows)'
    """
    off = conf[conf.actual != conf.predicted].sort_values("rows", ascending=False).iloc[0]
    return (f"Most common mix-up: {off['actual']} sent to {off['predicted']} ({int(off['rows']):,} rows)"
            if off["rows"] > 0 else "No mix-ups: every row is classified right")
