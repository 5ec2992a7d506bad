"""Engine benchmark: ``summarize --engine duckdb`` on a hive-partitioned Parquet folder of N rows. Markdown.

1. Generates (once; reused when present) ``<root>/rows_<N>/date=YYYY-MM-DD/part-*.parquet`` with DuckDB SQL
   from ``range(N)`` (hash-based pseudo-random values; nothing row-sized passes through Python): ``label``
   (0/1, about 3% positives, drawn from the true probability, so ``score`` is informative and some segments
   are miscalibrated), ``score`` and ``score_v2`` (two models, probabilities rounded to 4 decimals), six
   text segment columns with 3, 8, 20, 50, 200 and 1,000 values (``region``, ``channel``, ``device``,
   ``category``, ``merchant``, ``store``), ``ts`` over six months, ``date`` (the partition, the day of ``ts``)
   and ``amount`` (positive). Prints the generation time and the folder's size.
2. Measures, each in a child process (wall time and peak RSS from ``/usr/bin/time -v``, else from
   ``getrusage(RUSAGE_CHILDREN)``):

   a. the floor: a bare DuckDB query per segment column in a child Python,
      ``SELECT col, label, score >= 0.5, count(*) FROM read_parquet(...) GROUP BY ALL`` — the confusion
      counts per segment, the least any tool must compute;
   b. ``python -m mlimpact summarize FOLDER --engine duckdb --label label --score score --segment ...`` (all
      six), JSON to a file, checked to parse and to have ``rows.used == N``; its ``duckdb: k/n ...``
      progress lines on stderr are timestamped to show which step took the time.

   c. ``python -m mlimpact slices FOLDER --engine duckdb ...`` (the six segments and ``amount``: 7 columns, up to
      3 predicates), its JSON kept beside the summary (``--no-slices`` skips it);
   d. ``python -m mlimpact impact FOLDER --engine duckdb --cost-fn amount --cost-fp 5 --segment region`` (the other
      model ``score_v2`` as baselines), its JSON kept too (``--no-impact`` skips it).

Targets (the issue): summarize ≤ 60 s and peak RSS ≤ 2 GiB, weak slices ≤ 120 s, impact ≤ 30 s, on a 2-core machine.

    .venv/bin/python bench/bench_engines.py                      # 100,000,000 rows: 1.2 GB, ~4 min to generate
                                                                 # once, then ~2-3 min on a busy 2-core machine
    .venv/bin/python bench/bench_engines.py --rows 10000000      # quicker (about 40 s the first time)
    .venv/bin/python bench/bench_engines.py --rows 2000000 10000000 --json /tmp/engines.json

Timings on a shared machine depend on what else runs: the load average is printed with them.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MiB = 1024 * 1024
GiB = 1024 * MiB
TIME_BIN = "/usr/bin/time"
SEGMENTS = (("region", 3), ("channel", 8), ("device", 20), ("category", 50), ("merchant", 200),
            ("store", 1000))
TARGET_S = 60.0
TARGET_SLICES_S = 120.0
TARGET_IMPACT_S = 30.0
TARGET_RSS = 2 * GiB
START = "2024-01-01"
SPAN_DAYS = 182  # six months


def say(text: str) -> None:
    """Progress on stderr (the Markdown goes to stdout)."""
    print(text, file=sys.stderr, flush=True)


def load_average() -> str:
    return " / ".join(f"{x:.2f}" for x in os.getloadavg())


def code_version() -> str:
    """The commit measured, and whether ``mlimpact/`` had uncommitted changes when the run started."""
    try:
        def git(*args: str) -> str:
            done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True)
            return done.stdout.strip()

        head = git("rev-parse", "--short", "HEAD")
        dirty = git("status", "--porcelain", "--", "mlimpact")
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return f"`{head}`" + (" with uncommitted changes in mlimpact/" if dirty else "")


def folder_size(path: Path) -> tuple[int, int, int]:
    """(files, apparent bytes, bytes on disk) of the Parquet files under ``path``."""
    files = apparent = disk = 0
    for p in path.rglob("*.parquet"):
        st = p.stat()
        files += 1
        apparent += st.st_size
        disk += st.st_blocks * 512
    return files, apparent, disk


# ----------------------------------------------------------------------------- 1. data
def _u(k: int) -> str:
    """A uniform in (0, 1) from the 53 high bits of ``hash(64 i + k)``: one stream per ``k`` < 64.

    (Not ``hash(i, k)``: DuckDB's multi-argument hash gives streams correlated about 0.6.)
    """
    return f"((hash(i * 64 + {k}) >> 11)::DOUBLE + 0.5) / 9007199254740992.0"


def _normal(k: int) -> str:
    """A standard normal (Box-Muller) from streams ``k`` and ``k + 1``."""
    return f"sqrt(-2.0 * ln({_u(k)})) * cos(2.0 * pi() * {_u(k + 1)})"


def generation_sql(rows: int, out: str) -> str:
    """``COPY (...) TO out (FORMAT parquet, PARTITION_BY (date))`` of ``rows`` rows."""
    seg_idx = []
    for j, (name, k) in enumerate(SEGMENTS):
        # the small columns evenly spread, merchant and store skewed (a few large values, a long tail)
        u = _u(10 + j)
        spread = f"{u}" if k <= 50 else f"({u}) * ({u})"
        seg_idx.append(f"CAST(floor({k} * {spread}) AS INTEGER) AS {name}_i")
    width = {name: len(str(k - 1)) for name, k in SEGMENTS}
    seg_text = ", ".join(f"'{name[:3]}_' || lpad({name}_i::VARCHAR, {width[name]}, '0') AS {name}"
                         for name, _ in SEGMENTS)
    span_s = SPAN_DAYS * 86400
    inner = (f"SELECT i, {_normal(1)} AS n1, {_normal(3)} AS n2, {_normal(5)} AS n3, {_u(7)} AS ul, "
             f"{', '.join(seg_idx)} FROM range({int(rows)}) t(i)")
    # the model sees z; the truth adds segment effects it misses (region, device 0, store < 10)
    mid = (f"SELECT *, -4.4 + 1.4 * n1 AS z, "
           f"0.45 * (region_i - 1) + CASE WHEN device_i = 0 THEN 0.6 ELSE 0 END "
           f"+ CASE WHEN store_i < 10 THEN -0.5 ELSE 0 END AS effect FROM ({inner})")
    ts = f"TIMESTAMP '{START} 00:00:00' + to_seconds(CAST(floor(i * {span_s}.0 / {int(rows)}) AS BIGINT))"
    outer = (f"SELECT CAST(ul < 1.0 / (1.0 + exp(-(z + effect))) AS INTEGER) AS label, "
             f"round(1.0 / (1.0 + exp(-z)), 4) AS score, "
             f"round(1.0 / (1.0 + exp(-(0.9 * z + 0.5 * effect + 0.6 * n2 - 0.4))), 4) AS score_v2, "
             f"{seg_text}, {ts} AS ts, CAST({ts} AS DATE) AS date, "
             f"greatest(round(exp(3.5 + 1.1 * n3), 2), 0.01) AS amount FROM ({mid})")
    return (f"COPY ({outer}) TO '{out}' (FORMAT parquet, PARTITION_BY (date), FILENAME_PATTERN 'part-{{i}}', "
            "OVERWRITE_OR_IGNORE true)")


def ensure_data(root: Path, rows: int, regenerate: bool = False) -> dict:
    """The folder for ``rows`` (generated unless present); its path, size and generation time."""
    import duckdb

    folder = root / f"rows_{rows}"
    info = {"folder": str(folder), "generated": False, "gen_s": None}
    if folder.is_dir() and not regenerate:
        say(f"reusing {folder}")
    else:
        if folder.exists():
            shutil.rmtree(folder)
        tmp = root / f".rows_{rows}.partial"
        if tmp.exists():
            shutil.rmtree(tmp)
        root.mkdir(parents=True, exist_ok=True)
        spill = root / ".spill"
        spill.mkdir(exist_ok=True)
        say(f"generating {rows:,} rows into {folder} (load {load_average()})")
        start = time.perf_counter()
        con = duckdb.connect(config={"preserve_insertion_order": False, "memory_limit": "8GB",
                                     "temp_directory": str(spill)})
        try:
            con.execute(generation_sql(rows, str(tmp)))
        finally:
            con.close()
        os.rename(tmp, folder)  # only a finished folder is ever reused
        shutil.rmtree(spill, ignore_errors=True)
        info.update(generated=True, gen_s=time.perf_counter() - start)
    info["files"], info["bytes"], info["disk_bytes"] = folder_size(folder)
    info["partitions"] = sum(1 for p in folder.iterdir() if p.is_dir() and p.name.startswith("date="))
    return info


# ----------------------------------------------------------------------------- 2. measurements
FLOOR_CHILD = r"""
import json, sys, time
import duckdb
folder, rows, columns = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
con = duckdb.connect()
src = f"read_parquet('{folder}/**/*.parquet', hive_partitioning = true)"
out = {}
for col in columns:
    start = time.perf_counter()
    res = con.execute(f"SELECT {col}, label, score >= 0.5, count(*) FROM {src} GROUP BY ALL").fetchall()
    out[col] = {"s": time.perf_counter() - start, "groups": len(res), "rows": sum(r[3] for r in res)}
print(json.dumps(out))
"""


def _parse_time_v(text: str) -> dict:
    """Wall time, peak RSS and CPU seconds from ``/usr/bin/time -v`` output."""
    out = {}
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", text)
    if m:
        out["rss"] = int(m.group(1)) * 1024
    m = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([\d:.]+)", text)
    if m:
        secs = 0.0
        for part in m.group(1).split(":"):
            secs = secs * 60 + float(part)
        out["wall"] = secs
    cpu = [float(x) for x in re.findall(r"(?:User|System) time \(seconds\): ([\d.]+)", text)]
    if len(cpu) == 2:
        out["cpu"] = sum(cpu)
    return out


def measure(cmd: list[str], *, stderr_lines: list | None = None) -> dict:
    """Run ``cmd`` in a child process: wall time, peak RSS, CPU time, exit code, stdout and stderr.

    Each stderr line is kept with the seconds since the start at which it arrived (``stderr_lines``).
    """
    use_time = os.access(TIME_BIN, os.X_OK)
    with tempfile.NamedTemporaryFile("r", suffix=".time", delete=False) as tf, \
            tempfile.TemporaryFile("w+") as out:
        full = ([TIME_BIN, "-v", "-o", tf.name] if use_time else []) + cmd
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        proc = subprocess.Popen(full, cwd=ROOT, stdout=out, stderr=subprocess.PIPE, text=True)
        lines = stderr_lines if stderr_lines is not None else []
        for line in proc.stderr:
            lines.append((time.perf_counter() - start, line.rstrip("\n")))
        rc = proc.wait()
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        out.seek(0)
        stdout = out.read()
        res = {"rc": rc, "wall": wall, "stdout": stdout, "stderr": "\n".join(x for _, x in lines),
               "via": "/usr/bin/time -v" if use_time else "getrusage(RUSAGE_CHILDREN)"}
        if use_time:
            res.update(_parse_time_v(Path(tf.name).read_text()))
        else:  # the largest child so far: exact as long as this child is the largest
            res["rss"] = after.ru_maxrss * 1024
            res["cpu"] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    os.unlink(tf.name)
    return res


def run_floor(folder: str, rows: int) -> dict:
    cmd = [sys.executable, "-c", FLOOR_CHILD, folder, str(rows)] + [name for name, _ in SEGMENTS]
    res = measure(cmd)
    if res["rc"] != 0:
        raise RuntimeError(f"floor child failed ({res['rc']}):\n{res['stderr'][-3000:]}")
    res["queries"] = json.loads(res["stdout"].strip().splitlines()[-1])
    res["query_s"] = sum(q["s"] for q in res["queries"].values())
    bad = {c: q["rows"] for c, q in res["queries"].items() if q["rows"] != rows}
    res["check"] = "ok" if not bad else f"row counts differ from {rows:,}: {bad}"
    return res


def run_summarize(folder: str, rows: int, out_json: str) -> dict:
    cmd = [sys.executable, "-m", "mlimpact", "summarize", folder, "--engine", "duckdb", "--label", "label",
           "--score", "score"]
    for name, _ in SEGMENTS:
        cmd += ["--segment", name]
    cmd += ["--out", out_json]
    lines: list = []
    res = measure(cmd, stderr_lines=lines)
    res["progress"] = [(t, line) for t, line in lines if line.startswith("duckdb: ")]
    res["check"] = _check_summary(out_json, rows) if res["rc"] == 0 else f"exit code {res['rc']}"
    return res


def _run_json(cmd: list[str], out_json: str, describe) -> dict:
    """A command printing JSON, measured; its JSON kept in ``out_json``; ``describe(doc)`` for the check column."""
    lines: list = []
    res = measure(cmd, stderr_lines=lines)
    res["progress"] = [(t, line) for t, line in lines if line.startswith("duckdb: ")]
    if res["rc"] != 0:
        res["check"] = f"exit code {res['rc']}"
    else:
        Path(out_json).write_text(res["stdout"])
        res["check"] = describe(json.loads(res["stdout"]))
    return res


def run_slices(folder: str, rows: int, out_json: str) -> dict:
    """``slices --engine duckdb`` with the six segments (amount is sliced too: 7 columns, level <= 3)."""
    cmd = [sys.executable, "-m", "mlimpact", "slices", folder, "--engine", "duckdb", "--label", "label",
           "--score", "score"]
    for name, _ in SEGMENTS:
        cmd += ["--segment", name]
    return _run_json(cmd, out_json, lambda doc: (
        f"valid JSON, {len(doc['slices'])} slices of {doc['n_evaluated']:,} evaluated; first: "
        f"{doc['slices'][0]['description'] if doc['slices'] else '-'}"))


def run_impact(folder: str, out_json: str) -> dict:
    """``impact --engine duckdb`` with the amount as the cost of a miss, the other model and the first segment."""
    cmd = [sys.executable, "-m", "mlimpact", "impact", folder, "--engine", "duckdb", "--label", "label", "--score",
           "score", "--segment", "region", "--cost-fn", "amount", "--cost-fp", "5"]
    return _run_json(cmd, out_json, lambda doc: (
        f"valid JSON, best threshold {doc['best_threshold']:g}, other models {', '.join(doc['other_baselines'])}"))


def _check_summary(path: str, rows: int) -> str:
    try:
        doc = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        return f"not valid JSON: {exc}"
    used = (doc.get("rows") or {}).get("used")
    if used != rows:
        return f"rows.used = {used!r}, expected {rows:,}"
    return "valid JSON, rows.used = N"


def headline(path: str) -> str:
    """A few overall metrics and the segment rows per column: the data is informative (best effort)."""
    try:
        doc = json.loads(Path(path).read_text())
        overall = doc.get("overall") or {}
        parts = [f"{name.replace('_', ' ')} {overall[name]['value']:.3f}"
                 for name in ("roc_auc", "average_precision", "base_rate", "recall", "precision")
                 if isinstance((overall.get(name) or {}).get("value"), (int, float))]
        per_column: dict[str, int] = {}
        for row in doc.get("segments") or []:
            per_column[row.get("column")] = per_column.get(row.get("column"), 0) + 1
        if per_column:
            listed = ", ".join(f"{c} {k:,}" for c, k in per_column.items())
            parts.append(f"segment values in the JSON: {listed}")
        return "; ".join(parts)
    except (OSError, ValueError, TypeError, AttributeError, KeyError):
        return ""


# ----------------------------------------------------------------------------- report
def progress_table(progress: list, wall: float) -> list[str]:
    out = ["| step (`duckdb: k/n ...` on stderr; each step ends at its line) | at (s) | step (s) |",
           "|---|---:|---:|"]
    prev = 0.0
    for t, line in progress:
        out.append(f"| `{line}` | {t:.1f} | {t - prev:.1f} |")
        prev = t
    out.append(f"| (after the last line: summary document, JSON written, exit) | {wall:.1f} | "
               f"{wall - prev:.1f} |")
    return out


def _mib(n) -> str:
    return f"{n / MiB:,.0f}" if isinstance(n, (int, float)) else "?"


def _s(x) -> str:
    return f"{x:.1f}" if isinstance(x, (int, float)) else "?"


def markdown(results: list[dict]) -> str:
    ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / GiB
    cores = os.cpu_count() or 1
    via = results[0]["summarize"]["via"] if results else TIME_BIN
    out = ["### `summarize --engine duckdb` on a hive-partitioned Parquet folder\n",
           f"Machine: {cores} cores, {ram:.0f} GiB RAM, shared with other work running at the same time "
           "(load average 1/5/15 min before and after each run below; on 2 cores a load above ~2 means the "
           "benchmark shared its cores). The Parquet files are in the page cache (warm reads). Wall time, "
           f"CPU time and peak RSS of each child process via {via}.\n",
           f"Targets (issue): summarize ≤ {TARGET_S:.0f} s and peak RSS ≤ {TARGET_RSS / GiB:.0f} GiB "
           f"({TARGET_RSS / MiB:,.0f} MiB); weak slices ≤ {TARGET_SLICES_S:.0f} s; impact ≤ {TARGET_IMPACT_S:.0f} s.\n"]
    for r in results:
        d = r["data"]
        gen = (f"generated in **{d['gen_s']:.0f} s**" if d["generated"]
               else "reused (generated by an earlier run)")
        out.append(f"**{r['rows']:,} rows**: `{d['folder']}`, {d['partitions']} date partitions, "
                   f"{d['files']:,} files, **{_mib(d['bytes'])} MiB** ({_mib(d['disk_bytes'])} MiB on disk), "
                   f"{gen}.\n")
    out += ["| rows | what | seconds | CPU s (user+sys) | peak RSS (MiB) | × floor (time) | check |",
            "|---:|---|---:|---:|---:|---:|---|"]
    for r in results:
        f, s = r["floor"], r["summarize"]
        ratio = s["wall"] / f["wall"] if f["wall"] > 0 else float("nan")
        out.append(f"| {r['rows']:,} | floor: bare DuckDB, 6 × `GROUP BY col, label, score >= 0.5` "
                   f"(child Python; queries alone {f['query_s']:.1f} s) | {f['wall']:.1f} | "
                   f"{_s(f.get('cpu'))} | {_mib(f.get('rss'))} | 1.0 | {f['check']} |")
        out.append(f"| {r['rows']:,} | `python -m mlimpact summarize --engine duckdb`, 6 segments | "
                   f"{s['wall']:.1f} | {_s(s.get('cpu'))} | {_mib(s.get('rss'))} | {ratio:.1f} | "
                   f"{s['check']} |")
        sl = r.get("slices")
        if sl:
            ratio = sl["wall"] / f["wall"] if f["wall"] > 0 else float("nan")
            out.append(f"| {r['rows']:,} | `python -m mlimpact slices --engine duckdb`, 7 columns, level ≤ 3 "
                       f"(target ≤ {TARGET_SLICES_S:.0f} s) | {sl['wall']:.1f} | {_s(sl.get('cpu'))} | "
                       f"{_mib(sl.get('rss'))} | {ratio:.1f} | {sl['check']} |")
        im = r.get("impact")
        if im:
            ratio = im["wall"] / f["wall"] if f["wall"] > 0 else float("nan")
            out.append(f"| {r['rows']:,} | `python -m mlimpact impact --engine duckdb`, cost of a miss = amount, "
                       f"another model, a segment (target ≤ {TARGET_IMPACT_S:.0f} s) | {im['wall']:.1f} | "
                       f"{_s(im.get('cpu'))} | {_mib(im.get('rss'))} | {ratio:.1f} | {im['check']} |")
    out.append("")
    for r in results:
        s = r["summarize"]
        ok = s["rc"] == 0
        time_ok = ok and s["wall"] <= TARGET_S
        rss_ok = ok and s.get("rss", TARGET_RSS + 1) <= TARGET_RSS
        line = (f"**{r['rows']:,} rows** — time target {'met' if time_ok else '**missed**'} "
                f"({s['wall']:.1f} s vs ≤ {TARGET_S:.0f} s), "
                f"memory target {'met' if rss_ok else '**missed**'} "
                f"({_mib(s.get('rss'))} MiB vs ≤ {TARGET_RSS / MiB:,.0f} MiB).")
        if isinstance(s.get("cpu"), (int, float)):
            line += (f" Its CPU time / {cores} cores = {s['cpu'] / cores:.1f} s: the least wall time it "
                     "could take on this machine with no other work.")
        line += (f" Load average before → after: {r['load_before']} → {r['load_after']}. "
                 f"Code measured: {r['code']}.")
        if r.get("headline"):
            line += f" Overall: {r['headline']}."
        out.append(line)
        if not ok:
            out.append("\nsummarize failed; stderr tail:\n```\n" + s["stderr"][-3000:] + "\n```")
        out.append("")
        out += progress_table(s["progress"], s["wall"])
        floor_q = ", ".join(f"{c} {q['s']:.1f} s" for c, q in r["floor"]["queries"].items())
        out.append(f"\nFloor queries: {floor_q}.\n")
        if r.get("slices"):
            out.append("`slices` steps (each line is printed as its step starts):\n")
            out += ["| `duckdb:` line | at (s) |", "|---|---:|"]
            out += [f"| `{line}` | {t:.1f} |" for t, line in r["slices"]["progress"]]
            out.append(f"| (exit) | {r['slices']['wall']:.1f} |")
            out.append("")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000_000],
                        help="rows of the generated folder (several: one run each); default 100,000,000")
    parser.add_argument("--root", default="/tmp/mlimpact_bench",
                        help="where the folders are generated and kept")
    parser.add_argument("--regenerate", action="store_true",
                        help="generate again even when the folder exists")
    parser.add_argument("--json", help="also write the raw results here")
    parser.add_argument("--no-slices", action="store_true", help="skip `slices --engine duckdb`")
    parser.add_argument("--no-impact", action="store_true", help="skip `impact --engine duckdb`")
    args = parser.parse_args(argv)
    root = Path(args.root)
    results = []
    for rows in args.rows:
        if rows < 1:
            parser.error("--rows must be at least 1")
        data = ensure_data(root, rows, args.regenerate)
        gen = f", generated in {data['gen_s']:.1f} s" if data["generated"] else ""
        say(f"{rows:,} rows: {_mib(data['bytes'])} MiB in {data['files']} files{gen}")
        load_before = load_average()
        code = code_version()
        floor = run_floor(data["folder"], rows)
        say(f"floor {floor['wall']:.1f} s, {_mib(floor.get('rss'))} MiB ({floor['check']})")
        out_json = str(root / f"summary_{rows}.json")
        summ = run_summarize(data["folder"], rows, out_json)
        for t, line in summ["progress"]:
            say(f"  {t:7.1f} s  {line}")
        say(f"summarize {summ['wall']:.1f} s, {_mib(summ.get('rss'))} MiB, exit {summ['rc']} "
            f"({summ['check']})")
        sl = None
        if not args.no_slices:
            sl = run_slices(data["folder"], rows, str(root / f"slices_{rows}.json"))
            say(f"slices {sl['wall']:.1f} s, {_mib(sl.get('rss'))} MiB, exit {sl['rc']} ({sl['check']})")
        im = None
        if not args.no_impact:
            im = run_impact(data["folder"], str(root / f"impact_{rows}.json"))
            say(f"impact {im['wall']:.1f} s, {_mib(im.get('rss'))} MiB, exit {im['rc']} ({im['check']})")
        results.append({"rows": rows, "data": data, "floor": floor, "summarize": summ, "slices": sl, "impact": im,
                        "load_before": load_before, "load_after": load_average(), "code": code,
                        "headline": headline(out_json) if summ["rc"] == 0 else ""})
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2, default=str))
    print(markdown(results))
    good = all(r["summarize"]["rc"] == 0 and r["summarize"]["check"].startswith("valid") for r in results)
    return 0 if good else 1


if __name__ == "__main__":
    raise SystemExit(main())
