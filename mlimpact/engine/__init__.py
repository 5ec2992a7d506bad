"""The statistics boundary: grouped sufficient statistics computed where the data lives."""

from mlimpact.engine.memory import (
    RankStats,
    ScoreOrder,
    as_codes,
    binary_counts,
    group_sums,
    multiclass_confusion,
    rank_statistics,
    rank_statistics_from_order,
    score_order,
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
]
