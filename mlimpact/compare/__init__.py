"""Models side by side: candidates, paired differences, the decision table."""

from mlimpact.compare.candidates import (
    ALL_ROWS,
    BASELINE_MODEL,
    compare_metrics,
    model_columns,
)
from mlimpact.compare.decision import (
    DESIGN_CRITERIA,
    comparison_summary,
    decision_numbers,
    decision_table_markdown,
    design_rows_template,
)
from mlimpact.compare.differences import (
    DIFFERENCE_COLUMNS,
)
from mlimpact.compare.models import (
    Comparison,
    compare_models,
)
from mlimpact.compare.paired import (
    VALUE_COLUMNS,
    delong_paired,
)
from mlimpact.compare.paired_bootstrap import (
    REG_BINS,
    SCORE_BINS,
)
from mlimpact.compare.robustness import (
    ROBUSTNESS_COLUMNS,
)
from mlimpact.compare.views import (
    DECIMAL_COLUMNS,
    MONEY_COLUMNS,
    NO_MODEL_OPTION,
    challengers,
    decision_assumptions,
    design_rows,
    export_header,
    one_model_notice,
    overall_differences,
)

__all__ = [
    "BASELINE_MODEL",
    "ALL_ROWS",
    "compare_metrics",
    "model_columns",
    "DESIGN_CRITERIA",
    "comparison_summary",
    "decision_numbers",
    "design_rows_template",
    "decision_table_markdown",
    "DIFFERENCE_COLUMNS",
    "Comparison",
    "compare_models",
    "VALUE_COLUMNS",
    "delong_paired",
    "SCORE_BINS",
    "REG_BINS",
    "ROBUSTNESS_COLUMNS",
    "NO_MODEL_OPTION",
    "DECIMAL_COLUMNS",
    "MONEY_COLUMNS",
    "one_model_notice",
    "overall_differences",
    "challengers",
    "export_header",
    "decision_assumptions",
    "design_rows",
]
