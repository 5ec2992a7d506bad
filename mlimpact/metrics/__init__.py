"""Metrics as functions of per-group sufficient statistics: registry, binary, multiclass, regression, intervals."""

from mlimpact.metrics.bootstrap import (
    NORMAL_ABOVE,
    POISSON_BELOW,
    poisson_table,
    resample_cells,
    table_normal,
)
from mlimpact.metrics.compute import (
    compute_metrics,
)
from mlimpact.metrics.curves import (
    calibration_table,
    confusion_table,
    per_class_table,
    pr_points,
    predicted_vs_actual,
    residual_histogram,
    roc_points,
    score_histogram,
    thin_curve,
)
from mlimpact.metrics.evaluate import (
    contract_metrics,
    dataset_arrays,
    default_metrics,
    evaluate,
)
from mlimpact.metrics.leading import (
    HEADLINE_METRICS,
    MAIN_METRIC,
    headline_metrics,
    main_metric,
)
from mlimpact.metrics.multiclass import (
    DENSE_CELLS_MAX,
    class_score_matrix,
    class_scores_from_counts,
)
from mlimpact.metrics.registry import (
    COLUMNS,
    METRICS,
    TASKS,
    Metric,
    metrics_for_task,
)
from mlimpact.metrics.uncertainty import (
    Z95,
    benjamini_hochberg,
    bootstrap_p_value,
    compact_cells,
    hanley_mcneil_variance,
    multinomial_resample,
    normal_interval,
    normal_p_value,
    percentile_interval,
    run_bootstrap,
    two_proportion_test,
    wilson_interval,
)

__all__ = [
    "NORMAL_ABOVE",
    "POISSON_BELOW",
    "table_normal",
    "poisson_table",
    "resample_cells",
    "compute_metrics",
    "score_histogram",
    "roc_points",
    "pr_points",
    "calibration_table",
    "confusion_table",
    "residual_histogram",
    "predicted_vs_actual",
    "per_class_table",
    "thin_curve",
    "contract_metrics",
    "default_metrics",
    "dataset_arrays",
    "evaluate",
    "MAIN_METRIC",
    "HEADLINE_METRICS",
    "main_metric",
    "headline_metrics",
    "DENSE_CELLS_MAX",
    "class_score_matrix",
    "class_scores_from_counts",
    "Metric",
    "METRICS",
    "TASKS",
    "COLUMNS",
    "metrics_for_task",
    "Z95",
    "wilson_interval",
    "benjamini_hochberg",
    "normal_p_value",
    "two_proportion_test",
    "hanley_mcneil_variance",
    "normal_interval",
    "compact_cells",
    "multinomial_resample",
    "run_bootstrap",
    "percentile_interval",
    "bootstrap_p_value",
]
