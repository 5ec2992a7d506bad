"""Altair chart builders: small tables in, charts out, each titled with its finding.

One module per domain (``core`` for the Overview and Segments charts); everything public is
re-exported here, so pages write ``charts.roc_chart(...)``. Colours per segment value come
from :func:`color_scale` everywhere.
"""

from .core import *  # noqa: F403
from .core import __all__ as _core_all

__all__ = list(_core_all)
