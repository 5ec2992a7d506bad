"""Benchmark ``mlimpact.io.read_predictions`` against ``pandas.read_csv(engine="pyarrow")``.

Generates a CSV (ids, floats, ints, categorical strings, a timestamp string column) into a temporary
directory, plus a semicolon/decimal-comma copy, then times each reader (best of
3, the two readers interleaved so that a busy machine slows both alike), then measures each reader's
peak RSS and peak Python allocations (tracemalloc) in a fresh process. Prints Markdown for the README.

    python bench/bench_io.py --rows 1000000
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

READERS = ("pandas", "mlimpact", "mlimpact + sha256")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def make_frame(rows: int, seed: int = 0):
    """A predictions-like frame with 10 columns."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    score = rng.random(rows)
    start = np.datetime64("2024-01-01T00:00:00")
    return pd.DataFrame(
        {
            "id": np.arange(rows, dtype=np.int64),
            "score": score.round(6),
            "label": (rng.random(rows) < score).astype(np.int64),
            "amount": rng.gamma(2.0, 50.0, rows).round(2),
            "latency_ms": rng.integers(1, 5_000, rows),
            "region": rng.choice(["north", "south", "east", "west"], rows),
            "channel": rng.choice(["web", "app", "store"], rows),
            "segment": rng.choice([f"seg_{i:02d}" for i in range(20)], rows),
            "feature_x": rng.normal(0.0, 1.0, rows).round(5),
            "ts": (start + rng.integers(0, 90 * 86_400, rows).astype("timedelta64[s]")).astype(str),
        }
    )


def write_files(rows: int, directory: str) -> dict[str, str]:
    """Write the comma CSV and the semicolon/decimal-comma CSV; return {kind: path}."""
    frame = make_frame(rows)
    paths = {
        "comma": os.path.join(directory, "preds.csv"),
        "semicolon": os.path.join(directory, "preds_eu.csv"),
    }
    frame.to_csv(paths["comma"], index=False)
    frame.to_csv(paths["semicolon"], index=False, sep=";", decimal=",")
    return paths


def _reader(reader: str, path: str, kind: str):
    import pandas as pd

    sys.path.insert(0, ROOT)
    from mlimpact.io import read_predictions

    if reader == "mlimpact":
        return lambda: read_predictions(path)[0]
    if reader == "mlimpact + sha256":  # plus the content hash the app computes next (cache key, provenance)
        return lambda: read_predictions(path)[1].content_hash
    if kind == "semicolon":
        return lambda: pd.read_csv(path, engine="pyarrow", sep=";", decimal=",")
    return lambda: pd.read_csv(path, engine="pyarrow")


def child_time(path: str, kind: str, repeats: int) -> None:
    """Time both readers interleaved in this process (fair when the machine's load varies); print JSON."""
    runs = {reader: _reader(reader, path, kind) for reader in READERS}
    for run in runs.values():  # warm-up: page cache, Arrow thread pool, lazy imports
        run()
    times: dict[str, list[float]] = {reader: [] for reader in READERS}
    for _ in range(repeats):
        for reader, run in runs.items():
            t0 = time.perf_counter()
            frame = run()
            times[reader].append(time.perf_counter() - t0)
            del frame
    print(json.dumps({reader: min(ts) for reader, ts in times.items()}))


def child_memory(reader: str, path: str, kind: str) -> None:
    """Read once in this fresh process; print JSON: peak RSS, its growth, and the tracemalloc peak."""
    import tracemalloc

    run = _reader(reader, path, kind)
    base_mib = _rss_mib("VmRSS")
    run()
    peak_mib = _rss_mib("VmHWM")  # per process image: not inherited from the parent like ru_maxrss
    tracemalloc.start()
    run()
    traced = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    print(json.dumps({"peak_mib": peak_mib, "growth_mib": peak_mib - base_mib, "traced_mib": traced}))


def _rss_mib(field: str) -> float:
    """A memory figure of this process from /proc/self/status, in MiB (NaN where /proc is missing)."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def _run_child(*args: str) -> dict:
    cmd = [sys.executable, os.path.abspath(__file__), "--child", *args]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        if args.child[0] == "time":
            child_time(*args.child[1:], repeats=args.repeats)
        else:
            child_memory(*args.child[1:])
        return
    with tempfile.TemporaryDirectory(prefix="bench_io_") as tmp:
        t0 = time.perf_counter()
        paths = write_files(args.rows, tmp)
        sizes = {k: os.path.getsize(p) / 2**20 for k, p in paths.items()}
        print(f"<!-- generated {args.rows:,} rows in {time.perf_counter() - t0:.1f} s -->\n")
        title = f'`read_predictions` vs `pandas.read_csv(engine="pyarrow")`, {args.rows:,} rows x 10 columns'
        print(f"### {title}\n")
        print(
            f"| file | reader | best of {args.repeats} (s) | time vs pandas | peak RSS (MiB) "
            "| RSS growth (MiB) | peak traced Python (MiB) |"
        )
        print("|---|---|---:|---:|---:|---:|---:|")
        for kind, path in paths.items():
            best = _run_child("time", path, kind, "--repeats", str(args.repeats))
            label = f"{kind} ({sizes[kind]:.0f} MiB)"
            for reader in READERS:
                m = _run_child("memory", reader, path, kind)
                shown = "pandas pyarrow" if reader == "pandas" else reader
                print(
                    f"| {label} | {shown} | {best[reader]:.3f} | {best[reader] / best['pandas']:.2f}x "
                    f"| {m['peak_mib']:.0f} | {m['growth_mib']:.0f} | {m['traced_mib']:.0f} |"
                )
        print(
            "\nTimes: both readers interleaved in one process after a warm-up, best of "
            f"{args.repeats}. Memory: each reader once in its own fresh process; peak RSS includes the "
            "interpreter and imports, RSS growth is the peak minus the RSS after imports, traced Python "
            "memory counts Python allocations only (e.g. the raw bytes that `read_predictions` keeps for "
            f"hashing), not Arrow buffers. Machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}."
        )


if __name__ == "__main__":
    main()
