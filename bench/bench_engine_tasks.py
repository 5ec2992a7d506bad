"""Engine benchmark of the tasks beyond a binary summary: Compare (two models) and multiclass. Markdown.

1. **Compare**: :func:`mlimpact.compare.engine_compare.compare_models_engine` on the folder of
   ``bench/bench_engines.py`` (``score`` against ``score_v2``, per ``region``, periods from ``ts``), in a child
   process (wall time, peak RSS), beside the memory path's :func:`mlimpact.compare.compare_models` on the same
   rows read into memory (the peer, at sizes that fit) and the bare DuckDB floor (the confusion counts per
   region of both models). The two Comparisons are checked to agree (every table to 1e-9).
2. **Multiclass**: a folder of N rows with six classes (``label``), a probability column per class
   (``prob_a`` … ``prob_f``, a softmax rounded to 4 decimals), no prediction column (the argmax), three segment
   columns and ``ts``, generated with DuckDB SQL; ``summarize --engine duckdb`` beside ``--engine memory``
   (the peer, at sizes that fit), and their JSON compared.

    .venv/bin/python bench/bench_engine_tasks.py                          # 10M rows (folders reused)
    .venv/bin/python bench/bench_engine_tasks.py --rows 2000000 10000000 --memory-up-to 10000000
    .venv/bin/python bench/bench_engine_tasks.py --rows 100000000 --memory-up-to 0   # engines only
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_engines import _u, ensure_data, load_average, measure  # noqa: E402

CLASSES = "abcdef"
COMPARE_CHILD = r"""
import json, sys, time, pickle
import numpy as np
folder, engine, out = sys.argv[1], sys.argv[2], sys.argv[3]
start = time.perf_counter()
if engine == "memory":
    from mlimpact.cli.common import load_file
    from mlimpact.compare import compare_models
    ds = load_file(folder, {"label": "label", "score": "score", "other_scores": ("score_v2",), "segments": ("region",),
                            "time": "ts"}, quiet=True)
    comp = compare_models(ds, segment="region", time_budget_s=None)
else:
    from mlimpact.compare.engine_compare import compare_models_engine
    from mlimpact.engine.dataset import open_engine_dataset
    eds = open_engine_dataset(folder, engine, {"label": "label", "score": "score", "other_scores": ("score_v2",),
                                               "segments": ("region",), "time": "ts"}, threshold=0.5)
    comp = compare_models_engine(eds, segment="region", time_budget_s=None)
    eds.close()
pickle.dump({k: getattr(comp, k) for k in ("overall", "segments", "differences", "robustness", "over_time",
                                           "notes", "models", "n_rows")}, open(out, "wb"))
print(json.dumps({"s": time.perf_counter() - start}))
"""
FLOOR_CHILD = r"""
import duckdb, json, sys, time
folder = sys.argv[1]
con = duckdb.connect()
start = time.perf_counter()
con.execute(f"SELECT region, label, score >= 0.5, score_v2 >= 0.5, count(*) FROM read_parquet('{folder}/**/*.parquet', "
            "hive_partitioning = true) GROUP BY ALL").fetchall()
print(json.dumps({"s": time.perf_counter() - start}))
"""


def multiclass_sql(rows: int, out: str) -> str:
    """Six classes with a per-class probability (softmax of logits that favour the true class), three segments."""
    logits = [f"({_u(20 + j)} * 3.0 + CASE WHEN y = {j} THEN 1.6 + 0.8 * {_u(30)} ELSE 0 END)" for j in range(6)]
    total = " + ".join(f"exp(l{j})" for j in range(6))
    inner = (f"SELECT i, CAST(floor(6 * {_u(1)} * {_u(2)} + 6 * {_u(3)} * 0.35) AS INTEGER) % 6 AS y, "
             f"CAST(floor(4 * {_u(4)}) AS INTEGER) AS r, CAST(floor(12 * {_u(5)}) AS INTEGER) AS c, "
             f"CAST(floor(40 * {_u(6)} * {_u(6)}) AS INTEGER) AS s FROM range({int(rows)}) t(i)")
    mid = f"SELECT *, {', '.join(f'{lg} AS l{j}' for j, lg in enumerate(logits))} FROM ({inner})"
    probs = ", ".join(f"round(exp(l{j}) / ({total}), 4) AS prob_{CLASSES[j]}" for j in range(6))
    ts = f"TIMESTAMP '2024-01-01 00:00:00' + to_seconds(CAST(floor(i * {182 * 86400}.0 / {int(rows)}) AS BIGINT))"
    outer = (f"SELECT ['a', 'b', 'c', 'd', 'e', 'f'][y + 1] AS label, {probs}, 'reg_' || r AS region, "
             f"'ch_' || lpad(c::VARCHAR, 2, '0') AS channel, 'st_' || lpad(s::VARCHAR, 2, '0') AS store, {ts} AS ts, "
             f"CAST({ts} AS DATE) AS date FROM ({mid})")
    return (f"COPY ({outer}) TO '{out}' (FORMAT parquet, PARTITION_BY (date), FILENAME_PATTERN 'part-{{i}}', "
            "OVERWRITE_OR_IGNORE true)")


def ensure_multiclass(root: Path, rows: int) -> str:
    folder = root / f"multiclass_{rows}"
    if not folder.exists():
        import duckdb  # noqa: I001 - only to generate

        start = time.perf_counter()
        duckdb.connect().execute(multiclass_sql(rows, str(folder)))
        print(f"generated {folder} in {time.perf_counter() - start:.1f} s", file=sys.stderr)
    return str(folder)


def _child(code: str, *args: str) -> dict:
    res = measure([sys.executable, "-c", code, *args])
    if res["rc"] != 0:
        raise RuntimeError(f"child failed ({res['rc']}):\n{res['stderr'][-3000:]}")
    res["inner_s"] = json.loads(res["stdout"].strip().splitlines()[-1])["s"]
    return res


def _same_comparison(a_path: str, b_path: str) -> str:
    import pickle  # noqa: I001 - only the check reads the pickles
    import numpy as np

    a, b = (pickle.loads(Path(p).read_bytes()) for p in (a_path, b_path))
    for name in ("overall", "segments", "differences", "robustness", "over_time"):
        x, y = a[name], b[name]
        for c in x.columns:
            u, v = x[c].to_numpy(), y[c].to_numpy()
            if u.dtype.kind in "fi" and not np.allclose(u.astype(float), v.astype(float), rtol=1e-9, atol=1e-12,
                                                        equal_nan=True):
                return f"{name}.{c} differs"
            if u.dtype.kind not in "fi" and [str(t) for t in u] != [str(t) for t in v]:
                return f"{name}.{c} differs"
    return "same tables" if a["notes"] == b["notes"] else "notes differ"


def _summaries(folder: str, engine: str, out: str) -> dict:
    res = measure([sys.executable, "-m", "mlimpact", "summarize", folder, "--engine", engine, "--out", out])
    if res["rc"] != 0:
        raise RuntimeError(f"summarize failed:\n{res['stderr'][-3000:]}")
    return res


def _same_json(a: str, b: str) -> str:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.engine.test_engines import assert_same_summary  # noqa: I001 - the tests' own comparison

    try:
        assert_same_summary(json.loads(Path(a).read_text()), json.loads(Path(b).read_text()))
    except AssertionError as exc:
        return f"differ: {str(exc)[:120]}"
    return "same JSON"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[10_000_000])
    parser.add_argument("--root", default="/tmp/mlimpact_bench")
    parser.add_argument("--memory-up-to", type=int, default=10_000_000, help="run the memory peer up to this size")
    args = parser.parse_args(argv)
    root = Path(args.root)

    def add(line: str) -> None:  # shown as it comes (a later step may fail), printed together at the end
        lines.append(line)
        print(line, file=sys.stderr, flush=True)

    lines = [f"load average before: {load_average()}", "",
             "| rows | task | engine | wall | peak RSS | × floor | check |", "|---:|---|---|---:|---:|---:|---|"]
    for rows in args.rows:
        folder = ensure_data(root, rows)["folder"]
        floor = _child(FLOOR_CHILD, folder)
        out = {e: f"/tmp/mlimpact_bench/compare_{rows}_{e}.pkl" for e in ("duckdb", "memory")}
        eng = _child(COMPARE_CHILD, folder, "duckdb", out["duckdb"])
        add(f"| {rows:,} | compare (2 models, per region, periods) | duckdb | {eng['wall']:.1f} s | "
                     f"{eng['rss'] / 2**20:,.0f} MiB | {eng['wall'] / floor['wall']:.1f} | floor {floor['wall']:.1f} s |")
        if rows <= args.memory_up_to:
            mem = _child(COMPARE_CHILD, folder, "memory", out["memory"])
            add(f"| {rows:,} | compare | memory | {mem['wall']:.1f} s | {mem['rss'] / 2**20:,.0f} MiB | "
                         f"{mem['wall'] / floor['wall']:.1f} | {_same_comparison(out['memory'], out['duckdb'])} |")
        mc = ensure_multiclass(root, rows)
        js = {e: f"/tmp/mlimpact_bench/multiclass_{rows}_{e}.json" for e in ("duckdb", "memory")}
        eng = _summaries(mc, "duckdb", js["duckdb"])
        add(f"| {rows:,} | multiclass summarize (6 classes, 3 segments) | duckdb | {eng['wall']:.1f} s | "
                     f"{eng['rss'] / 2**20:,.0f} MiB | | |")
        if rows <= args.memory_up_to:
            mem = _summaries(mc, "memory", js["memory"])
            add(f"| {rows:,} | multiclass summarize | memory | {mem['wall']:.1f} s | "
                         f"{mem['rss'] / 2**20:,.0f} MiB | | {_same_json(js['memory'], js['duckdb'])} |")
    lines.append(f"\nload average after: {load_average()}")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
