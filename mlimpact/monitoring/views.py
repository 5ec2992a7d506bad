"""What the Monitoring page offers and says: its choices' labels, its starting setup, the status sentence.

>>> status_summary(pd.DataFrame({"status": ["ok", "below", "too small"]}), n_alerts=1, n_ranges=2,
...                mode="reference", min_count=200, min_positives=20, task="binary")
'1 of 2 checked buckets out of range; 1 too small to check (fewer than 200 rows or 20 positives)'
>>> status_summary(pd.DataFrame({"status": ["ok", "ok", "n/a"]}), n_alerts=0, n_ranges=1, mode="reference",
...                min_count=None, min_positives=None, task="binary")
'0 of 2 checked buckets out of range; 1 without a value'
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mlimpact import trace
from mlimpact.format import subject_name
from mlimpact.io import Dataset
from mlimpact.metrics.leading import main_metric
from mlimpact.monitoring.population import PSI_MAJOR, population_over_time, population_problem
from mlimpact.monitoring.ranges import MIN_REFERENCE_BUCKETS, MonitorSetup, Range
from mlimpact.monitoring.series import (
    PERIODS,
    MonitorSettings,
    _reference_end,
    default_period,
    default_reference_end,
)

__all__ = [
    "traffic_ranges",
    "NO_SEGMENT",
    "PERIOD_LABELS",
    "RANGE_MODES",
    "RULE_LABELS",
    "ALERT_COLUMNS",
    "default_setup",
    "start_reference_end",
    "status_summary",
    "reference_advice",
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
    """What the page starts on for a file: the task's main metric, per the first segment column, in the
    bucket :func:`default_period` chooses for them."""
    trace.count("default_setup")
    segments = list(dataset.roles.segments)
    metric, segment = main_metric(dataset.task), segments[0] if segments else None
    return MonitorSetup(metric, period=default_period(dataset, metric=metric, segment=segment), segment=segment)


def start_reference_end(dataset: Dataset, setup: MonitorSetup):
    """The reference period's end the page starts on: the setup's own, else the middle of the time span."""
    return setup.reference_end or default_reference_end(dataset).date()


def status_summary(status: pd.DataFrame, *, n_alerts: int, n_ranges: int, mode: str, min_count: int | None,
                   min_positives: int | None, task: str, rule: str = "interval") -> str:
    """One sentence: buckets out of range among those checked, buckets not checked and why, and what to do
    when nothing could be checked. ``min_count``/``min_positives``: as set (None: not set, see
    :class:`MonitorSettings`)."""
    counts = status["status"].value_counts()
    checked = int(sum(counts.get(s, 0) for s in ("ok", "below", "above")))
    small, na = int(counts.get("too small", 0)), int(counts.get("n/a", 0))
    why = MonitorSettings(rule=rule, min_count=min_count, min_positives=min_positives).too_small_words(task)
    summary = f"{n_alerts} of {checked} checked buckets out of range"
    summary += f"; {small} too small to check ({why})" if small else ""
    summary += f"; {na} without a value" if na else ""
    if not checked and small:
        summary = ("Every bucket is too small to check: pick a longer bucket, or lower the limits under Check "
                   "settings. " + summary)
    elif mode == "fixed" and not n_ranges:
        summary = "Enter a minimum, a maximum or both to check against. " + summary
    elif not n_ranges:
        summary = (f"No range could be derived: the reference period needs at least {MIN_REFERENCE_BUCKETS} "
                   "buckets big enough to check. ") + summary
    return summary


def reference_advice(ranges, period: str) -> tuple[str, str | None]:
    """What to say when some series got no range from the reference period (``ranges`` from
    :func:`mlimpact.monitoring.derive_ranges`), and the bucket that would give them more usable reference
    buckets: a longer one when the reference buckets are mostly too small, a shorter one when there are too
    few of them; None when neither exists. ``("", None)`` when every series has a range."""
    short = getattr(ranges, "short", ())
    if not short:
        return "", None
    order = list(PERIODS)
    too_small = sum(t for *_, t in short) >= MIN_REFERENCE_BUCKETS * len(short)  # buckets exist, too few usable
    step = 1 if too_small else -1
    at = order.index(period) + step if period in order else -1
    better = order[at] if 0 <= at < len(order) else None
    fix = ("derive it from fewer, longer buckets" if too_small else "move the reference end later, or use "
           "shorter buckets") + ", or set fixed limits"
    return f"{ranges.note(PERIODS.get(period, 'bucket'))}: {fix}.", better


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


def traffic_ranges(dataset: Dataset, *, period: str, reference_end=None, kinds=("rows", "psi")) -> list:
    """Checks on the traffic derived from this file, for the Monitoring page's checks file: ``rows`` at least half
    the median reference bucket (by ``period``), ``psi`` of the score at most :data:`PSI_MAJOR`, and
    ``unlabelled_share`` at most the largest share seen in a reference bucket plus 0.1 (only with rows without a
    label). Returns ``(Range, why)`` pairs; a kind the file cannot support is left out.
    """
    trace.count("traffic_ranges")
    out = []
    if dataset.roles.time is None:
        return out
    end = _reference_end(dataset, reference_end)
    if "rows" in kinds:
        rows = population_over_time(dataset, "rows", period=period)
        ref = rows.loc[rows["end"] <= end, "value"]
        if len(ref):
            low = float(np.floor(ref.median() / 2))
            out.append((Range("rows", minimum=low, period=period),
                        f"at least {low:,.0f} rows a {PERIODS[period]}: half the reference period's median"))
    if "psi" in kinds and population_problem(dataset, "psi", None, period) is None:
        out.append((Range("psi", maximum=PSI_MAJOR, period=period),
                    f"score PSI at most {PSI_MAJOR} against the reference period (above it: a major shift)"))
    if "unlabelled_share" in kinds and dataset.unlabelled is not None:
        share = population_over_time(dataset, "unlabelled_share", period=period)
        top = float(share.loc[share["end"] <= end, "value"].max())
        if np.isfinite(top) and top + 0.1 < 1:
            limit = round(top + 0.1, 2)
            out.append((Range("unlabelled_share", maximum=limit, period=period),
                        f"at most {limit:.0%} of rows without a label (the reference's largest share plus 10 points)"))
    return out

