"""The report (Markdown/HTML) and the summary object behind ``summarize``."""

from mlimpact.report.document import (
    build_report,
)
from mlimpact.report.model import (
    Report,
    ReportSettings,
    Section,
)
from mlimpact.report.output import (
    report_html,
    report_markdown,
)
from mlimpact.report.overview import (
    DATA_WARNING_MARKS,
    all_metrics_table,
    confusion_counts,
    confusion_title,
    data_warnings,
    headline_rows,
    metric_cells,
    mixup_title,
    rows_caption,
    subject_of,
)
from mlimpact.report.render import (
    RENDER_TIMEOUT_S,
    RenderError,
    render_charts,
    xml_safe,
)
from mlimpact.report.summarize import (
    metric_cell,
    summarize,
)

__all__ = [
    "build_report",
    "ReportSettings",
    "Section",
    "Report",
    "report_markdown",
    "report_html",
    "DATA_WARNING_MARKS",
    "subject_of",
    "metric_cells",
    "headline_rows",
    "rows_caption",
    "data_warnings",
    "all_metrics_table",
    "confusion_counts",
    "confusion_title",
    "mixup_title",
    "RenderError",
    "xml_safe",
    "render_charts",
    "RENDER_TIMEOUT_S",
    "summarize",
    "metric_cell",
]
