"""The notebook API: ``import mlimpact as mi; ev = mi.evaluate("predictions.csv")``, roles inferred as the CLI does.

Each :class:`Evaluation` method calls the function the matching CLI command or app page calls, with its defaults:
``summary()`` is ``summarize --format json``, ``weak_slices()`` ``slices``, ``impact()`` ``impact``, ``monitor()``
``check --format json``. Bad input raises :class:`mlimpact.InputError` with the CLI's message.

>>> import mlimpact as mi
>>> ev = mi.evaluate("sample_data/fraud.csv", label="is_fraud", score="fraud_score", segments=["region"])
>>> ev
<mlimpact.Evaluation of fraud.csv: binary, 80,000 rows, label 'is_fraud', score 'fraud_score'>
>>> print(ev)
fraud.csv: 80,000 rows · threshold 0.5 · 95% intervals in brackets
  Recall               76.7% (75.2–78.1%)
  Precision            79.5% (78.1–80.9%)
  ROC AUC              0.959 (0.955–0.964)
  Share flagged        3.9% (3.7–4.0%)
Weakest segment on recall: region = west, 71.9% (68.3–75.2%) on 16,080 rows.
>>> m = ev.metrics.set_index("metric")
>>> print(f"recall {m.loc['recall', 'value']:.3f} ({m.loc['recall', 'low']:.3f} to {m.loc['recall', 'high']:.3f})")
recall 0.767 (0.752 to 0.781)
>>> seg = ev.by_segment("region")
>>> recall = seg[seg["metric"] == "recall"][["region", "n", "value", "low", "high", "significantly_worse"]]
>>> print(recall.head(3).round(3).to_string(index=False))
 region     n  value   low  high  significantly_worse
   west 16080  0.719 0.683 0.752                 True
central 18373  0.739 0.704 0.772                False
  south 14484  0.781 0.748 0.812                False
>>> slices = ev.weak_slices(top=3)
>>> print(slices.loc[0, "description"], slices.loc[0, "n"], round(slices.loc[0, "error_rate"], 3))
device = unknown 383 0.091
>>> impact = ev.impact(cost_fn="amount", cost_fp=5)
>>> print(impact.to_json()["best_threshold"])
0.0619
>>> print(ev.lanes(target_error=0.01).sentence)
Automating 98% of cases keeps errors among automated decisions at 1.0% (0.9–1.1%); 2%, about 9 a day, go to review.
>>> import tempfile
>>> from pathlib import Path
>>> folder = Path(tempfile.mkdtemp())
>>> _ = (folder / "checks.toml").write_text('[[check]]\\nmetric = "recall"\\nmin = 0.7\\nperiod = "M"\\n')
>>> doc = ev.monitor(folder / "checks.toml")
>>> print(doc["checked"], len(doc["violations"]))
6 0
>>> ev.report(folder / "report.md").name
'report.md'
"""

from __future__ import annotations

import html
import os
import warnings
from collections.abc import Mapping, Sequence
from copy import deepcopy
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from mlimpact.errors import InputError
from mlimpact.format import format_cell
from mlimpact.io import Dataset, Source, apply_roles, dataset_of, infer_roles, inferred_lines, read_source
from mlimpact.io.decision import DEFAULT_THRESHOLD, check_threshold, threshold_note
from mlimpact.io.roles import ROLE_NAMES

if TYPE_CHECKING:
    from mlimpact.compare import Comparison
    from mlimpact.difficulty import LanePolicy, Lanes, OperatingPoint
    from mlimpact.impact import CostModel, ImpactAnalysis
    from mlimpact.monitoring import ChecksConfig

__all__ = ["evaluate", "Evaluation", "LaneChoice", "METRIC_COLUMNS"]

#: the columns of :attr:`Evaluation.metrics`
METRIC_COLUMNS = ["metric", "value", "low", "high", "n", "positives", "note"]
_Data = pd.DataFrame | str | os.PathLike | Sequence


# ----------------------------------------------------------------------------- reading
def _parquet_bytes(frame: pd.DataFrame, name: str) -> bytes:
    """A DataFrame as Parquet bytes, so that it is read, cleaned and hashed as a file is."""
    import pyarrow as pa  # noqa: I001 - on use: only DataFrames go through Arrow here
    import pyarrow.parquet as pq  # on use: as above

    if any(n is not None for n in frame.index.names):  # a named index (set_index("id")) is a column
        frame = frame.reset_index()
    try:
        table = pa.Table.from_pandas(frame.rename(columns=str), preserve_index=False)
    except (pa.ArrowException, ValueError, TypeError) as exc:
        raise InputError(f"{name}: could not read the DataFrame ({(str(exc).splitlines() or [''])[0][:200]}); give "
                         "each column one type, e.g. df[col] = df[col].astype(str)") from None
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    return sink.getvalue().to_pybytes()


def _source(data: _Data) -> Source:
    """``data`` read as the CLI reads a file (folders and DuckDB sources through DuckDB); DataFrames as Parquet."""
    if isinstance(data, pd.DataFrame):
        return read_source(("DataFrame", _parquet_bytes(data, "DataFrame")))
    if isinstance(data, str | os.PathLike):
        from mlimpact.engine.sources import DUCKDB_SUFFIXES  # on use: start-up

        if Path(data).is_dir() or any(s + ":" in os.fspath(data).lower() for s in DUCKDB_SUFFIXES):
            from mlimpact.engine.dataset import read_frame  # on use: duckdb only for these sources

            frame, spec = read_frame(os.fspath(data))
            return Source(name=os.fspath(data), frame=frame, reports=[], content_hash=spec.fingerprint,
                          guess=infer_roles(frame), notes=list(spec.notes))
        return read_source(data)
    if isinstance(data, tuple):  # (name, bytes): an upload
        return read_source(data)
    if isinstance(data, Sequence) and not isinstance(data, bytes):
        return read_source([(f"DataFrame {i + 1}", _parquet_bytes(d, f"DataFrame {i + 1}"))
                            if isinstance(d, pd.DataFrame) else d for i, d in enumerate(data)])
    raise InputError(f"data: give a DataFrame, a file path or a list of paths, not {type(data).__name__}")


def _role_changes(named: dict, others: Mapping) -> dict:
    """The role choices as :func:`mlimpact.io.load.apply_roles` takes them (the CLI's options, and more)."""
    unknown = [k for k in others if k not in ROLE_NAMES]
    if unknown:
        raise InputError(f"unknown role {unknown[0]!r}; the roles are {', '.join(ROLE_NAMES)}, task and positive")
    changes = {k: v for k, v in {**named, **others}.items() if v is not None}
    for key in ("segments", "class_scores", "other_scores"):
        if key in changes:
            changes[key] = (changes[key],) if isinstance(changes[key], str) else tuple(changes[key])
    return changes | ({"positive": str(changes["positive"])} if "positive" in changes else {})


def evaluate(data: _Data, *, label: str | None = None, score: str | None = None, prediction: str | None = None,
             segments: str | Sequence[str] | None = None, time: str | None = None, amount: str | None = None,
             positive: Any = None, task: str | None = None, threshold: float | None = None, seed: int = 0,
             **roles: Any) -> Evaluation:
    """Load ``data`` (a DataFrame, read as a Parquet file is; a path: CSV/TSV, .gz/.zip, Parquet, Excel, a folder or
    ``db.duckdb:table``; or a list of them, combined as in the app) and validate the roles; metrics come on use.
    Roles left out are inferred as in the CLI (``ev.inferred``: the lines it prints on stderr); ``segments=[]``: none.
    ``threshold``: flag ``score >= threshold`` (default 0.5); ``seed``: of every bootstrap; ``roles``: ``id``,
    ``uncertainty``, ``class_scores``, ``other_scores``."""
    threshold = DEFAULT_THRESHOLD if threshold is None else check_threshold(threshold, name="threshold")
    changes = _role_changes({"label": label, "score": score, "prediction": prediction, "time": time,
                             "amount": amount, "positive": positive, "task": task, "segments": segments}, roles)
    source = _source(data)
    chosen = apply_roles(source.guess, changes)
    inferred = inferred_lines(source, chosen, changes)
    dataset = dataset_of(source, chosen)
    if dataset.task == "binary" and dataset.score is not None and (note := threshold_note(dataset.score, threshold)):
        inferred.append(f"note: {note}")
    return Evaluation(dataset, source, changes, threshold=threshold, seed=int(seed), inferred=inferred)


@dataclass(frozen=True)
class LaneChoice:
    """Difficulty lanes chosen by a policy (:meth:`Evaluation.lanes`): ``lanes`` (the cut-offs), ``point``
    (automated cases, errors among them, review), ``table`` (per lane, with Wilson intervals), ``frontier``
    (the lowest error rate at each automation rate) and ``sentence`` (the choice in words)."""

    lanes: Lanes
    point: OperatingPoint
    policy: LanePolicy
    table: pd.DataFrame
    frontier: pd.DataFrame
    sentence: str

    def __str__(self) -> str:
        return "\n".join([self.sentence, f"Lanes: {self.lanes}.", *([self.point.note] if self.point.note else [])])

    def _repr_html_(self) -> str:
        return (f"<p>{html.escape(self.sentence)}<br><small>Lanes: {html.escape(str(self.lanes))}.</small></p>"
                + self.table.to_html(index=False, escape=True, na_rep="", border=0))


def _lanes_of(lanes):
    return lanes.lanes if isinstance(lanes, LaneChoice) else lanes


class Evaluation:
    """One file's evaluation, built by :func:`evaluate`: ``dataset``, ``source``, ``threshold``, ``seed``,
    ``inferred``; the metrics with 95% intervals and every analysis on demand (kept once computed)."""

    def __init__(self, dataset: Dataset, source: Source, changes: Mapping, *, threshold: float = DEFAULT_THRESHOLD,
                 seed: int = 0, inferred: Sequence[str] = ()) -> None:
        self.dataset: Dataset = dataset
        self.source: Source = source
        self.threshold: float = threshold
        self.seed: int = seed
        self.inferred: list[str] = list(inferred)
        self._changes = dict(changes)
        self._cache: dict[Any, Any] = {}

    def _memo(self, key, compute):
        key = (key, self.threshold, self.seed)  # both are plain attributes: a change computes again
        if key not in self._cache:
            self._cache[key] = compute()
        return self._cache[key]

    @property
    def metrics(self) -> pd.DataFrame:
        """Every contract metric over all rows, ``METRIC_COLUMNS`` (95% intervals): ``summary()["overall"]``."""
        from mlimpact.metrics import contract_metrics  # noqa: I001 - on use: start-up
        from mlimpact.metrics import evaluate as metric_table  # on use: start-up

        table = self._memo("metrics", lambda: metric_table(self.dataset, threshold=self.threshold,
                                                           metrics=contract_metrics(self.dataset), seed=self.seed))
        return table[[c for c in METRIC_COLUMNS if c in table.columns]].reset_index(drop=True)

    def summary(self, *, max_values: int | None = None) -> dict:
        """The summary object of ``python -m mlimpact summarize --format json`` (a copy: change it freely)."""
        return deepcopy(self._summary(max_values))

    def _summary(self, max_values: int | None = None) -> dict:
        from mlimpact.report.summarize import summarize  # on use: start-up

        return self._memo(("summary", max_values), lambda: summarize(
            self.dataset, threshold=self.threshold, seed=self.seed, max_values=max_values))

    def by_segment(self, column: str | Sequence[str], *, metrics: Sequence[str] | None = None, min_size: int = 30,
                   max_values: int | None = None, n_bins: int = 5) -> pd.DataFrame:
        """Metrics per value of ``column`` (or two crossed), worst first, with 95% intervals, a test against the rest
        (``significantly_worse``) and ``small`` flags: ``summary()["segments"]``. Numbers are cut in ``n_bins``
        bins; every value is kept, or the ``max_values`` largest and the rest folded into "Other"."""
        from mlimpact.metrics import contract_metrics  # noqa: I001 - on use: start-up
        from mlimpact.slices import segment_table  # on use: start-up

        columns = self._columns([column] if isinstance(column, str) else column)
        return segment_table(self.dataset, columns, threshold=self.threshold, seed=self.seed, min_size=min_size,
                             metrics=list(metrics) if metrics else contract_metrics(self.dataset), n_bins=n_bins,
                             sort_by="metric", top_k=max_values or self.dataset.n).reset_index(drop=True)

    def _columns(self, columns: Sequence[str]) -> list[str]:
        """``columns``, or the loader's message for the first that is not in the file."""
        have = list(self.dataset.frame.columns)
        for col in (c for c in columns if c not in have):
            raise InputError(f"{self.dataset.source}: column `{col}` is not in the file; its columns are "
                             + ", ".join(repr(c) for c in have[:8]) + (" ..." if len(have) > 8 else ""))
        return list(columns)

    def weak_slices(self, *, error: str | None = None, max_level: int = 3, min_support: int | float | None = None,
                    top: int = 10, scoring: str = "balanced", alpha: float = 0.95,
                    columns: Sequence[str] | None = None) -> pd.DataFrame:
        """The weak slices, best first, as ``python -m mlimpact slices`` finds them (its options): one row per
        slice (``description, n, error_rate, low, high, score, q_value, significant``, ...); ``attrs`` has
        ``error`` (the per-row error), ``n_evaluated``, ``overall_error_rate`` and ``scoring``."""
        from mlimpact.slices import default_error_kind, search_weak_slices  # on use: start-up

        kind = error or default_error_kind(self.dataset)
        result = search_weak_slices(self.dataset, columns=columns and self._columns(columns), kind=kind, threshold=self.threshold,
                                    max_level=max_level, min_support=min_support, k=top, scoring=scoring, alpha=alpha)
        table = result.slices.reset_index(drop=True)
        table.attrs.update(error=kind, n_evaluated=int(result.n_evaluated),
                           overall_error_rate=float(result.overall_error_rate), scoring=scoring)
        return table

    def lanes(self, target_error: float = 0.01, *, reviewers: float | None = None, cases_per_reviewer: float = 200,
              cases_per_day: float | None = None, mode: str | None = None,
              tolerance: float | None = None) -> LaneChoice:
        """Difficulty lanes (the Difficulty page's policies): the most automation with at most ``target_error``
        errors among automated decisions or, with ``reviewers``, the fewest errors their capacity allows.
        ``cases_per_day``: default from the time column's span; ``tolerance``: a regression's error size."""
        from mlimpact import difficulty as dif  # noqa: I001 - on use: start-up
        from mlimpact.report import subject_of  # on use: start-up

        ds = self.dataset
        per_day = cases_per_day if cases_per_day is not None else dif.volume_per_day(ds)[0]
        policy = dif.LanePolicy(method="target", target_error=target_error, cases_per_day=per_day) \
            if reviewers is None else dif.LanePolicy(method="capacity", reviewers=reviewers,
                                                     cases_per_reviewer=cases_per_reviewer, cases_per_day=per_day)
        curve = dif.lane_curve(ds, mode=mode, tolerance=tolerance)
        point = dif.choose_lanes(curve, policy)
        table = dif.lane_table(curve, point.lanes, threshold=self.threshold if ds.task == "binary" else None,
                               subject=subject_of(ds))
        return LaneChoice(point.lanes, point, policy, table, frontier=dif.tradeoff_curve(curve),
                          sentence=dif.summary_sentence(point, cases_per_day=policy.cases_per_day))

    def _cost_model(self, costs) -> CostModel | None:
        from mlimpact.impact import CostModel  # on use: start-up

        if costs is None or isinstance(costs, CostModel):
            return costs
        model = CostModel.parse(**dict(costs))
        for note in model.sign_notes():  # the CLI prints them as notes
            warnings.warn(note, stacklevel=3)
        return model

    def _first_segment(self) -> str | None:
        return next((c for c in self.dataset.roles.segments if c in self.dataset.frame.columns), None)

    def impact(self, *, value_tp: float | str = 0, value_tn: float | str = 0, cost_fp: float | str = 0,
               cost_fn: float | str = 0, cost_review: float | str = 0, rule: str | None = None,
               scale: str | None = None, lanes: Any = None, segment: str | None = None) -> ImpactAnalysis:
        """Net value, best threshold and baselines of ``python -m mlimpact impact`` (``to_json()`` is its JSON).
        A money term is a number or a column (money per row: ``cost_fn="amount"``); ``rule``: ``"amount > 500"``;
        ``scale``: month or year; ``lanes``: ``(low, high)`` or :meth:`lanes`' result; ``segment``: value lost
        per value (default: the first segment column). Binary with a score only."""
        from mlimpact.impact import analyze_impact, lanes_from, require_binary  # on use: start-up

        costs = self._cost_model({"value_tp": value_tp, "value_tn": value_tn, "cost_fp": cost_fp,
                                  "cost_fn": cost_fn, "cost_review": cost_review})
        require_binary(self.dataset)
        return analyze_impact(self.dataset, costs, threshold=self.threshold, segment=segment or self._first_segment(),
                              seed=self.seed, rule=rule, scale=scale, lanes=lanes_from(_lanes_of(lanes)),
                              time_budget_s=None)

    def compare(self, *, models: Sequence[str] | None = None, segment: str | None = None,
                costs: Mapping | CostModel | None = None, scale: str | None = None,
                baseline: bool | None = None) -> Comparison:
        """Every model (the score and ``other_scores``, or a "no model" stand-in) side by side with paired tests
        against the first: the Compare page's ``compare_models`` (``overall``, ``differences``, ``robustness``,
        ``wins()``). ``segment``: default the first segment column; ``costs``: as in :meth:`impact` (adds
        ``value``). No time budget: every bootstrap runs in full, so the numbers repeat."""
        from mlimpact.compare import compare_models  # on use: start-up

        return compare_models(self.dataset, list(models) if models else None, threshold=self.threshold,
                              segment=segment or self._first_segment(), costs=self._cost_model(costs), scale=scale,
                              baseline=baseline, seed=self.seed, time_budget_s=None)

    def monitor(self, checks: str | os.PathLike | ChecksConfig) -> dict:
        """The document of ``check --format json`` for ``checks.toml`` (or a ``ChecksConfig``): ``violations``,
        ``checked``, ``too_small``, ``unavailable``, ``results`` (``pd.DataFrame(doc["results"])``), ``causes`` (why).
        Its ``[columns]`` apply on top of these roles, its ``[settings]`` hold. Nothing is raised for a violation."""
        from mlimpact import monitoring as mon  # on use: start-up

        config = checks if isinstance(checks, mon.ChecksConfig) else mon.read_checks(checks)
        merged = {**self._changes, **mon.role_changes(config.columns)}
        dataset = self.dataset if merged == self._changes else dataset_of(
            self.source, apply_roles(self.source.guess, merged))
        mon.validate_config(dataset, config, "checks" if isinstance(checks, mon.ChecksConfig) else os.fspath(checks))
        status = mon.evaluate_ranges(dataset, config.ranges, settings=config.settings,
                                     reference_end=config.reference_end)
        document = mon.check_results(status)
        document["causes"] = mon.causes_document(dataset, status, reference_end=config.reference_end,
                                                 settings=config.settings) if document["violations"] else []
        return document

    def report(self, path: str | os.PathLike, *, costs: Mapping | CostModel | None = None, lanes: Any = None,
               slices: bool = True, paper: str = "A4") -> Path:
        """Write the meeting report of ``summarize --format html`` and of the app to ``path``: ``.html`` (charts
        inlined), ``.md`` or ``.pdf`` (``paper``: A4 or Letter). ``costs`` (as in :meth:`impact`) and ``lanes``
        (:meth:`lanes`' result) replace the default impact and difficulty settings. Returns the path."""
        from mlimpact.report import ReportSettings, build_report, report_html, report_markdown  # altair

        out = Path(path)
        suffix = out.suffix.lower()
        if suffix not in (".html", ".htm", ".md", ".pdf"):
            raise InputError(f"{out}: the report is written as .html, .md or .pdf; end the file name with one")
        report = build_report(self.dataset, ReportSettings(threshold=self.threshold, seed=self.seed, slices=slices,
                                                           costs=self._cost_model(costs), lanes=_lanes_of(lanes)))
        if suffix == ".pdf":
            from mlimpact.report import report_pdf  # on use: the PDF renderer only for .pdf

            out.write_bytes(report_pdf(report, paper=paper))
        else:
            out.write_text(report_markdown(report) if suffix == ".md" else report_html(report), encoding="utf-8")
        return out

    def _overview(self) -> tuple[str, list[tuple[str, str]], str | None]:
        """The caption, the headline metrics (label, value with interval) and the weakest segment's line."""
        from mlimpact.metrics import METRICS, headline_metrics, main_metric  # noqa: I001 - on use: start-up
        from mlimpact.report import rows_caption  # on use: start-up

        cells = {r["metric"]: r for r in self.metrics.to_dict("records")}
        rows = [(METRICS[m].label, format_cell(m, cells[m])) for m in headline_metrics(self.dataset.task, cells)]
        metric = main_metric(self.dataset.task)
        sign = 1 if METRICS[metric].direction == "higher" else -1
        flagged = [s for s in self._summary()["segments"] if s["metrics"].get(metric, {}).get("significantly_worse")
                   and s["metrics"][metric]["value"] is not None]
        weakest = None
        if flagged:
            s = min(flagged, key=lambda s: sign * s["metrics"][metric]["value"])
            weakest = (f"Weakest segment on {METRICS[metric].label.lower()}: {s['column']} = {s['value']}, "
                       f"{format_cell(metric, s['metrics'][metric])} on {s['n']:,} rows.")
        return f"{self.dataset.source}: {rows_caption(self.dataset, self.threshold)}", rows, weakest

    def __repr__(self) -> str:
        ds, roles = self.dataset, self.dataset.roles
        output = f"score {roles.score!r}" if roles.score else f"prediction {roles.prediction!r}"
        return f"<mlimpact.Evaluation of {ds.source}: {ds.task}, {ds.n:,} rows, label {roles.label!r}, {output}>"

    def __str__(self) -> str:
        caption, rows, weakest = self._overview()
        return "\n".join([caption, *(f"  {label:<20} {value}" for label, value in rows), *[w for w in [weakest] if w]])

    def _repr_html_(self) -> str:
        """A compact table of the headline metrics for Jupyter; every text is escaped."""
        caption, rows, weakest = self._overview()
        esc = html.escape
        body = "".join(f"<tr><td>{esc(label)}</td><td>{esc(value)}</td></tr>" for label, value in rows)
        foot = f"<p><small>{esc(weakest)}</small></p>" if weakest else ""
        return (f"<div><p><small>{esc(caption)}</small></p><table><thead><tr><th>metric</th><th>value (95% interval)"
                f"</th></tr></thead><tbody>{body}</tbody></table>{foot}</div>")
