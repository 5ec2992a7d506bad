"""Performance before the labels arrive: confidence-based performance estimation (CBPE) for binary tasks.

The recent rows of a monitoring file often have a score but no label yet (:attr:`Dataset.unlabelled`). Once
the scores are calibrated, a flagged row with probability ``p`` is a true positive with probability ``p`` and a
false positive otherwise; summed per time bucket (and segment value) this gives the expected E[TP], E[FP],
E[FN], E[TN], and recall, precision, F1 and accuracy as ratios of those expectations (as NannyML's CBPE).

* Calibration (:func:`calibrate`): isotonic regression of the label on the score, fitted on the labelled
  reference rows (time ≤ the reference end, default the middle of the labelled time span).
* Decisions: :func:`mlimpact.io.decision.decide` at ``settings.threshold``, as for the labelled rows.
* 95% intervals around the realized (unknown) value: the labels' own randomness (each ~ Bernoulli(p),
  independent; delta method: precision's and accuracy's denominators are known, recall's and F1's random)
  plus the calibration's uncertainty (the variance of the estimate over :data:`N_CALIBRATION_BOOT` isotonic
  refits on bootstrap resamples of the reference, seeded). Clipped to [0, 1].

The limit: this assumes P(label | score) is the same in the unlabelled rows as in the reference. A change in
that relation (concept shift: a new fraud pattern the model scores low) cannot be seen without labels, and
the estimate and its interval are then wrong. A change in the scores alone (covariate shift) is followed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from mlimpact import trace
from mlimpact.errors import InputError
from mlimpact.io import Dataset
from mlimpact.io.dataset import encode_column
from mlimpact.io.decision import decide
from mlimpact.metrics import Z95
from mlimpact.monitoring.series import (
    DEFAULT_SETTINGS,
    MIN_RESAMPLED_ROWS,
    OVER_TIME_COLUMNS,
    MonitorSettings,
    TimeBuckets,
    _reference_end,
    series_table,
    time_buckets,
)

__all__ = ["ESTIMATED_METRICS", "MIN_REFERENCE_ROWS", "N_CALIBRATION_BOOT", "CONFUSION_COLUMNS", "Calibration",
           "calibrate", "estimation_problem", "estimated_over_time", "estimated_confusion", "basic_problem_of",
           "no_reference_time", "reference_problem_of", "unlabelled_problem_of", "calibration_of",
           "estimate_cells_from_runs", "estimated_series", "estimated_metrics"]

#: the metrics that can be estimated without labels (names as in :data:`mlimpact.metrics.METRICS`)
ESTIMATED_METRICS = ("recall", "precision", "f1", "accuracy")
#: fewest labelled reference rows to calibrate on; isotonic refits for the calibration's share of the interval
MIN_REFERENCE_ROWS, N_CALIBRATION_BOOT = 100, 40
CONFUSION_COLUMNS = ["segment_column", "segment", "period", "bucket", "start", "end", "n", "predicted_positives",
                     "positives", "tp", "fp", "fn", "tn", "tp_sd", "fp_sd", "fn_sd", "tn_sd"]


@dataclass(frozen=True)
class Calibration:
    """The isotonic map score → P(positive) fitted on the reference rows, and its bootstrap refits, each kept
    as its breakpoints (``x``, ``y``): linear between them, constant beyond, as ``IsotonicRegression.predict``.

    >>> Calibration(pd.Timestamp("2026-01-01"), 4, 2, np.array([0.2, 0.8]), np.array([0.0, 1.0])
    ...             ).probability([0.1, 0.5, 0.9]).round(6).tolist()
    [0.0, 0.5, 1.0]
    """

    reference_end: pd.Timestamp
    n_reference: int
    reference_positives: int
    x: np.ndarray
    y: np.ndarray
    boot: tuple[tuple[np.ndarray, np.ndarray], ...] = ()

    def probability(self, score) -> np.ndarray:
        """Calibrated probability of each score."""
        return np.interp(np.asarray(score, dtype=float), self.x, self.y)


def _fit(x: np.ndarray, y: np.ndarray, weight: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.isotonic import IsotonicRegression  # on use: start-up (sklearn is slow to import)

    used = weight > 0
    iso = IsotonicRegression(out_of_bounds="clip", y_min=0, y_max=1).fit(x[used], y[used], sample_weight=weight[used])
    return np.asarray(iso.X_thresholds_, dtype=float), np.asarray(iso.y_thresholds_, dtype=float)


def _reference_rows(dataset: Dataset, end: pd.Timestamp) -> np.ndarray:
    t = dataset.frame[dataset.roles.time]
    return (t.notna() & (t <= end)).to_numpy()


def _basic_problem(dataset: Dataset) -> str | None:
    """Why ``dataset`` is not a file an estimate runs on (task, score, time), or None."""
    return basic_problem_of(dataset.source, dataset.task, dataset.score is not None, dataset.roles.time)


def basic_problem_of(src: str, task: str, has_score: bool, time: str | None) -> str | None:
    """:func:`_basic_problem` from what a file (in memory or on an engine) has."""
    what = "estimating performance without labels"
    if task != "binary":
        return (f"{src}: {what} works only for a binary task, and this file is {task}; read the metrics "
                "over time of its labelled rows instead")
    if not has_score:
        return f"{src}: no score column chosen; {what} needs the model's score of every row (pick the score column)"
    if time is None:
        return (f"{src}: no time column chosen; {what} needs one to tell the reference period from the recent "
                "rows (pick the time column)")
    return None


def _reference_problem(dataset: Dataset, reference_end) -> str | None:
    """Why the labelled reference rows cannot calibrate the scores, or None."""
    if dataset.frame[dataset.roles.time].isna().all():
        return no_reference_time(dataset.source, dataset.roles.time)
    end = _reference_end(dataset, reference_end)
    ref = _reference_rows(dataset, end)
    return reference_problem_of(dataset.source, end, int(ref.sum()), int(dataset.y[ref].sum()))


def no_reference_time(src: str, time: str) -> str:
    """The sentence for labelled rows none of whose times reads as one."""
    return (f"{src}: no labelled row has a readable time in `{time}`, so there is no reference period to calibrate "
            "the scores on; pick the column with the time of each prediction")


def reference_problem_of(src: str, end: pd.Timestamp, rows: int, positives: int) -> str | None:
    """Why ``rows`` labelled reference rows (``positives`` of them positive) up to ``end`` cannot calibrate."""
    if rows < MIN_REFERENCE_ROWS:
        return (f"{src}: only {rows:,} labelled rows up to the reference end {end:%Y-%m-%d}; estimating performance "
                f"needs at least {MIN_REFERENCE_ROWS} to calibrate the scores on (move the reference end later, or "
                "add labelled rows)")
    if positives in (0, rows):
        return (f"{src}: the {rows:,} labelled rows up to the reference end {end:%Y-%m-%d} have no "
                f"{'positive' if positives == 0 else 'negative'} label, so the scores cannot be calibrated; move "
                "the reference end so that the reference holds both classes")
    return None


def _unlabelled_scores(dataset: Dataset) -> np.ndarray:
    """The score of every unlabelled row, NaN where missing or not finite."""
    s = pd.to_numeric(dataset.unlabelled[dataset.roles.score], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    return np.where(np.isfinite(s), s, np.nan)


def estimation_problem(dataset: Dataset, reference_end=None) -> str | None:
    """Why performance cannot be estimated on ``dataset`` without labels, one sentence naming the file and what
    to do; None when it can.

    >>> from mlimpact.io import Roles, build_dataset
    >>> ds = build_dataset(pd.DataFrame({"y": [0, 1], "p": [0.2, 0.7], "t": ["2026-01-01", "2026-01-02"]}),
    ...                    Roles(label="y", score="p", time="t"), source="a.csv")
    >>> estimation_problem(ds)
    'a.csv: every row has a label, so there is nothing to estimate; read the metrics over time instead'
    """
    problem = _basic_problem(dataset)
    if problem:
        return problem
    without = dataset.exclusions.get("label is missing", 0)  # the unlabelled rows kept have a usable score
    problem = unlabelled_problem_of(dataset.source, dataset.roles.score, without,
                                    0 if dataset.unlabelled is None else len(dataset.unlabelled))
    if problem:
        return problem
    return _reference_problem(dataset, reference_end)


def unlabelled_problem_of(src: str, score: str, without: int, unlabelled: int) -> str | None:
    """Why there is nothing to estimate: no row without a label (``without``) has a usable score, or every row has
    a label; None when ``unlabelled`` rows can be estimated."""
    if not unlabelled and without:
        return (f"{src}: none of the {without:,} rows without a label has a score in `{score}`; estimating their "
                "performance needs the model's score of each row")
    if not unlabelled:
        return f"{src}: every row has a label, so there is nothing to estimate; read the metrics over time instead"
    return None


def calibrate(dataset: Dataset, reference_end=None, *, seed: int = 0) -> Calibration:
    """Fit the isotonic calibration on the labelled reference rows (time ≤ ``reference_end``, default the middle
    of the labelled time span) and its :data:`N_CALIBRATION_BOOT` bootstrap refits (deterministic for a seed).

    The rows are counted per (score, label) first: a fit weighted by those counts is the fit on the rows, and a
    bootstrap resample of the rows is a multinomial draw of the counts, so a refit costs one pass over the
    distinct scores. Raises InputError (the :func:`estimation_problem` sentence) when the reference cannot serve.
    """
    problem = _basic_problem(dataset) or _reference_problem(dataset, reference_end)
    if problem:
        raise InputError(problem)
    end = _reference_end(dataset, reference_end)
    ref = _reference_rows(dataset, end)
    values, inverse = np.unique(dataset.score[ref], return_inverse=True)
    return calibration_of(end, values, np.bincount(inverse * 2 + dataset.y[ref], minlength=2 * len(values)), seed)


def calibration_of(end: pd.Timestamp, values: np.ndarray, counts: np.ndarray, seed: int = 0) -> Calibration:
    """:func:`calibrate` from the reference's distinct scores ``values`` (ascending) and ``counts`` (negatives and
    positives of each, interleaved): in memory or from an engine's ``GROUP BY score, label``."""
    xs, ys = np.repeat(values, 2), np.tile([0.0, 1.0], len(values))
    rng = np.random.default_rng(seed)
    boot = tuple(_fit(xs, ys, rng.multinomial(counts.sum(), counts / counts.sum()))
                 for _ in range(N_CALIBRATION_BOOT))  # a few dozen refits, each vectorized
    x, fitted = _fit(xs, ys, counts.astype(float))
    return Calibration(end, int(counts.sum()), int(counts[1::2].sum()), x, fitted, boot)


# ----------------------------------------------------------------------------- sums per bucket × segment
@dataclass(frozen=True)
class _Cells:
    """Sums per ``bucket * S + segment`` cell of the unlabelled rows (bucket B: no time, dropped later)."""

    buckets: TimeBuckets
    slabels: list
    n: np.ndarray            # rows
    flagged: np.ndarray      # predicted positives (known)
    tp: np.ndarray           # E[TP] = Σ p·d
    fn: np.ndarray           # E[FN] = Σ p·(1-d)
    tp_var: np.ndarray       # Var(TP | p) = Σ p(1-p)·d
    fn_var: np.ndarray       # Var(FN | p) = Σ p(1-p)·(1-d)
    boot_tp: np.ndarray      # (N_CALIBRATION_BOOT, cells): E[TP] under each refit
    boot_fn: np.ndarray
    left_out: dict


def _codes(dataset: Dataset, keep: np.ndarray, period: str | None, segment: str | None):
    u = dataset.unlabelled.loc[keep]
    if period is None:
        nat = pd.DatetimeIndex([pd.NaT])
        buckets = TimeBuckets(None, np.zeros(len(u), dtype=np.int64), ("all",), nat, nat)
    else:
        buckets = time_buckets(u[dataset.roles.time].to_numpy(), period)
    if segment is None:
        scodes, slabels = np.zeros(len(u), dtype=np.int64), [None]
    elif segment not in u.columns:
        raise InputError(f"column `{segment}` is not in {dataset.source}; pick one of its columns")
    else:
        scodes, slabels = encode_column(u[segment].reset_index(drop=True))
    B, S = len(buckets.labels), len(slabels)
    return buckets, slabels, np.where(buckets.codes < 0, B, buckets.codes) * S + scodes, (B + 1) * S


def _cells(dataset: Dataset, cal: Calibration, period: str | None, segment: str | None,
           settings: MonitorSettings) -> _Cells:
    """Expected counts and their label variances per cell, vectorized with bincount over the cell codes."""
    score = _unlabelled_scores(dataset)
    keep = ~np.isnan(score)
    left_out = {"score is missing": int((~keep).sum())}
    if period is not None:
        left_out["time is missing"] = int((keep & dataset.unlabelled[dataset.roles.time].isna().to_numpy()).sum())
    buckets, slabels, cell, K = _codes(dataset, keep, period, segment)
    s = score[keep]
    return estimate_cells_from_runs(cal, s, np.ones(len(s)), cell, (buckets, slabels, K), settings.threshold,
                                    left_out)


def estimate_cells_from_runs(cal: Calibration, s: np.ndarray, weight: np.ndarray, cell: np.ndarray, layout,
                             threshold: float, left_out: dict) -> _Cells:
    """The cells from runs of unlabelled rows: ``weight`` rows with score ``s`` in cell ``cell`` (rows in memory,
    weight 1; an engine's ``GROUP BY bucket, segment, score``). ``layout``: (buckets, segment labels, cells)."""
    buckets, slabels, K = layout
    d, p = decide(s, threshold).astype(float), cal.probability(s)

    def add(w):
        return np.bincount(cell, weights=w * weight, minlength=K)

    boot = np.zeros((len(cal.boot), 2, K))
    for i, (x, y) in enumerate(cal.boot):  # a few dozen refits, each vectorized over the runs
        q = np.interp(s, x, y)
        boot[i] = add(q * d), add(q * (1 - d))
    return _Cells(buckets, slabels, add(np.ones(len(s))), add(d), add(p * d), add(p * (1 - d)),
                  add(p * (1 - p) * d), add(p * (1 - p) * (1 - d)), boot[:, 0], boot[:, 1], left_out)


def _ratio(num, den):
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def _spread(a: np.ndarray) -> np.ndarray:
    """Variance over the refits (axis 0) of the finite values; 0 where fewer than two."""
    ok = np.isfinite(a)
    k = ok.sum(axis=0)
    mean = np.where(ok, a, 0.0).sum(axis=0) / np.maximum(k, 1)
    return np.where(k > 1, (np.where(ok, a - mean, 0.0) ** 2).sum(axis=0) / np.maximum(k - 1, 1), 0.0)


def _values(tp, fn, flagged, n) -> dict[str, np.ndarray]:
    """Each metric as a ratio of expected counts (with a leading axis: per refit)."""
    return {"recall": _ratio(tp, tp + fn), "precision": _ratio(tp, flagged),
            "f1": _ratio(2 * tp, tp + flagged + fn), "accuracy": _ratio(tp + (n - flagged) - fn, n)}


def _label_variances(c: _Cells) -> dict[str, np.ndarray]:
    """Delta-method variance of each realized metric from the labels' randomness (TP and FN independent)."""
    a, f, va, vf, flagged = c.tp, c.fn, c.tp_var, c.fn_var, c.flagged
    return {"recall": _ratio(f * f * va + a * a * vf, (a + f) ** 4), "precision": _ratio(va, flagged ** 2),
            "f1": _ratio(4 * ((flagged + f) ** 2 * va + a * a * vf), (a + flagged + f) ** 4),
            "accuracy": _ratio(va + vf, c.n ** 2)}


_UNDEFINED = {"recall": "no expected positives", "precision": "no predicted positives",
              "f1": "no predicted or expected positives", "accuracy": "no rows"}


def _metric_table(c: _Cells, metrics: list[str]) -> pd.DataFrame:
    """A metrics table over the cell codes (group, n, positives, value, low, high, note, metric)."""
    values, boot = _values(c.tp, c.fn, c.flagged, c.n), _values(c.boot_tp, c.boot_fn, c.flagged, c.n)
    label_var = _label_variances(c)
    parts = []
    for m in metrics:  # at most four metrics, each vectorized over every cell
        v, half = values[m], Z95 * np.sqrt(label_var[m] + _spread(boot[m]))
        parts.append(pd.DataFrame({
            "group": np.arange(len(v)), "n": c.n.astype(np.int64), "positives": c.tp + c.fn, "value": v,
            "low": np.clip(v - half, 0.0, 1.0), "high": np.clip(v + half, 0.0, 1.0),
            "note": np.where(np.isnan(v), _UNDEFINED[m], "estimated"), "metric": m}))
    return pd.concat(parts, ignore_index=True)


def _run(dataset: Dataset, columns: list[str], period, segment, reference_end, settings, seed,
         calibration) -> tuple[_Cells | None, pd.DataFrame | None]:
    """The cells, or an empty frame with ``columns`` and ``attrs["problem"]`` when the estimate cannot run."""
    problem = estimation_problem(dataset, reference_end)
    if problem:
        empty = pd.DataFrame(columns=columns)
        empty.attrs["problem"] = problem
        return None, empty
    cal = calibration or calibrate(dataset, reference_end, seed=seed)
    return _cells(dataset, cal, period, segment, settings), None


# ----------------------------------------------------------------------------- public
def estimated_over_time(dataset: Dataset, *, metrics, period: str | None = "W", segment: str | None = None,
                        reference_end=None, settings: MonitorSettings = DEFAULT_SETTINGS, seed: int = 0,
                        calibration: Calibration | None = None) -> pd.DataFrame:
    """Estimated metrics per time bucket (and segment value) of the **unlabelled** rows, with 95% intervals.

    :data:`OVER_TIME_COLUMNS`, as :func:`~mlimpact.monitoring.series.metrics_over_time`, so
    :func:`~mlimpact.monitoring.ranges.check_ranges` reads it unchanged: ``n`` the bucket's unlabelled rows,
    ``positives`` the *expected* positives (Σ p, a float), ``value`` the estimate, ``low``/``high`` the 95%
    interval of the realized value, ``note`` "estimated" or why the value is undefined. ``too_small`` follows
    the series rules (the point rule's ``min_positives`` on the expected positives); under the interval rule
    without ``min_count``, every metric (a normal approximation) is too small below :data:`MIN_RESAMPLED_ROWS`.

    Unlabelled rows without a usable score (missing, not a number, infinite) are left out, and with a ``period``
    those without a time: ``attrs["left_out"]`` counts them. When the estimate cannot run, the frame is empty
    and ``attrs["problem"]`` says why (:func:`estimation_problem`). ``calibration`` reuses a :func:`calibrate`.
    """
    trace.count("estimated_over_time")
    metrics = estimated_metrics(metrics)
    c, empty = _run(dataset, OVER_TIME_COLUMNS, period, segment, reference_end, settings, seed, calibration)
    return empty if c is None else estimated_series(c, metrics, segment, settings)


def estimated_metrics(metrics) -> list[str]:
    """``metrics`` (a name or a list) as a list, each one that can be estimated (else one clear line)."""
    metrics = [metrics] if isinstance(metrics, str) else list(metrics)
    if bad := [m for m in metrics if m not in ESTIMATED_METRICS]:
        raise InputError(f"metric {', '.join(bad)} cannot be estimated without labels; choose from "
                         f"{', '.join(ESTIMATED_METRICS)}")
    return metrics


def estimated_series(c: _Cells, metrics: list[str], segment: str | None, settings: MonitorSettings) -> pd.DataFrame:
    """:func:`estimated_over_time`'s table from the cells (in memory or from an engine's runs)."""
    out = series_table(_metric_table(c, metrics), c.buckets, c.slabels, segment=segment, settings=settings,
                       task="binary")
    if settings.rule == "interval" and settings.min_count is None:
        out["too_small"] = out["too_small"].to_numpy(bool) | (out["n"].to_numpy() < MIN_RESAMPLED_ROWS)
    out["note"] = out["note"].astype(object)
    out.attrs["left_out"] = c.left_out
    return out


def estimated_confusion(dataset: Dataset, *, period: str | None = "W", segment: str | None = None,
                        reference_end=None, settings: MonitorSettings = DEFAULT_SETTINGS, seed: int = 0,
                        calibration: Calibration | None = None) -> pd.DataFrame:
    """Expected confusion counts of the unlabelled rows per time bucket (and segment value).

    :data:`CONFUSION_COLUMNS`, one row per bucket × segment value with rows, by segment and start: ``n`` rows,
    ``predicted_positives`` (flagged at ``settings.threshold``: known), ``positives`` (expected, Σ p), ``tp fp
    fn tn`` the expected counts (adding up to ``n``) and ``*_sd`` their standard deviations, the labels'
    randomness plus the calibration's; FP's equals TP's and TN's FN's (the flagged count is known). Rows left
    out and the empty frame as in :func:`estimated_over_time`.
    """
    c, empty = _run(dataset, CONFUSION_COLUMNS, period, segment, reference_end, settings, seed, calibration)
    if c is None:
        return empty
    B, S = len(c.buckets.labels), len(c.slabels)
    tp_sd, fn_sd = np.sqrt(c.tp_var + _spread(c.boot_tp)), np.sqrt(c.fn_var + _spread(c.boot_fn))
    g = np.flatnonzero((np.arange(len(c.n)) < B * S) & (c.n > 0))
    b, s = g // S, g % S
    out = pd.DataFrame({
        "segment_column": segment, "segment": np.asarray(c.slabels, dtype=object)[s], "period": c.buckets.period,
        "bucket": np.asarray(c.buckets.labels, dtype=object)[b], "start": c.buckets.starts[b],
        "end": c.buckets.ends[b], "n": c.n[g].astype(np.int64), "predicted_positives": c.flagged[g].astype(np.int64),
        "positives": (c.tp + c.fn)[g], "tp": c.tp[g], "fp": (c.flagged - c.tp)[g], "fn": c.fn[g],
        "tn": (c.n - c.flagged - c.fn)[g], "tp_sd": tp_sd[g], "fp_sd": tp_sd[g], "fn_sd": fn_sd[g], "tn_sd": fn_sd[g]})
    out = out.sort_values(["segment", "start"], kind="stable", na_position="first", ignore_index=True)
    out.attrs["left_out"] = c.left_out
    return out[CONFUSION_COLUMNS]
