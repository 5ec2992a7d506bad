"""Count the heavy computations, so a test can check that a click does not redo them (counts, never timing).

Off unless the environment variable ``MLIMPACT_TRACE`` names a file; then each heavy entry point (a segment
table, the weak-slice search, a lane curve, the impact analysis, the model comparison, a monitoring series…)
appends its name to that file as one line when it runs. The browser test starts ``streamlit run`` with it set,
clicks, and reads which computations each click caused. Nothing user-specific is written: only names.

>>> import os, tempfile
>>> path = os.path.join(tempfile.mkdtemp(), "trace.log")
>>> os.environ["MLIMPACT_TRACE"] = path
>>> count("segment_table"); count("segment_table")
>>> del os.environ["MLIMPACT_TRACE"]
>>> count("segment_table")  # off: nothing written
>>> open(path).read().split()
['segment_table', 'segment_table']
"""

from __future__ import annotations

import os

__all__ = ["count", "TRACE_ENV"]

TRACE_ENV = "MLIMPACT_TRACE"


def count(name: str) -> None:
    """Record one run of the computation ``name`` (when ``MLIMPACT_TRACE`` is set)."""
    path = os.environ.get(TRACE_ENV)
    if path:
        with open(path, "a", encoding="utf-8") as fh:  # one short append per call: whole lines across threads
            fh.write(name + "\n")

