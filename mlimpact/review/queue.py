"""This period's review queue: the most confident mistakes plus a stratified random sample, with empty verdict
and note columns for the reviewers (``python -m mlimpact review-sample``).

The rows are the Review page's (:func:`mlimpact.review.rows.select_rows`): mistakes first, most confident
first, then a seeded random sample of the other rows allocated to the ``stratify`` column's values in
proportion to their rows, so the same file, seed and settings give the same queue.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mlimpact.errors import InputError
from mlimpact.io import Dataset
from mlimpact.io.decision import DEFAULT_THRESHOLD
from mlimpact.review.rows import review_frame, review_rows, select_rows

__all__ = ["review_queue", "MAX_QUEUE"]

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
