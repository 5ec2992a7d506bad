"""Several uploaded files into one frame: stacked when they share columns, joined on an id otherwise."""

from __future__ import annotations

from pathlib import PurePath

import pandas as pd

from mlimpact.errors import InputError

__all__ = ["SOURCE_COLUMN", "combine_frames"]

#: Column added when files with the same columns are stacked: which file each row came from.
SOURCE_COLUMN = "source_file"


def combine_frames(frames: list[tuple[str, pd.DataFrame]], *, id_column: str | None = None) -> tuple[pd.DataFrame, list[str]]:
    """Combine several files; returns the frame and notes saying what was done.

    Files with the same columns are stacked, with a ``source_file`` column (usable as a segment).
    Files with different columns are joined on a shared id column (the named one, or the single
    column whose name ends in ``id`` that all files share); clashing column names get the file
    name as a suffix, so a second model's ``score`` becomes ``score_<file>``.

    >>> a = pd.DataFrame({"id": [1, 2], "y": [0, 1], "score": [0.2, 0.9]})
    >>> b = pd.DataFrame({"id": [2, 1], "score": [0.7, 0.4]})
    >>> out, notes = combine_frames([("a.csv", a), ("b.csv", b)])
    >>> list(out.columns), out["score_b"].tolist()
    (['id', 'y', 'score', 'score_b'], [0.4, 0.7])
    """
    if not frames:
        raise InputError("no files given; upload one or more prediction files")
    if len(frames) == 1:
        return frames[0][1], []
    names = [n for n, _ in frames]
    columns = [list(f.columns) for _, f in frames]
    if all(set(c) == set(columns[0]) for c in columns):
        stacked = pd.concat([f[columns[0]].assign(**{SOURCE_COLUMN: n}) for n, f in frames], ignore_index=True)
        return stacked, [f"{len(frames)} files with the same columns were stacked ({len(stacked):,} rows); "
                         f"column `{SOURCE_COLUMN}` says which file each row came from"]
    shared = set(columns[0]).intersection(*map(set, columns[1:]))
    if id_column is None:
        ids = [c for c in columns[0] if c in shared and (c.lower() == "id" or c.lower().endswith("id"))]
        if len(ids) != 1:
            raise InputError(
                f"files {', '.join(repr(n) for n in names)} have different columns and no single shared id "
                "column to join them on; upload files with the same columns, or give each file an `id` column")
        id_column = ids[0]
    elif id_column not in shared:
        raise InputError(f"column `{id_column}` is not in every file; pick an id column that all files share")
    out = frames[0][1]
    notes = []
    for name, frame in frames[1:]:
        dup = int(frame[id_column].duplicated().sum())
        if dup:
            raise InputError(f"{name}: column `{id_column}` has {dup:,} repeated ids; ids must be unique to join")
        suffix = "_" + PurePath(name).stem
        clash = [c for c in frame.columns if c != id_column and c in out.columns]
        right = frame.rename(columns={c: c + suffix for c in clash})
        before = len(out)
        out = out.merge(right, on=id_column, how="left", validate="many_to_one")
        unmatched = int(right.columns.drop(id_column).size and out[right.columns.drop(id_column)].isna().all(axis=1).sum())
        notes.append(f"{name} joined on `{id_column}` ({before:,} rows; {unmatched:,} without a match)"
                     + (f"; renamed {', '.join(f'`{c}`' for c in clash)} with suffix `{suffix}`" if clash else ""))
    return out, notes
