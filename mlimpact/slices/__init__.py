"""Metrics per segment, and the weak-slice search."""

from mlimpact.slices.choices import (
    parse_bin_edges,
    parse_selection,
    role_segments,
    segment_candidates,
    selection_text,
)
from mlimpact.slices.encoding import (
    EncodedFeatures,
    encode_features,
)
from mlimpact.slices.language import (
    Slice,
    SliceError,
    format_slice,
    parse_slice,
)
from mlimpact.slices.search import (
    ERROR_KINDS,
    default_error_kind,
    per_row_errors,
    rerank_slices,
    search_weak_slices,
    slice_columns,
    slice_sentence,
)
from mlimpact.slices.segments import (
    OTHER_LABEL,
    SEGMENT_TABLE_COLUMNS,
    SegmentCodes,
    bin_numeric,
    fold_rare,
    segment_codes,
    segment_table,
)
from mlimpact.slices.table import (
    SLICE_COLUMNS,
)
from mlimpact.slices.views import (
    RERANK_METRICS,
    error_kinds,
    metric_rows,
    metric_value,
    picked_slice,
    rerank_options,
    search_caption,
    segment_display,
    segment_display_columns,
    segment_of_row,
    segments_summary,
    weak_slice_rows,
)
from mlimpact.slices.weak import (
    SliceResult,
    find_weak_slices,
)

__all__ = [
    "role_segments",
    "segment_candidates",
    "parse_bin_edges",
    "parse_selection",
    "selection_text",
    "EncodedFeatures",
    "encode_features",
    "ERROR_KINDS",
    "default_error_kind",
    "per_row_errors",
    "slice_columns",
    "search_weak_slices",
    "rerank_slices",
    "slice_sentence",
    "OTHER_LABEL",
    "SegmentCodes",
    "bin_numeric",
    "fold_rare",
    "segment_codes",
    "segment_table",
    "SEGMENT_TABLE_COLUMNS",
    "SLICE_COLUMNS",
    "RERANK_METRICS",
    "metric_rows",
    "metric_value",
    "segments_summary",
    "segment_display_columns",
    "segment_display",
    "segment_of_row",
    "error_kinds",
    "rerank_options",
    "search_caption",
    "weak_slice_rows",
    "picked_slice",
    "SliceResult",
    "find_weak_slices",
    "parse_slice",
    "Slice",
    "SliceError",
    "format_slice",
]
