"""Every bad-input case: the same exact message in the library, the CLI (exit 2) and the app (no traceback)."""

import json
import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from mlimpact.cli import main
from mlimpact.errors import InputError
from mlimpact.io import build_dataset, infer_roles, read_predictions

from .corpus import big_cell_file, cases, high_cardinality_file, wide_file

ROOT = Path(__file__).resolve().parents[1]
CASES = cases()
IDS = [c[0] for c in CASES]


def load(data: bytes, name: str):
    frame, report = read_predictions(data, name=name)
    return build_dataset(frame, infer_roles(frame).roles, source=name, notes=report.notes)


def shown(markdown_source: str) -> str:
    return re.sub(r"\\(.)", r"\1", markdown_source)


def _check_ok(ds, checks):
    assert ds.n == checks["used"]
    if "excluded" in checks:
        assert ds.exclusions == checks["excluded"]
    if "note" in checks:
        assert any(checks["note"] in n for n in ds.notes), ds.notes


@pytest.mark.parametrize(("name", "file_name", "data", "expect"), CASES, ids=IDS)
def test_library(name, file_name, data, expect):
    kind, detail = expect
    if kind == "error":
        with pytest.raises(InputError) as exc:
            load(data, file_name)
        assert str(exc.value) == detail
    else:
        _check_ok(load(data, file_name), detail)


@pytest.mark.parametrize(("name", "file_name", "data", "expect"), CASES, ids=IDS)
def test_cli(name, file_name, data, expect, tmp_path, capsys):
    path = tmp_path / file_name
    path.write_bytes(data)
    code = main(["summarize", str(path)])
    out, err = capsys.readouterr()
    kind, detail = expect
    if kind == "error":
        assert code == 2
        assert err.strip().splitlines()[-1] == f"mlimpact: error: {detail}"
        assert out == ""
    else:
        assert code == 0, err
        doc = json.loads(out)
        assert doc["rows"]["used"] == detail["used"]
        if "excluded" in detail:
            assert doc["rows"]["excluded"] == detail["excluded"]


@pytest.mark.parametrize(("name", "file_name", "data", "expect"), CASES, ids=IDS)
def test_app(name, file_name, data, expect):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    at.selectbox(key="mi_source_select").select_index(4).run()
    at.file_uploader[0].set_value([(file_name, data, "text/csv")]).run()
    assert not at.exception, [e.value for e in at.exception]
    kind, detail = expect
    if kind == "error":
        assert [shown(e.value) for e in at.error] == [detail]
    else:
        assert not at.error, [e.value for e in at.error]
        assert any(c.value.startswith(f"{detail['used']:,} of ") for c in at.caption)
        at.switch_page("pages/segments.py").run()
        assert not at.exception and not at.error
        at.switch_page("pages/data.py").run()
        assert not at.exception


def test_ten_thousand_columns():
    ds = load(wide_file(), "wide.csv")
    assert ds.n == 50 and ds.roles.label == "y" and ds.roles.score == "score"


def test_one_megabyte_cell():
    ds = load(big_cell_file(), "bigcell.csv")
    assert ds.n == 20


def test_segment_with_100k_values_is_folded():
    from mlimpact.slices import segment_table

    ds = load(high_cardinality_file(), "customers.csv")
    assert "customer" not in ds.roles.segments  # too many values to be a default segment
    table = segment_table(ds, ["customer"], metrics=["recall"], top_k=20)
    assert len(table) == 21 and table["customer"].isin(["Other"]).sum() == 1
    assert table["n"].sum() == 100_000
