"""Difficulty lanes: which cases to decide automatically and which to send to people.

A *lane* is a range of the model's output. Binary: two cut-offs on the score make three lanes —
automatically negative (``score < low``), human review (``low <= score < high``) and automatically
positive (``score >= high``). Multiclass: a case is decided automatically when its top-class probability
(or the margin between the top two classes) is at least a cut-off, otherwise it goes to review.
Regression: automatically when the row's uncertainty is at most a cut-off; without an uncertainty column,
by the size of the error itself (that needs the truth, so it is for analysis only).

The cases in the review lane are assumed to be decided correctly by the reviewer. The errors that remain
are the errors among automated decisions: false negatives in the auto-negative lane plus false positives
in the auto-positive lane (multiclass: wrong classes; regression: misses larger than a tolerance).

Speed: :func:`lane_curve` sorts the file's keys once and keeps cumulative counts per distinct value
(a :class:`LaneCurve`). The counts of any pair of cut-offs are then a few ``searchsorted`` calls, O(log n)
whatever the number of rows, and a segment mix is O(groups · log n) on a curve built once per column
(:func:`segment_curve`). The solvers are exact over every distinct score; the trade-off curve is exact
over every pair of candidate cut-offs (every distinct score when there are at most ``max_candidates``).

The pieces live in small modules, re-exported by the package (``from mlimpact.difficulty import ...`` is
the one way in): :mod:`mlimpact.difficulty.lanes` (modes, policies, lanes, operating points),
:mod:`mlimpact.difficulty.curve` (the sorted cumulative structure), :mod:`mlimpact.difficulty.solvers`
(solvers and the trade-off curve) and :mod:`mlimpact.difficulty.text` (sentences and percents). This
module holds the tables: per lane (:func:`lane_table`) and per segment (:func:`lanes_by_segment`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mlimpact.difficulty.curve import (
    LaneCurve,
    _below,
    _index,
    _indices,
)
from mlimpact.difficulty.lanes import (
    Lanes,
)
from mlimpact.difficulty.text import (
    lane_label,
)
from mlimpact.errors import InputError
from mlimpact.metrics import wilson_interval

__all__ = ["LANE_TABLE_COLUMNS", "SEGMENT_LANE_COLUMNS", "lane_table", "lanes_by_segment"]


# ---------------------------------------------------------------------------------------------
# tables: per lane and per segment
# ---------------------------------------------------------------------------------------------

LANE_TABLE_COLUMNS = ["lane", "n", "share", "errors", "error_rate", "error_low", "error_high", "errors_per_1000",
                      "expected_rate", "observed_rate", "observed_low", "observed_high", "calibration_of", "note"]


def _lane_stats(curve: LaneCurve, i_low: int, i_high: int, threshold_index: int | None):
    """Per group: dict lane -> (n, errors, bad, expected sum) plus the review lane's model errors."""
    k = len(curve.values)
    n0, b0, e0 = _below(curve, i_low)
    n1, b1, e1 = _below(curve, i_high)
    nk, bk, ek = _below(curve, k)

    def exp(a, b):
        return None if a is None else a - (0 if b is None else b)

    stats = {}
    if curve.two_sided:
        stats["auto_negative"] = (n0, b0, b0, e0)
        rn, rb = n1 - n0, b1 - b0
        if threshold_index is None:
            rev_err = np.full(rn.shape, np.nan)
        else:
            t = min(max(threshold_index, i_low), i_high)
            nt, bt, _ = _below(curve, t)
            rev_err = (bt - b0) + ((n1 - nt) - (b1 - bt))  # FN below the threshold + FP at/above it
        stats["review"] = (rn, rev_err, rb, exp(e1, e0))
        pn, pb = nk - n1, bk - b1
        stats["auto_positive"] = (pn, pn - pb, pb, exp(ek, e1))
    else:
        stats["review"] = (n1, b1, b1, e1)
        stats["automatic"] = (nk - n1, bk - b1, bk - b1, exp(ek, e1))
    return stats


def lane_table(curve: LaneCurve, lanes: Lanes, *, threshold: float | None = None, subject: str = "positive"
               ) -> pd.DataFrame:
    """Per lane: rows, share, errors with a Wilson interval, errors per 1,000 cases, and calibration.

    Rows: each lane, then ``automated decisions`` and ``all cases, after review`` (review assumed correct).
    Review lane errors are the model's own mistakes there (binary: at ``threshold``), which review removes.
    Calibration: ``expected_rate`` is what the model's scores say, ``observed_rate`` what happened:
    binary — mean score vs positive rate; multiclass — mean probability of the chosen class vs accuracy;
    regression by uncertainty — the normal-model chance of a miss within the tolerance vs the share within it.
    """
    i_low, i_high = _indices(curve, lanes)
    t_idx = None if (threshold is None or not curve.two_sided) else _index(curve, threshold)
    stats = {k: tuple(None if v is None else float(np.asarray(v)[0]) for v in t)
             for k, t in _lane_stats(curve, i_low, i_high, t_idx).items()}
    auto = [stats[x] for x in stats if x != "review"]
    exp_auto = None if auto[0][3] is None else sum(p[3] for p in auto)
    stats["automated"] = (sum(p[0] for p in auto), sum(p[1] for p in auto), sum(p[2] for p in auto), exp_auto)
    rev = stats["review"]
    stats["all"] = (stats["automated"][0] + rev[0], stats["automated"][1], stats["automated"][2] + rev[2],
                    None if exp_auto is None else exp_auto + rev[3])
    names = list(stats)
    ln, err, bad = (np.array([stats[x][i] for x in names], dtype=float) for i in range(3))
    expected = np.array([np.nan if stats[x][3] is None else stats[x][3] for x in names])
    observed = bad if curve.two_sided else ln - bad
    elo, ehi = wilson_interval(err, ln)
    olo, ohi = wilson_interval(observed, ln)
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(ln > 0, err / ln, np.nan)
        obs_rate = np.where(ln > 0, observed / ln, np.nan)
        exp_rate = np.where(ln > 0, expected / ln, np.nan)
    if curve.two_sided:
        cal = "positive rate"
    elif curve.mode in ("top_probability", "margin"):
        cal = "accuracy"
    elif curve.mode == "uncertainty":
        cal = f"share within ±{curve.tolerance:g}"
    else:
        cal = "—"
    notes = []
    for name in names:
        note = ""
        if name == "review":
            note = ("decided by people, assumed correct after review; errors shown are the model's own"
                    + (f" at threshold {threshold:g}" if curve.two_sided and threshold is not None else ""))
        elif name == "all":
            note = "errors left after review: the automated decisions' errors only"
        if curve.two_sided and not curve.probabilities:
            note = (note + "; " if note else "") + "scores are not probabilities: no calibration"
        notes.append(note)
    labels = [{"automated": "automated decisions", "all": "all cases, after review"}.get(x, lane_label(x, subject))
              for x in names]
    n = curve.n
    return pd.DataFrame({"lane": labels, "n": ln.astype(np.int64), "share": ln / n if n else ln * np.nan,
                         "errors": err, "error_rate": rate, "error_low": elo, "error_high": ehi,
                         "errors_per_1000": 1000 * rate, "expected_rate": exp_rate, "observed_rate": obs_rate,
                         "observed_low": olo, "observed_high": ohi, "calibration_of": cal, "note": notes},
                        columns=LANE_TABLE_COLUMNS)


SEGMENT_LANE_COLUMNS = ["segment", "n", "share_of_rows", "auto_negative", "review", "auto_positive", "automatic",
                        "review_share", "review_low", "review_high", "automated", "automated_errors",
                        "automated_error_rate", "error_low", "error_high", "share_of_automated_errors"]


def lanes_by_segment(grouped: LaneCurve, lanes: Lanes, labels) -> pd.DataFrame:
    """Per segment: rows in each lane, share sent to review, and where the automated errors land.

    ``grouped`` comes from :func:`segment_curve` (built once per column); this call is O(groups · log n).
    Sorted by share sent to review, largest first.

    >>> from mlimpact.difficulty.curve import lane_curve, segment_curve
    >>> from mlimpact.io.dataset import build_dataset
    >>> from mlimpact.io.roles import Roles
    >>> ds = build_dataset(pd.DataFrame({"y": [0, 0, 1, 1], "p": [0.1, 0.4, 0.5, 0.9]}), Roles(label="y", score="p"))
    >>> g = segment_curve(lane_curve(ds), np.array([0, 0, 1, 1]), 2)
    >>> lanes_by_segment(g, Lanes("score", low=0.3, high=0.6), ["a", "b"])[["segment", "review"]].values.tolist()
    [['a', 1], ['b', 1]]
    """
    labels = [str(x) for x in labels]
    if len(labels) != grouped.n_groups:
        raise InputError(f"{len(labels)} segment labels for {grouped.n_groups} groups")
    i_low, i_high = _indices(grouped, lanes)
    stats = _lane_stats(grouped, i_low, i_high, None)
    g = grouped.n_groups
    zeros = np.zeros(g, dtype=np.int64)
    count = {name: np.asarray(stats[name][0], dtype=np.int64) if name in stats else zeros for name in
             ("auto_negative", "review", "auto_positive", "automatic")}
    total = sum(count.values())
    automated = total - count["review"]
    auto_err = sum(np.asarray(stats[x][1], dtype=np.int64) for x in stats if x != "review")
    rlo, rhi = wilson_interval(count["review"], total)
    elo, ehi = wilson_interval(auto_err, automated)
    all_err = auto_err.sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        out = pd.DataFrame({
            "segment": labels, "n": total, "share_of_rows": total / max(total.sum(), 1),
            **count, "review_share": count["review"] / total, "review_low": rlo, "review_high": rhi,
            "automated": automated, "automated_errors": auto_err, "automated_error_rate": auto_err / automated,
            "error_low": elo, "error_high": ehi,
            "share_of_automated_errors": auto_err / all_err if all_err else np.zeros(g)},
            columns=SEGMENT_LANE_COLUMNS)
    out = out[out["n"] > 0]
    return out.sort_values(["review_share", "n"], ascending=[False, False], kind="stable").reset_index(drop=True)
