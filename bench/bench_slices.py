"""Benchmark ``mlimpact.slices.weak`` (``scoring="sliceline"``) against the ``sliceline`` package.

Both tools get the same encoded data (integer codes of 8 categorical columns with planted weak slices,
0/1 errors) and the same alpha, k, maximum level and minimum support. Each tool runs in a fresh
subprocess, so peaks do not mix: one run timed (best of 3 for mlimpact) with its peak RSS growth
(VmHWM after the fit minus VmRSS before it), one run under tracemalloc for the peak of Python/numpy
allocations. The top-k slices and their scores are compared (scores to 1e-9). Prints Markdown.

    python bench/bench_slices.py                 # 100k rows; 1M only if sliceline would finish in 10 min
    python bench/bench_slices.py --rows 20000 --skip-1m
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOMAINS = [2, 3, 3, 4, 4, 5, 5, 6]
LIMIT_S = 600.0


def make_data(rows: int, seed: int = 0, domains: list[int] | None = None):
    """Categorical string columns and 0/1 errors with weak slices planted at levels 1, 2 and 3."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            f"c{j}": np.array([f"v{i:02d}" for i in range(d)])[rng.integers(0, d, rows)]
            for j, d in enumerate(domains or DOMAINS)
        }
    )
    rate = np.full(rows, 0.08)
    rate[(frame["c1"] == "v01").to_numpy()] *= 1.6
    rate[((frame["c2"] == "v02") & (frame["c3"] == "v00")).to_numpy()] = 0.2
    rate[((frame["c4"] == "v03") & (frame["c5"] == "v01") & (frame["c6"] == "v04")).to_numpy()] = 0.4
    errors = (rng.random(rows) < rate).astype(float)
    return frame, errors


def child(tool: str, data_dir: str, params: dict, trace: bool, repeats: int) -> None:
    """Run one tool in this fresh process; print JSON with time, memory and the top-k."""
    import tracemalloc
    import warnings

    import numpy as np

    codes = np.load(os.path.join(data_dir, "codes.npy"))
    errors = np.load(os.path.join(data_dir, "errors.npy"))
    if tool == "sliceline":
        from sliceline.slicefinder import Slicefinder

        def run():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                sf = Slicefinder(
                    alpha=params["alpha"],
                    k=params["k"],
                    max_l=params["level"],
                    min_sup=params["min_support"],
                    verbose=False,
                ).fit(codes, errors)
            top = [
                [[[j, int(v)] for j, v in enumerate(row) if v is not None], st["slice_score"]]
                for row, st in zip(sf.top_slices_, sf.top_slices_statistics_, strict=True)
            ]
            return top, None
    else:
        sys.path.insert(0, ROOT)
        from mlimpact.slices import EncodedFeatures, find_weak_slices

        labels = tuple(tuple(f"v{i:02d}" for i in range(int(d))) for d in codes.max(axis=0) + 1)
        cols = tuple(f"c{j}" for j in range(codes.shape[1]))
        features = EncodedFeatures(
            cols, np.asfortranarray(codes), labels, labels, ("categorical",) * len(cols)
        )

        def run():
            res = find_weak_slices(
                features,
                errors,
                scoring="sliceline",
                alpha=params["alpha"],
                k=params["k"],
                max_level=params["level"],
                min_support=params["min_support"],
            )
            top = [
                [[list(p) for p in d], float(s)]
                for d, s in zip(res.definitions, res.slices["score"], strict=True)
            ]
            return top, res.n_evaluated

    # peak RSS from this process's own high-water mark (ru_maxrss would also count the parent's RSS
    # at fork time, which Linux carries across exec); reset it first where the kernel allows
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
    except OSError:
        pass
    rss_before = proc_status_kb("VmRSS")
    if trace:
        tracemalloc.start()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        top, n_evaluated = run()
        best = min(best, time.perf_counter() - start)
    out = {"time_s": best, "top": top, "n_evaluated": n_evaluated}
    if trace:
        out["traced_peak_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
    else:
        out["rss_growth_mb"] = max(proc_status_kb("VmHWM") - rss_before, 0) / 1024
    print(json.dumps(out))


def proc_status_kb(field: str) -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")  # pragma: no cover


def available_mb() -> float:
    with open("/proc/meminfo") as fh:
        for line in fh:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) / 1024
    return float("inf")  # pragma: no cover


def spawn(tool: str, data_dir: str, params: dict, trace: bool, repeats: int) -> dict:
    cmd = [
        sys.executable,
        os.path.abspath(__file__),
        "--child",
        tool,
        "--data",
        data_dir,
        "--params",
        json.dumps(params),
        "--repeats",
        str(repeats),
    ] + (["--trace"] if trace else [])
    done = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def same_top(a: list, b: list, tol: float = 1e-9) -> bool:
    if len(a) != len(b):
        return False
    for (pa, sa), (pb, sb) in zip(a, b, strict=True):
        if sorted(map(tuple, pa)) != sorted(map(tuple, pb)) or abs(sa - sb) > tol:
            return False
    return True


def bench(rows: int, params: dict, with_peer: bool) -> dict:
    import numpy as np

    sys.path.insert(0, ROOT)
    from mlimpact.slices import encode_features

    frame, errors = make_data(rows, domains=params["domains"])
    features = encode_features(frame, list(frame.columns))
    with tempfile.TemporaryDirectory() as data_dir:
        np.save(os.path.join(data_dir, "codes.npy"), np.ascontiguousarray(features.codes))
        np.save(os.path.join(data_dir, "errors.npy"), errors)
        result = {"rows": rows, "columns": features.codes.shape[1]}
        result["mlimpact"] = spawn("mlimpact", data_dir, params, trace=False, repeats=3)
        result["mlimpact"].update(
            {"traced_peak_mb": spawn("mlimpact", data_dir, params, True, 1)["traced_peak_mb"]}
        )
        if with_peer:
            result["sliceline"] = spawn("sliceline", data_dir, params, trace=False, repeats=1)
            traced = spawn("sliceline", data_dir, params, trace=True, repeats=1)
            result["sliceline"]["traced_peak_mb"] = traced["traced_peak_mb"]
            result["match"] = same_top(result["sliceline"]["top"], result["mlimpact"]["top"])
    return result


def markdown(results: list[dict], params: dict) -> str:
    lines = [
        f"alpha = {params['alpha']}, k = {params['k']}, max level = {params['level']}, "
        f"min support = {params['min_support']}; values per column {params['domains']}; 0/1 errors; "
        f"{os.cpu_count()} cores",
        "",
        "| rows | columns | level | tool | time (s) | peak traced (MB) | peak RSS growth (MB) "
        "| same top-k & scores |",
        "|---:|---:|---:|---|---:|---:|---:|---|",
    ]
    for r in results:
        for tool in ("sliceline", "mlimpact"):
            if tool not in r:
                continue
            t = r[tool]
            match = ("yes" if r["match"] else "**no**") if "match" in r else "(peer skipped)"
            lines.append(
                f"| {r['rows']:,} | {r['columns']} | {params['level']} | {tool} | {t['time_s']:.3f} | "
                f"{t['traced_peak_mb']:.1f} | {t['rss_growth_mb']:.1f} | "
                f"{match if tool == 'mlimpact' else ''} |"
            )
    lines.append("")
    for r in results:
        if "sliceline" in r:
            p, m = r["sliceline"], r["mlimpact"]
            lines.append(
                f"- {r['rows']:,} rows: mlimpact is {p['time_s'] / m['time_s']:.0f}x faster; "
                "its traced peak is "
                f"{m['traced_peak_mb'] / max(p['traced_peak_mb'], 1e-9):.3f}x and its RSS growth "
                f"{m['rss_growth_mb'] / max(p['rss_growth_mb'], 1e-9):.3f}x sliceline's; "
                f"{m['n_evaluated']:,} slices evaluated."
            )
        else:
            lines.append(f"- {r['rows']:,} rows: {r.get('note', 'sliceline skipped')}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--skip-1m", action="store_true", help="do not try 1,000,000 rows")
    parser.add_argument("--alpha", type=float, default=0.95)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--level", type=int, default=3)
    parser.add_argument("--min-support", type=int, default=100)
    parser.add_argument(
        "--domains",
        default=",".join(map(str, DOMAINS)),
        help="values per column, comma-separated (at least 7 columns; larger domains cost "
        "sliceline much more memory: 3,4,5,6,8,10,12,15 needs ~2.3 GB at 20k rows)",
    )
    parser.add_argument("--child", choices=["sliceline", "mlimpact"], help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    parser.add_argument("--params", help=argparse.SUPPRESS)
    parser.add_argument("--trace", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--repeats", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.data, json.loads(args.params), args.trace, args.repeats)
        return

    domains = [int(d) for d in args.domains.split(",")]
    need = [
        1,
        2,
        3,
        1,
        4,
        2,
        5,
    ]  # the planted slices use v01 of c1, v02 of c2, v03 of c4, v01 of c5, v04 of c6
    if len(domains) < len(need) or any(d < r for d, r in zip(domains, need, strict=False)):
        parser.error(
            f"--domains: at least 7 columns with at least {need} values (the planted slices use them)"
        )
    params = {
        "alpha": args.alpha,
        "k": args.k,
        "level": args.level,
        "min_support": args.min_support,
        "domains": domains,
    }
    results = [bench(args.rows, params, with_peer=True)]
    if not args.skip_1m and args.rows < 1_000_000:
        # sliceline grows at least linearly with rows
        # (time and memory); skip it at 1M when either would exceed the limit / half the free memory
        scale = 1_000_000 / args.rows
        estimate = results[0]["sliceline"]["time_s"] * scale
        memory = results[0]["sliceline"]["traced_peak_mb"] * scale
        free = available_mb()
        big = bench(1_000_000, params, with_peer=estimate <= LIMIT_S and memory <= free / 2)
        if "sliceline" not in big:
            big["note"] = (
                f"sliceline skipped: scaling its {args.rows:,}-row run by {scale:.0f} predicts at least "
                f"{estimate / 60:.1f} min and {memory / 1024:.1f} GB of allocations "
                f"(limits: {LIMIT_S / 60:.0f} min, half the {free / 1024:.1f} GB available)"
            )
        results.append(big)
    print(markdown(results, params))


if __name__ == "__main__":
    main()
