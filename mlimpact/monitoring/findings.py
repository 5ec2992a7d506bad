"""The words of monitoring: one line per violation (``check``) and one sentence per status table (charts,
captions, the report). A sentence says how many buckets were checked and never that something stayed in
range when nothing was checked."""

from __future__ import annotations

import math

import pandas as pd

from mlimpact.monitoring.series import PERIODS

__all__ = ["violation_line", "describe_alerts"]


def _num(x) -> str:
    return "n/a" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.3f}" if abs(x) < 100 \
        else f"{x:,.1f}"


def violation_line(row) -> str:
    """One line per violation: metric, segment value, bucket, value (interval), and the bound it broke.

    >>> violation_line({"metric": "recall", "segment_column": "region", "segment": "west", "bucket": "2026-W15",
    ...                 "value": 0.122, "low": 0.057, "high": 0.242, "min": 0.7, "max": None, "status": "below"})
    'recall region=west 2026-W15: 0.122 (0.057–0.242) below min 0.7'
    """
    column = row.get("column")
    name = row["metric"] if column is None or (isinstance(column, float) and math.isnan(column)) \
        else f"{row['metric']}({column})"
    where = [f"estimated {name}" if row.get("estimated") is True else name]
    if not _missing(row.get("slice")):
        where.insert(0, f"[{row['slice']}]")
    if row.get("segment_column") is not None and not pd.isna(row.get("segment_column")):
        where.append(f"{row['segment_column']}={row['segment']}")
    if row.get("bucket") not in (None, "all"):
        where.append(str(row["bucket"]))
    bound = f"below min {row['min']:g}" if row["status"] == "below" else f"above max {row['max']:g}"
    value = f"{row['value']:,.0f}" if row["metric"] == "rows" else _num(row["value"])
    if not (_missing(row.get("low")) and _missing(row.get("high"))):
        value += f" ({_num(row['low'])}–{_num(row['high'])})"
    return f"{' '.join(where)}: {value} {bound}"


def _missing(x) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def describe_alerts(status: pd.DataFrame, *, label: str) -> str:
    """A one-sentence finding for a status table (chart titles, captions): never "stayed in range" about
    buckets that were not checked, and always how many were.

    >>> describe_alerts(pd.DataFrame({"status": ["ok", "too small"], "segment": [None, None],
    ...                               "bucket": ["2026-W01", "2026-W02"], "period": ["W", "W"]}), label="Recall")
    'Recall stayed in range in the 1 checked week (1 of 2 not checked)'
    """
    alerts = status[status["status"].isin(["below", "above"])]
    checked = int(status["status"].isin(["ok", "below", "above"]).sum())
    unit = PERIODS.get(status["period"].iloc[0], "bucket") if len(status) else "bucket"
    units = f"{unit}{'s' if checked != 1 else ''}"
    skipped = len(status) - checked
    rest = f" ({skipped} of {len(status)} not checked)" if skipped else ""
    if not checked:
        why = "none has a range" if status["status"].eq("no range").all() else "none has both a range and " \
            "enough data"
        return f"No {unit} of {label} could be checked: {why}" if len(status) else f"No {unit} of {label} to check"
    if alerts.empty:
        return f"{label} stayed in range in {'all ' if not skipped and checked > 1 else 'the '}{checked} checked " \
               f"{units}{rest}"
    words = []
    for seg, part in alerts.groupby("segment", dropna=False, sort=False):  # a few alerting series
        where = "" if seg is None or pd.isna(seg) else f" in {seg}"
        words.append(f"{where} in {_join_buckets(part['bucket'].tolist())}")
    sides = set(alerts["status"])
    verb = "fell below" if sides == {"below"} else "rose above" if sides == {"above"} else "left"
    return (f"{label} {verb} its range" + ";".join(words) + f" ({len(alerts)} of {checked} checked {units}"
            + (f"; {skipped} of {len(status)} not checked)" if skipped else ")"))


def _join_buckets(names: list[str]) -> str:
    names = list(dict.fromkeys(names))
    if len(names) > 4:
        return f"{names[0]} … {names[-1]} ({len(names)} buckets)"
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
