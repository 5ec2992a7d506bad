"""This period's review queue: the most confident mistakes plus a stratified random sample, with empty verdict
and note columns for the reviewers (``python -m mlimpact review-sample``).

The rows are the Review page's (:func:`mlimpact.review.rows.select_rows`): mistakes first, most confident
first, then a seeded random sample of the other rows allocated to the ``stratify`` column's values in
proportion to their rows, so the same file, seed and settings give the same queue.
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd

from mlimpact.errors import InputError
from mlimpact.io import Dataset
from mlimpact.io.decision import DEFAULT_THRESHOLD
from mlimpact.io.roles import normalize_labels
from mlimpact.review.rows import review_frame, review_rows, select_rows
from mlimpact.review.verdicts import VERDICTS, summarize_verdicts, verdict_sentences

__all__ = ["review_queue", "MAX_QUEUE", "read_queue", "QUEUE_HELP", "review_summary"]

#: the queue file's instruction line (the verdicts its reader takes)
QUEUE_HELP = "fill in verdict (" + " / ".join(VERDICTS) + ") and note per row, then keep the file"

#: rows a queue holds at most
MAX_QUEUE = 10_000


def review_queue(dataset: Dataset, *, n: int = 50, confident: int | None = None, stratify: str | None = None,
                 seed: int = 0, threshold: float = DEFAULT_THRESHOLD) -> pd.DataFrame:
    """``confident`` most confident mistakes (default: half of ``n``) and a stratified sample for the rest.

    >>> from mlimpact.io.samples import sample_path
    >>> from mlimpact.io.load import load
    >>> q = review_queue(load(sample_path("fraud"))[0], n=10, stratify="region", seed=1)
    >>> q["why"].value_counts().to_dict(), bool(q[["verdict", "note"]].eq("").all().all())
    ({'confident mistake': 5, 'random sample': 5}, True)
    """
    if not (isinstance(n, int) and 0 < n <= MAX_QUEUE):
        raise InputError(f"--n must be a whole number from 1 to {MAX_QUEUE:,}; got {n!r}")
    k = n // 2 if confident is None else confident
    if not (isinstance(k, int) and 0 <= k <= n):
        raise InputError(f"--confident must be a whole number from 0 to --n ({n}); got {k!r}")
    rows = review_rows(dataset, threshold=threshold)
    mistakes = select_rows(rows, mask=rows.mistake, order="confident", n=k)
    rest = np.ones(dataset.n, dtype=bool)
    rest[mistakes] = False
    strata = None
    if stratify is not None:
        if stratify not in dataset.frame.columns:
            raise InputError(f"--stratify: column `{stratify}` is not in {dataset.source}; pick one of its columns")
        strata = dataset.codes(stratify)[0]
    sample = select_rows(rows, mask=rest, order="sample", n=n - len(mistakes), seed=seed, strata=strata)
    index = np.concatenate([mistakes, sample])
    frame = review_frame(dataset, index, rows)
    frame.insert(1, "why", ["confident mistake"] * len(mistakes) + ["random sample"] * len(sample))
    frame["verdict"] = ""
    frame["note"] = ""
    return frame


def read_queue(text: str, dataset: Dataset, *, name: str = "queue.csv") -> dict[int, tuple[str, str]]:
    """The verdicts of a filled-in queue (rows left blank are not reviewed); every problem names its line.

    The queue must come from this file with these roles: each row's label (and score) in the queue must
    equal the file's, else the queue was drawn from another file.
    """
    lines = text.lstrip("\ufeff").splitlines()
    skip = 0
    while skip < len(lines) and lines[skip].startswith("# "):
        skip += 1
    try:
        q = pd.read_csv(io.StringIO("\n".join(lines[skip:])), dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputError(f"{name}: not a queue written by review-sample ({str(exc)[:100]})") from None
    if not {"row", "verdict"} <= set(q.columns):
        raise InputError(f"{name}: no `row` and `verdict` columns; give the CSV that review-sample wrote")
    notes = q["note"] if "note" in q.columns else pd.Series([""] * len(q))
    label = dataset.roles.label
    if label not in q.columns:
        raise InputError(f"{name}: has no `{label}` column, the label of {dataset.source}; the queue was drawn from "
                         "another file (or with other columns)")
    truth = normalize_labels(dataset.frame[label])
    out: dict[int, tuple[str, str]] = {}
    for i, (row, verdict, note) in enumerate(zip(q["row"], q["verdict"], notes, strict=True)):  # a queue's rows
        line = skip + i + 2
        verdict = verdict.strip().lower()
        if not verdict:
            continue
        if verdict not in VERDICTS:
            raise InputError(f"{name} line {line}: verdict {verdict!r} is not one of {', '.join(VERDICTS)}")
        if not row.strip().isdigit() or int(row) >= dataset.n:
            raise InputError(f"{name} line {line}: row {row!r} is not a row of {dataset.source} (0 to "
                             f"{dataset.n - 1:,}); give the queue drawn from this file")
        r = int(row)
        if str(q.loc[i, label]).strip() != str(truth.iloc[r]):
            raise InputError(f"{name} line {line}: row {r}'s `{label}` is {q.loc[i, label]!r} here but "
                             f"{truth.iloc[r]!r} in {dataset.source}; the queue was drawn from another file")
        out[r] = (verdict, note)
    return out


def review_summary(verdicts: dict[int, tuple[str, str]], *, source: str) -> dict:
    """What reviewers found, for the summary JSON: counts and shares with 95% intervals, and sentences."""
    table = summarize_verdicts(verdicts)
    table = table[table["group"] == "all"]
    return {"file": source, "reviewed": len(verdicts),
            "verdicts": [{"verdict": r["verdict"], "count": int(r["count"]), "share": r["share"], "low": r["low"],
                          "high": r["high"]} for r in table.to_dict("records")],
            "sentences": verdict_sentences(table)}
