"""Writing a checks file: the ranges, the roles and the settings as ``checks.toml`` (``parse_checks`` reads it back)."""

from __future__ import annotations

import json
import re

import pandas as pd

from mlimpact.monitoring.checks import COLUMN_KEYS
from mlimpact.monitoring.ranges import Range  # noqa: F401 - the doctest's
from mlimpact.monitoring.series import DEFAULT_SETTINGS, MonitorSettings

__all__ = ["checks_to_toml"]

_CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f]")


def _toml_value(v) -> str:
    if isinstance(v, str):  # JSON escapes U+0000-U+001F; TOML also forbids a raw DEL
        return json.dumps(v, ensure_ascii=False).replace("\x7f", "\\u007f")
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, bool):
        return "true" if v else "false"
    return repr(float(v)) if isinstance(v, float) else str(v)


def checks_to_toml(columns, ranges, *, settings: MonitorSettings = DEFAULT_SETTINGS,
                   source: str | None = None, reference_end=None, slices=()) -> str:
    """A checks file for these column roles, ranges and settings (``parse_checks`` reads it back exactly).

    ``columns``: a :class:`mlimpact.io.roles.Roles` or a dict of role -> column name.

    >>> print(checks_to_toml({"label": "y", "score": "p"}, [Range("recall", minimum=0.7)]).split("[[check]]")[1])
    <BLANKLINE>
    metric = "recall"
    min = 0.7
    <BLANKLINE>
    """
    if not isinstance(columns, dict):
        roles = columns
        columns = {"label": roles.label, "score": roles.score, "prediction": roles.prediction,
                   "class_scores": list(roles.class_scores), "time": roles.time, "positive": roles.positive,
                   "task": roles.task}
    where = _CONTROL.sub(" ", f" from {source}") if source else ""  # a comment holds no control character
    lines = [f"# Acceptable ranges exported by mlimpact{where}.",
             "# Run: python -m mlimpact check FILE --config checks.toml",
             "# (exit 1 and one line per bucket out of range; --format json for machines)", "", "[columns]"]
    lines += [f"{k} = {_toml_value(v)}" for k, v in columns.items() if k in COLUMN_KEYS and v not in (None, [], ())]
    lines += ["", "[settings]", f"threshold = {_toml_value(float(settings.threshold))}"]
    if reference_end is not None:
        lines.append(f"reference_end = {_toml_value(pd.Timestamp(reference_end).isoformat())}  # the reference period "
                     "ends here")
    lines += [
              f"rule = {_toml_value(settings.rule)}  # interval: alert when the 95% interval is entirely outside",
              _limit_line("min_count", settings.min_count, "buckets with fewer rows are too small to check"),
              _limit_line("min_positives", settings.min_positives, "... or fewer positives (recall-like metrics)")]
    for r in ranges:
        lines += ["", "[[check]]", f"metric = {_toml_value(r.metric)}"]
        lines += [f"{key} = {_toml_value(v)}" for key, v in (("column", r.column), ("min", r.minimum),
                                                             ("max", r.maximum), ("period", r.period),
                                                             ("segment", r.segment), ("segment_value", r.segment_value),
                                                             ("estimated", r.estimated or None),
                                                             ("slice", r.slice)) if v is not None]
    for s in slices:  # the named slices the checks refer to
        lines += ["", "[[slice]]", f"name = {_toml_value(s.name)}", f"expression = {_toml_value(s.expression)}"]
    return "\n".join(lines) + "\n"


def _limit_line(key: str, value: int | None, why: str) -> str:
    """``key = value  # why``, or, when not set, a comment saying what applies instead (reads back as unset)."""
    if value is not None:
        return f"{key} = {value}  # {why}"
    return f"# {key} not set: none under the interval rule (its interval accounts for the bucket's size), " \
           f"{'200' if key == 'min_count' else '20'} under the point rule"


