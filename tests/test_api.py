"""The notebook API (``import mlimpact as mi``) gives the CLI's numbers on the samples: the summary, the weak
slices, the impact and the checks; a DataFrame gives what its file gives; bad input raises ``mi.InputError``
with the CLI's message; the Jupyter view escapes what comes from the file."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mlimpact as mi
from mlimpact.cli import main
from mlimpact.cli.common import json_text

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ("fraud", "support_tickets", "delivery_times")  # binary with an amount, multiclass, regression


def _path(sample: str) -> str:
    return str(ROOT / "sample_data" / f"{sample}.csv")


def _json(document) -> dict:
    """A document as the CLI writes it (NaN and infinities as null)."""
    return json.loads(json_text(document))


def _cli(capsys, *args: str) -> tuple[int, dict, list[str]]:
    """Exit code, JSON output and stderr lines of ``python -m mlimpact ARGS``, run in this process."""
    capsys.readouterr()
    code = main(list(args))
    out = capsys.readouterr()
    return code, json.loads(out.out), out.err.splitlines()


def _cli_error(capsys, *args: str) -> str:
    """The CLI's error message for ``ARGS`` (exit code 2), without the ``mlimpact: error:`` prefix."""
    capsys.readouterr()
    assert main(list(args)) == 2
    return capsys.readouterr().err.splitlines()[-1].removeprefix("mlimpact: error: ")


@pytest.fixture(scope="module")
def evaluations() -> dict[str, mi.Evaluation]:
    """One evaluation per sample, every role inferred (as the CLI runs without options)."""
    return {sample: mi.evaluate(_path(sample)) for sample in SAMPLES}


# ----------------------------------------------------------------------------- the same numbers as the CLI
@pytest.mark.parametrize("sample", SAMPLES)
def test_summary_is_the_cli_summary_and_inferred_is_its_stderr(capsys, evaluations, sample):
    ev = evaluations[sample]
    code, cli, err = _cli(capsys, "summarize", _path(sample), "--format", "json")
    assert code == 0
    assert _json(ev.summary()) == cli
    assert ev.inferred == err


@pytest.mark.parametrize("sample", SAMPLES)
def test_weak_slices_are_the_cli_slices(capsys, evaluations, sample):
    table = evaluations[sample].weak_slices()
    _, cli, _ = _cli(capsys, "slices", _path(sample), "--format", "json")
    keys = ("predicates", "n", "error_rate", "score", "description", "low", "high", "q_value", "significant")
    rows = [{k: (dict(r[k]) if k == "predicates" else r[k]) for k in keys} for r in table.to_dict("records")]
    assert _json(rows) == cli["slices"]
    assert _json({k: table.attrs[k] for k in ("n_evaluated", "overall_error_rate", "scoring", "error")}) == \
           {k: cli[k] for k in ("n_evaluated", "overall_error_rate", "scoring", "error")}


def test_impact_is_the_cli_impact_with_a_cost_column(capsys, evaluations):
    analysis = evaluations["fraud"].impact(cost_fn="amount", cost_fp=5, value_tp=3)
    _, cli, _ = _cli(capsys, "impact", _path("fraud"), "--format", "json", "--cost-fn", "amount", "--cost-fp", "5",
                     "--value-tp", "3")
    assert _json(analysis.to_json()) == cli


@pytest.mark.parametrize("sample", SAMPLES)
def test_monitor_is_the_cli_check(capsys, evaluations, sample):
    checks = ROOT / "tests" / "golden" / f"checks_{sample}.toml"
    document = evaluations[sample].monitor(checks)
    code, cli, _ = _cli(capsys, "check", _path(sample), "--config", str(checks), "--format", "json")
    assert code == (1 if document["violations"] else 0)  # the exit code aside, the same document
    assert _json(document) == cli


def test_monitor_is_the_cli_check_when_everything_is_in_range(capsys, evaluations, tmp_path):
    checks = tmp_path / "checks.toml"
    checks.write_text('[[check]]\nmetric = "recall"\nmin = 0.5\nperiod = "M"\n', encoding="utf-8")
    document = evaluations["fraud"].monitor(checks)
    code, cli, _ = _cli(capsys, "check", _path("fraud"), "--config", str(checks), "--format", "json")
    assert (code, document["violations"], document["causes"]) == (0, [], [])
    assert _json(document) == cli


def test_metrics_and_by_segment_hold_the_summary_numbers(evaluations):
    ev = evaluations["fraud"]
    summary = ev.summary()
    overall = {r["metric"]: {k: r[k] for k in ("value", "low", "high")} for r in _json(ev.metrics.to_dict("records"))}
    assert overall == {m: {k: cell[k] for k in ("value", "low", "high")} for m, cell in summary["overall"].items()}
    assert list(ev.metrics.columns) == ["metric", "value", "low", "high", "n", "positives", "note"]
    table = ev.by_segment("region")
    from_table = {f"{r['region']} {r['metric']}": [r["value"], r["low"], r["high"], r["n"], r["significantly_worse"]]
                  for r in table.to_dict("records")}
    from_summary = {f"{s['value']} {m}": [c["value"], c["low"], c["high"], s["n"], c["significantly_worse"]]
                    for s in summary["segments"] if s["column"] == "region" for m, c in s["metrics"].items()}
    assert len(from_table) == len(table) == 5 * len(summary["overall"])
    assert _json(from_table) == _json(from_summary)


def test_a_dataframe_gives_what_its_file_gives(evaluations):
    for sample in ("fraud", "support_tickets"):
        from_file = evaluations[sample]
        from_frame = mi.evaluate(pd.read_csv(_path(sample)))
        assert from_frame.dataset.roles == from_file.dataset.roles
        assert from_frame.inferred == from_file.inferred
        a, b = from_frame.summary(), from_file.summary()
        assert a.pop("source")["file"] == "DataFrame"
        b.pop("source")
        assert _json(a) == _json(b)


def test_lanes_and_compare_are_the_pages_numbers(evaluations):
    ev = evaluations["fraud"]
    choice = ev.lanes(target_error=0.01)
    assert choice.point.automated > 0 and choice.point.error_rate <= 0.01 + 1e-9
    automated = choice.table.set_index("lane").loc["automated decisions"]
    assert (automated["n"], automated["errors"]) == (choice.point.automated, choice.point.errors)
    assert "Automating" in choice.sentence and not choice.frontier.empty
    comparison = ev.compare()
    assert comparison.models == ("fraud_score", "fraud_score_v2") and comparison.segment == "region"
    reference = comparison.overall[comparison.overall["model"] == "fraud_score"].set_index("metric")["value"]
    metrics = ev.metrics.set_index("metric")["value"]
    assert reference.to_dict() == pytest.approx(metrics[reference.index].to_dict(), rel=1e-12)


# ----------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(("options", "cli_options"), [
    ({"label": "nope"}, ["--label", "nope"]),
    ({"segments": ["region", "nope"]}, ["--segment", "region", "--segment", "nope"]),
    ({"positive": 7}, ["--positive", "7"]),
    ({"label": "region", "task": "regression"}, ["--label", "region", "--task", "regression"]),
])
def test_bad_roles_raise_input_error_with_the_cli_message(capsys, options, cli_options):
    with pytest.raises(mi.InputError) as caught:
        mi.evaluate(_path("fraud"), **options)
    assert str(caught.value) == _cli_error(capsys, "summarize", _path("fraud"), *cli_options)


def test_other_bad_input_raises_input_error(capsys, evaluations, tmp_path):
    with pytest.raises(mi.InputError) as caught:
        mi.evaluate(str(tmp_path / "missing.csv"))
    assert str(caught.value) == _cli_error(capsys, "summarize", str(tmp_path / "missing.csv"))
    with pytest.raises(mi.InputError, match=r"unknown role 'labels'; the roles are label, score"):
        mi.evaluate(_path("fraud"), labels="is_fraud")
    with pytest.raises(mi.InputError, match="task 'nope' is not one of binary, multiclass, regression"):
        mi.evaluate(_path("fraud"), task="nope")
    with pytest.raises(mi.InputError, match="not a usable threshold"):
        mi.evaluate(_path("fraud"), threshold=float("nan"))
    with pytest.raises(mi.InputError) as caught:
        evaluations["fraud"].by_segment("nope")
    assert str(caught.value) == _cli_error(capsys, "summarize", _path("fraud"), "--segment", "nope")
    with pytest.raises(mi.InputError) as caught:
        evaluations["support_tickets"].impact(cost_fp=5)
    assert str(caught.value) == _cli_error(capsys, "impact", _path("support_tickets"), "--cost-fp", "5")
    with pytest.raises(mi.InputError, match="give each column one type"):
        mi.evaluate(pd.DataFrame({"y": [0, 1] * 20, "p": [0.2, 0.8] * 20, "mixed": [1, "a"] * 20}))
    with pytest.raises(mi.InputError, match=r"\.html, \.md or \.pdf"):
        evaluations["fraud"].report(tmp_path / "r.docx")


# ----------------------------------------------------------------------------- display, report, import
def test_repr_html_escapes_a_hostile_segment_value():
    rng = np.random.default_rng(0)
    n = 3000
    hostile = "<script>alert(1)</script>"
    segment = np.where(np.arange(n) < 1000, hostile, np.where(np.arange(n) % 2, "a & b", "c"))
    y = rng.integers(0, 2, n)
    noise = np.where(segment == hostile, 0.45, 0.1)  # the hostile segment is the weak one
    score = np.clip(y + rng.normal(0, 1, n) * noise, 0, 1)
    ev = mi.evaluate(pd.DataFrame({"y": y, "p": score, "<b>seg</b>": segment}), label="y", score="p",
                     segments=["<b>seg</b>"])
    page = ev._repr_html_()
    assert "<script>" not in page and "<b>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "&lt;b&gt;seg&lt;/b&gt;" in page
    assert "Weakest segment" in page and "<table>" in page
    assert hostile in str(ev) and repr(ev).startswith("<mlimpact.Evaluation of DataFrame: binary, 3,000 rows")


def test_report_writes_an_html_file(evaluations, tmp_path):
    written = evaluations["delivery_times"].report(tmp_path / "r.html")
    assert written == tmp_path / "r.html"
    text = written.read_text(encoding="utf-8")
    assert text.startswith("<!doctype html>") and "Model report: delivery_times.csv" in text


def test_import_mlimpact_stays_light_and_names_are_stable():
    code = "import sys, mlimpact; print(sorted(m for m in ('pandas', 'numpy', 'mlimpact.api') if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
    import mlimpact.api
    import mlimpact.errors

    assert mi.__all__ == ["evaluate", "Evaluation", "InputError", "__version__"]
    assert (mi.evaluate, mi.Evaluation, mi.InputError) == (mlimpact.api.evaluate, mlimpact.api.Evaluation,
                                                           mlimpact.errors.InputError)
    with pytest.raises(AttributeError):
        mi.no_such_name  # noqa: B018
