"""What a person can segment by, and the short texts that carry a segment choice.

Used by the Segments, Difficulty and Review pages (one list of segment columns for all three), and by
the shareable link: custom bin edges typed as ``amount: 0, 100, 500`` and a selected segment written
as ``column=value|column=value`` (percent-encoded, so any value survives the address bar).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from urllib.parse import quote, unquote

from mlimpact.errors import InputError
from mlimpact.io import Dataset

__all__ = ["role_segments", "segment_candidates", "parse_bin_edges", "parse_selection", "selection_text"]


def role_segments(dataset: Dataset) -> list[str]:
    """The segment-role columns that are in the data, in role order.

    >>> import pandas as pd
    >>> from mlimpact.io import Roles, build_dataset
    >>> frame = pd.DataFrame({"y": [0, 1], "p": [0.2, 0.9], "region": ["n", "s"]})
    >>> role_segments(build_dataset(frame, Roles(label="y", score="p", segments=("region",))))
    ['region']
    """
    return [c for c in dataset.roles.segments if c in dataset.frame.columns]


def segment_candidates(dataset: Dataset) -> list[str]:
    """The columns to segment by: the segment role first, then every column that plays no other role.

    >>> import pandas as pd
    >>> from mlimpact.io import Roles, build_dataset
    >>> frame = pd.DataFrame({"y": [0, 1, 1, 0], "p": [0.2, 0.9, 0.6, 0.1], "region": list("nsns"),
    ...                       "channel": list("aabb")})
    >>> segment_candidates(build_dataset(frame, Roles(label="y", score="p", segments=("region",))))
    ['region', 'channel']
    """
    roles = dataset.roles
    not_segments = {roles.label, roles.score, roles.prediction, roles.id, roles.time, roles.uncertainty,
                    *roles.class_scores, *roles.other_scores}
    return list(roles.segments) + [c for c in dataset.frame.columns
                                   if c not in not_segments and c not in roles.segments]


def parse_bin_edges(text: str, columns: Collection[str]) -> dict[str, list[float]] | None:
    """Custom bin edges typed as ``column: 0, 100, 500``; None when ``text`` is blank.

    Raises :class:`InputError` (naming the problem and how to write them) for a number that is not one,
    or a column that is not in ``columns``.

    >>> parse_bin_edges("amount: 0, 100, 500", ["amount"])
    {'amount': [0.0, 100.0, 500.0]}
    >>> parse_bin_edges("  ", ["amount"]) is None
    True
    >>> parse_bin_edges("size: 1, 2", ["amount"])
    Traceback (most recent call last):
    ...
    mlimpact.errors.InputError: Bin edges: column `size` is not in the file. Write them as `column: 0, 100, 500`.
    """
    if not text.strip():
        return None
    try:
        name, _, values = text.partition(":")
        edges = {name.strip(): [float(v) for v in values.split(",") if v.strip()]}
        if name.strip() not in columns:
            raise InputError(f"column `{name.strip()}` is not in the file")
    except ValueError as exc:  # InputError included
        raise InputError(f"Bin edges: {exc}. Write them as `column: 0, 100, 500`.") from exc
    return edges


def selection_text(selected: Mapping[str, object] | None) -> str | None:
    """A selected segment as link text, ``column=value`` pairs joined by ``|`` (percent-encoded); None if none.

    >>> selection_text({"region": "west", "city": "São Paulo|x"})
    'region=west|city=S%C3%A3o%20Paulo%7Cx'
    >>> selection_text({}) is None
    True
    """
    if not selected:
        return None
    return "|".join(f"{quote(str(k), safe='')}={quote(str(v), safe='')}" for k, v in selected.items())


def parse_selection(text: object, columns: Collection[str]) -> dict[str, str] | None:
    """The selected segment a link carries (see :func:`selection_text`), or None when it names no known column.

    >>> parse_selection("region=west|city=S%C3%A3o%20Paulo%7Cx", ["region", "city"])
    {'region': 'west', 'city': 'São Paulo|x'}
    >>> parse_selection("planet=mars", ["region"]) is None
    True
    """
    pairs = {unquote(k): unquote(v) for k, _, v in (p.partition("=") for p in str(text).split("|") if "=" in p)}
    return pairs if pairs and set(pairs) <= set(columns) else None
