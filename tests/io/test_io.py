"""Tests of mlimpact.io.read_predictions: every format and quirk, generated inside the tests."""

from __future__ import annotations

import gzip
import hashlib
import io
import zipfile

import numpy as np
import pandas as pd
import pytest

from mlimpact.errors import InputError
from mlimpact.io import LoadReport, read_predictions

SIMPLE = b"id,score,label,region\n1,0.25,0,north\n2,0.75,1,south\n3,0.5,1,north\n"


def read(data: bytes, name: str = "p.csv", **kwargs):
    return read_predictions(data, name=name, **kwargs)


def error(data: bytes, name: str = "p.csv", **kwargs) -> str:
    with pytest.raises(InputError) as info:
        read_predictions(data, name=name, **kwargs)
    return str(info.value)


def assert_simple(df: pd.DataFrame) -> None:
    assert list(df.columns) == ["id", "score", "label", "region"]
    assert df["id"].dtype == np.int64
    assert df["score"].dtype == np.float64
    assert df["score"].tolist() == [0.25, 0.75, 0.5]
    assert df["region"].dtype == "str"
    assert df["region"].tolist() == ["north", "south", "north"]


# --- delimiters, decimals, encodings ------------------------------------------------------------


def test_csv():
    df, report = read(SIMPLE)
    assert_simple(df)
    assert (report.format, report.compression, report.encoding) == ("csv", None, "utf-8")
    assert (report.delimiter, report.decimal, report.n_rows, report.n_columns) == (",", ".", 3, 4)
    assert report.notes == [] and report.coerced == {}


@pytest.mark.parametrize("delimiter", ["\t", "|", ";"])
def test_other_delimiters(delimiter):
    df, report = read(SIMPLE.replace(b",", delimiter.encode()))
    assert_simple(df)
    assert report.delimiter == delimiter and report.decimal == "."


def test_semicolon_decimal_comma_parses_exact_floats():
    data = b"id;score;amount;region\n1;0,87;1.234,56;north\n2;0,1;12,5;south\n3;1;0,3;north\n"
    df, report = read(data)
    assert (report.delimiter, report.decimal) == (";", ",")
    assert df["score"].tolist() == [0.87, 0.1, 1.0]
    assert df["amount"].tolist() == [1234.56, 12.5, 0.3]
    assert df["score"].dtype == np.float64 and df["amount"].dtype == np.float64
    assert report.notes == []


def test_semicolon_with_decimal_point_stays_point():
    df, report = read(SIMPLE.replace(b",", b";"))
    assert report.decimal == "."
    assert df["score"].tolist() == [0.25, 0.75, 0.5]


def test_utf8_bom_is_not_in_first_column_name():
    df, report = read(b"\xef\xbb\xbf" + SIMPLE)
    assert_simple(df)
    assert report.encoding == "utf-8-sig"


def test_cp1252_text():
    data = "name;price\ncafé;1\n€ sign;2\n".encode("cp1252")
    df, report = read(data)
    assert report.encoding == "cp1252"
    assert df["name"].tolist() == ["café", "€ sign"]


def test_latin1_text_when_not_cp1252():
    # 0x81 is undefined in CP-1252, so only Latin-1 can decode this file
    data = "name,n\nGrüße,1\n".encode("latin-1") + b"ctrl\x81,2\n"
    df, report = read(data)
    assert report.encoding == "latin-1"
    assert df["name"].tolist() == ["Grüße", "ctrl\x81"]


def test_utf16_with_bom_as_excel_unicode_text():
    df, report = read(SIMPLE.decode().replace(",", "\t").encode("utf-16"))
    assert_simple(df)
    assert (report.encoding, report.delimiter) == ("utf-16", "\t")


def test_crlf_line_endings():
    df, _ = read(SIMPLE.replace(b"\n", b"\r\n"))
    assert_simple(df)


def test_quoted_delimiter_and_quoted_newline():
    data = b'id,comment\n1,"north, east"\n2,"two\r\nlines"\n3,plain\n'
    df, _ = read(data)
    assert df["comment"].tolist() == ["north, east", "two\r\nlines", "plain"]


def test_quoted_newline_after_the_sample():
    rows = b"".join(b"%d,x\n" % i for i in range(10_000))  # > 64 KiB before the quoted newline
    df, report = read(b"id,comment\n" + rows + b'10000,"a\nb"\n')
    assert report.n_rows == 10_001
    assert df["comment"].iloc[-1] == "a\nb"


def test_timestamps_stay_text():
    data = b"id,day,ts,at\n1,2024-01-05,2024-01-05T10:00:00Z,10:00\n2,2024-02-01,2024-02-01 11:30:00,11:00\n"
    df, _ = read(data)
    assert df["day"].tolist() == ["2024-01-05", "2024-02-01"]
    assert df["ts"].tolist() == ["2024-01-05T10:00:00Z", "2024-02-01 11:30:00"]
    assert all(df[c].dtype == "str" for c in ("day", "ts", "at"))


def test_booleans_and_missing_markers():
    df, _ = read(b"flag,other,text\ntrue,1,a\nfalse,NA,\n,3,n/a\n")
    assert df["flag"].dtype == "boolean"
    assert df["flag"].tolist() == [True, False, pd.NA]
    assert df["other"].dtype == np.float64 and np.isnan(df["other"].iloc[1])
    assert df["text"].isna().tolist() == [False, True, True]


# --- compression and binary formats -------------------------------------------------------------


def test_gzip_detected_by_magic_bytes_not_name():
    df, report = read(gzip.compress(SIMPLE), name="preds.dat")
    assert_simple(df)
    assert (report.format, report.compression) == ("csv", "gzip")


def zipped(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in files.items():
            zf.writestr(name, content)
    return buf.getvalue()


def test_zip_with_one_file():
    df, report = read(zipped({"preds.csv": SIMPLE, "__MACOSX/._preds.csv": b"junk"}), name="p.zip")
    assert_simple(df)
    assert (report.format, report.compression) == ("csv", "zip")


def test_zip_with_two_files_is_an_error():
    message = error(zipped({"a.csv": SIMPLE, "b.csv": SIMPLE}), name="both.zip")
    assert (
        message
        == "both.zip: the zip archive holds 2 files (a.csv, b.csv); put exactly one predictions file in it"
    )


def test_parquet():
    frame = pd.DataFrame({"id": [1, 2, 3], "score": [0.25, 0.75, 0.5], "label": [0, 1, 1]})
    frame["region"] = ["north", "south", "north"]
    buf = io.BytesIO()
    frame.to_parquet(buf, index=False)
    df, report = read(buf.getvalue(), name="p.parquet")
    assert_simple(df)
    assert (report.format, report.encoding, report.delimiter, report.decimal) == ("parquet", None, None, None)


def test_xlsx_first_sheet():
    frame = pd.DataFrame({"id": [1, 2, 3], "score": [0.25, 0.75, 0.5], "label": [0, 1, 1]})
    frame["region"] = ["north", "south", "north"]
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as writer:
        frame.to_excel(writer, sheet_name="preds", index=False)
        pd.DataFrame({"x": [9]}).to_excel(writer, sheet_name="other", index=False)
    df, report = read(buf.getvalue(), name="p.xlsx")
    assert_simple(df)
    assert (report.format, report.compression, report.n_rows) == ("xlsx", None, 3)


def test_xlsx_mixed_column_is_coerced_with_note():
    buf = io.BytesIO()
    pd.DataFrame({"amount": [1.5, 2, "n.a.", 4] + [5] * 16}).to_excel(buf, index=False)
    df, report = read(buf.getvalue(), name="p.xlsx")
    assert df["amount"].dtype == np.float64 and df["amount"].iloc[:2].tolist() == [1.5, 2.0]
    assert report.notes == [
        "column `amount`: 1 value is not a number and is treated as missing (e.g. 'n.a.')"
    ]


# --- sources and hash ---------------------------------------------------------------------------


class Upload(io.BytesIO):
    name = "upload.csv"  # like Streamlit's UploadedFile


def test_bytes_path_and_file_like_give_the_same_frame(tmp_path):
    path = tmp_path / "preds.csv"
    path.write_bytes(SIMPLE)
    from_bytes, r1 = read_predictions(SIMPLE)
    from_path, r2 = read_predictions(path)
    from_str_path, _ = read_predictions(str(path))
    upload = Upload(SIMPLE)
    upload.read()  # a previous reader left the position at the end: the whole upload is still read
    from_upload, r3 = read_predictions(upload)
    with open(path, "rb") as fh:
        from_file, r4 = read_predictions(fh)
    for other in (from_path, from_str_path, from_upload, from_file):
        pd.testing.assert_frame_equal(from_bytes, other)
    assert [r.source for r in (r1, r2, r3, r4)] == ["<bytes>", "preds.csv", "upload.csv", "preds.csv"]


def test_content_hash_is_sha256_of_raw_bytes():
    raw = gzip.compress(SIMPLE)
    _, report = read(raw)
    assert report.content_hash == hashlib.sha256(raw).hexdigest()


def test_report_to_dict():
    _, report = read(SIMPLE)
    d = report.to_dict()
    assert isinstance(report, LoadReport)
    assert d["source"] == "p.csv" and d["n_rows"] == 3 and d["notes"] == [] and d["coerced"] == {}


def test_text_mode_file_is_refused(tmp_path):
    path = tmp_path / "t.csv"
    path.write_bytes(SIMPLE)
    with open(path) as fh, pytest.raises(InputError) as info:
        read_predictions(fh)
    assert (
        str(info.value)
        == "could not read `t.csv`: the file was opened as text; open it in binary mode ('rb')"
    )


def test_missing_path(tmp_path):
    with pytest.raises(InputError) as info:
        read_predictions(tmp_path / "nope.csv")
    assert str(info.value) == "could not read `nope.csv`: the file does not exist; check the path"


# --- names, coercion, inf -----------------------------------------------------------------------


def test_blank_and_duplicate_column_names_are_renamed_with_notes():
    df, report = read(b" id ,score,score,,score\n1,0.1,0.2,x,0.3\n")
    assert list(df.columns) == ["id", "score", "score_2", "column_4", "score_3"]
    assert report.notes == [
        "column 3 repeats the name `score`; it is called `score_2`",
        "column 4 has no name; it is called `column_4`",
        "column 5 repeats the name `score`; it is called `score_3`",
    ]


def test_numeric_coercion_note_exact():
    rows = b"".join(b"%d,%d.5\n" % (i, i) for i in range(40))
    df, report = read(b"id,amount\n" + rows + b"40,unknown\n41,?\n42,unknown\n43,--\n44,NA\n")
    assert df["amount"].dtype == np.float64
    assert df["amount"].isna().sum() == 5
    assert report.coerced == {"amount": 4}
    assert report.notes == [
        "column `amount`: 4 values are not numbers and are treated as missing (e.g. 'unknown', '?', '--')"
    ]


def test_mostly_text_column_is_not_coerced():
    df, report = read(b"code\n1\n2\nA7\nB8\n")
    assert df["code"].dtype == "str" and report.coerced == {}


def test_inf_note():
    df, report = read(b"score\n0.5\ninf\n-inf\n")
    assert np.isinf(df["score"]).sum() == 2
    assert report.notes == ["column `score`: 2 infinite values (inf or -inf), kept as they are"]


# --- ragged rows --------------------------------------------------------------------------------


def test_row_with_too_many_fields_names_the_line():
    data = b"a,b,c,d,e,f\n" + b"1,2,3,4,5,6\n" * 5 + b"\n" + b"1,2,3,4,5,6\r\n" * 6 + b"1,2,3,4,5,6,7\n"
    assert error(data, name="sales.csv") == (
        "sales.csv, line 14: 7 fields where the header has 6; fix the row or re-export the file"
    )


def test_every_row_with_one_extra_field_is_an_error():
    assert error(b"a,b\n1,2,3\n4,5,6\n", name="shift.csv") == (
        "shift.csv: every row has 3 fields but the header has 2; the header is missing a column name "
        "(or every row ends with an extra delimiter); fix the header or re-export the file"
    )


def test_short_rows_are_filled_with_a_note():
    df, report = read(b"a,b,c\n1,2,3\n4,5\n6,7,8\n9\n")
    assert df.shape == (4, 3)
    assert df["c"].isna().tolist() == [False, True, False, True]
    assert report.notes == [
        "2 rows have fewer fields than the header (first at line 3); the missing fields are treated as missing"
    ]


# --- refusals -----------------------------------------------------------------------------------


def test_empty_file():
    assert error(b"", name="e.csv") == (
        "e.csv: the file is empty; export the predictions with a header row and at least one data row"
    )
    assert error(b"\xef\xbb\xbf \r\n", name="e.csv").startswith("e.csv: the file is empty")
    assert error(b"score\n", name="h.csv").startswith("h.csv: the file has a header row (1 column) but")


def test_header_only():
    assert error(b"id,score,label\n", name="h.csv") == (
        "h.csv: the file has a header row (3 columns) but no data rows; "
        "export the predictions with at least one data row"
    )


def test_binary_garbage():
    garbage = np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8).tobytes()
    assert error(garbage, name="x.bin") == (
        "could not read `x.bin`: it is not CSV, TSV, Parquet or Excel; export the predictions as CSV"
    )


def test_too_many_columns():
    header = ",".join(f"c{i}" for i in range(20_001)).encode()
    assert error(header + b"\n" + b"1," * 20_000 + b"1\n", name="wide.csv") == (
        "wide.csv: 20,001 columns, more than the limit of 20,000; "
        "keep only the columns you need (label, score, segments) and export again"
    )


def test_max_rows():
    assert error(SIMPLE, name="big.csv", max_rows=2) == (
        "big.csv: 3 data rows, more than the limit of 2; sample or filter the file and try again"
    )
    assert read(SIMPLE, max_rows=3)[1].n_rows == 3


def test_corrupt_parquet_is_wrapped():
    message = error(b"PAR1 this is not really parquet", name="bad.parquet")
    assert message.startswith("could not read `bad.parquet`: ")
    assert message.endswith("; check the file or export the predictions as CSV again")


def test_old_xls_is_named():
    assert error(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512, name="old.xls") == (
        "could not read `old.xls`: it is an old Excel .xls file; save it as .xlsx or CSV"
    )


def test_corrupt_xlsx_is_wrapped():
    broken = zipped({"[Content_Types].xml": b"<broken", "xl/workbook.xml": b"garbage"})
    message = error(broken, name="bad.xlsx")
    assert message.startswith("could not read `bad.xlsx` as an Excel workbook: ")
    assert message.endswith("; open it in Excel and save it again, or export the predictions as CSV")


@pytest.mark.parametrize("kind", ["gzip", "zip"])
def test_decompression_bombs_stop_early_with_the_limit_named(kind, monkeypatch):
    """A few hundred KB that expand to 180 MB of tiny rows: refused after ~68 MB, in well under a second."""
    import gzip
    import zipfile

    raw = b"y,p\n" + b"0,0.1\n" * 30_000_000
    if kind == "gzip":
        data = gzip.compress(raw, 9)
    else:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("preds.csv", raw)
        data = buf.getvalue()
    del raw
    with pytest.raises(InputError) as err:
        read_predictions(data, name="bomb")
    message = str(err.value)
    assert message.startswith("bomb: the compressed file expands to more than 68 MB (")
    assert message.endswith("limits: 1,024 MB, and 200x above 64 MB); if the file is genuine, set "
                            "MLIMPACT_MAX_EXPANDED_MB (in MB, for the command line or the app's server) to read it")
    monkeypatch.setenv("MLIMPACT_MAX_EXPANDED_MB", "10")  # the user's own limit, without the ratio
    with pytest.raises(InputError, match=r"more than 10 MB .*limits: 10 MB"):
        read_predictions(data, name="bomb")


def test_concatenated_gzip_members_are_read_whole():
    import gzip

    data = gzip.compress(b"y,p\n1,0.9\n") + gzip.compress(b"0,0.2\n")
    frame, report = read_predictions(data, name="two.csv.gz")
    assert frame["p"].tolist() == [0.9, 0.2] and report.compression == "gzip"


def test_nested_and_binary_parquet_columns_are_set_aside_with_a_note():
    """Embeddings (lists), structs, maps and non-UTF-8 bytes crashed role inference (unhashable / decode)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from mlimpact.io import infer_roles

    table = pa.table({
        "y": [0, 1, 0, 1], "p": [0.1, 0.9, 0.2, 0.8], "emb": [[1.0, 2.0], [3.0], [4.0], [5.0]],
        "meta": [{"a": 1}, {"a": 2}, {"a": 3}, {"a": 4}],
        "m": pa.array([[("k", 1)], [("k", 2)], [("k", 3)], [("k", 4)]], type=pa.map_(pa.string(), pa.int64())),
        "raw": [b"\xff\xfe", b"ok", b"\x80", b"x"], "text_bytes": [b"north", b"south", b"north", b"south"],
    })
    buf = io.BytesIO()
    pq.write_table(table, buf)
    frame, report = read_predictions(buf.getvalue(), name="nested.parquet")
    assert list(frame.columns) == ["y", "p", "text_bytes"]
    assert frame["text_bytes"].tolist() == ["north", "south", "north", "south"]
    assert [n.split(";")[0] for n in report.notes] == [
        "column `emb` holds nested values (list<element: double>)",
        "column `meta` holds nested values (struct<a: int64>)",
        "column `m` holds nested values (map<string, int64 ('m')>)",
        "column `raw` holds bytes that are not UTF-8 text"]
    assert infer_roles(frame).roles.segments == ("text_bytes",)


def _full_grid_xlsx(rows: int, blank_rows: int) -> bytes:
    """A workbook that declares A1:XFD1048576 and holds `blank_rows` rows with a stray cell in column XFD."""
    import re
    import zipfile

    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["y", "p", "seg"])
    for i in range(rows):
        ws.append([i % 2, 0.1 + i / 100, "a" if i % 3 else "b"])
    buf = io.BytesIO()
    wb.save(buf)
    src, out = zipfile.ZipFile(io.BytesIO(buf.getvalue())), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = re.sub(rb'<dimension ref="[^"]*" ?/>', b'<dimension ref="A1:XFD1048576" />', data)
                stray = b"".join(b'<row r="%d"><c r="XFD%d" /></row>' % (i, i)
                                 for i in range(rows + 2, rows + 2 + blank_rows))
                data = data.replace(b"</sheetData>", stray + b"</sheetData>")
            zf.writestr(item, data)
    return out.getvalue()


def test_excel_sheet_declaring_the_full_grid_costs_what_its_header_holds():
    """Rows are read as wide as the header: 20,000 stray far-right cells once meant 20,000 x 16,384 cells."""
    import time

    start = time.perf_counter()
    frame, report = read_predictions(_full_grid_xlsx(50, 20_000), name="grid.xlsx")
    elapsed = time.perf_counter() - start
    assert frame.shape == (50, 3) and list(frame.columns) == ["y", "p", "seg"] and report.format == "xlsx"
    assert elapsed < 30  # a regression is minutes (about 0.7 ms per stray row before); now ~0.15 s


def test_mixed_encodings_keep_one_value_and_say_which_lines():
    """One CP-1252 line in a UTF-8 file used to switch the whole file to CP-1252 ("KrakÃ³w"), silently."""
    data = ("city,y,p\nKraków,1,0.9\n".encode() + "Kraków,0,0.2\n".encode("cp1252")
            + "Łódź,1,0.7\n".encode() + "Kraków,1,0.4\r\n".encode("cp1252"))
    frame, report = read_predictions(data, name="mixed.csv")
    assert frame["city"].tolist() == ["Kraków", "Kraków", "Łódź", "Kraków"]
    assert report.encoding == "utf-8"
    assert report.notes == ["2 line(s) are not valid UTF-8 (first at line 3) in a UTF-8 file; they were read as "
                            "Windows-1252 (CP-1252): check their text, or save the file as UTF-8"]


def test_a_whole_cp1252_file_is_read_with_a_note():
    frame, report = read_predictions("city,y,p\nKraków,1,0.9\nZürich,0,0.2\n".encode("cp1252"), name="cp.csv")
    assert frame["city"].tolist() == ["Kraków", "Zürich"] and report.encoding == "cp1252"
    assert report.notes == ["the file is not UTF-8 (first at line 2); it was read as Windows-1252 (CP-1252): "
                            "check accented text, or save the file as UTF-8"]


def test_excel_sep_line_names_the_delimiter():
    rows = ["sep=;", "y;p;region"] + [f"{i % 2};0,{i % 9 + 1};r{i % 3}" for i in range(50)]
    frame, report = read_predictions(("\r\n".join(rows) + "\r\n").encode(), name="sep.csv")
    assert list(frame.columns) == ["y", "p", "region"] and len(frame) == 50 and report.delimiter == ";"
    assert report.notes == ["the first line `sep=;` (written by Excel) names the delimiter; it is not data"]


@pytest.mark.parametrize("at", [2, 4001])
def test_an_unclosed_quote_names_its_line(at):
    """It was pyarrow's 'straddling object' message, or worse: the rest of the file silently one value."""
    rows = ["y,p,region"] + [f"{i % 2},0.{i % 9 + 1},r{i % 3}" for i in range(5000)]
    rows[at - 1] = '1,0.5,"open'
    with pytest.raises(InputError) as err:
        read_predictions(("\n".join(rows) + "\n").encode(), name="quote.csv")
    assert str(err.value) == (f'quote.csv, line {at}: a double quote (") opens a field that is never closed; close '
                              "the quote or remove it, and export the file again")
