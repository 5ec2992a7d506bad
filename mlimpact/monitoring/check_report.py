"""The ``check --format json`` document (DESIGN.md): every violation with stable keys, every bucket checked, and
the counts."""

from __future__ import annotations

import math

from mlimpact.monitoring.findings import violation_line
from mlimpact.monitoring.ranges import alert_table

__all__ = ["VIOLATION_KEYS", "RESULT_KEYS", "check_results"]

#: JSON keys of one violation, in order
VIOLATION_KEYS = ("metric", "column", "estimated", "slice", "segment_column", "segment", "period", "bucket", "start", "value",
                  "low", "high", "min", "max", "side", "n", "positives", "message")


def _jsonable(v):
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    if hasattr(v, "isoformat"):
        return None if v != v else v.isoformat()  # NaT != NaT
    if hasattr(v, "item"):
        v = v.item()
        return None if isinstance(v, float) and math.isnan(v) else v
    return v


def _count(x):
    """A count as JSON: whole numbers as ints; an expected count (estimated rows: Σ p) rounded to 2 decimals."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return None
    return int(x) if float(x).is_integer() else round(float(x), 2)


def check_results(status) -> dict:
    """The ``--format json`` document of a status table: violations (stable keys) and counts."""
    alerts = alert_table(status)
    violations = []
    for row in alerts.to_dict("records"):  # one per violation
        row["side"] = row["status"]
        row["message"] = violation_line(row)
        row["positives"] = _count(row["positives"])
        row["column"], row["estimated"] = row.get("column"), bool(row.get("estimated", False))
        row["slice"] = row.get("slice")
        violations.append({k: _jsonable(row[k]) for k in VIOLATION_KEYS})
    counts = status["status"].value_counts()
    return {"violations": violations, "checked": int(counts.reindex(["ok", "below", "above"]).fillna(0).sum()),
            "too_small": int(counts.get("too small", 0)), "unavailable": int(counts.get("n/a", 0)),
            "results": _results(status)}


_RESULT_STATUS = {"ok": "ok", "below": "violation", "above": "violation", "too small": "too_small",
                  "n/a": "unavailable"}
RESULT_KEYS = ("metric", "column", "estimated", "slice", "segment_column", "segment", "period", "bucket", "start", "value",
               "low", "high", "min", "max", "n", "positives", "status")


def _results(status) -> list[dict]:
    """Every bucket evaluated against a range (DESIGN.md's ``results``): a violation's fields plus ``status``
    (``ok``, ``violation``, ``too_small``, ``unavailable``) and, for a violation, its ``side``."""
    rows = status[status["status"].isin(list(_RESULT_STATUS))]
    out = []
    for row in rows.to_dict("records"):  # one per bucket checked: the document lists them all
        item = {k: _jsonable(row.get(k)) for k in RESULT_KEYS if k != "status"}
        item["positives"] = _count(item["positives"])
        item["estimated"] = bool(item["estimated"])
        item["status"] = _RESULT_STATUS[row["status"]]
        item["side"] = row["status"] if item["status"] == "violation" else None
        out.append(item)
    return out
