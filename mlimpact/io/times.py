"""Reading a time column: ISO 8601 first, then mixed formats; UTC offsets to naive UTC."""

from __future__ import annotations

import pandas as pd

__all__ = ["parse_times", "iso_share"]


def _to_datetime(text: pd.Series, fmt: str) -> tuple[pd.Series, bool]:
    """``pd.to_datetime``; mixed UTC offsets (a daylight-saving change) are read as UTC instants."""
    try:
        return pd.to_datetime(text, errors="coerce", format=fmt), False
    except ValueError as exc:  # "Mixed timezones detected": +01:00 and +02:00 in one column
        if "timezone" not in str(exc).lower() and "time zone" not in str(exc).lower():
            raise
        return pd.to_datetime(text, errors="coerce", format=fmt, utc=True), True


def parse_times(values: pd.Series, notes: list[str] | None = None) -> tuple[pd.Series, int]:
    """Parse a time column (ISO first, then mixed formats); returns the datetimes and how many failed.

    Times with UTC offsets become naive UTC; mixed offsets (a daylight-saving change) add a note.

    >>> parsed, bad = parse_times(pd.Series(["2026-01-02", "2026-01-03 10:00", "soon"]))
    >>> bad
    1
    >>> notes = []
    >>> parse_times(pd.Series(["2026-03-28T10:00+01:00", "2026-03-29T10:00+02:00"]), notes)[0].dt.hour.tolist()
    [9, 8]
    """
    mixed = False
    if pd.api.types.is_datetime64_any_dtype(values):
        out = values
    else:
        text = values.astype("string")
        out, mixed = _to_datetime(text, "ISO8601")
        failed = out.isna() & text.notna()
        if failed.any():
            out = out.copy()
            rest, mixed_rest = _to_datetime(text[failed], "mixed")
            if mixed_rest or (getattr(rest.dt, "tz", None) is None) != (getattr(out.dt, "tz", None) is None):
                out, rest, mixed = out.dt.tz_localize("UTC") if out.dt.tz is None else out, \
                    rest.dt.tz_localize("UTC") if rest.dt.tz is None else rest, True
            out[failed] = rest
    if getattr(out.dt, "tz", None) is not None:
        out = out.dt.tz_convert("UTC").dt.tz_localize(None)
    if mixed and notes is not None:
        notes.append(f"column `{values.name}` (time): mixed UTC offsets (as at a daylight-saving change); times "
                     "are read as UTC instants")
    bad = int((out.isna() & values.notna()).sum())
    return out, bad


def iso_share(values: pd.Series) -> float:
    """The share of the non-empty values that read as ISO 8601 dates (1.0 for datetimes)."""
    if pd.api.types.is_datetime64_any_dtype(values):
        return 1.0
    text = values.dropna().astype("string")
    return float(pd.to_datetime(text, errors="coerce", format="ISO8601").notna().mean()) if len(text) else 1.0
