"""The "Large data" page's panel: a folder or query on the server summarized on DuckDB, any size.

Its weak slices come from :func:`mlimpact.slices.engine_weak.search_weak_slices_engine`, counted on DuckDB too.

Nothing is read into memory: :func:`mlimpact.engine.server.open_server_engine` checks the path (or the query)
and opens it on DuckDB, :func:`mlimpact.report.scaled.summarize_engine` counts every grouping where the data
lives, with its progress shown here; the result is kept for the session and can be downloaded.
"""

from __future__ import annotations

import contextlib

import streamlit as st

from mlimpact import difficulty as dif
from mlimpact import impact, slices
from mlimpact.cli.common import json_text
from mlimpact.difficulty.engine_lanes import engine_default_start, engine_lane_curve, engine_modes
from mlimpact.engine.rows import confident_mistakes
from mlimpact.engine.server import open_server_engine, server_options
from mlimpact.impact.engine_impact import analyze_impact_engine, engine_one_vs_rest, usable_amount
from mlimpact.io.decision import DEFAULT_THRESHOLD
from mlimpact.report.charts import frontier_chart
from mlimpact.report.scaled import overall_table, segments_table, summarize_engine
from mlimpact.slices.engine_weak import search_weak_slices_engine

from . import columns as cols
from . import large_compare, large_monitor, safe, state

PATH, QUERY = "A file or folder", "A DuckDB query"


def _changes(label: str, score: str, segments: str) -> dict:
    changes = {k: v.strip() for k, v in (("label", label), ("score", score)) if v.strip()}
    if segments.strip():
        changes["segments"] = tuple(c.strip() for c in segments.split(",") if c.strip())
    return changes


def _form(options) -> tuple | None:
    kinds = ([PATH] if options.roots else []) + ([QUERY] if options.database else [])
    kind = st.radio("Open", kinds, horizontal=True, key="large_kind") if len(kinds) > 1 else kinds[0]
    with st.form("large_form"):
        if kind == PATH:
            text = st.text_input("Path under the data folders", key="large_path",
                                 help="Parquet or CSV files, or a folder of them, under: "
                                      + ", ".join(str(r) for r in options.roots))
        else:
            text = st.text_area("SQL query (read-only)", key="large_query")
        c1, c2, c3 = st.columns(3)
        label = c1.text_input("Label column (empty: inferred)", key="large_label")
        score = c2.text_input("Score or prediction column (empty: inferred)", key="large_score")
        threshold = c3.number_input("Threshold (binary)", value=DEFAULT_THRESHOLD, key="large_threshold")
        segments = st.text_input("Segment columns, comma-separated (empty: inferred)", key="large_segments")
        go = st.form_submit_button("Summarize on DuckDB", icon=":material/play_arrow:")
    if not go:
        return None
    return kind, text, _changes(label, score, segments), float(threshold)


@contextlib.contextmanager
def engine_of(options, asked):
    """The engine dataset of what the form asked for: ``(kind, text, changes, threshold)``, closed after use."""
    kind, text, changes, threshold = asked
    eds = open_server_engine(options, path=text if kind == PATH else None, query=text if kind == QUERY else None,
                             changes=changes, threshold=threshold)
    try:
        yield eds
    finally:
        eds.close()


def run(options, *asked) -> dict:
    """Summarize what was asked (``kind, text, changes, threshold``) with its progress shown, and keep it for the
    session (every page's engine view and this page read it): the kept record."""
    with st.status("Summarizing on DuckDB…", expanded=True) as status:
        bar = st.progress(0.0)
        try:
            with engine_of(options, asked) as eds:
                for line in eds.inferred:
                    st.text(line)

                def progress(done, total, what):
                    bar.progress(done / total, text=f"{done}/{total}: {what}")

                summary = summarize_engine(eds, progress=progress)
                amount = usable_amount(eds) if summary["task"] != "regression" else None
                read = {"inferred": list(eds.inferred), "column_types": dict(eds.column_types), "roles": eds.roles,
                        "lane_modes": engine_modes(eds),
                        "classes": list(eds.classes) if eds.task == "multiclass" and eds.spec.probs else []}
        except Exception:
            status.update(label="Not summarized: see the message below", state="error")
            raise
        status.update(label=f"Summarized {summary['rows']['used']:,} rows", state="complete", expanded=False)
    last = {"asked": asked, "summary": summary, "amount": amount, "read": read}
    st.session_state[state.LARGE] = last
    records = st.session_state.setdefault(state.LARGE_BY_SOURCE, {})
    records.pop(tuple(asked[:2]), None)
    records[tuple(asked[:2])] = last  # every page finds its source's latest summary (a few sources kept)
    while len(records) > 4:
        records.pop(next(iter(records)))
    st.session_state.setdefault(state.LARGE_FAILED, {}).pop(tuple(asked[:2]), None)
    return last


def render() -> None:
    """The form, the run with its progress, and the last result of this session."""
    options = server_options()
    if not options.available:
        st.info("This server opens no data of its own: its administrator sets MLIMPACT_DATA_DIRS (folders) or "
                "MLIMPACT_DUCKDB (a database) to allow it. Files you can upload are in the sidebar.",
                icon=":material/folder_off:")
        return
    asked = _form(options)
    if asked is not None:
        with safe.stop_on_input_error():
            run(options, *asked)
    last = st.session_state.get(state.LARGE)
    if not last:
        st.caption("Give a path (or a query) and press the button: every number is counted where the data lives.")
        return
    header(last)
    headline(last)
    weak_slices(options, last)
    difficulty(options, last)
    value(options, last)
    large_compare.render(options, last, engine_of)
    large_monitor.render(options, last, engine_of)
    mistakes(options, last)


def header(last: dict) -> None:
    """What was counted: the source, its rows used, the task and label, and the summary's notes."""
    summary = last["summary"]
    rows = summary["rows"]
    st.caption(safe.md_escape(f"{summary['source']['file']}: {rows['used']:,} of {rows['total']:,} rows used "
                              f"({summary['task']}; label {summary['columns']['label']}); computed on "
                              f"{summary['source']['engine']}"))
    for note in summary["notes"]:
        safe.warning(note)


def headline(last: dict, segments: bool = True) -> None:
    """The headline metrics with their intervals, every segment's metrics (worst first) and the JSON."""
    summary = last["summary"]
    st.subheader("Headline metrics")
    safe.table(overall_table(summary), key="large_overall", file_name="large_overall.csv")
    if segments and summary["segments"]:
        segments_table_of(summary)
    st.download_button("Download the summary (JSON)", json_text(summary), file_name="summary.json",
                       mime="application/json", on_click="ignore", icon=":material/download:", key="large_json")


def segments_table_of(summary: dict) -> None:
    """Every segment's metrics with intervals, worst first."""
    st.subheader("Per segment, worst first")
    safe.table(segments_table(summary), key="large_segments_table", file_name="large_segments.csv")


def weak_slices(options, last: dict) -> None:
    """The weak-slice search of the Segments page, counted on DuckDB (every combination of up to 3 columns)."""
    summary = last["summary"]
    st.subheader("Weak slices")
    with st.form("large_slices_form"):
        c1, c2, c3 = st.columns(3)
        kind = c1.selectbox("Error", slices.error_kinds(summary["task"]), key="large_ws_kind",
                            format_func=lambda k: k.replace("_", " "))
        level = c2.selectbox("Conditions per slice", [1, 2, 3], index=2, key="large_ws_level")
        scoring = c3.selectbox("Ranking", ["balanced", "sliceline"], key="large_ws_scoring")
        go = st.form_submit_button("Find weak slices on DuckDB", icon=":material/manage_search:")
    if go:
        with safe.stop_on_input_error(), st.status("Searching slices on DuckDB…", expanded=True) as status:
            bar = st.progress(0.0)
            with engine_of(options, last["asked"]) as eds:
                result = search_weak_slices_engine(
                    eds, kind=kind, max_level=int(level), scoring=scoring,
                    progress=lambda f, message: bar.progress(f, text=message))
            last["slices"] = (kind, slices.weak_slice_rows(result, kind),
                              " ".join([slices.search_caption(result), *result.settings.get("left_out", [])]))
            status.update(label="Slices found", state="complete", expanded=False)
    if "slices" not in last:
        st.caption("Conjunctions of up to three conditions where the model errs most, counted where the data lives; "
                   "only slices clearly worse than the rest are listed (Benjamini–Hochberg at 5%).")
        return
    kind, shown, caption = last["slices"]
    st.caption(safe.md_escape(caption))
    if shown.empty:
        st.success("No slice is clearly worse than the rest at these settings.", icon=":material/check_circle:")
        return
    safe.table(shown, key="large_ws_table", file_name="weak_slices.csv", column_config=cols.weak_slices(),
               header_lines=[f"file: {summary['source']['file']}", f"error: {kind}"])


def difficulty(options, last: dict) -> None:
    """Difficulty lanes from the rows per difficulty key counted on DuckDB: what can be automated, at what error
    rate (binary by score; multiclass by confidence; regression by the size of the miss or the uncertainty)."""
    summary = last["summary"]
    st.subheader("Difficulty: what can be automated")
    modes = last.get("read", {}).get("lane_modes", [])
    if not modes:
        st.info("Difficulty lanes need a score (binary) or one probability column per class (multiclass): name it "
                "in the form above.", icon=":material/info:")
        return
    with st.form("large_lanes_form"):
        c1, c2 = st.columns(2)
        mode = c1.selectbox("Order cases from hard to easy by", modes, format_func=dif.MODES.get, key="large_mode")
        tolerance = c2.number_input("A miss larger than this counts as an error (empty: the 90th percentile of the "
                                    "misses)", min_value=1e-9, value=None, key="large_tolerance") \
            if summary["task"] == "regression" else None
        go = st.form_submit_button("Count the lanes on DuckDB", icon=":material/alt_route:")
    if go:
        with (safe.stop_on_input_error(), st.spinner("Counting rows per difficulty on DuckDB…"),
              engine_of(options, last["asked"]) as eds):
            curve = engine_lane_curve(eds, mode, tolerance)
            last["lanes"] = (curve, engine_default_start(eds, curve, last["asked"][3]), dif.tradeoff_curve(curve))
    if "lanes" in last and last["lanes"][0].mode == "error_size":
        st.warning(dif.ERROR_SIZE_WARNING, icon=":material/warning:")
    if "lanes" not in last:
        st.caption("Which cases are obvious enough to automate and which need a person: the most "
                   "automation under a target error rate, counted where the data lives.")
        return
    curve, start, frontier = last["lanes"]
    target = st.number_input("Largest error rate among automated decisions (%)", 0.0, 100.0,
                             float(100 * start.policy.target_error), step=0.01, format="%.4g", key="large_target")
    policy = dif.LanePolicy(method="target", target_error=target / 100, cases_per_day=start.per_day)
    point = dif.choose_lanes(curve, policy)
    st.markdown("#### " + safe.md_escape(dif.summary_sentence(point, cases_per_day=policy.cases_per_day)))
    st.caption(safe.md_escape(start.caption(curve.n) + " Lanes: " + str(point.lanes) + "."))
    safe.chart(safe.lazy(frontier_chart, frontier, point=point, **dif.frontier_marks(policy)), key="large_frontier")
    safe.table(frontier, key="large_frontier_table", file_name="automation_tradeoff.csv")


def value(options, last: dict) -> None:
    """What the decisions are worth, counted on DuckDB: the Impact page's summary, points and alternatives."""
    summary = last["summary"]
    st.subheader("Business impact")
    classes = last.get("read", {}).get("classes", [])
    if summary["task"] == "regression" or (summary["task"] == "multiclass" and not classes):
        st.info("Business value needs a decision: a binary task, or one class against the rest of a multiclass task "
                "with one probability column per class.", icon=":material/info:")
        return
    start = impact.default_costs_of(last.get("amount"))
    with st.form("large_impact_form"):
        cls = None
        if classes:
            st.caption("Business value needs a yes/no decision, and this source is multiclass: here, one class against "
                       "the rest (a row is flagged when that class's probability is at least the threshold).")
            c1, c2 = st.columns(2)
            cls = c1.selectbox("Class to act on", classes, key="large_class")
            class_threshold = c2.slider("Threshold for this class", 0.0, 1.0, 0.5, 0.01, key="large_class_threshold")
        c1, c2, c3 = st.columns(3)
        texts = {name: c.text_input(impact.TERM_LABELS[name] + " (a number or a column)", str(getattr(start, name)),
                                    key=f"large_{name}")
                 for c, name in ((c1, "cost_fn"), (c2, "cost_fp"), (c3, "cost_review"))}
        go = st.form_submit_button("Compute the value on DuckDB", icon=":material/payments:")
    if go:
        with safe.stop_on_input_error(), st.status("Computing the value on DuckDB…", expanded=True) as status:
            costs = impact.CostModel.parse(**texts)
            with engine_of(options, last["asked"]) as eds:
                segment = next(iter(summary["columns"]["segments"]), None)
                view = eds if cls is None else engine_one_vs_rest(eds, cls, class_threshold)
                last["impact"] = analyze_impact_engine(view, costs, segment=segment, time_budget_s=None,
                                                       progress=st.text)  # each step as it starts
            status.update(label="Value computed", state="complete", expanded=False)
    if "impact" not in last:
        st.caption("Net value at the threshold and at the best one, against flagging nothing, everything, at random "
                   "and the other models, with 95% intervals, counted where the data lives.")
        return
    report = last["impact"]
    st.code("\n".join(report.summary), language=None, wrap_lines=True)
    money = {"header_lines": report.header_lines(), "column_config": cols.money()}
    safe.table(impact.shown_points(report.points, None), key="large_points", file_name="impact_operating_points.csv",
               **money)
    safe.table(report.baselines, key="large_baselines", file_name="impact_baselines.csv", **money)
    st.download_button("Download the impact report (Markdown)", report.markdown(), file_name="analyze_impact.md",
                       mime="text/markdown", on_click="ignore", icon=":material/download:", key="large_impact_md")


def mistakes(options, last: dict) -> None:
    """The most confident mistakes, fetched from DuckDB: the only rows that cross back."""
    summary = last["summary"]
    st.subheader("Most confident mistakes")
    if st.button("Fetch the 50 most confident mistakes", icon=":material/rate_review:", key="large_fetch"):
        with (safe.stop_on_input_error(), st.spinner("Fetching rows from DuckDB…"),
              engine_of(options, last["asked"]) as eds):
            last["mistakes"] = confident_mistakes(eds, n=50, probabilities="log_loss" in summary["overall"])
    if "mistakes" in last:
        safe.table(last["mistakes"], key="large_mistakes", file_name="confident_mistakes.csv")
