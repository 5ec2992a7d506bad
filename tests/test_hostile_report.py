"""Corpus report: every bad-input case through the CLI, in-process, with its wall time and memory peak.

Each case of :func:`tests.corpus.cases` is written to a file and run through ``mlimpact.cli.main``:
``summarize FILE`` always, plus ``summarize FILE --format html --out …`` for the cases that must load.
Every 'error' case must exit 2 (a clean message), every 'ok' case 0, and nothing may exit 3 (an
internal error). The summary is printed as Markdown and written to ``tests/e2e/artifacts/hostile_corpus.md``.

Memory is the ``tracemalloc`` peak of this process (Python and NumPy allocations; the HTML report's chart
renderer runs in a child process and is not counted). Times are wall times with tracing on, so they are
higher than a plain run's.
"""

from __future__ import annotations

import time
import tracemalloc
from pathlib import Path

from mlimpact.cli import main

from .corpus import cases

ARTIFACTS = Path(__file__).resolve().parent / "e2e" / "artifacts"
REPORT = ARTIFACTS / "hostile_corpus.md"
EXIT_OK, EXIT_BAD_INPUT, EXIT_INTERNAL = 0, 2, 3


def _measure(argv: list[str], capsys) -> tuple[int, float, int, str]:
    """Run the CLI once; return (exit code, seconds, tracemalloc peak in bytes, stderr)."""
    tracemalloc.start()
    started = time.perf_counter()
    try:
        code = main(argv)
    finally:
        seconds = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    _, err = capsys.readouterr()
    return code, seconds, peak, err


def _mb(n: int) -> str:
    return f"{n / 2**20:,.1f} MB"


def _table(rows: list[dict]) -> str:
    n_cases = len(rows)
    clean_errors = sum(r["kind"] == "error" and r["codes"] == [EXIT_BAD_INPUT] for r in rows)
    clean_results = sum(r["kind"] == "ok" and set(r["codes"]) == {EXIT_OK} for r in rows)
    runs = [(r["name"], cmd, s, p) for r in rows for cmd, s, p in r["runs"]]
    slow = max(runs, key=lambda x: x[2])
    big = max(runs, key=lambda x: x[3])
    lines = [
        "| cases | clean errors (exit 2) | clean results (exit 0) | worst time | worst peak memory |",
        "|---:|---:|---:|---|---|",
        f"| {n_cases} | {clean_errors} of {sum(r['kind'] == 'error' for r in rows)} "
        f"| {clean_results} of {sum(r['kind'] == 'ok' for r in rows)} "
        f"| {slow[2]:.2f} s: {slow[0]} ({slow[1]}) | {_mb(big[3])}: {big[0]} ({big[1]}) |",
        "",
        "| case | expect | exit codes | json time | json peak | html time | html peak |",
        "|---|---|---|---:|---:|---:|---:|",
    ]
    for r in rows:
        by_cmd = {cmd: (s, p) for cmd, s, p in r["runs"]}
        json_s, json_p = by_cmd["json"]
        html = by_cmd.get("html")
        html_cells = f"{html[0]:.2f} s | {_mb(html[1])}" if html else "– | –"
        lines.append(f"| {r['name']} | {r['kind']} | {', '.join(map(str, r['codes']))} "
                     f"| {json_s:.2f} s | {_mb(json_p)} | {html_cells} |")
    lines += ["", "Peak memory: tracemalloc peak of the test process per command (the HTML report's chart "
              "renderer runs in a child process and is not counted); times are wall times with tracing on."]
    return "\n".join(lines) + "\n"


def test_corpus_report(tmp_path, capsys):
    rows: list[dict] = []
    problems: list[str] = []
    for i, (name, file_name, data, (kind, _detail)) in enumerate(cases()):
        folder = tmp_path / f"case{i:02d}"
        folder.mkdir()
        path = folder / file_name
        path.write_bytes(data)
        commands = [("json", ["summarize", str(path)])]
        if kind == "ok":
            commands.append(("html", ["summarize", str(path), "--format", "html", "--out", str(folder / "report.html")]))
        row = {"name": name, "kind": kind, "codes": [], "runs": []}
        for label, argv in commands:
            code, seconds, peak, err = _measure(argv, capsys)
            row["codes"].append(code)
            row["runs"].append((label, seconds, peak))
            want = EXIT_BAD_INPUT if kind == "error" else EXIT_OK
            if code != want:
                last = (err.strip().splitlines() or [""])[-1]
                problems.append(f"{name} ({label}): exit {code}, expected {want}: {last}")
            if label == "html" and code == EXIT_OK and not (folder / "report.html").stat().st_size:
                problems.append(f"{name} (html): exit 0 but the report file is empty")
        rows.append(row)

    table = _table(rows)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(table, encoding="utf-8")
    with capsys.disabled():
        print("\n" + table)
    internal = [p for p in problems if "exit 3" in p]
    assert not internal, "internal errors (exit 3):\n" + "\n".join(internal)
    assert not problems, "\n".join(problems)
