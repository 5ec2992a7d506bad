"""The report (Markdown/HTML/PDF), the summary object behind ``summarize``, and chart rendering.

Names are imported from their modules on first use (PEP 562), so ``python -m mlimpact summarize
--format json``, which needs only :mod:`mlimpact.report.summarize`, does not pay for every section's
analyses at start-up.
"""

import importlib

#: public name -> the module that defines it
_WHERE = {
    "build_report": "mlimpact.report.document",
    "ReportSettings": "mlimpact.report.model",
    "Section": "mlimpact.report.model",
    "Report": "mlimpact.report.model",
    "report_markdown": "mlimpact.report.output",
    "report_html": "mlimpact.report.output",
    "report_pdf": "mlimpact.report.pdf",
    "DATA_WARNING_MARKS": "mlimpact.report.overview",
    "subject_of": "mlimpact.report.overview",
    "metric_cells": "mlimpact.report.overview",
    "headline_rows": "mlimpact.report.overview",
    "rows_caption": "mlimpact.report.overview",
    "data_warnings": "mlimpact.report.overview",
    "all_metrics_table": "mlimpact.report.overview",
    "confusion_counts": "mlimpact.report.overview",
    "confusion_title": "mlimpact.report.overview",
    "mixup_title": "mlimpact.report.overview",
    "RenderError": "mlimpact.report.render",
    "xml_safe": "mlimpact.report.render",
    "render_charts": "mlimpact.report.render",
    "RENDER_TIMEOUT_S": "mlimpact.report.render",
    "summarize": "mlimpact.report.summarize",
    "metric_cell": "mlimpact.report.summarize",
}

__all__ = list(_WHERE)


def __getattr__(name: str):
    if name in _WHERE:
        value = getattr(importlib.import_module(_WHERE[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'mlimpact.report' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + __all__)
