"""The report (Markdown/HTML) and the summary object behind ``summarize``."""

from mlimpact.report.document import (
    Report,
    ReportSettings,
    Section,
    build_report,
    report_html,
    report_markdown,
)
from mlimpact.report.summarize import (
    metric_cell,
    summarize,
)

__all__ = [
    "ReportSettings",
    "Section",
    "Report",
    "build_report",
    "report_markdown",
    "report_html",
    "summarize",
    "metric_cell",
]
