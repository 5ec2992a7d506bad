"""Named slices: a slice expression with a name, saved in ``slices.toml``, applied anywhere.

``slices.toml``::

    [[slice]]
    name = "online, big orders"
    expression = 'channel == "online" and amount > 500'

A slice is kept by its canonical expression (:func:`mlimpact.slices.language.format_slice`), never executed:
every use parses it again against the data in hand (:func:`parse_slice`). :func:`slice_table` compares each
slice with the rest of the rows on the metrics, with 95% intervals and Benjamini–Hochberg over every slice
and metric, as the Segments page compares a segment with the rest.
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from mlimpact import trace
from mlimpact.errors import InputError
from mlimpact.io import Dataset
from mlimpact.io.decision import DEFAULT_THRESHOLD
from mlimpact.io.text import read_settings_file
from mlimpact.metrics import METRICS, Z95, benjamini_hochberg, default_metrics, evaluate
from mlimpact.slices.language import parse_slice, slice_name_ok

__all__ = ["NamedSlice", "MAX_SLICES", "named_slice", "parse_slices_toml", "read_slices", "slices_to_toml",
           "resolve_slices", "slice_rows", "slice_table", "slice_summary", "named_slice_line", "selection_expression", "slice_warnings",
           "SLICE_TABLE_COLUMNS", "SLICE_TAG", "file_hash", "slice_rows_of_tables", "summary_of_table"]

#: the most slices one file, link or command may carry
MAX_SLICES = 50
SLICE_TABLE_COLUMNS = ["name", "expression", "n", "share", "metric", "value", "low", "high", "rest_value",
                       "difference", "diff_low", "diff_high", "p_value", "q_value", "significantly_worse", "note"]


@dataclass(frozen=True)
class NamedSlice:
    """A slice with a name; ``expression`` is canonical (parsed and written back).

    >>> named_slice("big", "amount>500")
    NamedSlice(name='big', expression='amount > 500')
    """

    name: str
    expression: str


def named_slice(name: str | None, expression: str, data=None) -> NamedSlice:
    """Parse ``expression`` (checked against ``data``'s columns when given) and name it (default: the expression)."""
    parsed = parse_slice(expression, data)
    name = parsed.text if name is None or not str(name).strip() else str(name).strip()
    if not slice_name_ok(name):
        raise InputError(f"slice name {name[:60]!r}: use 1 to 60 printable characters")
    return NamedSlice(name, parsed.text)


def parse_slices_toml(text: str, *, source: str = "slices.toml") -> list[NamedSlice]:
    """The ``[[slice]]`` tables of a slices file (expressions parsed, not yet checked against a file's columns);
    an error names the file and the slice's line.

    >>> parse_slices_toml('[[slice]]\\nname = "west"\\nexpression = \\'region == "west"\\'\\n')
    [NamedSlice(name='west', expression='region == "west"')]
    >>> parse_slices_toml('[[slice]]\\nname = "bad"\\nexpression = "amount >"\\n')
    Traceback (most recent call last):
    ...
    mlimpact.errors.InputError: slices.toml line 1 (slice "bad"): col 9: expected a value after `>`
    """
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{source}: not valid TOML ({exc}); write each slice as a [[slice]] table with name and "
                         "expression") from None
    tables = doc.get("slice", [])
    unknown = [k for k in doc if k != "slice"]
    if unknown or not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        raise InputError(f"{source}: expected only [[slice]] tables (each with name and expression); found "
                         f"{', '.join(map(repr, unknown)) or 'something else'}")
    if len(tables) > MAX_SLICES:
        raise InputError(f"{source}: {len(tables)} slices, more than the limit of {MAX_SLICES}")
    heads = [i for i, line in enumerate(text.splitlines(), 1) if line.strip().startswith("[[slice]]")]
    out = []
    for i, table in enumerate(tables):
        where = f"{source} line {heads[i] if i < len(heads) else '?'}"
        if set(table) - {"name", "expression"} or not isinstance(table.get("expression"), str):
            raise InputError(f"{where}: a slice has a name and an expression (text), e.g. expression = "
                             "'channel == \"online\"'")
        try:
            out.append(named_slice(table.get("name") if isinstance(table.get("name"), str) else None,
                                   table["expression"]))
        except InputError as exc:
            raise InputError(f"{where} (slice {table.get('name', '')!r:.60}): {exc}".replace("'", '"', 2)) from None
    _unique(out, source)
    return out


def _unique(slices: list[NamedSlice], source: str) -> None:
    names = [s.name for s in slices]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise InputError(f"{source}: slice name {twice[0]!r} is used twice; give each slice its own name")


def read_slices(path) -> list[NamedSlice]:
    """Read a slices file (UTF-8)."""
    text = read_settings_file(path, what="a slices file", how="(one saved in the app, or [[slice]] tables with name "
                                                               "and expression)")
    return parse_slices_toml(text, source=str(path))


def slices_to_toml(slices) -> str:
    """A slices file that :func:`parse_slices_toml` reads back exactly."""
    lines = ["# Slices saved by mlimpact. Use them with --slices slices.toml (summarize, impact, check, slices)."]
    for s in slices:
        lines += ["", "[[slice]]", f"name = {_toml_text(s.name)}", f"expression = {_toml_text(s.expression)}"]
    return "\n".join(lines) + "\n"


def _toml_text(text: str) -> str:
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")


def resolve_slices(expressions=(), files=(), *, data=None) -> list[NamedSlice]:
    """The slices a command was given: ``--slice EXPR`` (named by their expression) and ``--slices FILE``; each
    checked against ``data`` (a Dataset or frame) when given, so an unknown column is named before any work."""
    out = []
    for e in expressions:
        out.append(_checked(None, e, data, f"slice {e[:80]!r}"))
    for f in files:
        out += [_checked(s.name, s.expression, data, f"{f}: slice {s.name!r}") for s in read_slices(f)]
    if len(out) > MAX_SLICES:
        raise InputError(f"{len(out)} slices, more than the limit of {MAX_SLICES}")
    _unique(out, "the slices given")
    return out


def slice_warnings(slices, data) -> list[str]:
    """What to know about each slice on ``data`` (a value that does not occur; zero rows): one line each."""
    return [f"slice {s.name!r}: {w}" for s in slices for w in parse_slice(s.expression, data).warnings]


def _checked(name, expression: str, data, where: str) -> NamedSlice:
    try:
        return named_slice(name, expression, data)
    except InputError as exc:
        raise InputError(f"{where}: {exc}") from None


#: what a slice's rows add to the file's content hash (``slice_rows``), so that nothing mixes the two
SLICE_TAG = "#slice:"


def file_hash(content_hash: str) -> str:
    """The file's content hash of a Dataset that may be a slice's rows (:func:`slice_rows`).

    >>> file_hash("ab12#slice:x > 1"), file_hash("ab12")
    ('ab12', 'ab12')
    """
    return content_hash.split(SLICE_TAG)[0]


def slice_rows(dataset: Dataset, expression: str) -> Dataset:
    """The Dataset restricted to the rows of a slice (the rows without a label too); its ``content_hash`` says which
    slice, so nothing computed on all rows is mistaken for it."""
    parsed = parse_slice(expression, dataset)
    mask = parsed.mask(dataset)
    unlabelled = dataset.unlabelled
    if unlabelled is not None:
        unlabelled = unlabelled.loc[parse_slice(expression, unlabelled).mask(unlabelled)].reset_index(drop=True)
        unlabelled = unlabelled if len(unlabelled) else None

    def take(a):
        return None if a is None else a[mask]

    tag = re.sub(r"\s+", " ", parsed.text)  # readable, plus the exact text's hash: spaces inside quotes count
    tag = f"{tag}~{hashlib.sha256(parsed.text.encode()).hexdigest()[:12]}"
    return replace(dataset, frame=dataset.frame.loc[mask].reset_index(drop=True), y=dataset.y[mask],
                   score=take(dataset.score), prediction=take(dataset.prediction), proba=take(dataset.proba),
                   unlabelled=unlabelled, _codes={}, content_hash=f"{dataset.content_hash}{SLICE_TAG}{tag}",
                   notes=list(dataset.notes))


def slice_table(dataset: Dataset, slices, *, threshold: float = DEFAULT_THRESHOLD, metrics=None,
                seed: int = 0, time_budget_s: float | None = None) -> pd.DataFrame:
    """Each slice against the rest of the rows: :data:`SLICE_TABLE_COLUMNS`, one row per slice and metric.

    ``diff_low``/``diff_high``: a 95% interval of the difference from the two groups' intervals (normal
    approximation: the half-widths combined in quadrature); the test itself is ``p_value``'s.

    ``q_value`` applies Benjamini–Hochberg over every slice and metric; ``significantly_worse`` is the
    slice's value worse than the rest's with ``q_value`` below 0.05 (as on the Segments page).
    """
    trace.count("slice_table")
    metrics = list(metrics) if metrics else default_metrics(dataset)
    parts = []
    for s in slices:  # a few slices, each one vectorized evaluate call
        mask = parse_slice(s.expression, dataset).mask(dataset)
        t = evaluate(dataset, threshold=threshold, metrics=metrics, codes=mask.astype(np.int64), n_groups=2,
                     compare_to_rest=True, seed=seed, time_budget_s=time_budget_s)
        parts.append((s, t, mask.mean()))
    return slice_rows_of_tables(parts)


def slice_rows_of_tables(parts) -> pd.DataFrame:
    """:func:`slice_table` from ``(slice, metrics of the rest (group 0) and the slice (group 1), share)`` per slice
    (the memory path's or an engine's)."""
    frames = []
    for s, t, share in parts:
        rest = t[t["group"] == 0].set_index("metric")
        t = t[t["group"] == 1].assign(name=s.name, expression=s.expression, share=share)
        se = np.hypot((t["high"] - t["low"]).to_numpy(float),
                      (rest["high"] - rest["low"]).reindex(t["metric"]).to_numpy(float)) / (2 * Z95)
        frames.append(t.assign(diff_low=t["difference"] - Z95 * se, diff_high=t["difference"] + Z95 * se))
    if not frames:
        return pd.DataFrame(columns=SLICE_TABLE_COLUMNS)
    out = pd.concat(frames, ignore_index=True)
    out["q_value"] = benjamini_hochberg(out["p_value"].to_numpy(float))
    direction = out["metric"].map(lambda m: METRICS[m].direction).to_numpy()
    value, rest = out["value"].to_numpy(float), out["rest_value"].to_numpy(float)
    worse = np.select([direction == "higher", direction == "lower"], [value < rest, value > rest],
                      np.abs(value) > np.abs(rest))
    out["significantly_worse"] = worse & (out["q_value"].to_numpy(float) < 0.05)
    return out[SLICE_TABLE_COLUMNS].reset_index(drop=True)


def slice_summary(dataset: Dataset, slices, *, threshold: float = DEFAULT_THRESHOLD, metrics=None,
                  seed: int = 0) -> list[dict]:
    """The JSON of :func:`slice_table`: per slice its name, expression, rows, share and metrics against the rest."""
    return summary_of_table(slice_table(dataset, slices, threshold=threshold, metrics=metrics, seed=seed), slices)


def summary_of_table(table: pd.DataFrame, slices) -> list[dict]:
    """:func:`slice_summary` of a :func:`slice_table` (the memory path's or an engine's)."""
    out = []
    for s in slices:  # a few slices
        rows = table[table["name"] == s.name]
        first = rows.iloc[0] if len(rows) else None
        out.append({"name": s.name, "expression": s.expression, "n": int(first["n"]) if first is not None else 0,
                    "share": float(first["share"]) if first is not None else 0.0,
                    "metrics": [{k: _plain(r[k]) for k in SLICE_TABLE_COLUMNS[4:-1]} for r in rows.to_dict("records")]})
    return out


def _plain(v):
    if isinstance(v, np.generic):
        v = v.item()
    return None if isinstance(v, float) and np.isnan(v) else v


def named_slice_line(summary: dict) -> str:
    """One line for a slice of :func:`slice_summary`: its name, rows and its first metric against the rest.

    >>> named_slice_line({"name": "west", "n": 120, "share": 0.1, "metrics": [{"metric": "recall", "value": 0.5,
    ...     "low": 0.4, "high": 0.6, "rest_value": 0.7, "difference": -0.2, "q_value": 0.01,
    ...     "significantly_worse": True}]})
    'west: 120 rows (10.0%); recall 0.500 (0.400–0.600) vs 0.700 for the rest, significantly worse (q = 0.01)'
    """
    head = f"{summary['name']}: {summary['n']:,} rows ({100 * summary['share']:.1f}%)"
    if not summary["metrics"] or summary["metrics"][0]["value"] is None:
        return head + "; no value"
    m = summary["metrics"][0]
    q_low = m["q_value"] is not None and m["q_value"] < 0.05
    verdict = "significantly worse" if m["significantly_worse"] else "significantly better" if q_low else \
        "no significant difference"
    q = "" if m["q_value"] is None else f" (q = {m['q_value']:.2g})"
    return (f"{head}; {m['metric']} {m['value']:.3f} ({m['low']:.3f}–{m['high']:.3f}) vs {m['rest_value']:.3f} "
            f"for the rest, {verdict}{q}")


_BIN = re.compile(r"^\[(?P<lo>[^,\]]+), (?P<hi>[^\])]+)(?P<end>[)\]])$")


def selection_expression(selected: dict, dataset: Dataset) -> str | None:
    """A segment picked on the Segments page (``{column: value label}``) as a slice expression, or None when a value
    stands for several (``Other``). Bins (``[51, 96)``) become ranges with the edges as shown.

    >>> import pandas as pd
    >>> from mlimpact.io import Roles, build_dataset
    >>> ds = build_dataset(pd.DataFrame({"y": [0, 1], "p": [0.2, 0.7], "amount": [3.0, 9.0], "my region": ["a", "b"]}),
    ...                    Roles(label="y", score="p"))
    >>> selection_expression({"my region": "b", "amount": "[2.5, 10]"}, ds)
    '`my region` == "b" and amount >= 2.5 and amount <= 10'
    """
    parts = []
    for column, label in selected.items():
        name = column if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", column) else "`" + column.replace("`", "``") + "`"
        numeric = pd.api.types.is_numeric_dtype(dataset.frame[column]) and \
            not pd.api.types.is_bool_dtype(dataset.frame[column])
        if label == "Other":
            return None
        if label == "(missing)":
            parts.append(f"{name} is null")
        elif numeric and (m := _BIN.match(str(label))):
            parts.append(f"{name} >= {m['lo']} and {name} {'<=' if m['end'] == ']' else '<'} {m['hi']}")
        elif numeric:
            parts.append(f"{name} == {str(label).removeprefix('= ')}")
        else:
            parts.append(f"{name} == {json.dumps(str(label), ensure_ascii=False)}")
    return parse_slice(" and ".join(parts), dataset).text if parts else None
