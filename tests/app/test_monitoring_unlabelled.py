"""The Monitoring page on a file whose last weeks have no label yet: the estimate (dashed), the traffic checks in
the exported checks file, and why an alert fired — all from the same package functions as ``check``."""

from __future__ import annotations

import numpy as np
import pandas as pd

from mlimpact.io import load
from mlimpact.monitoring import NO_SEGMENT, Range, evaluate_ranges, parse_checks
from tests.app.test_real_files import _upload


def _recent_unlabelled(weeks: int = 3) -> pd.DataFrame:
    df = pd.read_csv("sample_data/fraud.csv")
    t = pd.to_datetime(df["timestamp"])
    df.loc[t > t.max() - pd.Timedelta(days=7 * weeks), "is_fraud"] = np.nan
    return df


def _monitoring(df):
    at = _upload(df, "fraud_recent.csv")
    at.switch_page("pages/monitoring.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _segment(at, value):
    at.selectbox(key=next(s.key for s in at.selectbox if s.key and s.key.startswith("mon_segment_"))).select(value).run()
    assert not at.exception, [e.value for e in at.exception]


def test_the_estimate_is_drawn_and_checked_with_the_same_numbers_as_check():
    df = _recent_unlabelled()
    at = _monitoring(df)
    captions = " ".join(c.value for c in at.main.caption)
    assert "rows have no label yet" in captions and "estimated from the scores" in captions
    confusion = next(d.value for d in at.main.dataframe if "tp" in d.value.columns)
    np.testing.assert_allclose(confusion[["tp", "fp", "fn", "tn"]].sum(axis=1), confusion["n"])
    assert confusion["n"].sum() == df["is_fraud"].isna().sum()
    specs = [c.proto.spec for c in at.main.get("vega_lite_chart")]
    assert any("Estimated recall per region" in s or "estimated recall" in s.lower() for s in specs)
    _segment(at, NO_SEGMENT)
    specs = [c.proto.spec for c in at.main.get("vega_lite_chart")]
    assert any("Orange dashed diamonds: estimated" in s and '"strokeDash": [6, 4]' in s for s in specs)
    code = next(c.value for c in at.main.code if "[[check]]" in c.value)
    cfg = parse_checks(code)
    kinds = {r.metric for r in cfg.ranges}
    assert {"rows", "psi"} <= kinds and "unlabelled_share" not in kinds and cfg.reference_end is not None
    estimated = [r for r in cfg.ranges if r.estimated]  # the page checks the estimate: so does the file
    assert estimated and {r.metric for r in estimated} == {"recall"}
    assert {(r.segment, r.segment_value) for r in estimated} == {(r.segment, r.segment_value) for r in cfg.ranges
                                                                  if r.metric == "recall" and not r.estimated}
    ds, _ = load([("fraud_recent.csv", df.to_csv(index=False).encode())], None)
    status = evaluate_ranges(ds, [Range("rows", minimum=1.0, period="W")], reference_end=cfg.reference_end)
    assert (status["status"].iloc[:-1] == "ok").all()  # the file as the page read it: every week has rows
    assert status["status"].iloc[-1] == "too small"  # the file ends before its last week does


def test_why_it_alerted_is_shown_under_the_alerts():
    at = _upload(pd.read_csv("sample_data/fraud.csv"), "fraud.csv")
    at.switch_page("pages/monitoring.py").run()
    _segment(at, "region")
    assert not at.exception, [e.value for e in at.exception]
    texts = [t.value for t in at.main.text]
    assert any(t.startswith("Recall fell in west in ") or " in west in " in t for t in texts), texts
