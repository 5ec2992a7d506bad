"""Sessions never see each other's data, and a changed file is never answered from a stale cache.

* Two AppTest sessions of the real app upload different files under the same name; one records a review
  verdict and changes a role. Neither session's state or rendered numbers hold the other's rows, content
  hash, roles or verdicts; a third session uploading the very same bytes starts from scratch.
* After the uploads, no module global of ``mlimpact`` or ``ui`` holds user data.
* A one-cell change deep in a 100,000-row file (the label of data row 73,456) changes the metrics, which
  then equal scikit-learn on the changed labels.

Both AppTest sessions run in this one Python process, as two browser sessions share one server process, so
module-level state (globals, function caches) really is shared between them here.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import io
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import accuracy_score, precision_score, recall_score, roc_auc_score
from streamlit.testing.v1 import AppTest

from mlimpact.format import format_value
from mlimpact.io import SAMPLES, read_predictions

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")
UPLOAD_INDEX = len(SAMPLES)  # "Upload my files" comes after the samples in the Data box
NAME = "preds.csv"           # both sessions upload a file of this name
EDITED_ROW = 73_456          # 0-based data row (line 73,458 of the file, after the header)


@functools.cache
def big_file():
    """``bench/make_big_file.py`` (bench/ is not a package)."""
    spec = importlib.util.spec_from_file_location("make_big_file", ROOT / "bench" / "make_big_file.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def csv_bytes(rows: int, seed: int) -> bytes:
    buffer = io.BytesIO()
    big_file().make_frame(rows, seed=seed).to_csv(buffer, index=False)
    return buffer.getvalue()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def upload(at: AppTest, data: bytes, name: str = NAME) -> AppTest:
    if at.selectbox(key="mi_source_select").index != UPLOAD_INDEX:
        at.selectbox(key="mi_source_select").select_index(UPLOAD_INDEX).run()
    at.file_uploader[0].set_value([(name, data, "text/csv")]).run()
    assert_clean(at)
    return at


def assert_clean(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def overall(at: AppTest) -> dict[str, float]:
    """The Overview's "All metrics with 95% intervals" table: metric -> value (full precision)."""
    table = next(d.value for d in at.dataframe if {"metric", "value", "low", "high"} <= set(d.value.columns))
    return dict(zip(table["metric"], table["value"], strict=True))


def expected(frame: pd.DataFrame, score: str, threshold: float = 0.5) -> dict[str, float]:
    y, s = frame["label"].to_numpy(), frame[score].to_numpy()
    pred = s >= threshold
    return {"recall": recall_score(y, pred), "precision": precision_score(y, pred),
            "accuracy": accuracy_score(y, pred), "roc_auc": roc_auc_score(y, s), "positive_rate": pred.mean()}


def state_keys(at: AppTest) -> set[str]:
    """Every content hash a session's state mentions (loaded files, roles, datasets, verdicts, thresholds...)."""
    ss = at.session_state
    found = set(ss["mi_loaded"]) | set(ss["mi_roles"]) | {k[0] for k in ss["mi_datasets"]}
    for key in ("mi_verdicts", "mi_threshold", "mi_lanes", "mi_costs", "mi_ranges", "mi_view", "mi_design_doc"):
        found |= {k[0] if isinstance(k, tuple) else k for k in ss[key]}  # verdicts: (hash, roles)
    found |= {k[1] for k in ss["mi_memo"] if len(k) > 1 and isinstance(k[1], str)} if "mi_memo" in ss else set()
    return found


def record_verdict(at: AppTest, verdict: str, note: str) -> int:
    at.switch_page("pages/review.py").run()
    assert_clean(at)
    row = at.selectbox(key="rev_row").value
    next(r for r in at.radio if r.key.startswith("rev_verdict_")).set_value(verdict).run()
    next(t for t in at.text_input if t.key.startswith("rev_note_")).input(note).run()
    at.button(key="rev_save").click().run()
    assert_clean(at)
    return row


# ----------------------------------------------------------------------------- two sessions
@pytest.fixture(scope="module")
def sessions():
    """A uploads X, B uploads Y (same name), A records a verdict and changes the score role; then C
    uploads X's exact bytes. Interleaved, as concurrent users would be."""
    x, y = csv_bytes(3_000, seed=11), csv_bytes(3_000, seed=12)
    assert x != y
    a = AppTest.from_file(APP, default_timeout=60).run()
    b = AppTest.from_file(APP, default_timeout=60).run()
    upload(a, x)
    upload(b, y)
    row = record_verdict(a, "upsetting", "A's private note")
    h = sha(x)[:12]
    a.selectbox(key=f"role_score_{h}").set_value("score_v2").run()
    assert_clean(a)
    for at in (a, b):  # both end on the Overview, B after A's changes
        at.switch_page("pages/overview.py").run()
        assert_clean(at)
    b.run()
    assert_clean(b)
    c = upload(AppTest.from_file(APP, default_timeout=60).run(), x)
    return {"a": a, "b": b, "c": c, "x": x, "y": y, "row": row}


def test_each_session_holds_only_its_own_upload(sessions):
    a, b, x, y = sessions["a"], sessions["b"], sessions["x"], sessions["y"]
    hx, hy = sha(x), sha(y)
    assert a.session_state["mi_current"] == hx
    assert b.session_state["mi_current"] == hy
    assert hy not in state_keys(a)
    assert hx not in state_keys(b)
    # the rows themselves: B's parsed frame is Y's, A's is X's
    frame_x, _ = read_predictions(x, name=NAME)
    frame_y, _ = read_predictions(y, name=NAME)
    pd.testing.assert_frame_equal(a.session_state["mi_loaded"][hx].frame, frame_x)
    pd.testing.assert_frame_equal(b.session_state["mi_loaded"][hy].frame, frame_y)
    for source in b.session_state["mi_loaded"].values():
        assert not source.frame.equals(frame_x)
    for source in a.session_state["mi_loaded"].values():
        assert not source.frame.equals(frame_y)


def test_rendered_numbers_are_each_sessions_own(sessions):
    a, b = sessions["a"], sessions["b"]
    frame_x, _ = read_predictions(sessions["x"], name=NAME)
    frame_y, _ = read_predictions(sessions["y"], name=NAME)
    want_a = expected(frame_x, "score_v2")  # A switched its score role
    want_b = expected(frame_y, "score")
    got_a, got_b = overall(a), overall(b)
    for metric in want_a:
        assert got_a[metric] == pytest.approx(want_a[metric], abs=1e-12), metric
        assert got_b[metric] == pytest.approx(want_b[metric], abs=1e-12), metric
    assert got_a["recall"] != got_b["recall"]
    # the headline tiles show the same numbers
    assert a.metric[0].label == b.metric[0].label == "Recall"
    assert b.metric[0].value == format_value("recall", want_b["recall"])
    assert a.metric[0].value == format_value("recall", want_a["recall"])
    assert [c.value for c in b.sidebar.caption if "rows used" in c.value] == ["3,000 of 3,000 rows used"]


def test_verdicts_and_roles_stay_in_their_session(sessions):
    a, b, hx, hy = sessions["a"], sessions["b"], sha(sessions["x"]), sha(sessions["y"])
    recorded = {k: v for k, v in a.session_state["mi_verdicts"].items() if v}  # kept per (file, roles)
    assert [(k[0], v) for k, v in recorded.items()] == [(hx, {sessions["row"]: ("upsetting", "A's private note")})]
    assert all(not v for v in b.session_state["mi_verdicts"].values())
    assert a.session_state["mi_roles"][hx].score == "score_v2"
    assert b.session_state["mi_roles"][hy].score == "score"  # B's roles are its own, inferred
    assert b.selectbox(key=f"role_score_{hy[:12]}").value == "score"


def test_same_bytes_in_another_session_start_clean(sessions):
    """C uploads exactly A's file: content-keyed state is per session, so none of A's choices follow it."""
    c, hx = sessions["c"], sha(sessions["x"])
    assert c.session_state["mi_current"] == hx
    assert c.session_state["mi_roles"][hx].score == "score"
    assert all(not v for v in c.session_state["mi_verdicts"].values())
    frame_x, _ = read_predictions(sessions["x"], name=NAME)
    assert overall(c)["recall"] == pytest.approx(expected(frame_x, "score")["recall"], abs=1e-12)


# ----------------------------------------------------------------------------- module globals
LIMIT = 10_000  # bytes


def _user_data(value, depth: int = 0, seen: set | None = None) -> str | None:
    """What in ``value`` looks like user data held at module level, or None."""
    seen = set() if seen is None else seen
    if id(value) in seen or depth > 3:
        return None
    seen.add(id(value))
    if isinstance(value, pd.DataFrame | pd.Series):
        return f"a pandas {type(value).__name__} of {len(value):,} rows"
    if isinstance(value, np.ndarray) and value.nbytes > LIMIT:
        return f"a numpy array of {value.nbytes:,} bytes"
    if isinstance(value, bytes | bytearray | memoryview) and len(value) > LIMIT:
        return f"{len(value):,} bytes"
    if isinstance(value, str) and len(value) > LIMIT:
        return f"a string of {len(value):,} characters"
    if isinstance(value, dict):
        items = list(value.items())[:10_000]
        for k, v in items:
            found = _user_data(k, depth + 1, seen) or _user_data(v, depth + 1, seen)
            if found:
                return f"{found} inside a dict"
    elif isinstance(value, list | tuple | set | frozenset):
        for v in list(value)[:10_000]:
            found = _user_data(v, depth + 1, seen)
            if found:
                return f"{found} inside a {type(value).__name__}"
    cache_info = getattr(value, "cache_info", None)
    if callable(cache_info):
        try:
            size = cache_info().currsize
        except Exception:  # noqa: BLE001 - not a functools cache
            size = 0
        if size:
            return f"a function cache holding {size} entries"
    return None


def test_no_module_global_holds_user_data(sessions):
    """After three sessions uploaded files, nothing at module level in mlimpact/ or ui/ holds their data."""
    hashes = {sha(sessions["x"]), sha(sessions["y"])}
    problems = []
    for name, module in list(sys.modules.items()):
        if not (name == "ui" or name.startswith(("ui.", "mlimpact"))) or module is None:
            continue
        for attr, value in list(vars(module).items()):
            if attr.startswith("__"):
                continue
            found = _user_data(value)
            if found:
                problems.append(f"{name}.{attr}: {found}")
            elif isinstance(value, dict | list | tuple | set) and any(h in repr(value)[:1_000_000] for h in hashes):
                problems.append(f"{name}.{attr}: holds an uploaded file's content hash")
    assert {"ui.sidebar", "ui.state", "mlimpact.io", "mlimpact.io.dataset"} <= set(sys.modules)  # the scan saw them
    assert not problems, problems


# ----------------------------------------------------------------------------- no stale cache
def _flip_label(data: bytes, row: int) -> tuple[bytes, int]:
    """The file with the label (3rd field) of 0-based data row ``row`` flipped; returns (bytes, new label)."""
    lines = data.split(b"\n")
    fields = lines[row + 1].split(b",")
    assert lines[0].split(b",")[2] == b"label"
    fields[2] = b"1" if fields[2] == b"0" else b"0"
    lines[row + 1] = b",".join(fields)
    return b"\n".join(lines), int(fields[2])


def test_one_cell_change_deep_in_a_100k_row_file_changes_the_metrics(tmp_path):
    path = tmp_path / NAME
    big_file().write_csv(path, 100_000, seed=3)
    original = path.read_bytes()
    edited, new_label = _flip_label(original, EDITED_ROW)
    assert len(edited) == len(original) and edited != original

    at = upload(AppTest.from_file(APP, default_timeout=60).run(), original)
    before = overall(at)
    frame = pd.read_csv(io.BytesIO(original), usecols=["label", "score"])
    assert before["recall"] == pytest.approx(expected(frame, "score")["recall"], abs=1e-12)

    upload(at, edited)  # same session, same file name, one cell changed
    assert at.session_state["mi_current"] == sha(edited) != sha(original)
    after = overall(at)
    changed = frame.copy()
    assert changed.loc[EDITED_ROW, "label"] != new_label
    changed.loc[EDITED_ROW, "label"] = new_label
    want = expected(changed, "score")
    for metric in ("recall", "precision", "accuracy", "roc_auc"):
        assert after[metric] == pytest.approx(want[metric], abs=1e-12), metric
    # a flipped label always moves recall, accuracy and AUC; precision only when the row is flagged
    flagged = frame.loc[EDITED_ROW, "score"] >= 0.5
    changed_metrics = {m for m in ("recall", "precision", "accuracy", "roc_auc") if after[m] != before[m]}
    assert changed_metrics == {"recall", "accuracy", "roc_auc"} | ({"precision"} if flagged else set())
    assert after["positive_rate"] == before["positive_rate"]  # the scores did not change
    assert [c.value for c in at.sidebar.caption if "rows used" in c.value] == ["100,000 of 100,000 rows used"]
