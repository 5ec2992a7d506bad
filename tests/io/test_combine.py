"""Several files: stacked when they share columns, joined on a shared id otherwise."""

import pandas as pd
import pytest

from mlimpact.errors import InputError
from mlimpact.io import SOURCE_COLUMN, combine_frames


def test_same_columns_are_stacked_with_source():
    a = pd.DataFrame({"y": [0, 1], "p": [0.1, 0.9]})
    b = pd.DataFrame({"p": [0.3], "y": [1]})
    out, notes = combine_frames([("jan.csv", a), ("feb.csv", b)])
    assert out[SOURCE_COLUMN].tolist() == ["jan.csv", "jan.csv", "feb.csv"]
    assert out["p"].tolist() == [0.1, 0.9, 0.3]
    assert notes == ["2 files with the same columns were stacked (3 rows); column `source_file` says which file each "
                     "row came from"]


def test_different_columns_joined_on_id_with_suffixes():
    a = pd.DataFrame({"id": [1, 2, 3], "y": [0, 1, 1], "score": [0.2, 0.9, 0.6]})
    b = pd.DataFrame({"id": [3, 1], "score": [0.7, 0.1]})
    out, notes = combine_frames([("current.csv", a), ("challenger.csv", b)])
    assert out["score_challenger"].tolist()[0] == 0.1 and pd.isna(out["score_challenger"].iloc[1])
    assert notes == ["challenger.csv joined on `id` (3 rows; 1 without a match); renamed `score` with suffix "
                     "`_challenger`"]


def test_join_errors():
    a = pd.DataFrame({"id": [1, 2], "y": [0, 1]})
    with pytest.raises(InputError, match="no single shared id column"):
        combine_frames([("a.csv", a), ("b.csv", pd.DataFrame({"key": [1], "s": [0.1]}))])
    with pytest.raises(InputError, match=r"b\.csv: column `id` has 1 repeated ids; ids must be unique to join"):
        combine_frames([("a.csv", a), ("b.csv", pd.DataFrame({"id": [1, 1], "s": [0.1, 0.2]}))])
    with pytest.raises(InputError, match="no files given"):
        combine_frames([])
