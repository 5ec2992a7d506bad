"""What the Monitoring page offers and says: its choices' labels, its starting setup, the status sentence.

>>> status_summary(pd.DataFrame({"status": ["ok", "below", "too small"]}), n_alerts=1, n_ranges=2,
...                mode="reference", min_count=200, min_positives=20, task="binary")
'1 of 2 checked buckets out of range; 1 too small to check (fewer than 200 rows or 20 positives)'
"""

from __future__ import annotations

import pandas as pd

from mlimpact.format import subject_name
from mlimpact.io import Dataset
from mlimpact.metrics.leading import main_metric
from mlimpact.monitoring.ranges import MonitorSetup
from mlimpact.monitoring.series import default_reference_end

__all__ = [
    "NO_SEGMENT",
    "PERIOD_LABELS",
    "RANGE_MODES",
    "RULE_LABELS",
    "ALERT_COLUMNS",
    "default_setup",
    "start_reference_end",
    "status_summary",
    "alerts_header",
    "drift_names",
]

#: The "per segment" option that means overall.
NO_SEGMENT = "(none)"
#: Bucket lengths, as shown.
PERIOD_LABELS = {"D": "Day", "W": "Week (ISO)", "M": "Month"}
#: How the acceptable range is set, as shown.
RANGE_MODES = {"reference": "Reference period: mean ± k sd", "relative": "Reference value ± tolerance",
               "fixed": "Fixed min / max"}
#: When a bucket is out of range, as shown.
RULE_LABELS = {"interval": "the 95% interval is entirely outside", "point": "the value is outside"}
#: The alert table's columns, in order.
ALERT_COLUMNS = ["metric", "segment_column", "segment", "bucket", "value", "low", "high", "min", "max", "status", "n",
                 "positives"]


def default_setup(dataset: Dataset) -> MonitorSetup:
    """What the page starts on for a file: the task's main metric, per the first segment column."""
    segments = list(dataset.roles.segments)
    return MonitorSetup(main_metric(dataset.task), segment=segments[0] if segments else None)


def start_reference_end(dataset: Dataset, setup: MonitorSetup):
    """The reference period's end the page starts on: the setup's own, else the middle of the time span."""
    return setup.reference_end or default_reference_end(dataset).date()


def status_summary(status: pd.DataFrame, *, n_alerts: int, n_ranges: int, mode: str, min_count: int,
                   min_positives: int, task: str) -> str:
    """One sentence: buckets out of range among those checked, buckets too small, and what to do when
    nothing could be checked."""
    counts = status["status"].value_counts()
    checked = int(sum(counts.get(s, 0) for s in ("ok", "below", "above")))
    summary = (f"{n_alerts} of {checked} checked buckets out of range; {int(counts.get('too small', 0))} too small "
               f"to check (fewer than {int(min_count)} rows"
               + (f" or {int(min_positives)} positives)" if task == "binary" else ")"))
    if not checked and int(counts.get("too small", 0)):
        summary = ("Every bucket is too small to check: pick a longer bucket, or lower the limits under Check "
                   "settings. " + summary)
    elif mode == "fixed" and not n_ranges:
        summary = "Enter a minimum, a maximum or both to check against. " + summary
    elif not n_ranges:
        summary = ("No range could be derived: the reference period needs at least 3 buckets big enough to check. "
                   "Move its end later, or pick a shorter bucket. ") + summary
    return summary


def alerts_header(source: str, *, metric: str, period: str, rule: str, task: str, threshold: float) -> list[str]:
    """Comment lines for the alerts CSV.

    >>> alerts_header("f.csv", metric="mae", period="W", rule="point", task="regression", threshold=0.5)
    ['file: f.csv', 'metric: mae', 'bucket: W', 'rule: point']
    """
    header = [f"file: {source}", f"metric: {metric}", f"bucket: {period}", f"rule: {rule}"]
    if task == "binary":
        header.append(f"threshold: {threshold:g}")
    return header


def drift_names(dataset: Dataset) -> tuple[str, str]:
    """What drifts (the score, the predicted class, ...) and what the label is called, for the drift charts."""
    what = {"binary": "score" if dataset.score is not None else "predicted class",
            "multiclass": "top-class probability" if dataset.proba is not None else "predicted class",
            "regression": "prediction"}[dataset.task]
    name = subject_name(dataset.roles.label, dataset.roles.positive) if dataset.task == "binary" else str(
        dataset.roles.label)
    return what, name
