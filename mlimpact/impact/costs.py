"""The assumptions behind business value: the cost model, a rule to compare with, the period a file covers.

Every number on the Impact page rests on these small frozen objects: a :class:`CostModel` (money per
decision outcome, each term a number or a column), a one-column :class:`Rule` (the simple alternative
to a model) and the :class:`Period` that turns money per file into money per month or year.
Re-exported by :mod:`mlimpact.impact`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, fields

import numpy as np
import pandas as pd

from mlimpact.errors import InputError
from mlimpact.io import Dataset, Roles, build_dataset
from mlimpact.io.dataset import time_span
from mlimpact.slices.language import parse_slice

__all__ = ["money_column_problems", "MAX_MONEY", "MONEY_TERMS", "TERM_LABELS", "DAYS_PER_MONTH", "DAYS_PER_YEAR", "CostModel", "default_costs", "default_costs_of",
           "default_rule", "Rule", "parse_rule", "Period", "detect_period", "scale_factor",
           "scale_factor_of"]

#: The five money terms of a cost model, in display order.
#: the largest money a single decision may carry: sums and variances over 1e8 rows stay exact enough
MAX_MONEY = 1e12
MONEY_TERMS = ("value_tp", "value_tn", "cost_fp", "cost_fn", "cost_review")
TERM_LABELS = {
    "value_tp": "value of a true positive",
    "value_tn": "value of a true negative",
    "cost_fp": "cost of a false positive",
    "cost_fn": "cost of a false negative",
    "cost_review": "cost of one human review",
}
DAYS_PER_MONTH = 365.2425 / 12
DAYS_PER_YEAR = 365.2425


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
            elif abs(float(v)) > MAX_MONEY:
                problems.append(f"{name}: {float(v):g} is beyond ±{MAX_MONEY:g} per decision; give the money in a "
                                "larger unit (thousands, millions)")
            else:
                object.__setattr__(self, name, float(v))
        if problems:
            raise InputError("cost model: " + "; ".join(problems), problems=problems)

    def sign_notes(self) -> list[str]:
        """A sentence for each fixed money term below 0: a negative cost is a gain (and a negative value a loss).

        >>> CostModel(cost_fp=-5).sign_notes()
        ['cost of a false positive is -5: a negative cost counts as a gain; check the sign']
        """
        return [f"{TERM_LABELS[name]} is {getattr(self, name):g}: a negative "
                f"{'cost counts as a gain' if name.startswith('cost') else 'value counts as a loss'}; check the sign"
                for name in MONEY_TERMS if isinstance(getattr(self, name), float) and getattr(self, name) < 0]

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
            facts = {"present": col in frame.columns}
            if facts["present"]:
                s = frame[col]
                facts["numeric"] = pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)
                if facts["numeric"]:
                    values = s.to_numpy(dtype=float, na_value=np.nan)
                    facts.update(missing=int(s.isna().sum()), infinite=int(np.isinf(values).sum()),
                                 max_abs=float(np.abs(values[np.isfinite(values)]).max(initial=0.0)))
            problems += money_column_problems(col, TERM_LABELS[name], **facts)
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


def money_column_problems(col: str, label: str, *, present: bool, numeric: bool = True, missing: int = 0,
                          infinite: int = 0, max_abs: float = 0.0) -> list[str]:
    """What is wrong with a money column, from what was counted in it (in memory or on an engine).

    >>> money_column_problems("amt", "cost of a false negative", present=True, missing=3)
    ['column `amt` (cost of a false negative) has 3 missing values; fill them or give a number']
    """
    if not present:
        return [f"column `{col}` ({label}) is not in the file; give a number or one of its numeric columns"]
    if not numeric:
        return [f"column `{col}` ({label}) does not hold numbers; give a number or a numeric column"]
    if missing:
        return [f"column `{col}` ({label}) has {missing:,} missing values; fill them or give a number"]
    if infinite:
        return [f"column `{col}` ({label}) has infinite values; fix them or give a number"]
    if max_abs > MAX_MONEY:
        return [f"column `{col}` ({label}) has values beyond ±{MAX_MONEY:g} (up to {max_abs:g}); give the money in "
                "a larger unit (thousands, millions)"]
    return []


def default_costs(dataset: Dataset) -> CostModel:
    """Starting assumptions: with an amount column a missed positive costs its amount, a false alarm 5
    and a review 2; without one, every error costs 1 (the optimum then minimises errors).

    >>> default_costs(_demo_dataset()).cost_fn
    1.0
    """
    if dataset.roles.amount and dataset.roles.amount in dataset.frame.columns:
        s = dataset.frame[dataset.roles.amount]
        if pd.api.types.is_numeric_dtype(s) and not s.isna().any():
            return default_costs_of(dataset.roles.amount)
    return default_costs_of(None)


def default_costs_of(amount: str | None) -> CostModel:
    """:func:`default_costs` given the usable amount column (None: none), for sources on an engine too."""
    if amount:
        return CostModel(cost_fp=5.0, cost_fn=amount, cost_review=2.0)
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
    name = col if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", col) else "`" + col.replace("`", "``") + "`"
    return parse_rule(f"{name} > {_fmt_number(float(round(q / step) * step))}").describe()


_RULE_HELP = ('write a condition on the columns, e.g. amount > 500 or channel == "online" and amount > 200 '
              "(the slice grammar: see the README)")


@dataclass(frozen=True)
class Rule:
    """A rule that flags rows, the simple alternative to a model: any slice expression (``amount > 500``,
    ``channel == "online" and amount > 200``), parsed by :func:`mlimpact.slices.parse_slice`, never executed.

    >>> r = parse_rule("amount > 500")
    >>> r.mask(pd.DataFrame({"amount": [100.0, 600.0, None]})).tolist()
    [False, True, False]
    """

    expression: str

    def describe(self) -> str:
        """The rule as written (canonical): ``amount > 500``, ``channel == "online"``."""
        return self.expression

    def mask(self, frame: pd.DataFrame) -> np.ndarray:
        """Rows the rule flags (a comparison with a missing value is false)."""
        try:
            return parse_slice(self.expression, frame).mask(frame)
        except InputError as exc:
            raise InputError(f"rule {self.expression!r}: {exc}") from None


def parse_rule(text: str) -> Rule:
    """Parse a rule: a slice expression.

    >>> parse_rule('channel=="online"  and amount>1e3')
    Rule(expression='channel == "online" and amount > 1000.0')
    """
    try:
        return Rule(parse_slice(text or "").text)
    except InputError as exc:
        raise InputError(f"rule {text!r}: {exc}; {_RULE_HELP}") from None


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
    span = time_span(dataset)
    return None if span is None else Period(start=span[0], end=span[1], days=span[2])


def scale_factor(dataset: Dataset, scale: str | None) -> tuple[float, Period | None]:
    """``(factor, period)``: money × factor = per month / per year (1 when ``scale`` is None)."""
    return scale_factor_of(detect_period(dataset), scale)


def scale_factor_of(period: Period | None, scale: str | None) -> tuple[float, Period | None]:
    """:func:`scale_factor` for a detected ``period`` (in memory or on an engine)."""
    if scale is None:
        return 1.0, period
    if scale not in ("month", "year"):
        raise InputError(f"scale must be 'month', 'year' or None, not {scale!r}")
    if period is None:
        raise InputError(f"values per {scale} need a time column with at least two different times; "
                         "pick the time column in the sidebar, or show values for the whole file")
    return period.factor(scale), period


def _demo_dataset() -> Dataset:
    """A four-row binary Dataset (label ``y``, score ``p``) for the doctests of the impact and compare modules."""

    frame = pd.DataFrame({"y": [0, 1, 1, 0], "p": [0.1, 0.8, 0.4, 0.6]})
    return build_dataset(frame, Roles(label="y", score="p"))
