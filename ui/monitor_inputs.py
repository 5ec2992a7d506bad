"""The Monitoring page's check settings and its offer to fix a range that could not be derived.

Apart from :mod:`ui.controls` so that the too-small limits can be left unset (None: the rule's own default,
see ``mon.MonitorSettings``). Streamlit-only: every default comes from :mod:`mlimpact.monitoring`.
"""

from __future__ import annotations

from dataclasses import replace

import streamlit as st

from mlimpact import monitoring as mon
from mlimpact.io import Dataset

from . import slice_panel, state

_UNSET = "not set: {n} under the point rule, none under the interval rule (its interval already accounts for the " \
         "bucket's size)"


def check_settings(ds: Dataset, saved: mon.MonitorSetup) -> dict:
    """When a bucket is out of range and when it is too small to check: ``rule``, ``min_count``,
    ``min_positives``; a limit left empty is None (not set)."""
    h = ds.content_hash[:12]
    with st.expander("Check settings"):
        s1, s2, s3 = st.columns(3)
        rule = s1.radio("Out of range when", list(mon.RULE_LABELS), index=list(mon.RULE_LABELS).index(
            saved.settings.rule), key=f"mon_rule_{h}", format_func=mon.RULE_LABELS.get)
        min_count = s2.number_input("Too small below (rows)", 0, 10_000_000, saved.settings.min_count,
                                    key=f"mon_min_count_{h}", placeholder="not set",
                                    help=_UNSET.format(n=mon.POINT_MIN_COUNT))
        min_positives = s3.number_input("… or below (actual positives, recall-like metrics)", 0, 1_000_000,
                                        saved.settings.min_positives, key=f"mon_min_pos_{h}", placeholder="not set",
                                        disabled=ds.task != "binary", help=_UNSET.format(n=mon.POINT_MIN_POSITIVES))
    return {"rule": rule, "min_count": None if min_count is None else int(min_count),
            "min_positives": None if min_positives is None else int(min_positives)}


def reference_fix(ds: Dataset, setup: mon.MonitorSetup, better: str | None) -> None:
    """Buttons for a series without a range: derive it from ``better`` buckets, or switch to fixed limits.
    Each saves the changed setup and forgets that widget's own value, so the widget starts on the change."""
    h = ds.content_hash[:12]

    def use(key: str, **change) -> None:
        st.session_state[state.RANGES][ds.content_hash] = replace(setup, ranges=(), **change)
        st.session_state.pop(key, None)

    b1, b2 = st.columns(2)
    if better is not None:
        b1.button(f"Use {mon.PERIOD_LABELS[better].lower()} buckets", key=f"mon_fix_period_{h}",
                  on_click=use, args=(f"mon_period_{h}",), kwargs={"period": better})
    b2.button("Set fixed limits instead", key=f"mon_fix_fixed_{h}", on_click=use, args=(f"mon_mode_{h}",),
              kwargs={"mode": "fixed"})


def checks_file(ds: Dataset, ranges, settings, period: str, reference_end, *, estimated: bool = False,
                slices=()) -> None:
    """The ranges as a checks file for cron and CI, with the traffic checks the user adds (derived from the file);
    ``estimated``: the page checks the estimate for the rows without a label too, so the file does as well."""
    h = ds.content_hash[:12]
    with st.expander(f"The {len(ranges)} acceptable ranges, as a checks file for cron and CI"):
        offers = state.memo(("traffic", ds.content_hash, ds.roles, period, reference_end), lambda: dict(
            (why, r) for r, why in mon.traffic_ranges(ds, period=period, reference_end=reference_end,
                                                      kinds=("rows", "psi", "unlabelled_share"))))
        picked = [w for w, r in offers.items() if r.metric != "unlabelled_share"]  # labels arrive late: opt in
        extra = st.multiselect("Also check the traffic", list(offers), default=picked, key=f"mon_traffic_{h}",
                               help="Volume, score drift (PSI) and rows without a label, per "
                                    f"{mon.PERIODS[period]}; derived from this file's reference period. The share "
                                    "without a label is high in recent buckets whose labels have not arrived yet.")
        copies = tuple(replace(r, estimated=True) for r in ranges if estimated and r.metric in mon.ESTIMATED_METRICS)
        chosen = tuple(ranges) + copies + tuple(offers[w] for w in extra)
        on = slice_panel.active(state.file_key(ds.content_hash))  # the page shows a slice: so does the file
        if on is not None and not slices:
            chosen, slices = tuple(r if r.slice else replace(r, slice=on.name) for r in chosen), (on,)
        toml_text = mon.checks_to_toml(ds.roles, chosen, settings=settings, source=ds.source,
                                       reference_end=reference_end if extra or copies else None, slices=tuple(slices))
        st.code(toml_text, language="toml")
        st.caption("Run it unattended: `python -m mlimpact check FILE --config checks.toml` exits 1 and prints one "
                   "line per bucket out of range (the same alerts as above, on the same file).")
    st.download_button("Download checks.toml", toml_text, file_name="checks.toml", mime="application/toml",
                       key="mon_toml", on_click="ignore", icon=":material/download:", disabled=not chosen)
