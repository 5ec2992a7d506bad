"""Parquet stores types: its text columns stay text (ids, zip codes, store numbers keep their leading zeros), as
the engines read them; the same digits in a CSV are read as numbers, as before."""

import pandas as pd

from mlimpact.io import read_predictions


def test_parquet_text_of_digits_stays_text_and_csv_digits_read_as_numbers(tmp_path):
    frame = pd.DataFrame({"zip": ["02139", "10001", "00501"], "store": ["7", "12", "300"], "score": [0.1, 0.5, 0.9]})
    frame.to_parquet(tmp_path / "p.parquet")
    frame.to_csv(tmp_path / "p.csv", index=False)
    parquet, _ = read_predictions(str(tmp_path / "p.parquet"))
    assert parquet["zip"].tolist() == ["02139", "10001", "00501"] and parquet["store"].tolist() == ["7", "12", "300"]
    assert parquet["score"].dtype.kind == "f"
    csv, _ = read_predictions(str(tmp_path / "p.csv"))
    assert csv["store"].dtype.kind in "if" and csv["store"].tolist() == [7, 12, 300]
