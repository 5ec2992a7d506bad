"""The bad-input corpus: files people's exports really produce, generated in code (never shipped).

Each case is ``(name, file_name, bytes, expect)`` where ``expect`` is either
``("error", text)`` — loading must fail with exactly this message (shown in the app, printed by the
CLI with exit 2) — or ``("ok", checks)`` — usable rows remain and are analysed; ``checks`` maps
what must hold (rows used, exclusions by reason, a note that must be present).
"""

from __future__ import annotations

import gzip

import numpy as np
import pandas as pd


def _csv(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False, lineterminator="\n").encode()


def _base(n: int = 400, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    return pd.DataFrame({"id": [f"r{i}" for i in range(n)], "y": y,
                         "score": np.clip(0.35 * y + 0.65 * rng.random(n), 0, 1).round(4),
                         "region": rng.choice(["north", "south", "west"], n)})


def cases() -> list[tuple[str, str, bytes, tuple]]:
    out: list[tuple[str, str, bytes, tuple]] = []

    def err(name, file_name, data, text):
        out.append((name, file_name, data, ("error", text)))

    def ok(name, file_name, data, **checks):
        out.append((name, file_name, data, ("ok", checks)))

    base = _base()
    err("empty", "empty.csv", b"",
        "empty.csv: the file is empty; export the predictions with a header row and at least one data row")
    err("header only", "header.csv", b"id,y,score,region\n",
        "header.csv: the file has a header row (4 columns) but no data rows; export the predictions with at least one data row")
    err("binary garbage", "garbage.csv", bytes(range(256)) * 40,
        "could not read `garbage.csv`: it is not CSV, TSV, Parquet or Excel; export the predictions as CSV")
    # a wrong extension does not matter: the format is read from the bytes
    ok("csv named .xlsx", "preds.xlsx", _csv(base), used=400)
    ok("gzip named .csv", "preds.csv", gzip.compress(_csv(base)), used=400)
    err("unknown encoding (UTF-32)", "utf32.csv", "y,score\n1,0.5\n".encode("utf-32"),
        "could not read `utf32.csv`: its text looks like UTF-32, which is not read; save it as CSV in UTF-8 "
        "(Excel: “CSV UTF-8”) and upload it again")
    err("unknown encoding (UTF-16 without BOM)", "utf16.csv", _csv(base).decode().encode("utf-16-le"),
        "could not read `utf16.csv`: its text looks like UTF-16 without a byte-order mark, which is not read; "
        "save it as CSV in UTF-8 (Excel: “CSV UTF-8”) and upload it again")
    ragged = _csv(base).decode().splitlines()
    ragged[5] += ",extra"
    err("ragged: too many fields", "ragged.csv", ("\n".join(ragged) + "\n").encode(),
        "ragged.csv, line 6: 5 fields where the header has 4; fix the row or re-export the file")
    short = _csv(base).decode().splitlines()
    short[3] = ",".join(short[3].split(",")[:3])
    ok("ragged: too few fields", "short.csv", ("\n".join(short) + "\n").encode(), used=400,
       note="1 row has fewer fields than the header")
    dup = _csv(base).decode().replace("id,y,score,region", "id,y,score,y", 1).encode()
    ok("duplicate column names", "dup.csv", dup, used=400, note="it is called `y_2`")
    blank = _csv(base).decode().replace("id,y,score,region", ",y,score,region", 1).encode()
    ok("blank column name", "blank.csv", blank, used=400, note="column_1")
    err("label all missing", "nolabel.csv", _csv(base.assign(y=np.nan)),
        "nolabel.csv: column `y` (label): every value is missing; pick the column with the true outcome")
    ok("one class only", "oneclass.csv", _csv(base.assign(y=0)), used=400, note="the positive class '1' never occurs")
    odd = base.copy().astype({"y": object})
    odd.loc[:1, "y"] = "unknown"
    ok("unexpected label values among numbers", "odd.csv", _csv(odd), used=398, excluded={"label is missing": 2},
       note="2 values are not numbers and are treated as missing")
    words = base.assign(y=np.where(base["y"] == 1, "yes", "no")).astype({"y": object})
    words.loc[:2, "y"] = "?"
    ok("unexpected label values among words", "words.csv", _csv(words), used=397,
       excluded={"label is not one of the two classes ('no', 'yes')": 3})
    scores = base.copy().astype({"score": object})
    scores.loc[0, "score"] = "high"
    scores.loc[1, "score"] = "inf"
    scores.loc[2, "score"] = None
    scores.loc[3, "score"] = 7.5
    ok("scores with text, inf, NaN and out of range", "scores.csv", _csv(scores), used=397,
       excluded={"score is missing": 2, "score is infinite": 1},
       note="1 value is not a number and is treated as missing")
    times = base.assign(ts=[f"2026-01-0{1 + i % 9}" if i % 3 else "01/02/2026" for i in range(400)])
    times.loc[:4, "ts"] = "yesterday"
    ok("unparseable and mixed-format timestamps", "times.csv", _csv(times), used=400,
       note="5 values are not dates")
    many = base.assign(region=[f"shop_{i}" for i in range(400)])
    ok("segment with a distinct value per row", "many.csv", _csv(many), used=400)
    html = base.copy()
    html.columns = ["id", "y", "score", '<img src=x onerror="window.__xss=1">']
    html.iloc[:, 3] = ["<script>window.__xss=2</script>", "[click](https://example.com)",
                       "![x](https://example.com/a.png)", "=HYPERLINK(\"http://x\")"] * 100
    ok("HTML, script, Markdown links and formulas in cells and names", "html.csv", _csv(html), used=400)
    _hostile_round_two(base, ok, err)
    return out


def _parquet(table) -> bytes:
    import io

    import pyarrow.parquet as pq

    buf = io.BytesIO()
    pq.write_table(table, buf)
    return buf.getvalue()


def _hostile_round_two(base: pd.DataFrame, ok, err) -> None:
    """Second round of hostile files: each crashed a command or the server before it was fixed."""
    import pyarrow as pa

    control = base.assign(region=["no\x01rth", "so\x0buth"] + ["north"] * 398)
    ok("control characters in segment values", "control.csv", _csv(control), used=400)
    nul = pa.Table.from_pandas(base.assign(region=["we\x00st", "ea\x1fst"] * 200), preserve_index=False)
    ok("NUL and control characters in Parquet text", "nul.parquet", _parquet(nul), used=400)
    dst = base.assign(ts=[f"2026-03-{20 + i % 10}T10:00:00+0{1 + (i % 10 >= 9)}:00" for i in range(400)])
    ok("daylight-saving offsets in the time column", "dst.csv", _csv(dst), used=400, note="mixed UTC offsets")
    table = pa.Table.from_pandas(base, preserve_index=False)
    table = table.append_column("embedding", pa.array([[0.1, 0.2]] * 400))
    table = table.append_column("meta", pa.array([{"k": i} for i in range(400)]))
    table = table.append_column("raw", pa.array([b"\xff\xfe"] * 400))
    ok("nested and binary Parquet columns", "nested.parquet", _parquet(table), used=400,
       note="holds nested values")
    text = _csv(base.assign(region="Kraków"))
    mixed = text.replace("Kraków".encode(), "Kraków".encode("cp1252"), 3)
    ok("one line in another encoding", "mixed.csv", mixed, used=400, note="line(s) are not valid UTF-8")
    ok("a whole CP-1252 file", "cp1252.csv", text.decode().encode("cp1252"), used=400, note="it was read as Windows")
    crlf = _csv(base.assign(region=["ok\r=cmd|' /C calc'!A0", "a\n+1"] * 200))
    ok("formulas after line breaks inside cells", "formula.csv", crlf, used=400)
    rng = np.random.default_rng(3)
    y = rng.integers(0, 3000, 30_000)
    many = pd.DataFrame({"label": [f"c{v}" for v in y],
                         "predicted": [f"c{v}" for v in np.where(rng.random(30_000) < 0.6, y, rng.integers(0, 3000, 30_000))],
                         "region": rng.choice(["a", "b", "c"], 30_000)})
    ok("3,000 classes", "classes.csv", _csv(many), used=30_000)


def wide_file(columns: int = 10_000, rows: int = 50) -> bytes:
    """A file with very many columns: label, score and thousands of extra feature columns."""
    rng = np.random.default_rng(1)
    frame = pd.DataFrame(rng.random((rows, columns - 2)).round(3), columns=[f"f{i}" for i in range(columns - 2)])
    frame.insert(0, "score", rng.random(rows).round(3))
    frame.insert(0, "y", rng.integers(0, 2, rows))
    return _csv(frame)


def big_cell_file(cell_bytes: int = 1_000_000) -> bytes:
    frame = _base(20)
    frame.loc[0, "region"] = "x" * cell_bytes
    return _csv(frame)


def high_cardinality_file(rows: int = 100_000) -> bytes:
    rng = np.random.default_rng(2)
    y = rng.integers(0, 2, rows)
    return _csv(pd.DataFrame({"y": y, "score": np.clip(0.3 * y + 0.7 * rng.random(rows), 0, 1).round(4),
                              "customer": [f"c{i}" for i in range(rows)], "region": rng.choice(["a", "b"], rows)}))
