"""How the pages' tables format their columns (``st.column_config``), in one place.

Which columns hold money, shares or decimals is decided by the package; this module only says how each
kind looks.
"""

from __future__ import annotations

from collections.abc import Iterable

import streamlit as st

from mlimpact import compare, impact
from mlimpact import difficulty as dif


def formatted(columns: Iterable[str], fmt: str, *, labels: bool = False) -> dict:
    """Every column in ``columns`` with number format ``fmt`` (``labels``: headers with spaces, not underscores)."""
    if labels:
        return {c: st.column_config.NumberColumn(c.replace("_", " "), format=fmt) for c in columns}
    return {c: st.column_config.NumberColumn(format=fmt) for c in columns}


def segments(kind: str, min_size: int) -> dict:
    """The Segments page's table: the metric as a percentage (proportions) or with four decimals."""
    fmt = "percent" if kind == "proportion" else "%.4f"
    config = {c: st.column_config.NumberColumn(c, format=fmt) for c in ("value", "low", "high", "rest_value",
                                                                         "difference")}
    config["q_value"] = st.column_config.NumberColumn(
        "q value", format="%.3g", help="Benjamini–Hochberg adjusted p-value of the test against the rest")
    config["rest_value"] = st.column_config.NumberColumn("rest", format=fmt, help="the metric on all other rows")
    config["significantly_worse"] = st.column_config.CheckboxColumn("significantly worse")
    config["small"] = st.column_config.CheckboxColumn("small", help=f"fewer than {int(min_size)} rows")
    config["impact"] = st.column_config.NumberColumn("impact", format="%.1f",
                                                     help="rows × gap to overall in the bad direction")
    return config


def lanes() -> dict:
    """The Difficulty page's lane table: shares as percentages, errors per 1,000 with one decimal."""
    config = formatted(dif.LANE_SHARE_COLUMNS, "percent", labels=True)
    config["errors_per_1000"] = st.column_config.NumberColumn("errors per 1,000", format="%.1f")
    return config


def lanes_by_segment() -> dict:
    """The Difficulty page's per-segment table: shares as percentages."""
    return formatted(dif.SEGMENT_SHARE_COLUMNS, "percent", labels=True)


def weak_slices() -> dict:
    """The weak-slice table: shares as percentages, the finding wide, the rank narrow."""
    return {"share": st.column_config.NumberColumn(format="percent"),
            "finding": st.column_config.TextColumn("finding", width=620),
            "ratio_to_overall": st.column_config.NumberColumn("× overall", format="%.1f"),
            "q_value": st.column_config.NumberColumn("q value", format="%.1e"),
            "rank": st.column_config.NumberColumn("#", width=40)}


def money() -> dict:
    """The Impact page's tables: money localized, rates as percentages."""
    config = formatted(impact.MONEY_COLUMNS, "localized")
    config.update(formatted(impact.SHARE_COLUMNS, "percent"))
    return config


def comparison() -> dict:
    """The Compare page's metric tables: four decimals, p-values in two significant digits."""
    config = formatted(compare.DECIMAL_COLUMNS, "%.4f")
    config["p_value"] = st.column_config.NumberColumn(format="%.2g")
    return config
