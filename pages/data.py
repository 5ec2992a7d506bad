"""Data: what was read, what was excluded, which column plays which part."""

import pandas as pd
import streamlit as st

from mlimpact.io import column_summary, roles_table
from ui import safe, sidebar, state

fs = sidebar.current()
if fs.source is None:
    sidebar.explain_and_stop(fs, "data")
st.title("Data")

source = fs.source
st.subheader("What was read")
reports = [r.to_dict() for r in source.reports]
read = [{"file": r["source"], "format": r["format"] + (f" ({r['compression']})" if r["compression"] else ""),
         "encoding": r["encoding"] or "", "delimiter": repr(r["delimiter"]) if r["delimiter"] else "",
         "decimal": r["decimal"] or "", "rows": r["n_rows"], "columns": r["n_columns"],
         "sha256": r["content_hash"][:16] + "…"} for r in reports]
st.dataframe(read, hide_index=True)
if source.notes:
    st.markdown("**Notes from reading**")
    safe.table(pd.DataFrame({"note": source.notes}), key="load_notes", file_name="load_notes.csv")

if fs.error:
    safe.error(fs.error)
ds = fs.dataset
if ds is not None:
    c1, c2, c3 = st.columns(3)
    c1.metric("Rows in the file", f"{ds.n_total:,}")
    c2.metric("Rows used", f"{ds.n:,}")
    c3.metric("Rows excluded", f"{ds.n_excluded:,}")
    if ds.exclusions:
        st.markdown("**Rows excluded, by reason**")
        safe.table(pd.DataFrame({"reason": list(ds.exclusions), "rows": list(ds.exclusions.values())}),
                   key="exclusions", file_name="excluded_rows.csv")
    if ds.notes and ds.notes != source.notes:
        extra = [n for n in ds.notes if n not in source.notes]
        for note in extra:
            safe.warning(note)

st.subheader("Columns and their roles")
roles = ds.roles if ds is not None else source.guess.roles
safe.table(roles_table(roles, source.guess), key="roles", file_name="roles.csv")
st.caption("Change any role in the sidebar under “Columns and task”.")

st.subheader("Per-column summary")
safe.table(state.memo(("column_summary", source.content_hash, roles), lambda: column_summary(source.frame, roles)),
           key="columns", file_name="column_summary.csv")

st.subheader("Preview (first 200 rows)")
st.dataframe(source.frame.head(200), hide_index=True, key="preview")
