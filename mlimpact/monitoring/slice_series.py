"""Metrics over time per named slice: each saved slice a series of its own, beside the others, as the Monitoring
page shows a segment column's values. Slices may overlap, so each is computed on its own rows
(:func:`mlimpact.slices.slice_rows`, one vectorized :func:`metrics_over_time` call each)."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

from mlimpact import trace
from mlimpact.io import Dataset
from mlimpact.monitoring.ranges import Range
from mlimpact.monitoring.series import (
    DEFAULT_SETTINGS,
    OVER_TIME_COLUMNS,
    SLICES,
    MonitorSettings,
    metrics_over_time,
)
from mlimpact.slices.named import slice_rows

__all__ = ["SLICES", "metrics_over_time_by_slice", "slice_ranges"]

def metrics_over_time_by_slice(dataset: Dataset, slices, *, metric: str, period: str | None = "W",
                               settings: MonitorSettings = DEFAULT_SETTINGS) -> pd.DataFrame:
    """:data:`OVER_TIME_COLUMNS` with one series per slice: ``segment_column`` is :data:`SLICES` and ``segment`` the
    slice's name, so ranges, alerts and charts read it as a segment column's values."""
    trace.count("metrics_over_time_by_slice")
    frames = [metrics_over_time(slice_rows(dataset, s.expression), metrics=metric, period=period,
                                settings=settings).assign(segment_column=SLICES, segment=s.name)
              for s in slices]  # a few slices, each one vectorized call
    if not frames:
        return pd.DataFrame(columns=OVER_TIME_COLUMNS)
    return pd.concat(frames, ignore_index=True)[OVER_TIME_COLUMNS]


def slice_ranges(ranges) -> tuple[Range, ...]:
    """Ranges derived on the slices' series, as checks on each slice (``slice = "name"``) for a checks file.

    >>> slice_ranges([Range("recall", minimum=0.7, period="W", segment=SLICES, segment_value="west online")])
    (Range(metric='recall', minimum=0.7, maximum=None, period='W', segment=None, segment_value=None, \
column=None, estimated=False, slice='west online'),)
    """
    return tuple(replace(r, segment=None, segment_value=None, slice=r.segment_value) if r.segment == SLICES else r
                 for r in ranges)
