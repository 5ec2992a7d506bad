"""Validate the performance estimate without labels (``mlimpact.monitoring.estimate``, CBPE) on the bundled samples.

For each sample and threshold, the labels of the last 4 ISO weeks are hidden, recall, precision, F1 and
accuracy are estimated per week from the scores alone (isotonic calibration on the labelled reference rows,
the default reference: the first half of the labelled time span), and compared with the hidden truth
(``metrics_over_time`` on the full file). Prints Markdown: per sample, threshold and metric the weeks, the mean
and maximum absolute error, the interval coverage (share of weeks whose 95% interval holds the true value)
and the mean interval width.

Then, rolling origin: every 4-week window after the first 8 weeks is hidden in turn and estimated from a
calibration on all the labelled weeks before it (more weeks to judge the coverage on). The fraud sample's
planted incident (region west, 2026-W15 and W16: a broken feature pipeline lowers the scores of frauds, so
P(fraud | score) changes) is a concept shift the estimate cannot see; its weeks are shown apart.

    python bench/validate_estimation.py
"""

from __future__ import annotations

import os
import sys
import time

import numpy as np
import pandas as pd

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from mlimpact.io import Roles, build_dataset, read_predictions, sample_path  # noqa: E402
from mlimpact.monitoring import MonitorSettings, metrics_over_time, time_buckets  # noqa: E402
from mlimpact.monitoring.estimate import ESTIMATED_METRICS, estimated_over_time  # noqa: E402

METRICS = list(ESTIMATED_METRICS)
#: sample, roles, thresholds (ads: a click rate of 3.5%, so 0.5 flags almost nothing; 0.1 flags ~6%, 0.2 ~2%)
CASES = [("fraud", Roles(label="is_fraud", score="fraud_score", time="timestamp"), (0.5,)),
         ("ads", Roles(label="clicked", score="predicted_ctr", time="date"), (0.1, 0.2))]
INCIDENT = ("2026-W15", "2026-W16")


def compare(frame: pd.DataFrame, roles: Roles, hide: np.ndarray, threshold: float, *, reference_end=None,
            segment: str | None = None) -> pd.DataFrame:
    """Estimates with the labels of the ``hide`` rows blanked, joined to the true values of those weeks."""
    hidden = frame.copy()
    hidden[roles.label] = hidden[roles.label].astype(float)
    hidden.loc[hide, roles.label] = np.nan
    settings = MonitorSettings(threshold=threshold)
    est = estimated_over_time(build_dataset(hidden, roles, source="hidden"), metrics=METRICS, segment=segment,
                              reference_end=reference_end, settings=settings)
    truth = metrics_over_time(build_dataset(frame, roles), metrics=METRICS, segment=segment, settings=settings)
    both = est.merge(truth[["metric", "segment", "bucket", "value"]], on=["metric", "segment", "bucket"],
                     suffixes=("", "_true"))
    both["error"] = (both["value"] - both["value_true"]).abs()
    both["covered"] = (both["low"] <= both["value_true"]) & (both["value_true"] <= both["high"])
    both["width"] = both["high"] - both["low"]
    return both


def summary(rows: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    return rows.groupby(keys, sort=False).agg(weeks=("bucket", "size"), mae=("error", "mean"),
                                              max_error=("error", "max"), coverage=("covered", "mean"),
                                              width=("width", "mean")).reset_index()


def markdown(table: pd.DataFrame) -> str:
    cols = list(table.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for row in table.itertuples(index=False):
        cells = [f"{v:.3f}" if isinstance(v, float) else str(v) for v in row]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    t0 = time.perf_counter()
    last, rolling, incident = [], [], []
    for key, roles, thresholds in CASES:
        frame, _ = read_predictions(sample_path(key))
        weeks = time_buckets(pd.to_datetime(frame[roles.time]), "W")
        codes = weeks.codes
        for threshold in thresholds:
            tag = {"sample": key, "threshold": threshold}
            last.append(compare(frame, roles, codes > codes.max() - 4, threshold).assign(**tag))
            for first in range(8, codes.max() + 1, 4):  # hide weeks first..first+3, calibrate on those before
                hide = (codes >= first) & (codes < first + 4)
                rows = compare(frame, roles, hide, threshold, reference_end=weeks.starts[first])
                rolling.append(rows.assign(**tag, incident=rows["bucket"].isin(INCIDENT)))
                if key == "fraud" and first <= 14 < first + 4:  # the window holding 2026-W15 and W16
                    west = compare(frame, roles, hide, threshold, reference_end=weeks.starts[first],
                                   segment="region")
                    incident.append(west[west["bucket"].isin(INCIDENT) & (west["metric"] == "recall")])
    keys = ["sample", "threshold", "metric"]
    print("## Last 4 weeks hidden (reference: the first half of the labelled weeks)\n")
    print(markdown(summary(pd.concat(last), keys)))
    roll = pd.concat(rolling)
    print("\n## Rolling origin: each 4-week window after week 8 hidden, calibrated on the weeks before it\n")
    print(markdown(summary(roll[~roll["incident"]], keys)))
    print(f"\nLeft out above: the fraud incident's weeks {', '.join(INCIDENT)} (concept shift); over them:\n")
    print(markdown(summary(roll[roll["incident"]], keys)))
    print("\nRecall per region in the incident's weeks (fraud, threshold 0.5): west is where the shift is\n")
    cols = ["segment", "bucket", "value", "low", "high", "value_true", "covered"]
    print(markdown(pd.concat(incident)[cols].sort_values(["bucket", "segment"]).rename(
        columns={"segment": "region", "value": "estimate", "value_true": "true"})))
    print(f"\nRun time: {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
