"""``review-sample``: the review queue as a formula-safe CSV, reproducible by seed, stratified, with clear errors."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd

from mlimpact.cli.main import main
from mlimpact.io.samples import sample_path
from mlimpact.review.rows import review_rows, select_rows


def _read(path) -> pd.DataFrame:
    text = path.read_text(encoding="utf-8")
    return pd.read_csv(io.StringIO(text), comment=None, skiprows=sum(1 for line in text.splitlines()
                                                                     if line.startswith("# ")), keep_default_na=False)


def test_queue_is_confident_mistakes_then_a_stratified_sample(tmp_path, capsys):
    out = tmp_path / "queue.csv"
    assert main(["review-sample", str(sample_path("fraud")), "--n", "40", "--stratify", "region", "--seed", "7",
                 "--out", str(out)]) == 0
    assert "40 rows (20 confident mistakes, 20 random sample)" in capsys.readouterr().err
    q = _read(out)
    assert list(q.columns[:8]) == ["row", "why", "lane", "error type", "model decision", "confidence", "verdict",
                                   "note"]
    assert (q["verdict"] == "").all() and (q["note"] == "").all()
    mistakes = q[q["why"] == "confident mistake"]
    assert set(mistakes["error type"]) <= {"false positive", "false negative"}
    assert mistakes["confidence"].is_monotonic_decreasing and mistakes["confidence"].min() > 0.99
    from mlimpact.io.load import load  # noqa: I001 - the Review page's own order, to compare with
    dataset, _ = load(sample_path("fraud"))
    rows = review_rows(dataset)
    assert mistakes["row"].tolist() == select_rows(rows, mask=rows.mistake, n=20).tolist()
    sample = q[q["why"] == "random sample"]
    share = dataset.frame["region"].value_counts(normalize=True)
    assert (sample["region"].value_counts().reindex(share.index, fill_value=0) - 20 * share).abs().max() <= 1
    assert not set(sample["row"]) & set(mistakes["row"])
    again = tmp_path / "again.csv"
    assert main(["review-sample", str(sample_path("fraud")), "--n", "40", "--stratify", "region", "--seed", "7",
                 "--out", str(again)]) == 0
    assert again.read_bytes() == out.read_bytes()  # same seed, same queue
    other = tmp_path / "other.csv"
    assert main(["review-sample", str(sample_path("fraud")), "--n", "40", "--seed", "8", "--out", str(other)]) == 0
    assert set(_read(other)["row"]) != set(q["row"])


def test_exported_cells_are_formula_safe(tmp_path):
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"y": rng.integers(0, 2, 300), "p": rng.random(300),
                       "who": rng.choice(["=HYPERLINK(\"http://x\")", "+1", "ok"], 300)})
    df.to_csv(tmp_path / "f.csv", index=False)
    assert main(["review-sample", str(tmp_path / "f.csv"), "--label", "y", "--score", "p", "--n", "30", "--out",
                 str(tmp_path / "q.csv")]) == 0
    cells = _read(tmp_path / "q.csv")["who"]
    assert not cells.str.match(r"^[=+\-@]").any() and cells.str.contains("HYPERLINK").any()


def test_bad_options_get_one_line(tmp_path, capsys):
    src = str(sample_path("fraud"))
    for extra, words in ((["--n", "0"], "--n must be a whole number from 1"),
                         (["--stratify", "nope"], "--stratify: column `nope` is not in"),
                         (["--confident", "90"], "--confident must be a whole number from 0 to --n"),
                         (["--engine", "spark"], "computes in memory in this version")):
        assert main(["review-sample", src, *extra, "--out", str(tmp_path / "q.csv")]) == 2
        err = capsys.readouterr().err
        assert words in err and "Traceback" not in err


def _fill(queue, out, verdicts: dict[int, str]) -> None:
    lines = queue.read_text(encoding="utf-8").splitlines()
    head = [line for line in lines if line.startswith("# ")]
    q = _read(queue)
    for i, v in verdicts.items():
        q.loc[i, "verdict"] = v
    out.write_text("\n".join(head) + "\n" + q.to_csv(index=False), encoding="utf-8")


def test_verdicts_come_back_into_the_summary(tmp_path, capsys):
    queue, filled = tmp_path / "queue.csv", tmp_path / "filled.csv"
    src = str(sample_path("fraud"))
    assert main(["review-sample", src, "--n", "20", "--out", str(queue)]) == 0
    _fill(queue, filled, {0: "upsetting", 1: "upsetting", 2: "Upsetting", 3: "label wrong", 4: "model right"})
    capsys.readouterr()
    assert main(["summarize", src, "--segment", "region", "--verdicts", str(filled)]) == 0
    out = capsys.readouterr()
    import json  # noqa: I001 - only this test reads the JSON back
    review = json.loads(out.out)["review"]
    assert review["reviewed"] == 5
    counts = {v["verdict"]: v["count"] for v in review["verdicts"]}
    assert counts == {"model right": 1, "model wrong": 0, "label wrong": 1, "upsetting": 3}
    assert "note: Reviewers found 3 of 5 reviewed cases upsetting: 60%" in out.err


def test_bad_queues_get_one_line_naming_it(tmp_path, capsys):
    queue, filled = tmp_path / "queue.csv", tmp_path / "filled.csv"
    assert main(["review-sample", str(sample_path("fraud")), "--n", "10", "--out", str(queue)]) == 0
    _fill(queue, filled, {2: "meh"})
    assert main(["summarize", str(sample_path("fraud")), "--verdicts", str(filled)]) == 2
    assert "filled.csv line 8: verdict 'meh' is not one of model right, model wrong" in capsys.readouterr().err
    _fill(queue, filled, {0: "upsetting"})
    assert main(["summarize", str(sample_path("ads")), "--verdicts", str(filled)]) == 2
    err = capsys.readouterr().err
    assert "filled.csv: has no `clicked` column" in err and "drawn from another file" in err
    assert main(["summarize", str(sample_path("fraud")), "--verdicts", str(filled), "--engine", "duckdb"]) == 2
    assert "--verdicts needs the rows in memory" in capsys.readouterr().err
    assert main(["summarize", str(sample_path("fraud")), "--verdicts", str(tmp_path / "none.csv")]) == 2
    assert "no such file" in capsys.readouterr().err
