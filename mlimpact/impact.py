"""Business impact: what the model's decisions are worth, against what else we could do.

Money per row comes from a :class:`CostModel` (each term a number or a column, so a missed fraud
can cost its own ``amount``). Net value = Σ value_tp·TP + value_tn·TN − cost_fp·FP − cost_fn·FN
(− cost_review per reviewed row when difficulty lanes are set; a reviewed row is assumed decided
correctly). Every value is a sum of per-row money, so:

* the value at every threshold comes from one sort and a cumulative sum (:func:`value_curve`),
  and the best threshold (and the best review band) is exact, never a grid search;
* intervals come from one vectorized bootstrap of cell sums (:func:`_cell_bootstrap`): rows are
  grouped into cells whose decisions agree (score bin × label, or the pattern of every policy's
  decision), cell counts are resampled (multinomial), and the spread of money within a cell enters
  as a normal term with the cell's exact covariance, so sums and paired differences have the
  first two moments of the row bootstrap. With numeric costs the rows of a cell are identical and
  the bootstrap is exact.

Pages and the CLI call :func:`impact_report`; the pieces are public for tests and exports.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, fields

import numpy as np
import pandas as pd

from .dataset import Dataset
from .errors import InputError
from .uncertainty import percentile_interval, run_bootstrap

__all__ = [
    "MONEY_TERMS", "TERM_LABELS", "CostModel", "default_costs", "default_rule", "Rule", "parse_rule", "Period",
    "detect_period", "scale_factor", "Gains", "row_gains", "net_value", "value_curve", "thin_value_curve",
    "best_threshold", "best_lanes", "operating_points", "compare_baselines", "sensitivity", "segment_impact",
    "executive_summary", "ImpactReport", "impact_report", "per_words", "one_vs_rest", "lanes_from", "format_money",
    "md_escape", "markdown_table", "run_cli",
]

#: The five money terms of a cost model, in display order.
MONEY_TERMS = ("value_tp", "value_tn", "cost_fp", "cost_fn", "cost_review")
TERM_LABELS = {
    "value_tp": "value of a true positive",
    "value_tn": "value of a true negative",
    "cost_fp": "cost of a false positive",
    "cost_fn": "cost of a false negative",
    "cost_review": "cost of one human review",
}
#: score cut-offs in the bootstrap's grid: row quantiles plus quantiles of the positives' scores
GRID_ROW_QUANTILES = 256
GRID_POSITIVE_QUANTILES = 256
#: up to this many rows in all, cell counts are an exact multinomial draw
NORMAL_ABOVE = 1000
#: cells with fewer rows are resampled with exact (Poisson) draws
SMALL_CELL = 50
#: floats per bootstrap chunk (replicates × cells × columns), bounding memory
_CHUNK_FLOATS = 2_000_000
DAYS_PER_MONTH = 365.2425 / 12
DAYS_PER_YEAR = 365.2425


# ---------------------------------------------------------------------------------------------
# assumptions: the cost model, user rules, the period
# ---------------------------------------------------------------------------------------------


def _fmt_number(v: float) -> str:
    return f"{v:g}" if abs(v) < 1e6 else f"{v:,.0f}"


@dataclass(frozen=True)
class CostModel:
    """Money per decision outcome: each term a number, or the name of a numeric column (money per row).

    Frozen and hashable (a cache key); :meth:`describe` lists the assumptions for every export.

    >>> costs = CostModel(cost_fp=5, cost_fn="amount", cost_review=2)
    >>> costs.describe()[3]
    'cost of a false negative: the row’s `amount`'
    >>> costs.columns()
    ['amount']
    """

    value_tp: float | str = 0.0
    value_tn: float | str = 0.0
    cost_fp: float | str = 0.0
    cost_fn: float | str = 0.0
    cost_review: float | str = 0.0

    def __post_init__(self) -> None:
        problems = []
        for name in MONEY_TERMS:
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int | float | str | np.integer | np.floating):
                problems.append(f"{name}: give a number or a column name, not {v!r}")
            elif isinstance(v, str):
                if not v.strip():
                    problems.append(f"{name}: give a number or a column name; it is empty")
                else:
                    object.__setattr__(self, name, v.strip())
            elif not math.isfinite(float(v)):
                problems.append(f"{name}: must be a finite number, not {v!r}")
            else:
                object.__setattr__(self, name, float(v))
        if problems:
            raise InputError("cost model: " + "; ".join(problems), problems=problems)

    @classmethod
    def parse(cls, **texts) -> CostModel:
        """Build from text (CLI options, form fields): a text that reads as a number is a number.

        >>> CostModel.parse(cost_fp="5", cost_fn="amount").cost_fp
        5.0
        """
        values = {}
        for name, text in texts.items():
            if name not in MONEY_TERMS:
                raise InputError(f"cost model: unknown term {name!r}; use one of {', '.join(MONEY_TERMS)}")
            if text is None:
                continue
            if isinstance(text, str):
                try:
                    values[name] = float(text.strip().replace("_", ""))
                except ValueError:
                    values[name] = text
            else:
                values[name] = text
        return cls(**values)

    def replace(self, **changes) -> CostModel:
        """A copy with some terms changed."""
        return CostModel(**{f.name: changes.get(f.name, getattr(self, f.name)) for f in fields(self)})

    def columns(self) -> list[str]:
        """The columns the model reads (in term order, without repeats)."""
        out: list[str] = []
        for name in MONEY_TERMS:
            v = getattr(self, name)
            if isinstance(v, str) and v not in out:
                out.append(v)
        return out

    def describe(self) -> list[str]:
        """One line per term, for exports: ``cost of a false positive: 5``."""
        lines = []
        for name in MONEY_TERMS:
            v = getattr(self, name)
            shown = f"the row’s `{v}`" if isinstance(v, str) else _fmt_number(v)
            lines.append(f"{TERM_LABELS[name]}: {shown}")
        return lines

    def validate(self, frame: pd.DataFrame) -> None:
        """Every problem with the named columns at once (missing, not numbers, missing values)."""
        problems = []
        for name in MONEY_TERMS:
            col = getattr(self, name)
            if not isinstance(col, str):
                continue
            label = TERM_LABELS[name]
            if col not in frame.columns:
                problems.append(f"column `{col}` ({label}) is not in the file; give a number or one of its "
                                "numeric columns")
                continue
            s = frame[col]
            if not pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
                problems.append(f"column `{col}` ({label}) does not hold numbers; give a number or a numeric "
                                "column")
                continue
            bad = int(s.isna().sum())
            if bad:
                problems.append(f"column `{col}` ({label}) has {bad:,} missing values; fill them or give a "
                                "number")
            elif not np.isfinite(s.to_numpy(dtype=float)).all():
                problems.append(f"column `{col}` ({label}) has infinite values; fix them or give a number")
        if problems:
            raise InputError("; ".join(problems), problems=problems)

    def arrays(self, frame: pd.DataFrame) -> dict[str, np.ndarray]:
        """Money per row for each term (validated): ``{term: float array of len(frame)}``."""
        self.validate(frame)
        n = len(frame)
        out = {}
        for name in MONEY_TERMS:
            v = getattr(self, name)
            out[name] = frame[v].to_numpy(dtype=float) if isinstance(v, str) else np.full(n, float(v))
        return out


def default_costs(dataset: Dataset) -> CostModel:
    """Starting assumptions: with an amount column a missed positive costs its amount, a false alarm 5
    and a review 2; without one, every error costs 1 (the optimum then minimises errors).

    >>> default_costs(_demo_dataset()).cost_fn
    1.0
    """
    if dataset.roles.amount and dataset.roles.amount in dataset.frame.columns:
        s = dataset.frame[dataset.roles.amount]
        if pd.api.types.is_numeric_dtype(s) and not s.isna().any():
            return CostModel(cost_fp=5.0, cost_fn=dataset.roles.amount, cost_review=2.0)
    return CostModel(cost_fp=1.0, cost_fn=1.0, cost_review=0.5)


def default_rule(dataset: Dataset) -> str:
    """A simple rule to compare with: the amount above (about) its 99th percentile, or "" without an amount.

    >>> default_rule(_demo_dataset())
    ''
    """
    col = dataset.roles.amount
    if not col or col not in dataset.frame.columns:
        return ""
    s = dataset.frame[col]
    if not pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s) or s.notna().sum() == 0:
        return ""
    q = float(s.quantile(0.99))
    if q <= 0 or not math.isfinite(q):
        return ""
    step = 10 ** math.floor(math.log10(q))
    return Rule(col, ">", float(round(q / step) * step)).describe()


_RULE_RE = re.compile(r"^\s*(`[^`]+`|[^\s<>=!]+)\s*(>=|<=|==|!=|>|<)\s*(.+?)\s*$")
_RULE_HELP = ("write it as `column op value`, e.g. `amount > 500` (op is one of > >= < <= == !=; "
              "quote text values: channel == \"online\")")


@dataclass(frozen=True)
class Rule:
    """A one-column rule that flags rows, e.g. ``amount > 500``: the simple alternative to a model.

    >>> r = parse_rule("amount > 500")
    >>> r.mask(pd.DataFrame({"amount": [100.0, 600.0, None]})).tolist()
    [False, True, False]
    """

    column: str
    op: str
    value: float | str

    def describe(self) -> str:
        """The rule as written: ``amount > 500``, ``channel == "online"``."""
        col = self.column if re.fullmatch(r"[^\s<>=!`]+", self.column) else f"`{self.column}`"
        v = f'"{self.value}"' if isinstance(self.value, str) else _fmt_number(self.value)
        return f"{col} {self.op} {v}"

    def mask(self, frame: pd.DataFrame) -> np.ndarray:
        """Rows the rule flags (missing values are never flagged)."""
        if self.column not in frame.columns:
            raise InputError(f"rule {self.describe()!r}: column `{self.column}` is not in the file; "
                             "pick one of its columns")
        s = frame[self.column]
        if pd.api.types.is_datetime64_any_dtype(s):
            raise InputError(f"rule {self.describe()!r}: column `{self.column}` holds dates; a rule compares "
                             "numbers or text")
        present = s.notna().to_numpy()
        if isinstance(self.value, str):
            if self.op not in ("==", "!="):
                raise InputError(f"rule {self.describe()!r}: text can only be compared with == or !=")
            text = s.astype("string")
            hit = (text == self.value) if self.op == "==" else (text != self.value)
            return hit.fillna(False).to_numpy(dtype=bool) & present
        if not pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
            raise InputError(f"rule {self.describe()!r}: column `{self.column}` holds text; quote the value, "
                             f"e.g. {self.column} == \"text\"")
        ops = {">": np.greater, ">=": np.greater_equal, "<": np.less, "<=": np.less_equal,
               "==": np.equal, "!=": np.not_equal}
        with np.errstate(invalid="ignore"):
            return ops[self.op](s.to_numpy(dtype=float, na_value=np.nan), float(self.value)) & present


def parse_rule(text: str) -> Rule:
    """Parse ``column op value`` (op in ``> >= < <= == !=``; a number, or a quoted text value).

    >>> parse_rule('channel == "online"')
    Rule(column='channel', op='==', value='online')
    >>> parse_rule("`card amount` >= 1e3").value
    1000.0
    """
    m = _RULE_RE.match(text or "")
    if not m:
        raise InputError(f"rule {text!r}: {_RULE_HELP}")
    col, op, raw = m.groups()
    col = col[1:-1] if col.startswith("`") else col
    if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "\"'":
        return Rule(col, op, raw[1:-1])
    try:
        value = float(raw)
    except ValueError:
        raise InputError(f"rule {text!r}: {raw!r} is not a number; quote text values, e.g. "
                         f"{col} == \"{raw}\"") from None
    if not math.isfinite(value):
        raise InputError(f"rule {text!r}: the value must be a finite number")
    return Rule(col, op, value)


@dataclass(frozen=True)
class Period:
    """The time span a file covers, detected from its time column (for per-month and per-year values).

    >>> p = Period(pd.Timestamp("2026-01-01"), pd.Timestamp("2026-01-31"), 31.0)
    >>> round(p.factor("month"), 4), p.describe()
    (0.9818, '2026-01-01 to 2026-01-31 (31 days)')
    """

    start: pd.Timestamp
    end: pd.Timestamp
    days: float

    def factor(self, scale: str | None) -> float:
        """Multiplier from "this file" to per ``scale`` ("month"/"year"; None = the whole file)."""
        if scale is None:
            return 1.0
        if scale == "month":
            return DAYS_PER_MONTH / self.days
        if scale == "year":
            return DAYS_PER_YEAR / self.days
        raise InputError(f"scale must be 'month', 'year' or None, not {scale!r}")

    def describe(self) -> str:
        fmt = "%Y-%m-%d"
        return f"{self.start.strftime(fmt)} to {self.end.strftime(fmt)} ({self.days:,.0f} days)"


def detect_period(dataset: Dataset) -> Period | None:
    """The span of the time column: last minus first (plus one day when times are whole dates).

    None when there is no time column or fewer than two distinct times.
    """
    col = dataset.roles.time
    if not col or col not in dataset.frame.columns:
        return None
    t = dataset.frame[col]
    if not pd.api.types.is_datetime64_any_dtype(t):
        return None
    t = t.dropna()
    if t.nunique() < 2:
        return None
    start, end = t.min(), t.max()
    days = (end - start) / pd.Timedelta(days=1)
    if (t.dt.normalize() == t).all():  # whole dates: the last day counts in full
        days += 1.0
    return Period(start=start, end=end, days=float(days))


def scale_factor(dataset: Dataset, scale: str | None) -> tuple[float, Period | None]:
    """``(factor, period)``: money × factor = per month / per year (1 when ``scale`` is None)."""
    period = detect_period(dataset)
    if scale is None:
        return 1.0, period
    if scale not in ("month", "year"):
        raise InputError(f"scale must be 'month', 'year' or None, not {scale!r}")
    if period is None:
        raise InputError(f"values per {scale} need a time column with at least two different times; "
                         "pick the time column in the sidebar, or show values for the whole file")
    return period.factor(scale), period


# ---------------------------------------------------------------------------------------------
# per-row money and exact values
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Gains:
    """Per-row money under each decision: ``flag``, ``keep`` (not flagged) and ``review``."""

    y: np.ndarray
    score: np.ndarray
    flag: np.ndarray
    keep: np.ndarray
    review: np.ndarray
    terms: dict

    @property
    def perfect(self) -> np.ndarray:
        """Money per row if every row were decided right (no review needed)."""
        return np.maximum(self.flag, self.keep)


def _require_binary(dataset: Dataset) -> None:
    if dataset.task != "binary":
        raise InputError(f"business value needs a binary decision; this file's task is {dataset.task}. Choose "
                         "the binary task (or one class against the rest) and a positive class")
    if dataset.score is None:
        raise InputError("business value over thresholds needs a score column; pick the model's score column")


def _gains_from_terms(y: np.ndarray, score: np.ndarray, terms: dict) -> Gains:
    pos = np.asarray(y).astype(bool)
    flag = np.where(pos, terms["value_tp"], -terms["cost_fp"])
    keep = np.where(pos, -terms["cost_fn"], terms["value_tn"])
    review = np.where(pos, terms["value_tp"], terms["value_tn"]) - terms["cost_review"]
    return Gains(y=pos, score=np.asarray(score, dtype=float), flag=flag, keep=keep, review=review, terms=terms)


def row_gains(dataset: Dataset, costs: CostModel, *, score: np.ndarray | None = None) -> Gains:
    """Money per row if flagged, kept or reviewed (validates the cost columns).

    >>> ds = _demo_dataset()
    >>> g = row_gains(ds, CostModel(value_tp=10, cost_fp=1, cost_fn=4))
    >>> g.flag.tolist(), g.keep.tolist()
    ([-1.0, 10.0, 10.0, -1.0], [0.0, -4.0, -4.0, 0.0])
    """
    _require_binary(dataset)
    return _gains_from_terms(dataset.y, dataset.score if score is None else score, costs.arrays(dataset.frame))


def _check_threshold(threshold) -> float:
    if isinstance(threshold, bool) or not isinstance(threshold, int | float | np.integer | np.floating) \
            or not math.isfinite(float(threshold)):
        raise InputError(f"threshold must be a finite number, not {threshold!r}")
    return float(threshold)


def _check_lanes(lanes) -> tuple[float, float] | None:
    if lanes is None:
        return None
    try:
        low, high = (float(v) for v in lanes)
    except (TypeError, ValueError):
        raise InputError(f"lanes must be two numbers (low, high), not {lanes!r}") from None
    if not (math.isfinite(low) and math.isfinite(high)) or low > high:
        raise InputError(f"lanes ({low:g}, {high:g}): give two finite cut-offs with low ≤ high")
    return low, high


def lanes_from(obj) -> tuple[float, float] | None:
    """The two score cut-offs of difficulty lanes from a pair or a lanes object; None if absent.

    Accepts ``(low, high)`` or an object with two cut-off attributes (``low``/``high``,
    ``lower``/``upper``, ...); anything else is ignored (returns None).

    >>> lanes_from((0.2, 0.8)), lanes_from(None), lanes_from("x")
    ((0.2, 0.8), None, None)
    """
    if obj is None:
        return None
    pairs = [("low", "high"), ("lower", "upper"), ("low_cut", "high_cut"), ("low_cutoff", "high_cutoff"),
             ("review_low", "review_high"), ("auto_negative_below", "auto_positive_at"),
             ("negative_below", "positive_at"), ("lower_threshold", "upper_threshold"), ("t_low", "t_high")]
    candidates = []
    if isinstance(obj, tuple | list) and len(obj) == 2:
        candidates.append(tuple(obj))
    for a, b in pairs:
        if hasattr(obj, a) and hasattr(obj, b):
            candidates.append((getattr(obj, a), getattr(obj, b)))
    cut = getattr(obj, "cutoffs", None) or getattr(obj, "thresholds", None)
    if isinstance(cut, tuple | list) and len(cut) == 2:
        candidates.append(tuple(cut))
    for low, high in candidates:
        try:
            lo, hi = float(low), float(high)
        except (TypeError, ValueError):
            continue
        if math.isfinite(lo) and math.isfinite(hi) and lo <= hi:
            return lo, hi
    return None


def _decisions(score: np.ndarray, threshold: float, lanes: tuple[float, float] | None = None) -> np.ndarray:
    """0 keep, 1 flag, 2 review."""
    if lanes is None:
        return (score >= threshold).astype(np.int8)
    low, high = lanes
    return np.where(score >= high, 1, np.where(score >= low, 2, 0)).astype(np.int8)


def _money(g: Gains, d: np.ndarray) -> np.ndarray:
    return np.where(d == 1, g.flag, np.where(d == 2, g.review, g.keep))


def _counts(g: Gains, d: np.ndarray) -> dict:
    y = g.y
    return {"flagged": int((d == 1).sum()), "reviewed": int((d == 2).sum()),
            "tp": int(((d == 1) & y).sum()), "fp": int(((d == 1) & ~y).sum()),
            "fn": int(((d == 0) & y).sum()), "tn": int(((d == 0) & ~y).sum())}


def net_value(dataset: Dataset, costs: CostModel, *, threshold: float = 0.5, lanes=None) -> dict:
    """Net value of the decisions at ``threshold`` (or with review ``lanes``), with the outcome counts.

    >>> ds = _demo_dataset()
    >>> net_value(ds, CostModel(value_tp=10, cost_fp=1, cost_fn=4), threshold=0.5)
    {'flagged': 2, 'reviewed': 0, 'tp': 1, 'fp': 1, 'fn': 1, 'tn': 1, 'value': 5.0}
    """
    g = row_gains(dataset, costs)
    d = _decisions(g.score, _check_threshold(threshold), _check_lanes(lanes))
    return {**_counts(g, d), "value": float(_money(g, d).sum())}


# ---- values at every cut: bins of scores, prefix sums ----------------------------------------


def _threshold_values(keep_b: np.ndarray, flag_b: np.ndarray) -> np.ndarray:
    """Value at every cut index j = 0..K+1 from per-bin sums (..., K+1) (bin i ≥ j is flagged)."""
    zero = np.zeros(keep_b.shape[:-1] + (1,))
    pk = np.concatenate([zero, np.cumsum(keep_b, axis=-1)], axis=-1)  # sum of bins < j
    pf = np.concatenate([zero, np.cumsum(flag_b, axis=-1)], axis=-1)
    return pk + (pf[..., -1:] - pf)


def _lanes_values(keep_b, flag_b, rev_b):
    """Best review band over all cut pairs a ≤ b: returns (value, a, b), vectorized over leading axes.

    value(a, b) = Σ keep(bins < a) + Σ review(a ≤ bins < b) + Σ flag(bins ≥ b)
                = [PK(a) − PR(a)] + [PR(b) + TF − PF(b)]; the best a for each b is a running maximum.
    """
    zero = np.zeros(keep_b.shape[:-1] + (1,))
    pk = np.concatenate([zero, np.cumsum(keep_b, axis=-1)], axis=-1)
    pf = np.concatenate([zero, np.cumsum(flag_b, axis=-1)], axis=-1)
    pr = np.concatenate([zero, np.cumsum(rev_b, axis=-1)], axis=-1)
    f = pk - pr
    gb = pr + pf[..., -1:] - pf
    run = np.maximum.accumulate(f, axis=-1)
    total = gb + run
    b = total.shape[-1] - 1 - np.argmax(total[..., ::-1], axis=-1)  # most flags-averse among ties
    value = np.take_along_axis(total, b[..., None], axis=-1)[..., 0]
    return value, b


def _best_a(f_values: np.ndarray, b: int) -> int:
    """The last index ≤ b where f reaches its running maximum (widest automatic-negative lane)."""
    seg = f_values[: b + 1]
    return int(b - np.argmax(seg[::-1]))


@dataclass(frozen=True, eq=False)
class _Exact:
    """Per distinct score: bins (0 = below the lowest score, empty), sums and counts."""

    cuts: np.ndarray  # ascending distinct scores (K)
    keep: np.ndarray  # (K+1,)
    flag: np.ndarray
    review: np.ndarray
    pos: np.ndarray
    rows: np.ndarray


def _exact(g: Gains) -> _Exact:
    cuts, inverse = np.unique(g.score, return_inverse=True)
    bins = inverse + 1
    k1 = len(cuts) + 1

    def s(w):
        return np.bincount(bins, weights=w, minlength=k1)

    return _Exact(cuts, s(g.keep), s(g.flag), s(g.review), s(g.y.astype(float)),
                  np.bincount(bins, minlength=k1).astype(float))


def _cut_threshold(cuts: np.ndarray, j: int) -> float:
    """The threshold of cut index j (1..K: cuts[j-1]; 0: flag all; K+1: above every score)."""
    if j <= 0:
        return float(cuts[0]) if len(cuts) else 0.0
    if j > len(cuts):
        return float(np.nextafter(cuts[-1], np.inf)) if len(cuts) else 0.0
    return float(cuts[j - 1])


def value_curve(dataset: Dataset, costs: CostModel, *, score: np.ndarray | None = None) -> pd.DataFrame:
    """Net value at every distinct threshold (flag when score ≥ threshold), from one sort.

    Returns columns ``threshold, flagged, flag_rate, tp, fp, fn, tn, value, value_vs_flag_none``,
    thresholds ascending; the last row (threshold just above the highest score) flags nothing.

    >>> ds = _demo_dataset()
    >>> value_curve(ds, CostModel(value_tp=10, cost_fp=1, cost_fn=4))[["threshold", "value"]].values.tolist()
    [[0.1, 18.0], [0.4, 19.0], [0.6, 5.0], [0.8, 6.0], [0.8000000000000002, -8.0]]
    """
    g = row_gains(dataset, costs, score=score)
    return _curve_frame(_exact(g))


def _curve_frame(ex: _Exact) -> pd.DataFrame:
    vals = _threshold_values(ex.keep, ex.flag)[1:]  # j = 1..K+1
    k = len(ex.cuts)
    rows_ge = np.concatenate([np.cumsum(ex.rows[::-1])[::-1], [0.0]])[1:]  # rows with bin >= j, j=1..K+1
    pos_ge = np.concatenate([np.cumsum(ex.pos[::-1])[::-1], [0.0]])[1:]
    n, npos = ex.rows.sum(), ex.pos.sum()
    thr = np.append(ex.cuts, _cut_threshold(ex.cuts, k + 1))
    tp, fp = pos_ge, rows_ge - pos_ge
    return pd.DataFrame({"threshold": thr, "flagged": rows_ge.astype(np.int64),
                         "flag_rate": rows_ge / n if n else np.nan, "tp": tp.astype(np.int64),
                         "fp": fp.astype(np.int64), "fn": (npos - tp).astype(np.int64),
                         "tn": (n - npos - fp).astype(np.int64), "value": vals, "value_vs_flag_none": vals - vals[-1]})


def thin_value_curve(curve: pd.DataFrame, *, keep=(), max_points: int = 400) -> pd.DataFrame:
    """At most about ``max_points`` rows of a value curve, evenly spread over the thresholds' range,
    always keeping the ends, the best row and the rows at the thresholds in ``keep``.

    >>> c = pd.DataFrame({"threshold": np.linspace(0, 1, 1001), "value": np.arange(1001.0)})
    >>> len(thin_value_curve(c, max_points=11)) <= 13
    True
    """
    if len(curve) <= max_points:
        return curve.reset_index(drop=True)
    t = curve["threshold"].to_numpy(dtype=float)
    finite = np.isfinite(t)
    lo, hi = t[finite].min(), t[finite].max()
    idx = np.searchsorted(t, np.linspace(lo, hi, max_points), side="left")
    idx = np.concatenate([idx, [0, len(t) - 1, int(np.argmax(curve["value"].to_numpy()))],
                          np.searchsorted(t, np.asarray(list(keep), dtype=float), side="left")])
    idx = np.unique(np.clip(idx, 0, len(t) - 1))
    return curve.iloc[idx].reset_index(drop=True)


def best_threshold(curve: pd.DataFrame) -> tuple[float, float]:
    """``(threshold, value)`` maximising value on a :func:`value_curve` (ties: the one flagging fewer).

    >>> best_threshold(pd.DataFrame({"threshold": [0.1, 0.5, 0.9], "value": [3.0, 5.0, 5.0]}))
    (0.9, 5.0)
    """
    v = curve["value"].to_numpy()
    i = len(v) - 1 - int(np.argmax(v[::-1]))
    return float(curve["threshold"].iloc[i]), float(v[i])


def best_lanes(dataset: Dataset, costs: CostModel) -> tuple[float, float, float]:
    """The review band ``(low, high, value)`` with the highest net value (exact, over all cut pairs).

    Rows scoring below ``low`` are left alone, from ``low`` to below ``high`` reviewed, at or above
    ``high`` flagged. With no review cost, reviewing everything is best.

    >>> ds = _demo_dataset()
    >>> best_lanes(ds, CostModel(value_tp=10, cost_fp=6, cost_fn=4, cost_review=1))
    (0.4, 0.8, 18.0)
    """
    ex = _exact(row_gains(dataset, costs))
    return _best_lanes_exact(ex)


def _best_lanes_exact(ex: _Exact) -> tuple[float, float, float]:
    value, b = _lanes_values(ex.keep, ex.flag, ex.review)
    zero = np.zeros(1)
    f = np.concatenate([zero, np.cumsum(ex.keep)]) - np.concatenate([zero, np.cumsum(ex.review)])
    a = _best_a(f, int(b))
    return _cut_threshold(ex.cuts, a), _cut_threshold(ex.cuts, int(b)), float(value)


# ---------------------------------------------------------------------------------------------
# the bootstrap of cell sums
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class _Cells:
    group: np.ndarray    # (C,) group of each cell, ascending
    pattern: np.ndarray  # (C,) pattern of each cell
    count: np.ndarray    # (C,)
    mean: np.ndarray     # (C, P)
    root: np.ndarray | None  # (C, P, P) square root of the within-cell covariance; None when all zero
    starts: np.ndarray   # first cell of each present group
    present: np.ndarray  # the groups present
    n_groups: int


def _make_cells(group, pattern, values, n_groups: int) -> _Cells:
    group = np.asarray(group, dtype=np.int64)
    pattern = np.asarray(pattern, dtype=np.int64)
    values = np.asarray(values, dtype=float).reshape(len(group), -1)
    n_pat = int(pattern.max()) + 1 if len(pattern) else 1
    keys, inv = np.unique(group * n_pat + pattern, return_inverse=True)
    count = np.bincount(inv, minlength=len(keys)).astype(float)
    P = values.shape[1]
    mean = np.column_stack([np.bincount(inv, weights=values[:, p], minlength=len(keys)) / count
                            for p in range(P)]) if P else np.zeros((len(keys), 0))
    root = None
    if P:
        dev = values - mean[inv]
        scale = np.maximum(np.abs(values).max(axis=0), 1.0)
        if (np.abs(dev) > 1e-12 * scale).any():
            cov = np.empty((len(keys), P, P))
            for p in range(P):  # a handful of columns
                for q in range(p, P):
                    c = np.bincount(inv, weights=dev[:, p] * dev[:, q], minlength=len(keys)) / count
                    cov[:, p, q] = c
                    cov[:, q, p] = c
            lam, vec = np.linalg.eigh(cov)
            root = vec * np.sqrt(np.maximum(lam, 0.0))[:, None, :]
    cg = keys // n_pat
    starts = np.flatnonzero(np.r_[True, cg[1:] != cg[:-1]]) if len(cg) else np.zeros(0, dtype=np.int64)
    return _Cells(cg, keys % n_pat, count, mean, root, starts, cg[starts], n_groups)


def _resample_counts(count: np.ndarray, b: int, rng: np.random.Generator) -> np.ndarray:
    """Bootstrap cell counts (b, C): Poisson draws for small cells, the normal approximation for cells of
    at least SMALL_CELL rows, then every replicate rescaled to the total number of rows.

    Poisson-then-rescale is the multinomial bootstrap up to terms of order 1/n; the exact draw for
    small cells keeps the skew of a few large amounts (one fraud of 5,000 is there 0, 1 or 2 times).

    >>> m = _resample_counts(np.array([1.0, 5.0, 4000.0]), 3, np.random.default_rng(0))
    >>> m.sum(axis=1).round(6).tolist()
    [4006.0, 4006.0, 4006.0]
    """
    n = count.sum()
    if n <= NORMAL_ABOVE:
        return rng.multinomial(int(round(n)), count / n, size=b).astype(float)
    small = count < SMALL_CELL
    m = np.empty((b, len(count)))
    if small.any():
        m[:, small] = rng.poisson(count[small], size=(b, int(small.sum())))
    if (~small).any():
        c = count[~small]
        m[:, ~small] = np.maximum(c + np.sqrt(c) * rng.standard_normal((b, len(c))), 0.0)
    total = m.sum(axis=1, keepdims=True)
    return m * (n / np.where(total > 0, total, 1.0))


def _cell_bootstrap(cells: _Cells, *, n_boot: int, seed: int, time_budget_s: float | None) -> tuple[dict, int]:
    """Replicates of the cell counts ``counts`` (b, C) and of per-group column sums ``sums`` (b, G, P).

    Cell counts come from :func:`_resample_counts` (the multinomial bootstrap of rows);
    within a cell the resampled sum is ``m · mean`` plus a normal term with covariance ``m · Σ``.
    """
    C, P = cells.mean.shape
    G = cells.n_groups
    chunk = int(np.clip(_CHUNK_FLOATS // max(1, C * max(P, 1) * 2), 5, 500))

    def replicate(rng, b):
        m = _resample_counts(cells.count, b, rng)
        out = {"counts": m}
        if P:
            contrib = m[:, :, None] * cells.mean[None]
            if cells.root is not None:
                z = rng.standard_normal((b, C, P))
                contrib += np.sqrt(m)[:, :, None] * np.einsum("bcp,cqp->bcq", z, cells.root, optimize=True)
            sums = np.zeros((b, G, P))
            if C:
                sums[:, cells.present] = np.add.reduceat(contrib, cells.starts, axis=1)
            out["sums"] = sums
        return out

    return run_bootstrap(replicate, n_boot=n_boot, seed=seed, time_budget_s=time_budget_s, chunk=chunk)


def _basic_interval(value, reps):
    """Basic (reverse-percentile) interval: 2·value − the upper and lower percentiles."""
    lo, hi = percentile_interval(reps)
    return 2 * value - hi, 2 * value - lo


def _grid(g: Gains, extra_cuts) -> np.ndarray:
    s = np.sort(g.score)
    pos = np.sort(g.score[g.y])
    parts = [np.quantile(s, np.linspace(0, 1, GRID_ROW_QUANTILES + 1), method="inverted_cdf")] if len(s) else []
    if len(pos):
        parts.append(np.quantile(pos, np.linspace(0, 1, GRID_POSITIVE_QUANTILES + 1), method="inverted_cdf"))
    parts.append(np.asarray([c for c in extra_cuts if c is not None and math.isfinite(c)], dtype=float))
    return np.unique(np.concatenate(parts))


def _cut_index(cuts: np.ndarray, t: float) -> int:
    """Cut index j whose threshold is ``t`` (t must be in cuts, or above them all: K+1)."""
    j = int(np.searchsorted(cuts, t, side="left"))
    return j + 1 if j < len(cuts) and cuts[j] == t else len(cuts) + 1


# ---------------------------------------------------------------------------------------------
# operating points and baselines: one joint bootstrap, so every paired difference is paired
# ---------------------------------------------------------------------------------------------

POINT_COLUMNS = ["point", "description", "threshold", "low_cut", "high_cut", "flagged", "reviewed", "tp", "fp",
                 "fn", "tn", "value", "low", "high", "value_vs_flag_none", "vs_none_low", "vs_none_high",
                 "optimism", "note"]
_POINT_MONEY = ["value", "low", "high", "value_vs_flag_none", "vs_none_low", "vs_none_high", "optimism"]
BASELINE_COLUMNS = ["baseline", "description", "threshold", "flagged", "flag_rate", "value", "low", "high",
                    "difference", "diff_low", "diff_high", "note"]
_BASELINE_MONEY = ["value", "low", "high", "difference", "diff_low", "diff_high"]


def _other_scores(dataset: Dataset) -> dict[str, np.ndarray]:
    out = {}
    for col in dataset.roles.other_scores:
        if col not in dataset.frame.columns or col == dataset.roles.score:
            continue
        s = dataset.frame[col]
        if not pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
            raise InputError(f"column `{col}` (another model's score) does not hold numbers; remove it from "
                             "the other models or pick its score column")
        out[col] = s.to_numpy(dtype=float, na_value=np.nan)
    return out


def _same_rate_threshold(score: np.ndarray, k: int) -> float:
    """The threshold flagging the k highest scores (ties at the cut are all flagged).

    >>> _same_rate_threshold(np.array([0.1, 0.9, 0.5, 0.7]), 2)
    0.7
    """
    finite = np.sort(score[np.isfinite(score)])
    if not len(finite):
        return 0.0
    if k <= 0:
        return float(np.nextafter(finite[-1], np.inf))
    return float(finite[max(len(finite) - k, 0)])


@dataclass(frozen=True, eq=False)
class _Policies:
    """Exact values of every policy plus one joint bootstrap of all of them (same resampled rows)."""

    g: Gains
    vals: np.ndarray        # exact value at every cut index of the distinct scores
    cuts_exact: np.ndarray
    j_best: int
    threshold: float
    lanes: tuple | None
    best_lane: tuple | None
    cuts: np.ndarray        # the bootstrap's grid of cut-offs
    sums: np.ndarray        # (b, len(cuts)+1, 3) replicate sums of keep, flag, review per grid bin
    orig: np.ndarray        # exact values at the grid's cut indices
    extras: list            # (key, description, threshold, decisions, note) of the rule and other models
    extra_reps: np.ndarray  # (b, len(extras)) replicate totals of their money
    used: int
    seed: int


def _policies(dataset: Dataset, costs: CostModel, *, threshold, lanes, rule, others: bool, n_boot: int,
              seed: int, time_budget_s) -> _Policies:
    threshold = _check_threshold(threshold)
    lanes = _check_lanes(lanes)
    if isinstance(rule, str):
        rule = parse_rule(rule) if rule.strip() else None
    g = row_gains(dataset, costs)
    ex = _exact(g)
    vals = _threshold_values(ex.keep, ex.flag)
    K = len(ex.cuts)
    j_best = len(vals) - 1 - int(np.argmax(vals[::-1]))
    best_lane = _best_lanes_exact(ex) if lanes is not None else None

    n = len(g.y)
    k = int((g.score >= threshold).sum())
    extras = []
    if rule is not None:
        extras.append(("rule", f"rule: flag when {rule.describe()}", np.nan, rule.mask(dataset.frame), None))
    for col, s in (_other_scores(dataset).items() if others else ()):
        missing = np.isnan(s)
        filled = np.where(missing, -np.inf, s)
        note = f"{int(missing.sum()):,} rows without a score count as not flagged" if missing.any() else None
        t_own, _ = best_threshold(_curve_frame(_exact(_gains_from_terms(g.y, filled, g.terms))))
        extras.append((f"{col} (best threshold)", f"{col} at its own value-maximising threshold {t_own:g}",
                       t_own, filled >= t_own, note))
        t_rate = _same_rate_threshold(filled, k)
        extras.append((f"{col} (same flag rate)", f"{col} flagging as many rows as the model "
                       f"({k / n if n else 0:.2%})", t_rate, filled >= t_rate, note))

    cuts = _grid(g, [threshold, _cut_threshold(ex.cuts, j_best) if j_best <= K else None,
                     *(lanes or ()), *(best_lane[:2] if best_lane else ())])
    bins = np.searchsorted(cuts, g.score, side="right")
    pattern = g.y.astype(np.int64)
    for i, e in enumerate(extras):  # the rule and the other models: a handful of bits
        pattern |= np.asarray(e[3], dtype=np.int64) << (i + 1)
    money = [g.keep, g.flag, g.review] + [np.where(e[3], g.flag, g.keep) for e in extras]
    cells = _make_cells(bins, pattern, np.column_stack(money), len(cuts) + 1)
    reps, used = _cell_bootstrap(cells, n_boot=n_boot, seed=seed, time_budget_s=time_budget_s)
    sums = reps["sums"]
    orig = _threshold_values(np.bincount(bins, weights=g.keep, minlength=len(cuts) + 1),
                             np.bincount(bins, weights=g.flag, minlength=len(cuts) + 1))
    return _Policies(g=g, vals=vals, cuts_exact=ex.cuts, j_best=j_best, threshold=threshold, lanes=lanes,
                     best_lane=best_lane, cuts=cuts, sums=sums[..., :3], orig=orig,
                     extras=[(key, desc, thr, np.asarray(d, dtype=np.int8), note)
                             for key, desc, thr, d, note in extras],
                     extra_reps=sums[..., 3:].sum(axis=1), used=used, seed=seed)


def _points_table(P: _Policies, factor: float, scale) -> pd.DataFrame:
    g, sums = P.g, P.sums
    rv = _threshold_values(sums[..., 0], sums[..., 1])  # (b, len(cuts) + 2)
    none_v, none_r = float(P.vals[-1]), rv[:, -1]
    rows = []

    def add(point, description, d, value, reps_value, *, basic=False, optimism=np.nan, note=None,
            thr=np.nan, low_cut=np.nan, high_cut=np.nan):
        if basic:
            lo, hi = _basic_interval(value, reps_value)
            dlo, dhi = _basic_interval(value - none_v, reps_value - none_r)
        else:
            lo, hi = percentile_interval(reps_value)
            dlo, dhi = percentile_interval(reps_value - none_r)
        rows.append({"point": point, "description": description, "threshold": thr, "low_cut": low_cut,
                     "high_cut": high_cut, **_counts(g, d), "value": value, "low": float(lo), "high": float(hi),
                     "value_vs_flag_none": value - none_v, "vs_none_low": float(dlo), "vs_none_high": float(dhi),
                     "optimism": optimism, "note": note})

    t = P.threshold
    d_cur = _decisions(g.score, t)
    add("current", f"flag when score ≥ {t:g}", d_cur, float(_money(g, d_cur).sum()),
        rv[:, _cut_index(P.cuts, t)], thr=t)

    t_best = _cut_threshold(P.cuts_exact, P.j_best)
    rj = rv.shape[1] - 1 - np.argmax(rv[:, ::-1], axis=1)
    best_r = rv[np.arange(len(rv)), rj]
    optimism = float(np.mean(best_r - P.orig[rj]))
    note = ("chosen on these rows: the interval chooses the threshold again in every bootstrap replicate "
            "(basic bootstrap interval); expect about " + format_money(optimism * factor) + " less on new rows")
    if P.j_best > len(P.cuts_exact):
        note = "flagging nothing is best under these costs; " + note
    description = f"flag when score ≥ {t_best:g} (value-maximising)"
    if P.j_best > len(P.cuts_exact):
        description = "flag nothing: a threshold above every score (value-maximising)"
    add("best", description, _decisions(g.score, t_best),
        float(P.vals[P.j_best]), best_r, basic=True, optimism=optimism, note=note, thr=t_best)

    if P.lanes is not None:
        low, high = P.lanes
        a_j, b_j = _cut_index(P.cuts, low), _cut_index(P.cuts, high)
        zero = np.zeros((len(sums), 1))
        pk, pf, pr = (np.concatenate([zero, np.cumsum(sums[..., i], axis=1)], axis=1) for i in range(3))
        lane_r = pk[:, a_j] + pr[:, b_j] - pr[:, a_j] + pf[:, -1] - pf[:, b_j]
        d_l = _decisions(g.score, t, P.lanes)
        add("lanes", f"review scores from {low:g} to below {high:g}; flag from {high:g}", d_l,
            float(_money(g, d_l).sum()), lane_r, low_cut=low, high_cut=high,
            note="rows in the review lane cost a review and are assumed decided correctly")
        bl_r, _ = _lanes_values(sums[..., 0], sums[..., 1], sums[..., 2])
        b_low, b_high, b_value = P.best_lane
        bl_note = "chosen on these rows: the interval chooses the band again in every bootstrap replicate"
        if not np.any(g.terms["cost_review"] != 0):
            bl_note = "with no review cost, reviewing every row is best; " + bl_note
        add("best_lanes", f"review scores from {b_low:g} to below {b_high:g} (value-maximising)",
            _decisions(g.score, t, (b_low, b_high)), float(b_value), bl_r, basic=True, note=bl_note,
            low_cut=b_low, high_cut=b_high)
    out = pd.DataFrame(rows, columns=POINT_COLUMNS)
    out[_POINT_MONEY] = out[_POINT_MONEY] * factor
    out.attrs.update({"n_boot": P.used, "seed": P.seed, "scale": scale, "factor": factor})
    return out


def _baselines_table(P: _Policies, factor: float, scale) -> pd.DataFrame:
    g, sums = P.g, P.sums
    n = len(g.y)
    rv = _threshold_values(sums[..., 0], sums[..., 1])
    t = P.threshold
    d_model = _decisions(g.score, t)
    k = int(d_model.sum())
    q = k / n if n else 0.0
    model_v = float(_money(g, d_model).sum())
    model_r = rv[:, _cut_index(P.cuts, t)]
    none_v, all_v = float(g.keep.sum()), float(g.flag.sum())
    none_r, all_r = rv[:, -1], rv[:, 0]
    specs = [("model", f"the model: flag when score ≥ {t:g}", t, k, model_v, model_r, None),
             ("flag_none", "no model: flag nothing", np.nan, 0, none_v, none_r, None),
             ("flag_all", "no model: flag everything", np.nan, n, all_v, all_r, None),
             ("random", f"random flags at the model's rate ({q:.2%})", np.nan, k, q * all_v + (1 - q) * none_v,
              q * all_r + (1 - q) * none_r,
              "expected value; the interval covers the sampling of rows, not the luck of the draw")]
    for i, (key, desc, thr, d, note) in enumerate(P.extras):
        specs.append((key, desc, thr, int(d.sum()), float(_money(g, d).sum()), P.extra_reps[:, i], note))
    rows = []
    for i, (key, desc, thr, flagged, value, reps, note) in enumerate(specs):
        lo, hi = percentile_interval(reps)
        dlo, dhi = percentile_interval(model_r - reps) if i else (np.nan, np.nan)
        rows.append({"baseline": key, "description": desc, "threshold": thr, "flagged": flagged,
                     "flag_rate": flagged / n if n else np.nan, "value": value, "low": float(lo),
                     "high": float(hi), "difference": model_v - value if i else np.nan, "diff_low": float(dlo),
                     "diff_high": float(dhi), "note": note})
    out = pd.DataFrame(rows, columns=BASELINE_COLUMNS)
    out[_BASELINE_MONEY] = out[_BASELINE_MONEY] * factor
    out.attrs.update({"n_boot": P.used, "seed": P.seed, "scale": scale, "factor": factor})
    return out


def operating_points(dataset: Dataset, costs: CostModel, *, threshold: float = 0.5, lanes=None,
                     scale: str | None = None, n_boot: int = 1000, seed: int = 0,
                     time_budget_s: float | None = 2.0) -> pd.DataFrame:
    """Net value at the current threshold and at the value-maximising one (and with review lanes).

    Rows ``current`` and ``best`` always; ``lanes`` (the given review band) and ``best_lanes`` (the
    best band, exact over all cut pairs) when ``lanes`` are given. ``value_vs_flag_none`` is what
    the decisions are worth against flagging nothing. Intervals (95%) are bootstrap: percentile for
    fixed cut-offs; for the best ones the cut-offs are chosen again in every replicate and the basic
    (reverse-percentile) interval is used, which corrects for choosing them on these rows;
    ``optimism`` is the bootstrap estimate of how much choosing on these rows flatters the value.
    Money is per ``scale`` ("month"/"year") when given. Columns: :data:`POINT_COLUMNS`.
    """
    factor, _ = scale_factor(dataset, scale)
    P = _policies(dataset, costs, threshold=threshold, lanes=lanes, rule=None, others=False, n_boot=n_boot,
                  seed=seed, time_budget_s=time_budget_s)
    return _points_table(P, factor, scale)


def compare_baselines(dataset: Dataset, costs: CostModel, *, threshold: float = 0.5, rule: Rule | str | None = None,
                      scale: str | None = None, n_boot: int = 1000, seed: int = 0,
                      time_budget_s: float | None = 2.0) -> pd.DataFrame:
    """The model at ``threshold`` against the alternatives, with paired 95% intervals of the differences.

    Rows: ``model`` (the reference), ``flag_none``, ``flag_all``, ``random`` (random flags at the
    model's flag rate: the expected value, in closed form), ``rule`` (when a rule is given), and for
    every other model in the file (``roles.other_scores``) its value at its own best threshold and
    at the model's flag rate. ``difference`` = model − baseline (positive: the model is worth more),
    its interval from the same resampled rows for both. Rows of another model's score that are
    missing count as not flagged. Columns: :data:`BASELINE_COLUMNS`.
    """
    factor, _ = scale_factor(dataset, scale)
    P = _policies(dataset, costs, threshold=threshold, lanes=None, rule=rule, others=True, n_boot=n_boot,
                  seed=seed, time_budget_s=time_budget_s)
    return _baselines_table(P, factor, scale)


# ---------------------------------------------------------------------------------------------
# sensitivity
# ---------------------------------------------------------------------------------------------

SENSITIVITY_COLUMNS = ["term", "label", "factor", "setting", "best_threshold", "best_value",
                       "best_vs_flag_none", "value_at_base_best", "regret", "value_at_current",
                       "current_vs_flag_none", "lanes_value"]
_SENS_MONEY = ["best_value", "best_vs_flag_none", "value_at_base_best", "regret", "value_at_current",
               "current_vs_flag_none", "lanes_value"]


def sensitivity(dataset: Dataset, costs: CostModel, *, threshold: float = 0.5, lanes=None,
                scale: str | None = None, change: float = 0.5) -> pd.DataFrame:
    """Each money term × (1 − change) and × (1 + change), one at a time: how the optimum and the value move.

    The first row (``term == "base"``) holds the assumptions as given. Terms that are zero
    everywhere (and the review cost without lanes) are left out: scaling them changes nothing.
    ``value_at_base_best`` is the value if the base optimum is kept while the cost is really this;
    ``regret`` = best value − that (what a wrong guess of this cost costs).
    """
    threshold = _check_threshold(threshold)
    lanes = _check_lanes(lanes)
    if not 0 < change < 1:
        raise InputError(f"change must be between 0 and 1 (0.5 = ±50%), not {change!r}")
    factor, _ = scale_factor(dataset, scale)
    g = row_gains(dataset, costs)
    cuts, inverse = np.unique(g.score, return_inverse=True)
    bins = inverse + 1
    k1 = len(cuts) + 1
    d_cur = _decisions(g.score, threshold)
    d_lanes = _decisions(g.score, threshold, lanes) if lanes is not None else None

    def evaluate(terms):
        gg = _gains_from_terms(g.y, g.score, terms)
        vals = _threshold_values(np.bincount(bins, weights=gg.keep, minlength=k1),
                                 np.bincount(bins, weights=gg.flag, minlength=k1))
        j = len(vals) - 1 - int(np.argmax(vals[::-1]))
        lanes_v = float(_money(gg, d_lanes).sum()) if d_lanes is not None else np.nan
        return vals, j, float(_money(gg, d_cur).sum()), lanes_v

    base_vals, base_j, base_cur, base_lanes = evaluate(g.terms)
    rows = [{"term": "base", "label": "as given", "factor": 1.0, "setting": "; ".join(costs.describe()),
             "best_threshold": _cut_threshold(cuts, base_j), "best_value": float(base_vals[base_j]),
             "best_vs_flag_none": float(base_vals[base_j] - base_vals[-1]),
             "value_at_base_best": float(base_vals[base_j]), "regret": 0.0, "value_at_current": base_cur,
             "current_vs_flag_none": base_cur - float(base_vals[-1]), "lanes_value": base_lanes}]
    for name in MONEY_TERMS:
        arr = g.terms[name]
        if not np.any(arr != 0) or (name == "cost_review" and lanes is None):
            continue
        v = getattr(costs, name)
        for f in (1 - change, 1 + change):
            vals, j, cur, lv = evaluate({**g.terms, name: arr * f})
            setting = f"`{v}` × {f:g}" if isinstance(v, str) else f"{_fmt_number(v * f)} ({_fmt_number(v)} × {f:g})"
            rows.append({"term": name, "label": TERM_LABELS[name], "factor": f, "setting": setting,
                         "best_threshold": _cut_threshold(cuts, j), "best_value": float(vals[j]),
                         "best_vs_flag_none": float(vals[j] - vals[-1]), "value_at_base_best": float(vals[base_j]),
                         "regret": float(vals[j] - vals[base_j]), "value_at_current": cur,
                         "current_vs_flag_none": cur - float(vals[-1]), "lanes_value": lv})
    out = pd.DataFrame(rows, columns=SENSITIVITY_COLUMNS)
    out[_SENS_MONEY] = out[_SENS_MONEY] * factor
    out.attrs.update({"scale": scale, "factor": factor, "change": change})
    return out


# ---------------------------------------------------------------------------------------------
# per-segment impact
# ---------------------------------------------------------------------------------------------

SEGMENT_COLUMNS = ["segment", "n", "positives", "flagged", "value", "perfect_value", "lost", "low", "high",
                   "lost_false_positives", "lost_false_negatives", "lost_reviews", "share_of_lost", "lost_per_row",
                   "rank"]
_SEGMENT_MONEY = ["value", "perfect_value", "lost", "low", "high", "lost_false_positives", "lost_false_negatives",
                  "lost_reviews"]


def segment_impact(dataset: Dataset, costs: CostModel, *, column: str, threshold: float = 0.5, lanes=None,
                   scale: str | None = None, n_bins: int = 5, top_k: int = 20, n_boot: int = 1000, seed: int = 0,
                   time_budget_s: float | None = 2.0) -> pd.DataFrame:
    """Where value is lost: per value of ``column``, the value lost against perfect decisions, ranked.

    ``perfect_value`` decides every row right (flag the rows where flagging pays, no reviews);
    ``lost`` = perfect − actual, split into what false positives, false negatives and reviews cost.
    Returns the segment column first, then :data:`SEGMENT_COLUMNS`, largest loss first, with 95%
    bootstrap intervals of ``lost``; ``lost_per_row`` is not scaled.
    """
    from .slicing import segment_codes

    threshold = _check_threshold(threshold)
    lanes = _check_lanes(lanes)
    factor, _ = scale_factor(dataset, scale)
    g = row_gains(dataset, costs)
    seg = segment_codes(dataset, [column], n_bins=n_bins, top_k=top_k)
    G = seg.n_groups
    d = _decisions(g.score, threshold, lanes)
    actual = _money(g, d)
    perfect = g.perfect
    lost = perfect - actual
    fp = (d == 1) & ~g.y
    fn = (d == 0) & g.y
    rv = d == 2
    cells = _make_cells(seg.codes, d.astype(np.int64) * 2 + g.y, lost[:, None], G)
    reps, used = _cell_bootstrap(cells, n_boot=n_boot, seed=seed, time_budget_s=time_budget_s)
    lo, hi = percentile_interval(reps["sums"][:, :, 0])

    def s(w):
        return np.bincount(seg.codes, weights=w, minlength=G)

    n_g = np.bincount(seg.codes, minlength=G)
    total_lost = lost.sum()
    out = seg.labels.copy()
    out["segment"] = [f"{column} = {v}" for v in seg.labels[column]]
    out["n"] = n_g
    out["positives"] = s(g.y.astype(float)).astype(np.int64)
    out["flagged"] = s((d == 1).astype(float)).astype(np.int64)
    out["value"] = s(actual)
    out["perfect_value"] = s(perfect)
    out["lost"] = s(lost)
    out["low"], out["high"] = lo, hi
    out["lost_false_positives"] = s(np.where(fp, lost, 0.0))
    out["lost_false_negatives"] = s(np.where(fn, lost, 0.0))
    out["lost_reviews"] = s(np.where(rv, lost, 0.0))
    out["share_of_lost"] = out["lost"] / total_lost if total_lost else np.nan
    out["lost_per_row"] = out["lost"] / np.maximum(n_g, 1)
    out = out.sort_values("lost", ascending=False, kind="stable").reset_index(drop=True)
    out["rank"] = np.arange(1, len(out) + 1)
    out[_SEGMENT_MONEY] = out[_SEGMENT_MONEY] * factor
    out = out[[column] + SEGMENT_COLUMNS]
    out.attrs.update({"n_boot": used, "seed": seed, "scale": scale, "factor": factor, "column": column})
    return out


# ---------------------------------------------------------------------------------------------
# words: money, summary, Markdown
# ---------------------------------------------------------------------------------------------


def format_money(value, *, unit: str = "") -> str:
    """Money as people read it: ``12,345``, ``-1,234``, ``12.35``; a unit is a prefix (``€``) or a suffix (``EUR``).

    >>> format_money(12345.6), format_money(-12.345, unit="€"), format_money(3.5, unit="EUR")
    ('12,346', '-€12.35', '3.50 EUR')
    """
    if value is None or (isinstance(value, float | np.floating) and math.isnan(value)):
        return "n/a"
    v = float(value)
    body = f"{abs(v):,.0f}" if abs(v) >= 100 else f"{abs(v):,.2f}"
    sign = "-" if v < 0 and body.strip("0.,") else ""
    unit = unit.strip()
    if unit and unit.isalpha() and len(unit) > 1:
        return f"{sign}{body} {unit}"
    return f"{sign}{unit}{body}"


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:=&])")


def md_escape(text) -> str:
    """Escape Markdown/HTML-significant characters so user text shows literally in a Markdown export.

    >>> print(md_escape("[x](http://a) | *b*"))
    \\[x\\]\\(http\\://a\\) \\| \\*b\\*
    """
    text = "" if text is None or (isinstance(text, float) and math.isnan(text)) else str(text)
    return _MD_SPECIAL.sub(r"\\\1", text).replace("\r", " ").replace("\n", " ")


def markdown_table(frame: pd.DataFrame, *, formats: dict | None = None) -> str:
    """A Markdown table of a small frame, every cell escaped (column names too).

    >>> print(markdown_table(pd.DataFrame({"a": ["x|y"], "b": [1.5]})))
    | a | b |
    |---|---|
    | x\\|y | 1\\.5 |
    """
    formats = formats or {}

    def cell(col, v):
        if col in formats and not pd.isna(v):
            return md_escape(formats[col](v))
        if isinstance(v, float | np.floating):
            return "" if math.isnan(v) else md_escape(f"{v:,.4g}" if abs(v) < 1e5 else f"{v:,.0f}")
        return md_escape(v)

    head = "| " + " | ".join(md_escape(c) for c in frame.columns) + " |"
    sep = "|" + "|".join("---" for _ in frame.columns) + "|"
    body = ["| " + " | ".join(cell(c, v) for c, v in zip(frame.columns, row, strict=True)) + " |"
            for row in frame.itertuples(index=False)]
    return "\n".join([head, sep, *body])


def per_words(scale: str | None) -> str:
    """`` per month`` / `` per year`` / ``""`` for money at that scale."""
    return {"month": " per month", "year": " per year"}.get(scale or "", "")


def _join_words(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def executive_summary(points: pd.DataFrame, baselines: pd.DataFrame, *, sens: pd.DataFrame | None = None,
                      segments: pd.DataFrame | None = None, period: Period | None = None, scale: str | None = None,
                      unit: str = "", n_rows: int | None = None) -> list[str]:
    """Three to five plain sentences with the numbers and the biggest risk, for people who decide.

    Built from :func:`operating_points`, :func:`compare_baselines` and optionally
    :func:`sensitivity` and :func:`segment_impact` (all at the same ``scale``). The biggest risk
    is the money term whose ±50% moves the model's worth the most (with the segment losing most).
    """
    per = per_words(scale)

    def m(v):
        return format_money(v, unit=unit)

    cur = points.loc[points["point"] == "current"].iloc[0]
    best = points.loc[points["point"] == "best"].iloc[0]
    where = []
    if period is not None:
        where.append(period.describe().replace(" (", ", ").rstrip(")"))
    if n_rows:
        where.append(f"{n_rows:,} row{'s' if n_rows != 1 else ''}")
    lead = f"Over {' and '.join(where) if len(where) < 2 else where[0] + ', ' + where[1]}, at" if where else "At"
    out = [f"{lead} threshold {cur['threshold']:g} the model's decisions are worth {m(cur['value_vs_flag_none'])}"
           f"{per} against flagging nothing (95% interval {m(cur['vs_none_low'])} to {m(cur['vs_none_high'])}); "
           f"the net value, after the losses the model does not prevent, is {m(cur['value'])}{per}."]
    gain = best["value"] - cur["value"]
    if best["flagged"] == 0 and gain > 1e-9 * max(1.0, abs(best["value"])):
        out.append(f"Under these costs flagging nothing is worth the most: {m(gain)}{per} more than the model's "
                   "decisions now; check the costs, or the model does not pay for itself.")
    elif gain > 1e-9 * max(1.0, abs(best["value"])):
        out.append(f"The value-maximising threshold is {best['threshold']:g}: the model would be worth "
                   f"{m(best['value_vs_flag_none'])}{per}, {m(gain)} more than now (chosen on these rows, so "
                   f"expect about {m(best['optimism'])} less on new data).")
    else:
        out.append(f"The current threshold is already the value-maximising one ({best['threshold']:g}).")
    by_key = {r["baseline"]: r for r in baselines.to_dict("records")}
    wins, losses = [], []
    for key in ("flag_all", "random", "rule"):
        r = by_key.get(key)
        if r is None:
            continue
        name = {"flag_all": "flagging everything", "random": "random flags at the same rate"}.get(
            key, "the rule " + str(r["description"]).removeprefix("rule: flag when "))
        (wins if r["difference"] >= 0 else losses).append(f"{name} by {m(abs(r['difference']))}")
    sentence = ""
    if wins:
        sentence = f"At the current threshold it beats {_join_words(wins)}{per}"
    if losses:
        sentence += (", but loses to " if sentence else "At the current threshold it loses to ") + \
            f"{_join_words(losses)}{per}"
    sentence = sentence + "." if sentence else ""
    better = [r for k, r in by_key.items() if k.endswith(" (best threshold)") and r["value"] > best["value"]]
    if better:
        top = max(better, key=lambda r: r["value"])
        other = top["baseline"].removesuffix(" (best threshold)")
        sentence += (f" Another model in the file, {other}, would be worth {m(top['value'] - best['value'])}{per} "
                     "more at its own best threshold.")
    if sentence:
        out.append(sentence.strip())
    if segments is not None and len(segments) and segments["lost"].iloc[0] > 0:
        top = segments.iloc[0]
        out.append(f"Most value is lost in {top['segment']}: {m(top['lost'])}{per} "
                   f"({top['share_of_lost']:.0%} of all value lost against perfect decisions, "
                   f"{int(top['n']):,} rows).")
    if sens is not None and len(sens) > 1:
        s = sens[sens["term"] != "base"]
        swing = s.groupby("term", sort=False)["best_vs_flag_none"].agg(lambda v: v.max() - v.min())
        if len(swing) and swing.max() > 0:
            term = swing.idxmax()
            rows = s[s["term"] == term]
            thr = rows["best_threshold"]
            out.append(f"The biggest risk is the {TERM_LABELS[term]}: if it is off by 50% either way, the best "
                       f"threshold moves between {thr.min():g} and {thr.max():g} and the model's worth between "
                       f"{m(rows['best_vs_flag_none'].min())} and {m(rows['best_vs_flag_none'].max())}{per}.")
    return out[:5]


# ---------------------------------------------------------------------------------------------
# the whole report
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class ImpactReport:
    """Everything the Impact page, its exports and the CLI show, computed once."""

    source: str
    costs: CostModel
    threshold: float
    lanes: tuple[float, float] | None
    rule: Rule | None
    scale: str | None
    factor: float
    period: Period | None
    points: pd.DataFrame
    curve: pd.DataFrame
    baselines: pd.DataFrame
    sensitivity: pd.DataFrame
    segments: pd.DataFrame | None
    summary: list[str]
    n_rows: int
    unit: str = ""
    seed: int = 0
    n_boot: int = 0
    notes: list[str] = field(default_factory=list)

    def _point(self, name: str) -> dict:
        r = self.points.loc[self.points["point"] == name].iloc[0]
        return {"value": float(r["value"]), "low": float(r["low"]), "high": float(r["high"])}

    def headline(self) -> dict:
        """The page's four headline numbers as text (worth now, best threshold, worth there, net value)."""
        cur = self.points.set_index("point").loc["current"]
        best = self.points.set_index("point").loc["best"]

        def m(v):
            return format_money(v, unit=self.unit)

        return {"per": per_words(self.scale), "worth_now": m(cur["value_vs_flag_none"]),
                "worth_now_interval": f"95% interval {m(cur['vs_none_low'])} to {m(cur['vs_none_high'])}",
                "best_threshold": f"{best['threshold']:g}",
                "best_threshold_change": f"{best['threshold'] - self.threshold:+.3g} vs current",
                "worth_best": m(best["value_vs_flag_none"]),
                "gain_vs_now": m(best["value"] - cur["value"]) + " vs now",
                "optimism": f"Chosen on these rows: expect about {m(best['optimism'])} less on new data",
                "net_now": m(cur["value"]), "best_gain": float(best["value"] - cur["value"]),
                "best_threshold_value": float(best["threshold"])}

    def assumptions(self) -> list[str]:
        """The assumptions behind every number, one line each (in every export)."""
        lines = [f"file: {self.source} ({self.n_rows:,} rows used)", f"threshold: {self.threshold:g}"]
        lines += self.costs.describe()
        if self.lanes is not None:
            lines.append(f"review lanes: review scores from {self.lanes[0]:g} to below {self.lanes[1]:g}; "
                         "reviewed rows are assumed decided correctly")
        if self.rule is not None:
            lines.append(f"rule baseline: flag when {self.rule.describe()}")
        if self.period is not None:
            lines.append(f"period: {self.period.describe()}")
        lines.append("money: " + ({"month": "per month", "year": "per year"}.get(self.scale or "", "for the whole file")
                                  + (f" (× {self.factor:.4g})" if self.scale else "")))
        lines.append(f"intervals: 95% bootstrap, {self.n_boot:,} replicates, seed {self.seed}")
        return lines

    def header_lines(self) -> list[str]:
        """Comment lines for CSV exports: the summary, then the assumptions."""
        return [f"summary: {s}" for s in self.summary] + self.assumptions()

    def to_json(self) -> dict:
        """The ``impact --format json`` document of DESIGN.md (plus assumptions and summary)."""
        by = dict(zip(self.baselines["baseline"], self.baselines["value"], strict=True))
        best = self.points.loc[self.points["point"] == "best"].iloc[0]
        doc = {"threshold": self.threshold, "value": self._point("current"),
               "best_threshold": float(best["threshold"]), "best_value": self._point("best"),
               "baselines": {"flag_none": float(by["flag_none"]), "flag_all": float(by["flag_all"])},
               "scale": self.scale or "file", "assumptions": self.assumptions(), "summary": list(self.summary)}
        others = {k: float(v) for k, v in by.items() if k not in ("model", "flag_none", "flag_all")}
        doc["other_baselines"] = others
        doc["optimism"] = float(best["optimism"])
        if self.segments is not None:
            doc["segments"] = [{"segment": r["segment"], "n": int(r["n"]), "lost": float(r["lost"]),
                                "low": float(r["low"]), "high": float(r["high"])}
                               for r in self.segments.to_dict("records")]
        return doc

    def markdown(self) -> str:
        """A Markdown report: summary, assumptions, operating points, baselines, sensitivity, segments."""
        money = {c: (lambda v: format_money(v, unit=self.unit)) for c in
                 _POINT_MONEY + _BASELINE_MONEY + _SENS_MONEY + _SEGMENT_MONEY}
        parts = ["# Impact", "", "## Executive summary", ""]
        parts += [md_escape(s) for s in self.summary]
        parts += ["", "## Assumptions", ""] + [f"- {md_escape(a)}" for a in self.assumptions()]
        pts = self.points[["point", "description", "threshold", "low_cut", "high_cut", "flagged", "reviewed",
                           "value", "low", "high", "value_vs_flag_none", "note"]]
        parts += ["", "## Operating points", "", markdown_table(pts, formats=money)]
        parts += ["", "## Against the alternatives", "",
                  markdown_table(self.baselines.drop(columns=["threshold"]), formats=money)]
        parts += ["", "## Sensitivity (each money term ±50%, one at a time)", "",
                  markdown_table(self.sensitivity.drop(columns=["setting"]), formats=money)]
        if self.segments is not None:
            parts += ["", f"## Where value is lost, by {md_escape(self.segments.attrs.get('column', 'segment'))}", "",
                      markdown_table(self.segments.drop(columns=["segment"]), formats=money)]
        return "\n".join(parts) + "\n"


def impact_report(dataset: Dataset, costs: CostModel, *, threshold: float = 0.5, lanes=None,
                  rule: Rule | str | None = None, segment: str | None = None, scale: str | None = None,
                  unit: str = "", n_boot: int = 1000, seed: int = 0,
                  time_budget_s: float | None = 2.0) -> ImpactReport:
    """Operating points, value curve, baselines, sensitivity, per-segment impact and the summary, at once.

    ``time_budget_s`` is per bootstrap (None: always ``n_boot`` replicates, as the CLI does).
    """
    _require_binary(dataset)
    threshold = _check_threshold(threshold)
    lanes = _check_lanes(lanes)
    if isinstance(rule, str):
        rule = parse_rule(rule) if rule.strip() else None
    factor, period = scale_factor(dataset, scale)
    opts = {"n_boot": n_boot, "seed": seed, "time_budget_s": time_budget_s}
    P = _policies(dataset, costs, threshold=threshold, lanes=lanes, rule=rule, others=True, **opts)
    points = _points_table(P, factor, scale)
    base = _baselines_table(P, factor, scale)
    curve = thin_value_curve(value_curve(dataset, costs), keep=[threshold])
    money_cols = ["value", "value_vs_flag_none"]
    curve[money_cols] = curve[money_cols] * factor
    sens = sensitivity(dataset, costs, threshold=threshold, lanes=lanes, scale=scale)
    segs = None
    if segment:
        segs = segment_impact(dataset, costs, column=segment, threshold=threshold, scale=scale, **opts)
    summary = executive_summary(points, base, sens=sens, segments=segs, period=period, scale=scale, unit=unit,
                                n_rows=dataset.n)
    return ImpactReport(source=dataset.source, costs=costs, threshold=threshold, lanes=lanes, rule=rule,
                        scale=scale, factor=factor, period=period, points=points, curve=curve, baselines=base,
                        sensitivity=sens, segments=segs, summary=summary, n_rows=dataset.n, unit=unit, seed=seed,
                        n_boot=P.used)


# ---------------------------------------------------------------------------------------------
# one class against the rest (multiclass files)
# ---------------------------------------------------------------------------------------------


def one_vs_rest(dataset: Dataset, cls: str) -> Dataset:
    """A binary view of a multiclass Dataset: ``cls`` against every other class, scored by its probability.

    >>> ds = _demo_multiclass()
    >>> b = one_vs_rest(ds, "b")
    >>> b.task, b.y.tolist(), b.score.tolist()
    ('binary', [0, 1, 0], [0.2, 0.7, 0.1])
    """
    if dataset.task != "multiclass":
        raise InputError(f"one class against the rest needs a multiclass task; this file's task is {dataset.task}")
    if cls not in dataset.classes:
        raise InputError(f"class {cls!r} is not one of {', '.join(map(repr, dataset.classes))}")
    if dataset.proba is None:
        raise InputError("one class against the rest needs one probability column per class; pick them in "
                         "the sidebar (Columns and task)")
    k = dataset.classes.index(cls)
    score_col = next((c for c in dataset.roles.class_scores if cls.lower() in c.lower()), None)
    return Dataset(frame=dataset.frame, roles=dataset.roles.replace(task="binary", positive=cls, score=score_col,
                                                                    prediction=None, class_scores=()),
                   task="binary", y=(dataset.y == k).astype(np.int8), score=np.asarray(dataset.proba[:, k], float),
                   prediction=None, proba=None, classes=(f"not {cls}", cls), n_total=dataset.n_total,
                   exclusions=dict(dataset.exclusions), notes=list(dataset.notes), source=dataset.source,
                   content_hash=f"{dataset.content_hash}:ovr:{cls}")


def _demo_dataset() -> Dataset:
    from .dataset import build_dataset
    from .roles import Roles

    frame = pd.DataFrame({"y": [0, 1, 1, 0], "p": [0.1, 0.8, 0.4, 0.6]})
    return build_dataset(frame, Roles(label="y", score="p"))


def _demo_multiclass() -> Dataset:
    from .dataset import build_dataset
    from .roles import Roles

    frame = pd.DataFrame({"y": ["a", "b", "c"], "prob_a": [0.7, 0.2, 0.3], "prob_b": [0.2, 0.7, 0.1],
                          "prob_c": [0.1, 0.1, 0.6]})
    return build_dataset(frame, Roles(label="y", class_scores=("prob_a", "prob_b", "prob_c"), task="multiclass"))


# ---------------------------------------------------------------------------------------------
# CLI
# ---------------------------------------------------------------------------------------------


def run_cli(args) -> int:
    """``python -m mlimpact impact``: the JSON of DESIGN.md, or the summary and assumptions as text.

    Value lost per segment is computed for the first segment column (``--segment``, or inferred).
    """
    import json

    from .cli import load_dataset

    costs = CostModel.parse(value_tp=args.value_tp, value_tn=args.value_tn, cost_fp=args.cost_fp,
                            cost_fn=args.cost_fn, cost_review=args.cost_review)
    dataset = load_dataset(args)
    if dataset.task != "binary" or dataset.score is None:
        _require_binary(dataset)
    segment = next((c for c in dataset.roles.segments if c in dataset.frame.columns), None)
    # --rule, --scale (month/year) and --lanes LOW HIGH are used when the parser offers them
    report = impact_report(dataset, costs, threshold=args.threshold, segment=segment, seed=getattr(args, "seed", 0),
                           rule=getattr(args, "rule", None), scale=getattr(args, "scale", None),
                           lanes=getattr(args, "lanes", None), time_budget_s=None)
    if args.format == "json":
        print(json.dumps(report.to_json(), indent=2, ensure_ascii=False))
    else:
        print("\n".join(report.summary))
        print()
        print("\n".join(f"- {a}" for a in report.assumptions()))
    return 0
