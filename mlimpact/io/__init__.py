"""Reading prediction files and what they mean: readers, cleaning, roles, the Dataset, the one loader."""

from mlimpact.io.build import (
    class_from_column,
)
from mlimpact.io.clean import (
    NUMERIC_SHARE,
)
from mlimpact.io.combine import (
    SOURCE_COLUMN,
    combine_frames,
)
from mlimpact.io.common import (
    MAX_COLUMNS,
)
from mlimpact.io.dataset import (
    MISSING_LABEL,
    Dataset,
    build_dataset,
    encode_column,
    time_span,
)
from mlimpact.io.decision import (
    DEFAULT_THRESHOLD,
    ThresholdScale,
    check_threshold,
    decide,
    rate_mismatch,
    threshold_note,
    threshold_scale,
)
from mlimpact.io.export import (
    FORMULA_PREFIXES,
    markdown_table,
    markdown_text,
    neutralize_formulas,
    to_safe_csv,
)
from mlimpact.io.infer import (
    infer_roles,
)
from mlimpact.io.load import (
    Source,
    apply_roles,
    dataset_of,
    inferred_lines,
    load,
    read_source,
)
from mlimpact.io.profile import (
    column_summary,
    columns_sentence,
    label_alternatives,
    roles_table,
)
from mlimpact.io.read import (
    MAX_EXPANDED_BYTES,
    LoadReport,
    expansion_limits,
    read_predictions,
)
from mlimpact.io.roles import (
    ROLE_NAMES,
    TASKS,
    RoleGuess,
    Roles,
    infer_positive,
    infer_task,
    normalize_labels,
)
from mlimpact.io.samples import (
    DEFAULT_SAMPLE,
    SAMPLES,
    Sample,
    sample_path,
)
from mlimpact.io.text import (
    SAMPLE_BYTES,
)
from mlimpact.io.times import parse_times

__all__ = [
    "parse_times",
    "class_from_column",
    "NUMERIC_SHARE",
    "SOURCE_COLUMN",
    "combine_frames",
    "MAX_COLUMNS",
    "Dataset",
    "build_dataset",
    "MISSING_LABEL",
    "encode_column",
    "time_span",
    "DEFAULT_THRESHOLD",
    "check_threshold",
    "decide",
    "threshold_note",
    "ThresholdScale",
    "threshold_scale",
    "rate_mismatch",
    "FORMULA_PREFIXES",
    "neutralize_formulas",
    "to_safe_csv",
    "markdown_text",
    "markdown_table",
    "infer_roles",
    "Source",
    "read_source",
    "apply_roles",
    "dataset_of",
    "load",
    "inferred_lines",
    "column_summary",
    "roles_table",
    "columns_sentence",
    "label_alternatives",
    "LoadReport",
    "read_predictions",
    "MAX_EXPANDED_BYTES",
    "expansion_limits",
    "TASKS",
    "ROLE_NAMES",
    "Roles",
    "RoleGuess",
    "infer_task",
    "infer_positive",
    "normalize_labels",
    "Sample",
    "SAMPLES",
    "DEFAULT_SAMPLE",
    "sample_path",
    "SAMPLE_BYTES",
]
