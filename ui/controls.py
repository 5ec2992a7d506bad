"""The larger groups of inputs of the Impact and Monitoring pages, each returning plain values.

Widget keys end with the file's short hash, so one file's choices never carry into another's.
Streamlit-only: every default and conversion comes from :mod:`mlimpact`.
"""

from __future__ import annotations

import streamlit as st

from mlimpact import impact
from mlimpact import monitoring as mon
from mlimpact.io import Dataset

from . import computed, state, widgets


# ----------------------------------------------------------------------------- Impact
def money_terms(saved: impact.CostModel, columns: list[str], suffix: str) -> dict[str, float | str]:
    """One column of inputs per money term: a number, or a column whose value per row is used."""
    chosen: dict[str, float | str] = {}
    for col, term in zip(st.columns(len(impact.MONEY_TERMS)), impact.MONEY_TERMS, strict=True):
        with col:
            source, number = impact.term_start(getattr(saved, term), columns)
            sources = [impact.NUMBER] + columns
            src = st.selectbox(impact.TERM_LABELS[term].capitalize(), sources, index=sources.index(source),
                               key=f"imp_{term}_src_{suffix}", help=impact.TERM_HELP[term])
            if src == impact.NUMBER:
                chosen[term] = st.number_input(f"{impact.TERM_LABELS[term].capitalize()}: amount", value=number,
                                               step=1.0, key=f"imp_{term}_num_{suffix}", label_visibility="collapsed")
            else:
                chosen[term] = src
    return chosen


def impact_options(ds: Dataset, options: dict, period, segments: list[str]) -> dict:
    """The Impact page's options (money scale, currency, a rule to compare with, the segment column), as
    ``{"scale", "unit", "rule", "segment"}``; the scale is its label."""
    h = ds.content_hash[:12]
    with st.expander("Options: period, currency, a rule to compare with, segments", expanded=False):
        o1, o2, o3 = st.columns([2, 1, 2])
        scales = impact.scale_options(period)
        scale_label = o1.radio("Show money", scales, horizontal=True, key=f"imp_scale_{h}",
                               index=scales.index(impact.start_scale(options, period)),
                               help="Per month and per year scale the file's totals by the span of its time column.")
        unit = o2.text_input("Currency", value=options.get("unit", ""), max_chars=6, key=f"imp_unit_{h}",
                             placeholder="€")
        rule_text = o3.text_input("A rule to compare with (any slice expression)",
                                  value=options.get("rule", computed.default_rule(ds)), key=f"imp_rule_{h}",
                                  placeholder="amount > 500",
                                  help="A condition on the columns, as a slice: amount > 500, channel == \"online\" "
                                       "and amount > 200, region in (\"west\", \"north\"); the rows it is true "
                                       "for are flagged.")
        start = impact.start_segment(options, state.preferred_segment_column(), segments)
        segment = st.selectbox("Where is value lost: segment by", segments or ["(no segment columns)"],
                               index=widgets.index_of(segments, start), key=f"imp_segment_{h}", disabled=not segments)
        if period is None:
            st.caption("Per month and per year need a time column; pick one in the sidebar.")
    return {"scale": scale_label, "unit": unit, "rule": rule_text, "segment": segment if segments else None}


# ----------------------------------------------------------------------------- Monitoring
def acceptable_range(ds: Dataset, saved: mon.MonitorSetup, first, last) -> dict:
    """How the acceptable range is set: ``mode`` and its ``k``, ``tolerance``, ``minimum``, ``maximum`` and
    ``reference_end`` (the ones the mode does not use keep their saved values)."""
    h = ds.content_hash[:12]
    r1, r2, r3 = st.columns([3, 2, 2])
    mode = r1.radio("Acceptable range", list(mon.RANGE_MODES), index=list(mon.RANGE_MODES).index(saved.mode),
                    format_func=mon.RANGE_MODES.get, key=f"mon_mode_{h}",
                    help="Reference: each series' own range from its buckets in the reference period. "
                         "Fixed: the same range for every segment value.")
    chosen = {"mode": mode, "k": saved.k, "tolerance": saved.tolerance, "minimum": saved.minimum,
              "maximum": saved.maximum, "reference_end": mon.start_reference_end(ds, saved)}
    if mode == "fixed":
        chosen["minimum"] = r2.number_input("Minimum", value=saved.minimum, format="%.4f", key=f"mon_min_{h}",
                                            placeholder="none")
        chosen["maximum"] = r3.number_input("Maximum", value=saved.maximum, format="%.4f", key=f"mon_max_{h}",
                                            placeholder="none")
        return chosen
    if mode == "reference":
        chosen["k"] = r2.number_input("k (standard deviations)", 0.5, 10.0, float(saved.k), step=0.5,
                                      key=f"mon_k_{h}")
    else:
        chosen["tolerance"] = r2.number_input("Tolerance (share of the reference value)", 0.0, 10.0,
                                              float(saved.tolerance), step=0.05, key=f"mon_tol_{h}")
    chosen["reference_end"] = r3.date_input("Reference period ends", value=chosen["reference_end"],
                                            min_value=first.date(), max_value=last.date(), key=f"mon_ref_{h}",
                                            help="Buckets that end on or before this date form the reference "
                                                 "period.")
    return chosen
