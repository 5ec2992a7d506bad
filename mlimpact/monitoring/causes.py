"""Why did it alert? The slices (one column = one value) that explain an alert, against the reference period.

:func:`alert_incidents` merges the alerts of a status table (:func:`mlimpact.monitoring.check_ranges`) into
incidents: consecutive alerting buckets of one series on one side. :func:`alert_causes` compares, per
incident, every value of every candidate column between the incident's rows and the reference rows, with
one vectorized :func:`mlimpact.metrics.evaluate` call per column (over ``value × (incident | reference
of a segment value | neither)`` codes) for all the incidents of a (metric, period, segment column, side)
at once. :func:`cause_sentence` says it in one sentence.

Rules:

* **Rows.** An incident's rows are those in its alerting buckets (and, for an alert on a segment value,
  with that value). Its reference rows are those of the same segment value in buckets that end on or
  before the reference end (the reference period of :mod:`mlimpact.monitoring.ranges`; default the
  Monitoring page's), minus the rows of the alerting buckets of the same kind. An alert on the whole file
  (no period) has no reference period to compare with.
* **Contribution.** A metric whose registry ``kind`` is ``"proportion"`` or ``"mean"`` is a ratio over a
  support (:data:`SUPPORT`: actual positives for recall and the false negative rate, predicted positives
  for precision, actual negatives for the false positive and true negative rates, rows otherwise). Its
  change decomposes over the values ``v`` of a column: ``Δ = Σ_v w_v·(m_v − r_v) + Σ_v (w_v − w'_v)·r_v``
  with ``m``/``r`` the value's metric in the incident/reference and ``w``/``w'`` its share of the support
  there. ``share_of_drop`` is ``w_v·(m_v − r_v)`` over the column's sum of these terms (the performance
  part; values absent from the reference are left out of it); None when that sum does not go the alert's
  way (the change is then a change of mix, not of performance). Shares of a column sum to 1, so one
  above 100% means other values moved the other way. Other metrics (ROC AUC, average precision, F1,
  balanced accuracy, the F1 averages, RMSE, R²) do not decompose: slices are ranked by the same
  ``w_v·(m_v − r_v)`` as an approximation (``w`` the share of actual positives for F1, ROC AUC and
  average precision, of rows otherwise) and get no share (None).
* **Honest uncertainty.** A slice is named only when its change goes the alert's way, is significant, and
  goes further than the incident's change as a whole: z of the difference between its incident and
  reference values (standard errors = 95% interval widths / 3.92) and z of that difference less the
  incident's overall one (same standard errors: conservative, as the overall change holds the slice's
  own), ``p_value`` the larger of the two p-values (both must hold), Benjamini–Hochberg at
  :data:`ALPHA` over every candidate (column, value) of the incident. So a column whose values all
  dropped alike (traffic split at random) names nothing: it does not explain the drop. Slices with fewer
  than :data:`MIN_ROWS` rows or :data:`MIN_SUPPORT` support in the incident or the reference are not
  tested, nor a slice that is the whole incident. An incident without a named slice gets one row whose
  ``column`` is None and whose message says no single slice explains it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mlimpact import trace
from mlimpact.io import Dataset
from mlimpact.metrics import METRICS, Z95, benjamini_hochberg, evaluate, normal_p_value
from mlimpact.monitoring.findings import _num
from mlimpact.monitoring.series import (
    DEFAULT_SETTINGS,
    N_BOOT,
    MonitorSettings,
    _reference_end,
    dataset_buckets,
)

__all__ = ["INCIDENT_COLUMNS", "CAUSE_COLUMNS", "SUPPORT", "DECOMPOSABLE_KINDS", "MIN_ROWS", "MIN_SUPPORT", "ALPHA",
           "NO_SINGLE_SLICE", "CAUSE_SLICE_KEYS", "alert_incidents", "alert_causes", "cause_sentence",
           "causes_document"]

#: one row per incident: its series, side ("below"/"above"), first and last bucket, ``buckets``
#: ("2026-W15–W16", or one label), start of the first bucket, end of the last, and how many buckets
INCIDENT_COLUMNS = ["metric", "segment_column", "segment", "period", "side", "first_bucket", "last_bucket", "buckets",
                    "start", "end", "n_buckets"]
#: one row per named slice (up to ``top`` per incident, best first), or one row with ``column`` None:
#: the incident's keys; ``column``/``value`` the slice; ``n`` its rows in the incident (on a row without a
#: slice, the incident's rows); ``value_incident``
#: (``low``–``high`` its 95% interval) and ``value_reference`` its metric in both periods; ``share_of_drop``
#: (of the drop or rise; float or None); ``p_value`` (two-sided, of the difference) and ``q_value``
#: (Benjamini–Hochberg); ``overall_incident``/``overall_reference`` the incident's metric on all its rows
#: in both periods; ``message`` the sentence fragment. Plain Python values, None where missing.
CAUSE_COLUMNS = ["metric", "segment_column", "segment", "period", "buckets", "side", "column", "value", "n",
                 "value_incident", "value_reference", "low", "high", "share_of_drop", "p_value", "q_value",
                 "overall_incident", "overall_reference", "message"]
#: the support of each metric when it is not the rows: weights of the decomposition and the minimum size
SUPPORT = {"recall": "positives", "false_negative_rate": "positives", "f1": "positives", "roc_auc": "positives",
           "average_precision": "positives", "precision": "predicted", "false_positive_rate": "negatives",
           "true_negative_rate": "negatives"}
#: registry kinds that are a ratio over their support (their change decomposes over a column's values)
DECOMPOSABLE_KINDS = ("proportion", "mean")
#: smallest slice tested, in rows and in support, in the incident and in the reference
MIN_ROWS, MIN_SUPPORT = 30, 10
#: false discovery rate of the slices named per incident
ALPHA = 0.05
#: the message of an incident that no single slice explains
NO_SINGLE_SLICE = "no single slice explains it: the change is spread across slices"

#: the columns of the per-slice table (an empty one starts every concatenation; built on use, never a global frame)
_SLICE_COLUMNS = ["n", "s", "m", "lo", "hi", "n_ref", "s_ref", "m_ref", "lo_ref", "hi_ref", "incident"]


def _empty_slices() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=float) for c in _SLICE_COLUMNS}).assign(
        value=pd.Series(dtype=object), column=pd.Series(dtype=object))


_SERIES = ["metric", "segment_column", "segment", "period"]
_NONE = "\x1fnone\x1f"  # stands for None in the grouping keys


def _plain(values) -> list:
    """Plain Python values (JSON-ready): NaN and NA become None, numpy scalars Python ones."""
    return [None if v is None or (not isinstance(v, str) and pd.isna(v)) else v.item() if hasattr(v, "item") else v
            for v in values]


def alert_incidents(status: pd.DataFrame) -> pd.DataFrame:
    """The alerts of a status table grouped into incidents (:data:`INCIDENT_COLUMNS`).

    Consecutive alerting buckets of the same (metric, segment column, segment, period) series on the same
    side merge into one incident; consecutive means next to each other among that series' buckets in the
    table, so a bucket that is in range, too small or without a value in between splits them.
    """
    if status.empty or not status["status"].isin(["below", "above"]).any():
        return pd.DataFrame(columns=INCIDENT_COLUMNS)
    s = status.assign(**{k: status[k].astype(object).where(status[k].notna(), _NONE) for k in _SERIES[1:]})
    s = s.sort_values(_SERIES + ["start"], kind="stable").drop_duplicates(_SERIES + ["bucket", "status"])
    pos = s.drop_duplicates(_SERIES + ["bucket"])
    pos = pos.assign(pos=pos.groupby(_SERIES, sort=False).cumcount())[_SERIES + ["bucket", "pos"]]
    a = s[s["status"].isin(["below", "above"])].merge(pos, on=_SERIES + ["bucket"])
    a = a.sort_values(_SERIES + ["status", "pos"], kind="stable").reset_index(drop=True)
    keys = a[_SERIES + ["status"]]
    a["run"] = ((keys != keys.shift()).any(axis=1) | (a["pos"].diff() != 1)).cumsum()
    out = a.groupby("run", sort=True).agg(
        metric=("metric", "first"), segment_column=("segment_column", "first"), segment=("segment", "first"),
        period=("period", "first"), side=("status", "first"), first_bucket=("bucket", "first"),
        last_bucket=("bucket", "last"), start=("start", "min"), end=("end", "max"), n_buckets=("bucket", "size"))
    first, last = out["first_bucket"].astype(str), out["last_bucket"].astype(str)
    same_year_weeks = (out["period"] == "W") & (first.str[:5] == last.str[:5])
    tail = last.where(~same_year_weeks, last.str[5:])
    out["buckets"] = first.where(first == last, first + "–" + tail)
    for k in _SERIES[1:]:
        out[k] = out[k].where(out[k] != _NONE, None)
    out = out.sort_values(["start", "metric"], kind="stable", na_position="first")
    return out[INCIDENT_COLUMNS].reset_index(drop=True)


def _groups(dataset: Dataset, fam: pd.DataFrame, end) -> tuple[np.ndarray, int, np.ndarray]:
    """Per row, its group: incident ``i`` (0..K-1), else ``K + s`` for the reference of segment value ``s``,
    else ``K + S`` (neither); the number of groups; and each incident's reference group."""
    period, seg_col = fam["period"].iloc[0], fam["segment_column"].iloc[0]
    b = dataset_buckets(dataset, period)
    B, K = len(b.labels), len(fam)
    if seg_col is None:
        scodes, S, inc_seg = np.zeros(dataset.n, dtype=np.int64), 1, np.zeros(K, dtype=np.int64)
    else:
        scodes, slabels = dataset.codes(seg_col)
        S, inc_seg = len(slabels), pd.Index(slabels).get_indexer(fam["segment"])
    bcodes = np.where(b.codes < 0, B, b.codes)
    labels = pd.Index(b.labels)
    b0 = labels.get_indexer(fam["first_bucket"])
    lengths = np.where((b0 >= 0) & (inc_seg >= 0), labels.get_indexer(fam["last_bucket"]) + 1 - b0, 0)
    offsets = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    lookup = np.full(S * (B + 1), K, dtype=np.int64)  # (segment value, bucket) -> incident
    lookup[np.repeat(inc_seg, lengths) * (B + 1) + np.repeat(b0, lengths) + offsets] = np.repeat(np.arange(K), lengths)
    row_inc = lookup[scodes * (B + 1) + bcodes]
    in_ref = np.append(np.asarray(b.ends <= end), False)[bcodes] & (row_inc == K)
    group = np.where(row_inc < K, row_inc, K + np.where(in_ref, scodes, S))
    return group, K + S + 1, K + np.where(inc_seg >= 0, inc_seg, S)


def _column_table(dataset: Dataset, metric: str, settings: MonitorSettings, values: tuple, group, G: int,
                  ref_group: np.ndarray) -> dict:
    """Per (incident, value) of one column: rows, support, metric and interval in the incident and in its
    reference, from one :func:`evaluate` call; arrays of shape (K, V)."""
    vcodes, labels = values
    V, K = len(labels), len(ref_group)
    codes = vcodes.astype(np.int64) + V * group
    t = evaluate(dataset, threshold=settings.threshold, metrics=[metric], codes=codes, n_groups=V * G, seed=0,
                 n_boot=N_BOOT, time_budget_s=None)
    n = t["n"].to_numpy(float)
    kind = SUPPORT.get(metric, "rows") if dataset.task == "binary" else "rows"
    if kind == "predicted":
        support = np.bincount(codes, weights=dataset.predicted(settings.threshold) == 1, minlength=V * G)
    else:
        support = {"rows": n, "positives": t["positives"].to_numpy(float),
                   "negatives": n - t["positives"].to_numpy(float)}[kind]
    cells = {"n": n, "s": support, "m": t["value"].to_numpy(float), "lo": t["low"].to_numpy(float),
             "hi": t["high"].to_numpy(float)}
    out = {}
    for name, arr in cells.items():  # five statistics, each (G, V)
        arr = arr.reshape(G, V)
        out[name], out[name + "_ref"] = arr[:K], arr[ref_group]
    out["value"] = np.broadcast_to(np.asarray(labels, dtype=object), (K, V))
    return out


def _family(dataset: Dataset, fam: pd.DataFrame, columns, end, settings: MonitorSettings):
    """The candidate slices of the incidents of one (metric, period, segment column, side), long, and the
    incidents' totals (rows, support, overall metric in both periods, candidate columns)."""
    metric, seg_col = fam["metric"].iloc[0], fam["segment_column"].iloc[0]
    group, G, ref_group = _groups(dataset, fam, end)
    overall = _column_table(dataset, metric, settings, (np.zeros(dataset.n, dtype=np.int64), ("",)), group, G,
                            ref_group)
    names = list(dict.fromkeys(c for c in (dataset.roles.segments if columns is None else columns) if c != seg_col))
    parts = [_empty_slices()]
    for c in names:  # a few candidate columns, each one vectorized call
        tab = _column_table(dataset, metric, settings, dataset.codes(c), group, G, ref_group)
        V = tab["n"].shape[1]
        frame = pd.DataFrame({k: v.ravel() for k, v in tab.items()}).assign(
            incident=np.repeat(fam["incident"].to_numpy(), V), column=c)
        parts.append(frame[frame["n"] > 0])
    totals = pd.DataFrame({"incident": fam["incident"].to_numpy(), "n_total": overall["n"][:, 0],
                           "s_total": overall["s"][:, 0], "overall_incident": overall["m"][:, 0],
                           "overall_reference": overall["m_ref"][:, 0], "n_reference": overall["n_ref"][:, 0],
                           "candidates": len(names)})
    return pd.concat(parts, ignore_index=True), totals


def _score(table: pd.DataFrame, totals: pd.DataFrame, incidents: pd.DataFrame) -> pd.DataFrame:
    """Adds p, q, the contribution term, the share and the named flag to the long slice table."""
    t = table.merge(totals, on="incident").merge(incidents[["incident", "metric", "side"]], on="incident")
    sign = np.where(t["side"] == "above", 1.0, -1.0)
    diff = t["m"].to_numpy(float) - t["m_ref"].to_numpy(float)
    se = np.hypot(t["hi"].to_numpy(float) - t["lo"].to_numpy(float),
                  t["hi_ref"].to_numpy(float) - t["lo_ref"].to_numpy(float)) / (2 * Z95)
    beyond = diff - (t["overall_incident"] - t["overall_reference"]).to_numpy(float)  # against the whole change
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.fmax(*normal_p_value(np.where(se > 0, [diff / se, beyond / se], np.nan)))  # both must hold
        w = t["s"].to_numpy(float) / t["s_total"].to_numpy(float)
    big = (t["n"] >= MIN_ROWS) & (t["s"] >= MIN_SUPPORT) & (t["n_ref"] >= MIN_ROWS) & (t["s_ref"] >= MIN_SUPPORT)
    t["p"] = np.where(big & (t["n"] < t["n_total"]), p, np.nan)
    t["q"] = t.groupby("incident")["p"].transform(benjamini_hochberg) if len(t) else t["p"]  # once per incident
    t["term"] = np.where(w > 0, w * diff, 0.0)
    part = t.groupby(["incident", "column"])["term"].transform("sum")  # NaN terms (absent in reference) left out
    decomposes = t["metric"].map({m: METRICS[m].kind in DECOMPOSABLE_KINDS for m in METRICS}).to_numpy(bool)
    with np.errstate(divide="ignore", invalid="ignore"):
        t["share"] = np.where(decomposes & (sign * part > 0), t["term"] / part, np.nan)
    t["rank"] = sign * t["term"]
    t["named"] = (t["q"] < ALPHA) & (t["rank"] > 0) & (sign * beyond > 0)
    return t


def _amount(share: float) -> str:
    """A share of the drop in words: ``80%``, or ``all`` from 100% (above it: other values moved the other way)."""
    return "all" if share >= 0.995 else f"{share:.0%}"


def _messages(t: pd.DataFrame) -> pd.Series:
    if t.empty:
        return pd.Series(index=t.index, dtype=object)
    word = np.where(t["side"] == "above", "rise", "drop")
    head = (t["column"].astype(str) + " = " + t["value"].astype(str) + ": " + t["m"].map(_num) + " against "
            + t["m_ref"].map(_num) + " in the reference")
    share = t["share"].map(_amount) + " of the " + word
    return head.where(t["share"].isna(), head + ", " + share)


def alert_causes(dataset: Dataset, status: pd.DataFrame, *, columns=None, reference_end=None,
                 settings: MonitorSettings = DEFAULT_SETTINGS, top: int = 3) -> pd.DataFrame:
    """Per incident of ``status`` (:func:`alert_incidents`), the ``top`` slices that explain it
    (:data:`CAUSE_COLUMNS`; see the module's rules), or one row saying no single slice does.

    ``columns``: the candidate columns (default the Dataset's segment columns), less the alert's own
    segment column. ``reference_end``: the end of the reference period (default as the Monitoring page).
    ``settings``: the threshold of the status table.
    """
    trace.count("alert_causes")
    incidents = alert_incidents(status)
    if incidents.empty:
        return pd.DataFrame(columns=CAUSE_COLUMNS)
    incidents = incidents.assign(incident=np.arange(len(incidents)))
    end = _reference_end(dataset, reference_end)
    families = incidents.groupby(["metric", "period", "segment_column", "side"], dropna=False, sort=False)
    found = [_family(dataset, fam, columns, end, settings) for _, fam in families]  # a few series
    totals = pd.concat([f[1] for f in found], ignore_index=True)
    t = _score(pd.concat([f[0] for f in found], ignore_index=True), totals, incidents)
    named = t[t["named"]].sort_values(["incident", "rank"], ascending=[True, False], kind="stable")
    named = named.groupby("incident", sort=False).head(top)
    named = named.assign(message=_messages(named))
    why = np.select([totals["n_reference"] == 0, totals["candidates"] == 0],
                    ["no reference rows to compare with (the check has no period, or the whole reference period is in the "
                     "alert)", "no other segment column to split by"], NO_SINGLE_SLICE)
    rest = totals.assign(message=why, n=totals["n_total"])[~totals["incident"].isin(named["incident"])]
    out = pd.concat([named, rest]).sort_values(["incident", "rank"], ascending=[True, False], na_position="last",
                                               kind="stable")
    out = out.drop(columns=["metric", "side"], errors="ignore").merge(incidents, on="incident", how="left")
    out["n"] = out["n"].round().astype("Int64")
    out = out.rename(columns={"m": "value_incident", "m_ref": "value_reference", "lo": "low", "hi": "high",
                              "share": "share_of_drop", "p": "p_value", "q": "q_value"})
    return pd.DataFrame({c: pd.Series(_plain(out[c]), dtype=object) for c in CAUSE_COLUMNS})


def cause_sentence(incident_row, causes_of_incident: pd.DataFrame) -> str:
    """The plain-language sentence of one incident, from its row (of :func:`alert_incidents` or of
    :func:`alert_causes`) and its rows of :func:`alert_causes`.

    >>> inc = {"metric": "recall", "segment": "west", "buckets": "2026-W15–W16", "side": "below"}
    >>> causes = pd.DataFrame({"column": ["channel"], "value": ["online"], "value_incident": [0.41],
    ...     "value_reference": [0.8], "share_of_drop": [0.8], "overall_incident": [0.62], "overall_reference": [0.81]})
    >>> cause_sentence(inc, causes)
    'Recall fell in west in 2026-W15–W16 (0.620 against 0.810 in the reference); 80% of the drop is channel = online (0.410 against 0.800)'
    """
    rise = incident_row["side"] == "above"
    label = METRICS[incident_row["metric"]].label
    segment = incident_row.get("segment")
    where = "" if segment is None or pd.isna(segment) else f" in {segment}"
    when = " over the whole file" if incident_row["buckets"] == "all" else f" in {incident_row['buckets']}"
    head = f"{label} {'rose' if rise else 'fell'}{where}{when}"
    rows = causes_of_incident.to_dict("records")
    if rows and not any(rows[0].get(k) is None or pd.isna(rows[0][k]) for k in ("overall_incident",
                                                                                 "overall_reference")):
        head += f" ({_num(rows[0]['overall_incident'])} against {_num(rows[0]['overall_reference'])} in the reference)"
    named = [r for r in rows if r.get("column") is not None and not pd.isna(r["column"])]  # at most ``top``
    if not named:
        why = rows[0]["message"] if rows and rows[0].get("message") else NO_SINGLE_SLICE
        return f"{head}; {why}"
    word = "rise" if rise else "drop"
    parts = []
    for i, r in enumerate(named):
        slice_ = f"{r['column']} = {r['value']} ({_num(r['value_incident'])} against {_num(r['value_reference'])})"
        share = r.get("share_of_drop")
        if share is not None and not pd.isna(share):
            amount = _amount(share)
            parts.append(f"{amount} of the {word} is {slice_}" if i == 0 else f"{amount} is {slice_}")
        else:
            parts.append(f"the largest {word} is in {slice_}" if i == 0 else f"then {slice_}")
    return f"{head}; " + ", ".join(parts)


#: the keys of one slice in :func:`causes_document`
CAUSE_SLICE_KEYS = ("column", "value", "n", "value_incident", "value_reference", "low", "high", "share_of_drop",
                    "p_value", "q_value")


def causes_document(dataset: Dataset, status: pd.DataFrame, *, reference_end=None,
                    settings: MonitorSettings = DEFAULT_SETTINGS) -> list[dict]:
    """``check --format json``'s ``causes``: per incident of a model metric measured on labelled rows, its series,
    ``buckets``, ``sentence`` and the named ``slices`` (:data:`CAUSE_SLICE_KEYS`); checks on the traffic and
    estimated values have no slices to compare and are left out."""
    model = status["metric"].isin(list(METRICS))
    if "estimated" in status:
        model &= ~status["estimated"].astype(bool)
    if "slice" in status:  # a slice's alert is split within its own rows: not yet (the whole file's rows here)
        model &= status["slice"].isna()
    causes = alert_causes(dataset, status[model].reset_index(drop=True), reference_end=reference_end,
                          settings=settings)
    out = []
    keys = ["metric", "segment_column", "segment", "period", "buckets", "side"]
    for _, rows in causes.groupby(keys, dropna=False, sort=False):  # one per incident: a handful
        first = rows.iloc[0]
        named = rows[rows["column"].notna()]
        out.append({**{k: first[k] for k in keys}, "sentence": cause_sentence(first, rows),
                    "slices": [{k: r[k] for k in CAUSE_SLICE_KEYS} for r in named.to_dict("records")]})
    return out
