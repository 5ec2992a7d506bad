"""Robustness of each compared model: its worst segment and spread across segments and time periods."""

from __future__ import annotations

import numpy as np
import pandas as pd

from mlimpact.compare.differences import _direction

__all__ = ["ROBUSTNESS_COLUMNS", "_robustness"]

ROBUSTNESS_COLUMNS = ["model", "metric", "overall", "worst_segment", "worst_segment_value", "best_segment_value",
                      "segment_spread", "segment_sd", "worst_period", "worst_period_value", "period_spread",
                      "n_periods"]


def _worst(values: np.ndarray, labels: np.ndarray, direction: str):
    """(label, value) of the worst entry in the metric's bad direction; (None, NaN) when undefined."""
    ok = ~np.isnan(values)
    if not ok.any() or direction == "none":
        return None, np.nan
    v = values[ok]
    key = {"higher": v, "lower": -v, "zero": -np.abs(v)}[direction]
    i = int(np.argmin(key))
    return labels[ok][i], float(v[i])


def _robustness(models, metrics, overall, seg_table, over_time, min_size) -> pd.DataFrame:
    over = overall.set_index(["model", "metric"])["value"]
    segs = dict(iter(seg_table[seg_table["n"] >= min_size].groupby(["model", "metric"], sort=False))) \
        if seg_table is not None else {}
    times = dict(iter(over_time[over_time["n"] >= min_size].groupby(["model", "metric"], sort=False))) \
        if over_time is not None else {}
    directions = {m: _direction(m) for m in metrics}
    rows = []
    for m in models:  # a handful of models x metrics; every table is already aggregated
        for metric in metrics:
            d = directions[metric]
            row = {"model": m.name, "metric": metric, "overall": float(over.get((m.name, metric), np.nan))}
            if seg_table is not None:
                s = segs.get((m.name, metric), seg_table.iloc[:0])
                vals = s["value"].to_numpy(dtype=float)
                name, wv = _worst(vals, s["segment"].to_numpy(dtype=object), d)
                good = vals[~np.isnan(vals)]
                best = None
                if len(good) and d != "none":
                    best = {"higher": good.max(), "lower": good.min(), "zero": good[np.argmin(np.abs(good))]}[d]
                row.update({"worst_segment": name, "worst_segment_value": wv,
                            "best_segment_value": np.nan if best is None else float(best),
                            "segment_spread": float(good.max() - good.min()) if len(good) else np.nan,
                            "segment_sd": float(good.std(ddof=1)) if len(good) > 1 else np.nan})
            if over_time is not None:
                t = times.get((m.name, metric), over_time.iloc[:0])
                vals = t["value"].to_numpy(dtype=float)
                name, wv = _worst(vals, t["period"].to_numpy(dtype=object), d)
                good = vals[~np.isnan(vals)]
                row.update({"worst_period": name, "worst_period_value": wv,
                            "period_spread": float(good.max() - good.min()) if len(good) else np.nan,
                            "n_periods": int(len(good))})
            rows.append(row)
    return pd.DataFrame(rows, columns=ROBUSTNESS_COLUMNS)
