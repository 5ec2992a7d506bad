"""Benchmark ``mlimpact.io.read_predictions`` against ``pandas.read_csv(engine="pyarrow")``.

Generates a CSV (ids, floats, ints, categorical strings, a timestamp string column) into a temporary
directory, plus a semicolon/decimal-comma copy, then times each reader in a fresh subprocess (best of
3) and measures its peak RSS and its peak Python allocations (tracemalloc, a separate run). Prints
Markdown for the README.

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


def child(reader: str, path: str, kind: str, repeats: int) -> None:
    """Run one reader in this (fresh) process and print JSON: best time, peak RSS, tracemalloc peak."""
    import tracemalloc

    import pandas as pd

    sys.path.insert(0, ROOT)
    from mlimpact.io import read_predictions

    if reader == "mlimpact":

        def run():
            return read_predictions(path)[0]
    elif kind == "semicolon":

        def run():
            return pd.read_csv(path, engine="pyarrow", sep=";", decimal=",")
    else:

        def run():
            return pd.read_csv(path, engine="pyarrow")

    base_mib = _rss_mib("VmRSS")
    times = []
    shape = None
    for _ in range(repeats):
        t0 = time.perf_counter()
        frame = run()
        times.append(time.perf_counter() - t0)
        shape = frame.shape
        del frame
    peak_mib = _rss_mib("VmHWM")  # per process image: not inherited from the parent like ru_maxrss
    tracemalloc.start()
    run()
    traced = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    result = {
        "best_s": min(times),
        "peak_mib": peak_mib,
        "growth_mib": peak_mib - base_mib,
        "traced_mib": traced,
    }
    print(json.dumps({**result, "shape": shape}))


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


def measure(reader: str, path: str, kind: str, repeats: int) -> dict:
    cmd = [
        sys.executable,
        os.path.abspath(__file__),
        "--child",
        reader,
        path,
        kind,
        "--repeats",
        str(repeats),
    ]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--child", nargs=3, metavar=("READER", "PATH", "KIND"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child, repeats=args.repeats)
        return
    with tempfile.TemporaryDirectory(prefix="bench_io_") as tmp:
        t0 = time.perf_counter()
        paths = write_files(args.rows, tmp)
        sizes = {k: os.path.getsize(p) / 2**20 for k, p in paths.items()}
        print(f"<!-- generated {args.rows:,} rows in {time.perf_counter() - t0:.1f} s -->\n")
        print(
            f'### `read_predictions` vs `pandas.read_csv(engine="pyarrow")`, {args.rows:,} rows x 10 columns\n'
        )
        print(
            f"| file | reader | best of {args.repeats} (s) | time vs pandas | peak RSS (MiB) "
            "| RSS growth (MiB) | peak traced Python (MiB) |"
        )
        print("|---|---|---:|---:|---:|---:|---:|")
        for kind, path in paths.items():
            base = measure("pandas", path, kind, args.repeats)
            ours = measure("mlimpact", path, kind, args.repeats)
            label = f"{kind} ({sizes[kind]:.0f} MiB)"
            for reader, m in (("pandas pyarrow", base), ("mlimpact", ours)):
                ratio = m["best_s"] / base["best_s"]
                print(
                    f"| {label} | {reader} | {m['best_s']:.3f} | {ratio:.2f}x | {m['peak_mib']:.0f} "
                    f"| {m['growth_mib']:.0f} | {m['traced_mib']:.0f} |"
                )
        print(
            "\nEach reader runs in its own process. Peak RSS includes the interpreter and imports; RSS growth "
            "is the peak minus the RSS after imports; traced Python memory counts Python allocations only "
            "(e.g. the raw bytes that `read_predictions` holds for hashing), not Arrow buffers. "
            f"Machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}."
        )


if __name__ == "__main__":
    main()
