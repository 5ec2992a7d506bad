"""Self-contained reports: HTML with every value escaped, no external assets."""

from __future__ import annotations

import html

from .summary import summary_markdown

__all__ = ["summary_html"]

_STYLE = """body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1100px;margin:2em auto;
padding:0 1em;color:#1f2328}pre{white-space:pre-wrap;font-family:inherit}"""


def summary_html(summary: dict) -> str:
    """The summary as one self-contained HTML page (text escaped; no scripts, no links, no network).

    >>> "<script>" in summary_html({"source": {"file": "<script>x</script>"}, "rows": {"used": 1, "total": 1,
    ...     "excluded": {}}, "task": "binary", "threshold": 0.5, "overall": {}, "segments": []})
    False
    """
    body = html.escape(summary_markdown(summary))
    title = html.escape(f"mlimpact summary: {summary['source']['file']}")
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title><style>{_STYLE}</style>"
            f"</head><body><pre>{body}</pre></body></html>\n")
