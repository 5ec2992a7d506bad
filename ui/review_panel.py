"""The Review page's row viewer and verdict form, and the tables of what reviewers found.

Streamlit-only: the rows, summaries and corrections themselves come from :mod:`mlimpact.review`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from mlimpact import review as rv
from mlimpact.errors import InputError
from mlimpact.io import Dataset

from . import safe, widgets

#: the largest queue file read back (a queue of 10,000 rows of a wide file is a few MB)
MAX_QUEUE_BYTES = 50_000_000


def rows_and_verdict(ds: Dataset, index: np.ndarray, rows: rv.ReviewRows, verdicts: dict, *,
                     subject: str) -> None:
    """The chosen rows (pick one), every column of the picked row, and the form to record a verdict on it."""
    h = ds.content_hash[:12]
    view = rv.review_frame(ds, index, rows, verdicts, subject=subject)
    st.caption(f"{len(index):,} rows shown; pick one to look at it and record a verdict. Every column of the file "
               "is shown.")
    options = [int(i) for i in index]

    def _on_table_pick() -> None:
        picked = st.session_state["rev_table"].selection.rows
        if picked:
            st.session_state["rev_row"] = options[picked[0]]

    st.dataframe(view, hide_index=True, on_select=_on_table_pick, selection_mode="single-row", key="rev_table",
                 column_config={rv.confidence_column(ds.task): st.column_config.NumberColumn(format="%.3f")})
    widgets.download_csv("Download these rows (CSV)", view, "review_rows.csv", header_lines=[f"file: {ds.source}"],
                         key="rev_rows_csv")
    widgets.keep_valid("rev_row", options, options[0])
    errors_of = dict(zip(options, view["error type"], strict=True))
    row = st.selectbox("Row to look at", options, key="rev_row",
                       format_func=lambda i: f"row {i} · {errors_of[i]}"
                       + (f" · verdict: {verdicts[i][0]}" if i in verdicts else ""))

    d1, d2 = st.columns([3, 2])
    with d1:
        st.dataframe(rv.row_detail(ds, row, rows, verdicts, subject=subject), hide_index=True, key="rev_detail",
                     height=min(35 * (len(view.columns) + 1) + 3, 700))
    with d2:
        _verdict_form(verdicts, row, f"rev_verdict_{h}_{row}", f"rev_note_{h}_{row}")


def _verdict_form(verdicts: dict, row: int, v_key: str, n_key: str) -> None:
    saved_verdict, saved_note = verdicts.get(row, (None, ""))
    if v_key not in st.session_state and saved_verdict is not None:
        st.session_state[v_key] = saved_verdict
    widgets.seed({n_key: saved_note})

    def _save() -> None:
        if st.session_state.get(v_key):
            verdicts[row] = (st.session_state[v_key], st.session_state.get(n_key, ""))

    def _clear() -> None:
        verdicts.pop(row, None)
        st.session_state[v_key] = None
        st.session_state[n_key] = ""

    verdict = st.radio("Verdict", list(rv.VERDICTS), index=None, key=v_key)
    st.text_input("Note", key=n_key, max_chars=500)
    b1, b2 = st.columns(2)
    b1.button("Save verdict", key="rev_save", type="primary", disabled=verdict is None, on_click=_save)
    b2.button("Clear verdict", key="rev_clear", disabled=row not in verdicts, on_click=_clear)
    if row in verdicts:
        st.caption(safe.md_escape(f"Saved: {verdicts[row][0]}" + (f" — {verdicts[row][1]}" if verdicts[row][1]
                                                                  else "")))


def load_queue(ds: Dataset, verdicts: dict) -> None:
    """Take back a queue drawn by ``review-sample`` with its verdicts filled in (merged into this session's)."""
    with st.expander("Load a filled-in review queue (review-sample's CSV)", expanded=False):
        upload = st.file_uploader("Review queue", type=["csv"], key="rev_queue",
                                  help="The CSV that `python -m mlimpact review-sample` wrote for this file, with the "
                                       "verdict column filled in.")
        if upload is None:
            return
        if upload.size > MAX_QUEUE_BYTES:
            safe.error(f"{upload.name}: {upload.size / 1e6:,.0f} MB, more than a review queue; give the queue's CSV")
            return
        try:
            found = rv.read_queue(upload.getvalue().decode("utf-8-sig", errors="replace"), ds, name=upload.name)
        except InputError as exc:  # the rest of the page stays: only this file is refused
            safe.error(exc)
            return
        verdicts.update(found)
        st.success(safe.md_escape(f"{len(found):,} verdicts read from {upload.name}"), icon=":material/task_alt:")


def summary(ds: Dataset, verdicts: dict, rows: rv.ReviewRows, codes: np.ndarray | None, lanes, *,
            subject: str) -> None:
    """What the verdicts say, in sentences and a table with intervals, then every verdict."""
    found = rv.summarize_verdicts(verdicts, lanes=codes)
    for text in rv.verdict_sentences(found):
        st.markdown("- " + safe.md_escape(text))
    cfg = {c: st.column_config.NumberColumn(c, format="percent") for c in ("share", "low", "high")}
    safe.table(found, key="rev_summary", file_name="verdict_summary.csv", column_config=cfg,
               header_lines=[f"file: {ds.source}", "95% Wilson intervals"])
    st.markdown("**Every verdict**")
    safe.table(rv.verdicts_table(ds, verdicts, rows, subject=subject), key="rev_verdicts",
               file_name="verdicts.csv", header_lines=[f"file: {ds.source}", f"lanes: {lanes}"],
               label="Download verdicts (CSV)")


def corrected(ds: Dataset, correction: rv.Correction, compared: pd.DataFrame, threshold: float) -> None:
    """The headline metrics with the reviewers' label corrections, next to the originals."""
    st.markdown("**Metrics " + safe.md_escape(correction.description) + ", next to the originals**")
    cfg = {"corrected": st.column_config.NumberColumn(correction.description, format="%.4f"),
           "original": st.column_config.NumberColumn("original", format="%.4f")}
    safe.table(compared, key="rev_corrected", file_name="metrics_corrected.csv", column_config=cfg,
               header_lines=[f"file: {ds.source}", correction.description, f"threshold: {threshold:g}"])
