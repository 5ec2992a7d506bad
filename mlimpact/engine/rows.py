"""The rows a reviewer looks at, fetched from an engine: the only rows that ever cross back.

:func:`confident_mistakes` is the Review page's "most confident mistakes first"
(:func:`mlimpact.review.rows.review_rows`) as one ``ORDER BY ... LIMIT`` where the data lives: binary —
flagged negatives and missed positives, the model's probability of its decision first (distance from the
threshold for other scores); multiclass — wrong classes, the probability of the predicted class first (the
predicted class's name beside them); regression — the largest misses first.
"""

from __future__ import annotations

import pandas as pd

from mlimpact.engine.multiclass_tables import predicted_sql
from mlimpact.engine.sql import ident, literal
from mlimpact.io.decision import decide_sql

__all__ = ["confident_mistakes", "MAX_FETCH"]

#: rows fetched at most in one call
MAX_FETCH = 1_000


def confident_mistakes(eds, *, n: int = 50, probabilities: bool = True) -> pd.DataFrame:
    """The ``n`` most confident mistakes (all the source's columns, plus ``error`` and ``confidence``)."""
    n = max(0, min(int(n), MAX_FETCH))
    columns = ", ".join(ident(c) for c in eds.column_types)
    spec = eds.spec
    if eds.task == "regression":
        base = f"SELECT {columns}, abs(CAST({spec.pred} AS DOUBLE) - CAST({spec.y} AS DOUBLE)) AS mli_miss FROM src " \
               f"WHERE {spec.where}"
        return eds.backend.query(f"SELECT * FROM ({base}) t ORDER BY mli_miss DESC LIMIT {n}").rename(
            columns={"mli_miss": "miss"})
    if eds.task == "multiclass":
        return _wrong_classes(eds, columns, n)
    decision = decide_sql(f"CAST({spec.score} AS DOUBLE)", spec.threshold)
    s = f"CAST({spec.score} AS DOUBLE)"
    confidence = (f"CASE WHEN mli_d = 1 THEN {s} ELSE 1 - {s} END" if probabilities
                  else f"abs({s} - {float(spec.threshold)!r})")
    base = (f"SELECT {columns}, {decision} AS mli_d, CAST({spec.y} AS INTEGER) AS mli_y FROM src "
            f"WHERE {spec.where}")
    sql = (f"SELECT {columns}, CASE WHEN mli_d = 1 THEN 'false_positive' ELSE 'false_negative' END AS mli_error, "
           f"{confidence} AS mli_confidence FROM ({base}) t WHERE mli_d <> mli_y "
           f"ORDER BY mli_confidence DESC LIMIT {n}")
    return eds.backend.query(sql).rename(columns={"mli_error": "error", "mli_confidence": "confidence"})


def _wrong_classes(eds, columns: str, n: int) -> pd.DataFrame:
    """Rows whose predicted class is not the true one, the predicted class's probability first (0 without
    probabilities, as in memory)."""
    spec = eds.spec
    pred = predicted_sql(spec)
    named = "CASE mli_p " + " ".join(f"WHEN {j} THEN {literal(c)}" for j, c in enumerate(eds.classes)) + " END"
    confidence = ("CASE mli_p " + " ".join(f"WHEN {j} THEN mli_q{j}" for j in range(len(spec.probs))) + " END"
                  if spec.probs else "0.0")
    base = f"SELECT {columns}, {pred} AS mli_p, {spec.y} AS mli_y" + "".join(
        f", {p} AS mli_q{j}" for j, p in enumerate(spec.probs)) + f" FROM src WHERE {spec.where}"
    sql = (f"SELECT {columns}, {named} AS mli_class, 'wrong_class' AS mli_error, {confidence} AS mli_confidence "
           f"FROM ({base}) t "
           f"WHERE mli_p <> mli_y ORDER BY mli_confidence DESC LIMIT {n}")
    return eds.backend.query(sql).rename(columns={"mli_class": "predicted_class", "mli_error": "error",
                                                  "mli_confidence": "confidence"})
