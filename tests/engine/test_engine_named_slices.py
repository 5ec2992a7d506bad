"""Named slices on an engine: the slice language as SQL holds the very rows the memory path's mask holds (missing
values, NaN and infinities, negations, text, times, a column with no values), bad slices get the memory path's
message, and `summarize --slice` on DuckDB gives the memory path's `named_slices`."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from mlimpact.cli.main import main
from mlimpact.engine.dataset import open_engine_dataset
from mlimpact.io.load import load
from mlimpact.io.samples import sample_path
from mlimpact.slices.engine_named import slice_sql
from mlimpact.slices.language import SliceError, parse_slice
from tests.engine.test_engines import assert_same_summary

EXPRESSIONS = [
    "x > 1.5", "x != 2", "not x > 1.5", "x between 1 and 3", "x in (1, 2.5)", "x not in (1)", "x is null",
    "x is not null", "x >= 1e300", "n < 3", "n in (1, 4)",
    'c == "a"', 'c != "a"', 'c in ("a", "zz")', 'c not in ("a")', "c is null", 'not (c == "b" or x < 1)',
    "b == true", "b != false", "b in (false)",
    't >= "2026-01-03"', 't < "2026-01-02 12:00"', "t is null", 't between "2026-01-02" and "2026-01-04"',
    "empty > 3", "empty != 1", "empty is null", "empty is not null",
    '(x > 1 and c == "a") or not b == true', '`odd name` == "q"',
]


@pytest.fixture
def awkward(tmp_path):
    rng = np.random.default_rng(4)
    n = 400
    x = rng.choice([0.5, 1.0, 2.0, 2.5, 3.0, np.nan, np.inf, -np.inf], n)
    df = pd.DataFrame({"id": np.arange(n), "y": rng.integers(0, 2, n), "p": rng.random(n).round(2), "x": x,
                       "n": rng.integers(0, 6, n), "c": rng.choice(["a", "b", "ab", None], n),
                       "b": rng.random(n) < 0.4,
                       "t": pd.Timestamp("2026-01-01") + pd.to_timedelta(rng.integers(0, 6 * 24, n), unit="h"),
                       "empty": pd.Series([None] * n, dtype="float64"), "odd name": rng.choice(["q", "r"], n)})
    df.loc[rng.choice(n, 30, replace=False), "t"] = pd.NaT
    path = tmp_path / "s.parquet"
    df.to_parquet(path)
    changes = {"label": "y", "score": "p", "id": "id", "segments": ()}
    dataset, _ = load(str(path), changes)
    eds = open_engine_dataset(str(path), "duckdb", changes, threshold=0.5)
    yield dataset, eds
    eds.close()


@pytest.mark.parametrize("expression", EXPRESSIONS)
def test_the_sql_holds_the_rows_of_the_memory_mask(awkward, expression):
    dataset, eds = awkward
    expected = dataset.frame["id"].to_numpy()[parse_slice(expression, dataset).mask(dataset)].tolist()
    cond, parsed = slice_sql(eds, expression)
    got = eds.backend.query(f"SELECT id FROM src WHERE ({eds.spec.where}) AND {cond} ORDER BY id")["id"].tolist()
    assert got == sorted(expected)
    assert parsed.text == parse_slice(expression, dataset).text


@pytest.mark.parametrize(("expression", "message"), [
    ("c > 1", "`c` holds text; compare it with == or in, not >"),
    ("x == \"a\"", "`x` holds numbers"),
    ("nope == 1", "nope"),
    ("t > \"soon\"", "`t` holds times"),
])
def test_bad_slices_get_the_memory_paths_message(awkward, expression, message):
    dataset, eds = awkward
    with pytest.raises(SliceError) as memory:
        parse_slice(expression, dataset)
    with pytest.raises(SliceError) as engine:
        slice_sql(eds, expression)
    assert message in str(engine.value) and str(engine.value) == str(memory.value)


def test_summarize_with_slices_on_duckdb_gives_the_memory_paths_named_slices(tmp_path, capsys):
    folder = tmp_path / "logs"
    folder.mkdir()
    pd.read_csv(sample_path("fraud")).to_parquet(folder / "part-0.parquet")
    args = ["--slice", "amount > 500", "--slice", 'channel == "online" and not device in ("desktop")',
            "--slice", 'timestamp >= "2026-04-01"']
    assert main(["summarize", str(sample_path("fraud")), *args]) == 0
    memory = json.loads(capsys.readouterr().out)
    assert main(["summarize", str(folder), "--engine", "duckdb", *args]) == 0
    out = capsys.readouterr()
    assert "computed in memory" not in out.err
    engine = json.loads(out.out)
    assert [s["n"] for s in engine["named_slices"]] == [742, 22924, 40170]
    assert_same_summary(memory, engine)


def test_check_with_a_slice_on_duckdb_gives_the_memory_paths_results(tmp_path, capsys):
    """`check --slice` follows every check on the slice's rows too: on DuckDB they are narrowed in SQL."""
    folder = tmp_path / "logs"
    folder.mkdir()
    pd.read_csv(sample_path("fraud")).to_parquet(folder / "part-0.parquet")
    args = ["--config", "tests/golden/checks_fraud.toml", "--format", "json", "--slice", 'channel == "online"']
    assert main(["check", str(sample_path("fraud")), *args]) == 1
    memory = json.loads(capsys.readouterr().out)
    memory.pop("causes")  # why it alerted: split by slices, from the rows (memory only)
    assert main(["check", str(folder), *args, "--engine", "duckdb"]) == 1
    engine = json.loads(capsys.readouterr().out)
    assert {r["slice"] for r in engine["results"]} == {None, 'channel == "online"'}  # every check, then on the slice
    assert_same_summary(memory, engine)


@pytest.mark.parametrize("expressions", [['c == "A"', 'c in ("a", "zz")'], ['c == "abc"'], ['c == "a"']])
def test_absent_text_values_get_the_memory_paths_warning(awkward, expressions):
    """A value that does not occur is said on the engine as in memory (the nearest value, 0 rows)."""
    from mlimpact.slices import resolve_slices, slice_warnings  # noqa: I001 - the memory path's lines
    from mlimpact.slices.engine_named import engine_slice_warnings

    dataset, eds = awkward
    slices = resolve_slices(expressions)
    memory = slice_warnings(slices, dataset)
    assert engine_slice_warnings(eds, slices) == memory
    assert bool(memory) == (expressions != ['c == "a"'])
    if expressions[0] == 'c == "A"':
        assert memory[0].endswith('did you mean "a"? The slice has 0 rows.')
        assert memory[1].endswith('has no value "zz"')  # nothing close; "a" holds rows: no 0-row note


def test_summarize_on_duckdb_says_when_a_slice_value_does_not_occur(tmp_path, capsys):
    pd.read_csv(sample_path("fraud")).to_parquet(tmp_path / "f.parquet")
    assert main(["summarize", str(tmp_path / "f.parquet"), "--engine", "duckdb", "--slice", 'channel == "Online"']) == 0
    assert "note: slice 'channel == \"Online\"': `channel` has no value \"Online\"; did you mean \"online\"?" \
        in capsys.readouterr().err
