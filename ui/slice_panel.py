"""The sidebar's slices: type a slice, save it with a name, make it active. Every page then works on the active
slice's rows (:func:`active_rows`, applied by ``sidebar.require_dataset``), and says so at its top with one click
to clear it. Slices are saved per file in the session and travel in links and ``slices.toml``; every expression
goes through the parser (:mod:`mlimpact.slices.language`), never ``eval``. Streamlit-only.
"""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from mlimpact import slices as sl
from mlimpact.errors import InputError
from mlimpact.io import Dataset
from mlimpact.metrics import METRICS
from mlimpact.metrics.leading import main_metric

from . import safe, share, state

SAVED = "mi_slices"          # content hash -> list of NamedSlice
ACTIVE = "mi_slice_active"   # content hash -> the active slice's name
ALL_ROWS = "(all rows)"


def saved(content_hash: str) -> list[sl.NamedSlice]:
    return st.session_state.setdefault(SAVED, {}).setdefault(content_hash, [])


def active(content_hash: str) -> sl.NamedSlice | None:
    name = st.session_state.setdefault(ACTIVE, {}).get(content_hash)
    return next((s for s in saved(content_hash) if s.name == name), None)


def _set_active(content_hash: str, name: str | None) -> None:
    st.session_state.setdefault(ACTIVE, {})[content_hash] = name


def _save(dataset: Dataset, h: str) -> None:
    """Button callback: parse the typed slice against the file, save it under its name and make it active."""
    try:
        new = sl.named_slice(st.session_state.get(f"slice_name_{h}") or None,
                             st.session_state.get(f"slice_expr_{h}") or "", dataset)
    except InputError as exc:
        st.session_state[f"slice_error_{h}"] = str(exc)
        return
    st.session_state.pop(f"slice_error_{h}", None)
    st.session_state[f"slice_note_{h}"] = " ".join(sl.slice_warnings([new], dataset)) or None  # e.g. zero rows
    _keep(dataset.content_hash, new)


def _keep(content_hash: str, new: sl.NamedSlice) -> None:
    """Save ``new`` for the file (replacing one of the same name) and make it the active slice."""
    kept = [s for s in saved(content_hash) if s.name != new.name][: sl.MAX_SLICES - 1]
    st.session_state[SAVED][content_hash] = kept + [new]
    _set_active(content_hash, new.name)
    st.session_state[f"slice_active_{content_hash[:12]}"] = new.name


def offer(dataset: Dataset, selected: dict | None, key: str) -> None:
    """"Save as a slice" for a segment picked on a page (a table row or a bar): the expression it stands for
    (within the active slice, if one is on) and an editable name."""
    expr = sl.selection_expression(selected, dataset) if selected else None
    if expr is None:
        return
    ch = state.file_key(dataset.content_hash)
    now = active(ch)
    expr = f"({now.expression}) and ({expr})" if now is not None else expr
    with st.popover("Save as a slice", icon=":material/filter_alt:"):
        st.text_input("Name of the new slice", value=" and ".join(f"{k} = {v}" for k, v in selected.items())[:60],
                      max_chars=60, key=f"{key}_name")
        st.code(expr, language=None)
        st.button("Save and use this slice", key=f"{key}_save", on_click=_save_expression, args=(dataset, ch, expr,
                                                                                                 key))


def _save_expression(dataset: Dataset, content_hash: str, expr: str, key: str) -> None:
    try:
        new = sl.named_slice(st.session_state.get(f"{key}_name") or None, expr, dataset)
    except InputError as exc:
        st.toast(f"Not saved: {exc}", icon=":material/error:")
        return
    _keep(content_hash, new)


def _edit(content_hash: str, h: str) -> None:
    """Button callback: the active slice's name and expression go back into the boxes, to change and save."""
    now = active(content_hash)
    if now is not None:
        st.session_state[f"slice_expr_{h}"], st.session_state[f"slice_name_{h}"] = now.expression, now.name


def _delete(content_hash: str, h: str) -> None:
    name = st.session_state.get(f"slice_active_{h}")
    st.session_state[SAVED][content_hash] = [s for s in saved(content_hash) if s.name != name]
    _set_active(content_hash, None)
    st.session_state[f"slice_active_{h}"] = ALL_ROWS


def _load(content_hash: str, h: str) -> None:
    upload = st.session_state.get(f"slice_file_{h}")
    if upload is None:
        return
    try:
        loaded = sl.parse_slices_toml(upload.getvalue().decode("utf-8-sig"), source=upload.name)
    except (InputError, UnicodeDecodeError) as exc:
        st.session_state[f"slice_error_{h}"] = str(exc) if isinstance(exc, InputError) else \
            f"{upload.name}: not UTF-8 text"
        return
    names = {s.name for s in loaded}
    st.session_state[SAVED][content_hash] = ([s for s in saved(content_hash) if s.name not in names]
                                             + loaded)[-sl.MAX_SLICES:]


def panel(dataset: Dataset) -> None:
    """The sidebar expander: build, save, pick, delete, download and load slices."""
    h, ch = dataset.content_hash[:12], dataset.content_hash
    now = active(ch)
    with st.expander("Slices" + (f": {now.name}" if now else ""), icon=":material/filter_alt:"):
        st.text_input("Slice expression", key=f"slice_expr_{h}", placeholder='channel == "online" and amount > 500',
                      help='Comparisons (== != > >= < <=, in (…), between … and …, is null) joined with and, or, '
                           'not and parentheses; text in quotes; `column names with spaces` in backticks.')
        st.text_input("Slice name", key=f"slice_name_{h}", placeholder="online, big orders", max_chars=60)
        st.button("Save and use this slice", key=f"slice_save_{h}", on_click=_save, args=(dataset, h))
        if err := st.session_state.get(f"slice_error_{h}"):
            safe.error(err)
        if note := st.session_state.get(f"slice_note_{h}"):
            safe.warning(note)
        names = [s.name for s in saved(ch)]
        st.selectbox("Active slice", [ALL_ROWS] + names, key=f"slice_active_{h}",
                     index=([ALL_ROWS] + names).index(now.name) if now else 0,
                     on_change=lambda: _set_active(ch, _picked(h)))
        if names:
            st.dataframe(saved_table(dataset), hide_index=True, key="slice_table")  # values as data, never markup
            c1, c2, c3 = st.columns(3)
            c1.button("Edit", key=f"slice_edit_{h}", on_click=_edit, args=(ch, h), disabled=now is None,
                      help="Put the active slice in the boxes above; save it under the same name to change it.")
            c2.button("Delete", key=f"slice_delete_{h}", on_click=_delete, args=(ch, h), disabled=now is None)
            c3.download_button("slices.toml", sl.slices_to_toml(saved(ch)), file_name="slices.toml",
                               mime="application/toml", key=f"slice_download_{h}", on_click="ignore")
        st.file_uploader("Load slices.toml", type=["toml"], key=f"slice_file_{h}", on_change=_load, args=(ch, h))


def _picked(h: str) -> str | None:
    name = st.session_state.get(f"slice_active_{h}")
    return None if name in (None, ALL_ROWS) else name


def saved_table(dataset: Dataset) -> pd.DataFrame:
    """Name, expression, rows and share of each saved slice (a slice whose columns are gone says so)."""
    rows = []
    for s in saved(dataset.content_hash):  # a few saved slices
        try:
            n = int(sl.parse_slice(s.expression, dataset).mask(dataset).sum())
            rows.append({"name": s.name, "expression": s.expression, "rows": n, "share": n / max(dataset.n, 1)})
        except InputError as exc:
            rows.append({"name": s.name, "expression": s.expression, "rows": None, "share": None,
                         "problem": str(exc)})
    return pd.DataFrame(rows)


def active_rows(dataset: Dataset) -> Dataset:
    """The active slice's rows (the whole Dataset without one); a slice that no longer applies is switched off
    with a message."""
    now = active(dataset.content_hash)
    if now is None:
        return dataset
    try:
        return state.memo(("slice_rows", dataset.content_hash, dataset.roles, now.expression),
                          lambda: sl.slice_rows(dataset, now.expression))
    except InputError as exc:
        _set_active(dataset.content_hash, None)
        safe.warning(f"The slice {now.name} no longer applies ({exc}); showing all rows.")
        return dataset


def banner(full: Dataset, rows: Dataset, threshold: float) -> None:
    """At the top of the page: the active slice, its rows and its main metric against the rest; one click clears."""
    now = active(full.content_hash)
    if now is None:
        return
    if rows.n == 0:  # zero rows is a result: said, with the one change that fixes it
        c1, c2 = st.columns([6, 1])
        c1.warning(safe.md_escape(f"Slice {now.name}: 0 of {full.n:,} rows, so this page has nothing to show; edit "
                                  "the slice in the sidebar, or clear it."), icon=":material/filter_alt_off:")
        c2.button("Clear slice", key="slice_clear", on_click=_set_active, args=(full.content_hash, None))
        st.stop()
    metric = main_metric(full.task)
    table = state.memo(("slice_vs_rest", full.content_hash, full.roles, now.name, now.expression, threshold, metric),
                       lambda: sl.slice_table(full, [now], threshold=threshold, metrics=[metric]))
    c1, c2 = st.columns([6, 1])
    c1.info(safe.md_escape(_banner_text(now, rows, full, table, metric)), icon=":material/filter_alt:")
    c2.button("Clear slice", key="slice_clear", on_click=_set_active, args=(full.content_hash, None))


def _banner_text(now, rows: Dataset, full: Dataset, table: pd.DataFrame, metric: str) -> str:
    text = f"Slice {now.name}: {rows.n:,} of {full.n:,} rows ({rows.n / max(full.n, 1):.1%}); every page shows these rows."
    if len(table) and pd.notna(table["value"].iloc[0]):
        r = table.iloc[0]
        label = METRICS[metric].label
        verdict = "significantly worse than" if r["significantly_worse"] else "against"
        text += (f" {label} {r['value']:.3f} ({r['low']:.3f}–{r['high']:.3f}) {verdict} {r['rest_value']:.3f} "
                 f"for the rest (difference {r['difference']:+.3f}, 95% interval {r['diff_low']:+.3f} to "
                 f"{r['diff_high']:+.3f}).")
    return text


def saved_slices_table(full: Dataset, threshold: float, metric: str) -> None:
    """On Segments: every saved slice against the rest of the rows on ``metric``, BH over the slices."""
    kept = saved(full.content_hash)
    if not kept:
        return
    st.markdown("**The slices you named**, each against the rest of the rows (Benjamini–Hochberg over the slices)")
    try:
        table = state.memo(("saved_slices", full.content_hash, full.roles, tuple(kept), threshold, metric),
                           lambda: sl.slice_table(full, kept, threshold=threshold, metrics=[metric]))
    except InputError as exc:
        safe.warning(exc)
        return
    safe.table(table.drop(columns=["metric", "note"]), key="seg_named_slices", file_name="named_slices.csv")


# ----------------------------------------------------------------------------- links
def link_value(content_hash: str) -> tuple[str | None, str | None]:
    """The saved slices (compact JSON) and the active slice's name, for the address bar."""
    kept = saved(content_hash)
    now = active(content_hash)
    text = json.dumps([[s.name, s.expression] for s in kept], ensure_ascii=False, separators=(",", ":"))
    return (text if kept else None), (now.name if now else None)


def apply_link(content_hash: str) -> None:
    """Once per file: the link's slices (parsed again, never executed) become this file's saved slices."""
    raw, name = share.pending("slices"), share.pending("slice")
    done = st.session_state.setdefault("mi_slices_applied", set())
    if raw is None or content_hash in done:
        return
    done.add(content_hash)
    try:
        st.session_state.setdefault(SAVED, {})[content_hash] = [sl.named_slice(n, e) for n, e in raw]
    except InputError as exc:
        st.session_state.setdefault(share.NOTICES, []).append(f"ignored link parameter `slices`: {exc}")
        return
    if name in {s.name for s in saved(content_hash)}:
        _set_active(content_hash, name)
