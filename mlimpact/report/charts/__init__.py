"""Altair chart builders: small tables in, charts out, each titled with its finding.

One module per domain (``core`` for the Overview and Segments charts, then ``difficulty``,
``impact``, ``monitoring``); everything public is re-exported here, so pages write
``charts.roc_chart(...)``. Colours per segment value come from :func:`color_scale` everywhere.
"""

from mlimpact.report.charts import core, difficulty, impact, monitoring
from mlimpact.report.charts.core import *  # noqa: F403
from mlimpact.report.charts.difficulty import *  # noqa: F403
from mlimpact.report.charts.impact import *  # noqa: F403
from mlimpact.report.charts.monitoring import *  # noqa: F403

__all__ = [*core.__all__, *difficulty.__all__, *impact.__all__, *monitoring.__all__]
