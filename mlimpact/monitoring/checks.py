"""The checks file (``checks.toml``): acceptable ranges, unattended (run by ``python -m mlimpact check``).

Format (see DESIGN.md)::

    [columns]                 # same role names as the CLI options; the rest are inferred
    label = "is_fraud"
    score = "fraud_score"
    time = "timestamp"

    [settings]                # all optional
    threshold = 0.5           # may also be given in [columns]
    reference_end = "2026-03-31"  # end of the reference period (psi, estimates, causes); default mid-file
    rule = "interval"         # "interval": alert when the 95% interval lies entirely outside; "point": the value
    min_count = 200           # buckets with fewer rows are too small to check (unset: 200 under the point
    min_positives = 20        # rule; none under the interval rule) ... or fewer positives, recall-like metrics

    [[check]]
    metric = "recall"
    min = 0.70                # min and/or max
    period = "W"              # optional: per time bucket (D, W, M)
    segment = "region"        # optional: per value of this column
    segment_value = "west"    # optional: only this value

    [[check]]                 # checks on the traffic: rows, missing_share, unlabelled_share, psi
    metric = "psi"
    column = "amount"         # psi: default the score; missing_share: required
    max = 0.25
    period = "W"

    [[check]]                 # the performance estimated for the rows without a label yet (binary)
    metric = "recall"
    estimated = true
    min = 0.70
    period = "W"

``check`` prints one line per violation to standard output and a one-line summary to standard error,
so a cron job that sends its standard output by mail only sends one when something is out of range.
"""

from __future__ import annotations

import datetime as _dt
import math
import re
import tomllib
from dataclasses import dataclass, field, replace

import pandas as pd

from mlimpact.errors import InputError
from mlimpact.io.text import read_settings_file
from mlimpact.metrics import metrics_for_task
from mlimpact.monitoring.estimate import estimation_problem
from mlimpact.monitoring.population import POPULATION_METRICS, population_problem
from mlimpact.monitoring.ranges import Range
from mlimpact.monitoring.series import MonitorSettings
from mlimpact.slices.language import parse_slice
from mlimpact.slices.named import named_slice

__all__ = ["COLUMN_KEYS", "CHECK_KEYS", "SETTINGS_KEYS", "ChecksConfig", "parse_checks", "read_checks", "role_changes",
           "validate_config", "slice_names", "with_slices"]

#: keys allowed in [columns] (role names, as the CLI options) ...
COLUMN_KEYS = ("label", "score", "prediction", "class_scores", "time", "positive", "task", "segment", "segments",
               "threshold")
#: ... in [settings] and in each [[check]]
SETTINGS_KEYS = ("threshold", "rule", "min_count", "min_positives", "reference_end")
CHECK_KEYS = ("metric", "min", "max", "period", "segment", "segment_value", "column", "estimated", "slice")
#: bounds on a checks file, so a hostile one cannot exhaust memory or time
MAX_CONFIG_CHARS = 1_000_000
MAX_CHECKS = 1_000


@dataclass(frozen=True)
class ChecksConfig:
    """A parsed checks file: the column roles, the settings and the ranges (each knows its line)."""

    columns: dict = field(hash=False)
    settings: MonitorSettings
    ranges: tuple[Range, ...]
    reference_end: pd.Timestamp | None = None
    slices: tuple = ()  # the file's [[slice]] tables (NamedSlice), which a check's slice may name


# ----------------------------------------------------------------------------- locating lines
_HEADER = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_\"'. -]+?)\s*\]\]?\s*(#.*)?$")


def _tables(text: str) -> list[tuple[str, int, int]]:
    """(name, first line, last line) of each table header in the text, 1-based; ``check`` per [[check]]."""
    lines = text.splitlines()
    heads = [(m.group(2).strip("\"' "), i + 1) for i, line in enumerate(lines) if (m := _HEADER.match(line))]
    return [(name, start, (heads[j + 1][1] - 1) if j + 1 < len(heads) else len(lines))
            for j, (name, start) in enumerate(heads)]


def _line_of(text: str, table: str, index: int = 0, key: str | None = None) -> int | None:
    """The line of the ``index``-th ``[table]`` (or of ``key`` inside it)."""
    spans = [s for s in _tables(text) if s[0] == table]
    if index >= len(spans):
        return None
    _, start, end = spans[index]
    if key is not None:
        pattern = re.compile(rf"^\s*[\"']?{re.escape(key)}[\"']?\s*=")
        for no, line in enumerate(text.splitlines()[start:end], start + 1):
            if pattern.match(line):
                return no
    return start


def _fail(source: str, line: int | None, message: str, fix: str = "") -> InputError:
    where = f"{source} line {line}" if line else source
    return InputError(f"{where}: {message}" + (f"; {fix}" if fix else ""))


# ----------------------------------------------------------------------------- parsing
def _toml_error(exc: tomllib.TOMLDecodeError, source: str) -> InputError:
    msg = str(getattr(exc, "msg", "") or exc)
    line, col = getattr(exc, "lineno", None), getattr(exc, "colno", None)
    m = re.search(r"\s*\(at line (\d+), column (\d+)\)\s*$", msg)
    if m:
        line, col = line or int(m.group(1)), col or int(m.group(2))
        msg = msg[: m.start()]
    msg = re.sub(r"\s*\(at end of document\)\s*$", "", msg).rstrip(".")
    where = f"{source} line {line}, column {col}" if line else f"{source}, at the end"
    return InputError(f"{where}: not valid TOML ({msg[:1].lower() + msg[1:]}); write one `key = value` per line, "
                      "text in double quotes, each check under its own [[check]] header")


def _number(value) -> bool:
    return not isinstance(value, bool) and isinstance(value, int | float) and math.isfinite(value)


def parse_checks(text: str, *, source: str = "checks.toml") -> ChecksConfig:
    """Parse a checks file; every error names the file and line and says what to write instead.

    >>> cfg = parse_checks('[columns]\\nlabel = "y"\\n\\n[[check]]\\nmetric = "recall"\\nmin = 0.8\\nperiod = "W"\\n')
    >>> cfg.columns, cfg.ranges
    ({'label': 'y'}, (Range(metric='recall', minimum=0.8, maximum=None, period='W', segment=None, segment_value=None, \
column=None, estimated=False, slice=None),))
    >>> parse_checks('[[check]]\\nmetric = "recall"\\nmin = 0.9\\nmax = 0.8\\n')
    Traceback (most recent call last):
    ...
    mlimpact.errors.InputError: checks.toml line 3: min 0.9 is greater than max 0.8
    """
    if len(text) > MAX_CONFIG_CHARS:
        raise _fail(source, None, f"{len(text):,} characters, more than the limit of {MAX_CONFIG_CHARS:,}",
                    "a checks file holds a few dozen checks; split it or remove repeated checks")
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _toml_error(exc, source) from None
    except RecursionError:
        raise _fail(source, None, "values are nested too deeply to read",
                    "write each value as a number, a text in double quotes or a flat list") from None
    columns, settings_doc, checks = _tables_of(doc, text, source)
    if len(checks) > MAX_CHECKS:
        raise _fail(source, _line_of(text, "check", MAX_CHECKS), f"{len(checks):,} checks, more than the limit of "
                    f"{MAX_CHECKS:,}", "check per segment with segment = \"COLUMN\" instead of one check per value")
    _check_columns(columns, text, source)
    reference_end = _reference_end(settings_doc, text, source)
    settings = _parse_settings(columns, {k: v for k, v in settings_doc.items() if k != "reference_end"}, text, source)
    ranges = tuple(_parse_range(check, i, text, source) for i, check in enumerate(checks))
    return ChecksConfig(columns=dict(columns), settings=settings, ranges=ranges, reference_end=reference_end,
                        slices=_named_slices(doc.get("slice", []), text, source))


def _named_slices(tables, text: str, source: str) -> tuple:
    """The [[slice]] tables (name and expression), parsed; an error names the table's line."""
    out = []
    for i, t in enumerate(tables if isinstance(tables, list) else [tables]):
        line = _line_of(text, "slice", i)
        if not isinstance(t, dict) or set(t) - {"name", "expression"} or not isinstance(t.get("expression"), str):
            raise _fail(source, line, "a [[slice]] has a name and an expression (text)",
                        'e.g. expression = \'channel == "online"\'')
        try:
            out.append(named_slice(t.get("name") if isinstance(t.get("name"), str) else None, t["expression"]))
        except InputError as exc:
            raise _fail(source, line, str(exc)) from None
    return tuple(out)


def _reference_end(settings_doc: dict, text: str, source: str) -> pd.Timestamp | None:
    """``reference_end`` of [settings]: a date (TOML date or text), or None."""
    if "reference_end" not in settings_doc:
        return None
    value = settings_doc["reference_end"]
    try:
        stamp = pd.Timestamp(value) if isinstance(value, str | _dt.date) else pd.NaT
    except ValueError:
        stamp = pd.NaT
    if pd.isna(stamp):
        raise _fail(source, _line_of(text, "settings", key="reference_end"), f"reference_end {value!r} is not a date",
                    'write it as reference_end = "2026-03-31"')
    return stamp.tz_convert("UTC").tz_localize(None) if stamp.tzinfo else stamp  # the data's times are UTC too


def _tables_of(doc: dict, text: str, source: str) -> tuple[dict, dict, list]:
    """The [columns], [settings] and [[check]] tables, each of the right kind; at least one check."""
    for key in doc:
        if key not in ("columns", "settings", "check", "slice"):
            raise _fail(source, _line_of(text, key) or _key_line(text, key), f"unknown table or key `{key}`",
                        "use [columns], [settings], [[check]] and [[slice]] tables")
    columns = doc.get("columns", {})
    settings_doc = doc.get("settings", {})
    checks = doc.get("check", [])
    for name, value, kind in (("columns", columns, "[columns]"), ("settings", settings_doc, "[settings]")):
        if not isinstance(value, dict):
            raise _fail(source, _key_line(text, name), f"`{name}` must be a table", f"write it as {kind}")
    if not isinstance(checks, list) or not all(isinstance(c, dict) for c in checks):
        raise _fail(source, _line_of(text, "check") or _key_line(text, "check"), "`check` must be a list of tables",
                    "start each check with a [[check]] header (two brackets)")
    if not checks:
        raise _fail(source, None, "no checks", "add at least one [[check]] table with a metric and a min or max")
    return columns, settings_doc, checks


def _check_columns(columns: dict, text: str, source: str) -> None:
    for key, value in columns.items():
        line = _line_of(text, "columns", key=key)
        if key not in COLUMN_KEYS:
            raise _fail(source, line, f"unknown key `{key}` in [columns]", f"use {', '.join(COLUMN_KEYS)}")
        if key in ("class_scores", "segments"):
            ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
        elif key == "threshold":
            ok = _number(value)
        elif key == "positive":
            ok = isinstance(value, str | int) and not isinstance(value, bool)
        else:
            ok = isinstance(value, str) or (key == "segment" and isinstance(value, list))
        if not ok:
            raise _fail(source, line, f"`{key}` has the wrong type ({value!r})",
                        'write column names in double quotes, e.g. label = "is_fraud"' if key != "threshold"
                        else "write a number, e.g. threshold = 0.5")


def _parse_settings(columns: dict, settings_doc: dict, text: str, source: str) -> MonitorSettings:
    settings = dict(settings_doc)
    for key in settings:
        if key not in SETTINGS_KEYS:
            raise _fail(source, _line_of(text, "settings", key=key), f"unknown key `{key}` in [settings]",
                        f"use {', '.join(SETTINGS_KEYS)}")
    if "threshold" in columns:
        if "threshold" in settings and settings["threshold"] != columns["threshold"]:
            raise _fail(source, _line_of(text, "settings", key="threshold"),
                        f"threshold {settings['threshold']} differs from {columns['threshold']} in [columns]",
                        "give the threshold once")
        settings["threshold"] = columns["threshold"]
    try:
        return MonitorSettings(**settings)
    except (InputError, TypeError) as exc:
        bad = next((k for k in SETTINGS_KEYS if k in str(exc)), None)
        line = _line_of(text, "settings", key=bad) if bad and bad in settings_doc else \
            _line_of(text, "columns", key="threshold")
        raise _fail(source, line, str(exc)) from None


def _parse_range(check: dict, i: int, text: str, source: str) -> Range:
    head = _line_of(text, "check", i)
    for key in check:
        if key not in CHECK_KEYS:
            raise _fail(source, _line_of(text, "check", i, key) or head, f"unknown key `{key}` in [[check]]",
                        f"use {', '.join(CHECK_KEYS)}")
    if "metric" not in check:
        raise _fail(source, head, "this [[check]] has no metric", 'add e.g. metric = "recall"')
    for key in ("metric", "period", "segment", "segment_value", "column", "slice"):
        if key in check and not isinstance(check[key], str):
            raise _fail(source, _line_of(text, "check", i, key) or head,
                        f"`{key}` must be text in double quotes; got {check[key]!r}")
    if "estimated" in check and not isinstance(check["estimated"], bool):
        raise _fail(source, _line_of(text, "check", i, "estimated") or head,
                    f"`estimated` must be true or false; got {check['estimated']!r}")
    period = check.get("period")
    try:
        return Range(check["metric"], minimum=check.get("min"), maximum=check.get("max"),
                     period=period.upper() if isinstance(period, str) else None, segment=check.get("segment"),
                     segment_value=check.get("segment_value"), column=check.get("column"),
                     estimated=check.get("estimated", False), slice=check.get("slice"), line=head)
    except InputError as exc:
        key = next((k for k, word in (("metric", "metric"), ("period", "period"), ("segment_value", "segment"),
                                      ("min", "min"), ("max", "max"), ("column", "column"),
                                      ("estimated", "estimated")) if str(exc).startswith(word)), None)
        raise _fail(source, (_line_of(text, "check", i, key) if key else None) or head, str(exc)) from None


def _key_line(text: str, key: str) -> int | None:
    pattern = re.compile(rf"^\s*[\"']?{re.escape(key)}[\"']?\s*=")
    return next((i for i, line in enumerate(text.splitlines(), 1) if pattern.match(line)), None)


# ----------------------------------------------------------------------------- a config against a file
def role_changes(columns: dict) -> dict:
    """The role choices of a ``[columns]`` table, as :func:`mlimpact.io.load.apply_roles` takes them."""
    changes = {k: v for k, v in columns.items() if k in ("label", "score", "prediction", "time", "task")}
    if "positive" in columns:
        changes["positive"] = str(columns["positive"])
    if "class_scores" in columns:
        changes["class_scores"] = tuple(columns["class_scores"])
    segs = columns.get("segments", columns.get("segment"))
    if segs:
        changes["segments"] = (segs,) if isinstance(segs, str) else tuple(segs)
    return changes


def validate_config(dataset, config: ChecksConfig, source: str) -> None:
    """Refuse checks that cannot apply to ``dataset`` (metric, segment column, period), naming the line. On an
    engine's dataset, also record the file's ``reference_end`` there (the engine's checks read it)."""

    allowed = metrics_for_task(dataset.task)
    in_memory = hasattr(dataset, "frame")  # an engine dataset has columns, no frame
    if not in_memory:
        from mlimpact.monitoring.engine_population import (  # noqa: I001 - on use: sqlglot on the engine path only
            engine_population_problem, engine_time_span)
        from mlimpact.monitoring.engine_estimate import engine_estimation_problem  # on use: the engine path only
        dataset.reference_end = config.reference_end
    for r in config.ranges:
        if r.metric not in allowed and r.metric not in POPULATION_METRICS:
            raise _fail(source, r.line, f"metric {r.metric!r} does not apply to {dataset.source}, a {dataset.task} "
                                        f"task", f"choose one of {', '.join(allowed)}")
        traffic = population_problem if in_memory else engine_population_problem
        estimate = estimation_problem if in_memory else engine_estimation_problem
        problem = traffic(dataset, r.metric, r.column, r.period) if r.metric in POPULATION_METRICS \
            else estimate(dataset, config.reference_end) if r.estimated else None
        if problem:
            raise _fail(source, r.line, problem)
        if r.metric == "psi" and config.reference_end is not None and dataset.roles.time:
            first = dataset.frame[dataset.roles.time].min() if in_memory else engine_time_span(dataset)[0]
            if pd.notna(first) and config.reference_end < first:
                raise _fail(source, r.line, f"reference_end {config.reference_end:%Y-%m-%d} is before the first time "
                                            f"in {dataset.source} ({first:%Y-%m-%d}): psi has no reference period",
                            "move reference_end in [settings] later")
        if r.slice is not None:
            _check_slice(dataset, config, r, in_memory, source)
        columns = dataset.frame.columns if in_memory else dataset.columns
        if r.segment is not None and r.segment not in columns:
            raise _fail(source, r.line, f"segment column `{r.segment}` is not in {dataset.source}",
                        "name one of its columns")
        if r.period is not None and dataset.roles.time is None:
            raise _fail(source, r.line, f"period {r.period!r} needs a time column, and none was found in "
                                        f"{dataset.source}", 'add time = "COLUMN" to [columns]')


def read_checks(file) -> ChecksConfig:
    """Read and parse the checks file at ``file`` (UTF-8, with or without BOM)."""
    text = read_settings_file(file, what="the checks file", how="with --config (see `checks.toml` in the README)")
    return parse_checks(text, source=str(file))


def slice_names(config: ChecksConfig, extra=()) -> dict[str, str]:
    """Slice name -> expression: the checks file's [[slice]] tables, then ``extra`` (e.g. ``--slices``)."""
    return {s.name: s.expression for s in (*config.slices, *extra)}


def _check_slice(dataset, config: ChecksConfig, r: Range, in_memory: bool, source: str) -> None:
    """A check's slice must name a [[slice]] or parse against the file's columns (on an engine: its types)."""
    try:
        expression = slice_names(config).get(r.slice, r.slice)
        if in_memory:
            parse_slice(expression, dataset)
        else:
            from mlimpact.slices.engine_named import slice_sql  # noqa: I001 - on use: the engine path only

            slice_sql(dataset, expression)
    except InputError as exc:
        raise _fail(source, r.line, f"slice {r.slice!r}: {exc}",
                    "name a [[slice]] of this file or write a slice expression") from None


def with_slices(config: ChecksConfig, follow=(), named=()) -> ChecksConfig:
    """``check --slice`` (``follow``: each checks the file's ranges that have no slice again, on its rows, so a
    slice saved in the app becomes a cron check) and ``--slices`` (``named``: names a check's ``slice`` may use)."""
    follow, named = tuple(follow), tuple(named)
    copies = tuple(replace(r, slice=s.name) for s in follow for r in config.ranges if r.slice is None)
    return replace(config, ranges=config.ranges + copies, slices=config.slices + named + follow)
