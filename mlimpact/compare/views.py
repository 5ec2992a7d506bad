"""What the Compare page shows besides the comparison itself: export headers, assumptions, the design rows.

>>> design_rows(["a", "b"], None)["option"].tolist()
['a', 'b', 'No model (keep the current process)']
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from mlimpact.compare.candidates import ALL_ROWS
from mlimpact.compare.decision import design_rows_template
from mlimpact.compare.models import Comparison

__all__ = [
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

#: The option every decision table offers besides the models.
NO_MODEL_OPTION = "No model (keep the current process)"

#: Columns of the comparison tables shown with four decimals.
DECIMAL_COLUMNS = ("value", "low", "high", "value_reference", "value_model", "difference", "overall",
                   "worst_segment_value", "best_segment_value", "segment_spread", "segment_sd",
                   "worst_period_value", "period_spread")
#: Columns of the value table that hold money.
MONEY_COLUMNS = ("value", "low", "high", "value_vs_flag_none", "difference", "diff_low", "diff_high")


def one_model_notice(models: Sequence[str], task: str) -> str:
    """What the page says when a file has fewer than two models.

    >>> one_model_notice([], "regression")[:36]
    'This file has one model (none). To c'
    """
    return (f"This file has one model ({models[0] if models else 'none'}). To compare models, pick other models' "
            "score or prediction columns in the sidebar (Columns and task → Other models' scores), or upload "
            "several files joined on a shared id. Meanwhile it is shown against a stand-in for having no model"
            + ("; the Impact page compares it in money with flagging nothing, everything, random flags and a "
               "rule." if task == "binary" else "."))


def overall_differences(comp: Comparison) -> pd.DataFrame:
    """The paired differences over all rows (not per segment)."""
    return comp.differences[comp.differences["segment"] == ALL_ROWS]


def challengers(comp: Comparison) -> list[str]:
    """Every model but the reference, in order."""
    return [m for m in comp.models if m != comp.reference]


def export_header(source: str, comp: Comparison, threshold: float, summary: Sequence[str],
                  costs=None) -> list[str]:
    """Comment lines for every CSV the page exports: file, threshold, rows, reference, summary, costs."""
    header = [f"file: {source}", f"threshold: {threshold:g}", f"rows compared: {comp.n_rows:,}",
              f"reference: {comp.reference}"] + [f"summary: {s}" for s in summary]
    if costs is not None:
        header += costs.describe()
    return header


def decision_assumptions(source: str, comp: Comparison, threshold: float, costs=None) -> list[str]:
    """The assumptions printed under the decision table."""
    assumptions = [f"file: {source} ({comp.n_rows:,} rows compared)", f"threshold: {threshold:g}",
                   f"reference model: {comp.reference}",
                   f"intervals: 95%; DeLong for ROC AUC, paired bootstrap ({comp.n_boot:,} replicates) otherwise"]
    if costs is not None:
        assumptions += costs.describe()
    return assumptions


def design_rows(models: Sequence[str], saved: pd.DataFrame | None) -> pd.DataFrame:
    """The design-document rows to edit: the saved ones, plus an empty row for every option not in them.

    >>> saved = pd.DataFrame({"option": ["b"], "Notes": ["fast"]})
    >>> design_rows(["a", "b"], saved)["option"].tolist()
    ['b', 'a', 'No model (keep the current process)']
    """
    template = design_rows_template(list(models) + [NO_MODEL_OPTION])
    if saved is not None:
        template = pd.concat([saved, template[~template["option"].isin(saved["option"])]], ignore_index=True)
    return template
