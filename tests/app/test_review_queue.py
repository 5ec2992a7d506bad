"""The Review page takes back a queue drawn by review-sample, verdicts filled in; a queue of another file is refused."""

from pathlib import Path

from streamlit.testing.v1 import AppTest

from mlimpact.io.export import to_safe_csv
from mlimpact.io.load import load
from mlimpact.io.samples import sample_path
from mlimpact.review import QUEUE_HELP, review_queue

APP = str(Path(__file__).resolve().parents[2] / "app.py")


def _queue_bytes(sample: str, verdicts: dict[int, str]) -> bytes:
    dataset, _ = load(sample_path(sample))
    q = review_queue(dataset, n=20, seed=4)
    for i, v in verdicts.items():
        q.loc[i, "verdict"] = v
    return to_safe_csv(q, header_lines=[f"file: {dataset.source}", QUEUE_HELP])


def _review_page() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page("pages/review.py").run()
    assert not at.exception
    return at


def test_a_filled_in_queue_comes_back_on_the_review_page():
    at = _review_page()
    data = _queue_bytes("fraud", {0: "upsetting", 1: "upsetting", 2: "model right", 3: "label wrong"})
    at.file_uploader(key="rev_queue").set_value([("queue.csv", data, "text/csv")]).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any("4 verdicts read from queue.csv" in s.value.replace("\\", "") for s in at.success)
    said = " ".join(m.value for m in at.markdown)
    assert "Reviewers found 2 of 4 reviewed cases upsetting" in said


def test_a_queue_of_another_file_is_refused():
    at = _review_page()
    at.file_uploader(key="rev_queue").set_value([("queue.csv", _queue_bytes("ads", {0: "upsetting"}), "text/csv")])
    at.run()
    assert not at.exception
    assert any("the queue was drawn from another file" in e.value.replace("\\", "") for e in at.error)
    assert any("Verdicts recorded" in m.value for m in at.markdown)  # the rest of the page is still there
