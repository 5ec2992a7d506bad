"""The "Large data" page's model comparison: the Compare page's numbers, counted on DuckDB.

:func:`mlimpact.compare.engine_compare.compare_models_engine` counts each model's runs and cells, the paired
bootstrap's cells and DeLong's rows where the data lives; the tables and sentences are the Compare page's.
"""

from __future__ import annotations

import streamlit as st

from mlimpact import compare, impact
from mlimpact.compare.engine_compare import compare_models_engine
from mlimpact.metrics import METRICS
from mlimpact.report.charts import segment_difference_chart

from . import columns as cols
from . import safe

_NONE = "(all rows only)"


def render(options, last: dict, engine) -> None:
    """The form, the run with its steps shown, and the comparison; ``engine(options, asked)`` opens the source."""
    summary = last["summary"]
    st.subheader("Models side by side")
    segments = summary["columns"]["segments"]
    binary = summary["task"] == "binary"
    start = impact.default_costs_of(last.get("amount"))
    with st.form("large_compare_form"):
        segment = st.selectbox("Compare per value of", [_NONE] + segments, index=1 if segments else 0,
                               key="large_cmp_segment")
        texts = {}
        if binary:  # each model's value under the same money, as on the Compare page
            for c, name in zip(st.columns(2), ("cost_fn", "cost_fp"), strict=True):
                texts[name] = c.text_input(impact.TERM_LABELS[name] + " (a number or a column)",
                                           str(getattr(start, name)), key=f"large_cmp_{name}")
        go = st.form_submit_button("Compare the models on DuckDB", icon=":material/compare_arrows:")
    if go:
        with safe.stop_on_input_error(), st.status("Comparing the models on DuckDB…", expanded=True) as status:
            costs = impact.CostModel.parse(**texts) if texts else None
            with engine(options, last["asked"]) as eds:
                last["compare"] = compare_models_engine(eds, segment=None if segment == _NONE else segment,
                                                        costs=costs, progress=st.text)  # each step as it starts
            status.update(label="Models compared", state="complete", expanded=False)
    comp = last.get("compare")
    if comp is None:
        st.caption("The model against the other models in the source (or a stand-in for no model) on the rows every "
                   "model scored: metrics with 95% intervals, paired differences (DeLong for ROC AUC, a paired "
                   "bootstrap otherwise), where each model wins and how robust it is.")
        return
    for note in comp.notes:
        st.caption(safe.md_escape(note))
    said = compare.comparison_summary(comp)
    st.code("\n".join(said), language=None, wrap_lines=True)
    header = compare.export_header(summary["source"]["file"], comp, comp.threshold, said)
    st.markdown("**Side by side** (95% intervals in brackets)")
    safe.table(compare.decision_numbers(comp), key="large_cmp_numbers", file_name="compare_side_by_side.csv",
               header_lines=header)
    config = cols.comparison()
    st.markdown("**Paired differences against** " + safe.md_escape(comp.reference)
                + " (the same rows for both; DeLong for ROC AUC, paired bootstrap otherwise)")
    safe.table(compare.overall_differences(comp), key="large_cmp_differences", file_name="compare_differences.csv",
               column_config=config, header_lines=header)
    if comp.segment:
        challenger = compare.challengers(comp)[0]
        safe.chart(safe.lazy(segment_difference_chart, comp.differences, metric=comp.metrics[0],
                             label=METRICS[comp.metrics[0]].label, model=challenger, reference=comp.reference),
                   key="large_cmp_chart", title_space=130)
        st.markdown("**Where each model wins** (the winner when the paired 95% interval excludes no difference)")
        safe.table(comp.wins(), key="large_cmp_wins", file_name="compare_wins.csv", header_lines=header)
    st.markdown("**Robustness**: worst segment, spread across segments and across time periods")
    safe.table(comp.robustness, key="large_cmp_robustness", file_name="compare_robustness.csv", column_config=config,
               header_lines=header)
    if comp.value is not None:
        st.markdown("**Value under the same cost model** ("
                    + safe.md_escape("; ".join(comp.value.attrs["costs"])) + ")")
        safe.table(comp.value, key="large_cmp_value", file_name="compare_value.csv", header_lines=header,
                   column_config=cols.formatted(compare.MONEY_COLUMNS, "localized"))
