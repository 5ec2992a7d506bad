"""Business impact: what the model's decisions are worth, against what else we could do.

Money per row comes from a :class:`CostModel` (each term a number or a column, so a missed fraud
can cost its own ``amount``). Net value = Σ value_tp·TP + value_tn·TN − cost_fp·FP − cost_fn·FN
(− cost_review per reviewed row when difficulty lanes are set; a reviewed row is assumed decided
correctly). Every value is a sum of per-row money, so:

* the value at every threshold comes from one sort and a cumulative sum (:func:`value_curve`),
  and the best threshold (and the best review band) is exact, never a grid search;
* intervals come from one vectorized bootstrap of cell sums (:mod:`mlimpact.impact.bootstrap`): rows are
  grouped into cells whose decisions agree (score bin × label, or the pattern of every policy's
  decision), cell counts are resampled (multinomial), and the spread of money within a cell enters
  as a normal term with the cell's exact covariance, so sums and paired differences have the
  first two moments of the row bootstrap. With numeric costs the rows of a cell are identical and
  the bootstrap is exact.

Pages and the CLI call :func:`analyze_impact`; the pieces are public for tests and exports. They live in
small modules and are re-exported here, so ``from mlimpact.impact import ...`` is the one way in:

* :mod:`mlimpact.impact.costs` — the assumptions: cost model, rule, period;
* :mod:`mlimpact.impact.values` — per-row money, the exact value curve, best threshold and lanes;
* :mod:`mlimpact.impact.bootstrap` — the bootstrap of cell sums (shared with :mod:`mlimpact.compare`);
* :mod:`mlimpact.impact.layout` — what a cost change leaves alone (sorted scores, cells, the score grid's and the
  segments' resampled counts), computed once per Dataset and kept with it;
* :mod:`mlimpact.impact.points` — operating points and baselines (two bootstraps: score bins for the chosen thresholds, decisions for the fixed policies);
* :mod:`mlimpact.impact.risks` — sensitivity to each cost and value lost per segment;
* :mod:`mlimpact.impact.executive` — money in words and the executive summary.

This module assembles them: :class:`ImpactAnalysis` (with its JSON and Markdown), :func:`one_vs_rest`
and the ``impact`` CLI.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from mlimpact import trace
from mlimpact.errors import InputError
from mlimpact.impact.costs import (
    MONEY_TERMS,
    TERM_LABELS,
    CostModel,
    Period,
    Rule,
    default_costs,
    default_rule,
    detect_period,
    parse_rule,
    scale_factor,
)
from mlimpact.impact.executive import executive_summary, format_money, md_escape, per_words
from mlimpact.impact.points import (
    _BASELINE_MONEY,
    _POINT_MONEY,
    BASELINE_COLUMNS,
    POINT_COLUMNS,
    _baselines_table,
    _points_table,
    _policies,
    compare_baselines,
    operating_points,
)
from mlimpact.impact.risks import (
    _SEGMENT_MONEY,
    _SENS_MONEY,
    SEGMENT_COLUMNS,
    SENSITIVITY_COLUMNS,
    segment_impact,
    segments_of,
    sensitivity,
    sensitivity_of,
)
from mlimpact.impact.values import (
    Gains,
    _check_lanes,
    _check_threshold,
    _curve_frame,
    best_lanes,
    best_threshold,
    lanes_from,
    net_value,
    require_binary,
    row_gains,
    thin_value_curve,
    value_curve,
)
from mlimpact.io import Dataset, Roles, build_dataset, markdown_table, markdown_text
from mlimpact.io.build import class_from_column
from mlimpact.io.decision import DEFAULT_THRESHOLD

__all__ = [
    "MONEY_TERMS", "TERM_LABELS", "CostModel", "default_costs", "default_rule", "Rule", "parse_rule", "Period",
    "detect_period", "scale_factor", "Gains", "row_gains", "net_value", "value_curve", "thin_value_curve",
    "best_threshold", "best_lanes", "operating_points", "compare_baselines", "sensitivity", "segment_impact",
    "executive_summary", "ImpactAnalysis", "analyze_impact", "per_words", "one_vs_rest", "lanes_from", "format_money",
    "md_escape", "markdown_table", "assemble_impact",
    "POINT_COLUMNS", "BASELINE_COLUMNS", "SENSITIVITY_COLUMNS", "SEGMENT_COLUMNS",
]


# ---------------------------------------------------------------------------------------------
# the whole report
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class ImpactAnalysis:
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
        parts += [markdown_text(s) for s in self.summary]
        parts += ["", "## Assumptions", ""] + [f"- {markdown_text(a)}" for a in self.assumptions()]
        pts = self.points[["point", "description", "threshold", "low_cut", "high_cut", "flagged", "reviewed",
                           "value", "low", "high", "value_vs_flag_none", "note"]]
        parts += ["", "## Operating points", "", markdown_table(pts, formats=money)]
        parts += ["", "## Against the alternatives", "",
                  markdown_table(self.baselines.drop(columns=["threshold"]), formats=money)]
        parts += ["", "## Sensitivity (each money term ±50%, one at a time)", "",
                  markdown_table(self.sensitivity.drop(columns=["setting"]), formats=money)]
        if self.segments is not None:
            parts += ["", f"## Where value is lost, by {markdown_text(self.segments.attrs.get('column', 'segment'))}", "",
                      markdown_table(self.segments.drop(columns=["segment"]), formats=money)]
        return "\n".join(parts) + "\n"


def analyze_impact(dataset: Dataset, costs: CostModel, *, threshold: float = DEFAULT_THRESHOLD, lanes=None,
                  rule: Rule | str | None = None, segment: str | None = None, scale: str | None = None,
                  unit: str = "", n_boot: int = 1000, seed: int = 0,
                  time_budget_s: float | None = 2.0) -> ImpactAnalysis:
    """Operating points, value curve, baselines, sensitivity, per-segment impact and the summary, at once.

    ``time_budget_s`` is per bootstrap (None: always ``n_boot`` replicates, as the CLI does).
    """
    trace.count("analyze_impact")
    require_binary(dataset)
    threshold = _check_threshold(threshold)
    lanes = _check_lanes(lanes)
    if isinstance(rule, str):
        rule = parse_rule(rule) if rule.strip() else None
    factor, period = scale_factor(dataset, scale)
    opts = {"n_boot": n_boot, "seed": seed, "time_budget_s": time_budget_s}
    g = row_gains(dataset, costs)  # the money per row, once; everything without money is kept with the Dataset
    P = _policies(dataset, costs, threshold=threshold, lanes=lanes, rule=rule, others=True, g=g, **opts)
    sens = sensitivity_of(g, costs, threshold=threshold, lanes=lanes, factor=factor, scale=scale, ex=P.ex)
    segs = None
    if segment:
        segs = segments_of(dataset, g, column=segment, threshold=threshold, lanes=None, factor=factor, scale=scale,
                           **opts)
    return assemble_impact(P, _curve_frame(P.ex), sens, segs, source=dataset.source, costs=costs, rule=rule,
                           scale=scale, factor=factor, period=period, unit=unit, seed=seed)


def assemble_impact(P, curve: pd.DataFrame, sens: pd.DataFrame, segs: pd.DataFrame | None, *, source: str,
                    costs: CostModel, rule, scale, factor: float, period, unit: str, seed: int) -> ImpactAnalysis:
    """The analysis from its parts (in memory or on an engine): points, baselines, curve, summary."""
    points = _points_table(P, factor, scale)
    base = _baselines_table(P, factor, scale)
    curve = thin_value_curve(curve, keep=[P.threshold])
    money_cols = ["value", "value_vs_flag_none"]
    curve[money_cols] = curve[money_cols] * factor
    n_rows = P.g.n_rows
    summary = executive_summary(points, base, sens=sens, segments=segs, period=period, scale=scale, unit=unit,
                                n_rows=n_rows)
    return ImpactAnalysis(source=source, costs=costs, threshold=P.threshold, lanes=P.lanes, rule=rule,
                          scale=scale, factor=factor, period=period, points=points, curve=curve, baselines=base,
                          sensitivity=sens, segments=segs, summary=summary, n_rows=n_rows, unit=unit, seed=seed,
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

    known = set(dataset.classes)
    score_col = next((c for c in dataset.roles.class_scores if class_from_column(c, known) == cls), None)
    return Dataset(frame=dataset.frame, roles=dataset.roles.replace(task="binary", positive=cls, score=score_col,
                                                                    prediction=None, class_scores=(),
                                                                    other_scores=()),
                   task="binary", y=(dataset.y == k).astype(np.int8), score=np.asarray(dataset.proba[:, k], float),
                   prediction=None, proba=None, classes=(f"not {cls}", cls), n_total=dataset.n_total,
                   exclusions=dict(dataset.exclusions), notes=list(dataset.notes), source=dataset.source,
                   content_hash=f"{dataset.content_hash}:ovr:{cls}")


def _demo_multiclass() -> Dataset:

    frame = pd.DataFrame({"y": ["a", "b", "c"], "prob_a": [0.7, 0.2, 0.3], "prob_b": [0.2, 0.7, 0.1],
                          "prob_c": [0.1, 0.1, 0.6]})
    return build_dataset(frame, Roles(label="y", class_scores=("prob_a", "prob_b", "prob_c"), task="multiclass"))
