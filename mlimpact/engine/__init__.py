"""The statistics boundary: grouped sufficient statistics computed where the data lives.

``memory`` counts numpy arrays of a loaded Dataset; ``backends`` runs the same aggregations in DuckDB
(embedded) or Spark, on sources resolved by ``sources``, with SQL written once in ``sql`` and the binary
counts shaped in ``tables``; ``runs`` holds the rank statistics both paths share.
"""

from mlimpact.engine.memory import (
    ScoreOrder,
    as_codes,
    binary_counts,
    group_sums,
    multiclass_confusion,
    rank_statistics,
    rank_statistics_from_order,
    row_loss,
    score_order,
)
from mlimpact.engine.runs import (
    RankStats,
    binning_error,
    merge_runs,
    rank_statistics_from_runs,
    rank_stats_from_sums,
    run_sums,
)

__all__ = [
    "rank_statistics_from_order",
    "ScoreOrder",
    "RankStats",
    "as_codes",
    "score_order",
    "binary_counts",
    "rank_statistics",
    "group_sums",
    "multiclass_confusion",
    "rank_statistics_from_runs",
    "rank_stats_from_sums",
    "run_sums",
    "merge_runs",
    "binning_error",
    "row_loss",
]
