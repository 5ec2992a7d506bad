"""Benchmark of the per-segment metric engine against fairlearn's MetricFrame; prints Markdown.

Run from the repository root::

    python bench/bench_metrics.py            # 1M rows (about a minute; fairlearn takes most of it)
    python bench/bench_metrics.py --rows 200000 --skip-fairlearn

(a) one 50-value segment column, accuracy / precision / recall / ROC AUC per value, no intervals:
    mlimpact ``compute_metrics`` vs fairlearn ``MetricFrame`` with scikit-learn metrics (same run).
(b) six segment columns (3, 10, 50, 200, 500, 1000 values), every binary metric with 95% intervals
    and compare-to-rest, one shared score sort: best-of-N time, the bootstrap replicates each column
    got within the library's default time budget, the same without intervals, and peak memory
    measured in a fresh subprocess (so fairlearn's memory does not mix in): tracemalloc peak of the
    computation and the growth of the process's peak RSS, both against the loaded frame's size.

Timings on a shared machine depend on what else runs: the 1-minute load average is printed next to
them (on 2 cores, a load above ~1 means the benchmark shared its cores).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mlimpact.engine import score_order  # noqa: E402
from mlimpact.metrics import compute_metrics, metrics_for_task  # noqa: E402

CARDINALITIES = (3, 10, 50, 200, 500, 1000)


def make_frame(rows: int, seed: int = 0) -> pd.DataFrame:
    """Binary labels with a realistic score; segment effects shift the score quality."""
    rng = np.random.default_rng(seed)
    cols = {}
    effect = np.zeros(rows)
    for k in CARDINALITIES:
        # skewed segment sizes (Zipf-like), string values as they would be read from a file
        w = 1.0 / np.arange(1, k + 1) ** 0.8
        codes = rng.choice(k, size=rows, p=w / w.sum())
        cols[f"seg_{k}"] = pd.array(np.array([f"v{i:04d}" for i in range(k)])[codes], dtype="str")
        effect += rng.normal(0, 0.15, k)[codes]
    y = rng.binomial(1, 0.12, rows).astype(np.int8)
    logit = -1.2 + 2.2 * y * (1 + effect) + rng.normal(0, 1.0, rows)
    score = 1 / (1 + np.exp(-logit))
    return pd.DataFrame({"label": y, "score": score, **cols})


def encode(frame: pd.DataFrame) -> dict[str, tuple[np.ndarray, int]]:
    out = {}
    for k in CARDINALITIES:
        codes, uniques = pd.factorize(frame[f"seg_{k}"])
        out[f"seg_{k}"] = (codes.astype(np.int16), len(uniques))
    return out


def run_all(y, score, encoded, *, n_boot, **kw):
    so = score_order(y, score)
    tables = {}
    for col, (codes, G) in encoded.items():
        tables[col] = compute_metrics("binary", y=y, score=score, codes=codes, n_groups=G, order=so,
                                      compare_to_rest=True, n_boot=n_boot, **kw)
    return tables


def load() -> str:
    """The 1-, 5- and 15-minute load averages, as ``uptime`` prints them."""
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--n-boot", type=int, default=1000)
    ap.add_argument("--budget", type=float, default=None,
                    help="time_budget_s per resampling scheme (default: the library's)")
    ap.add_argument("--repeat", type=int, default=3, help="runs of (b); the best is reported")
    ap.add_argument("--skip-fairlearn", action="store_true")
    ap.add_argument("--skip-memory", action="store_true")
    ap.add_argument("--memory-child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    budget = {} if args.budget is None else {"time_budget_s": args.budget}
    if args.memory_child:
        print(json.dumps(_memory_child(args.rows, args.n_boot, budget)))
        return

    t0 = time.perf_counter()
    frame = make_frame(args.rows)
    frame_bytes = int(frame.memory_usage(deep=True).sum())
    gen_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    encoded = encode(frame)
    enc_s = time.perf_counter() - t0
    y = frame["label"].to_numpy()
    score = frame["score"].to_numpy()

    print(f"# mlimpact metric engine benchmark — {args.rows:,} rows\n")
    print(f"- machine: {os.cpu_count()} cores; load average at start {load()}")
    print(f"- loaded frame: {frame_bytes / 1e6:.1f} MB (`memory_usage(deep=True)`), generated in {gen_s:.1f} s")
    print(f"- encoding six segment columns to integer codes (Dataset layer's job): {enc_s:.2f} s\n")

    # (a) one 50-value column, four metrics, no intervals
    codes50, g50 = encoded["seg_50"]
    four = ["accuracy", "precision", "recall", "roc_auc"]
    compute_metrics("binary", y=y[:1000], score=score[:1000], intervals=False, metrics=four)  # warm imports
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        ours = compute_metrics("binary", y=y, score=score, codes=codes50, n_groups=g50, intervals=False,
                               metrics=four)
        times.append(time.perf_counter() - t0)
    ours_s = min(times)
    print("## (a) 50-value column: accuracy, precision, recall, ROC AUC per value (no intervals)\n")
    print(f"load average before (a): {load()}\n")
    print("| engine | time (s) |\n|---|---|")
    print(f"| mlimpact `compute_metrics` (best of 3) | {ours_s:.3f} |")
    if not args.skip_fairlearn:
        from fairlearn.metrics import MetricFrame
        from sklearn import metrics as skm

        def thresholded(fn):
            return lambda yt, s: fn(yt, s >= 0.5)

        fl = {"accuracy": thresholded(skm.accuracy_score), "precision": thresholded(skm.precision_score),
              "recall": thresholded(skm.recall_score), "roc_auc": skm.roc_auc_score}
        t0 = time.perf_counter()
        mf = MetricFrame(metrics=fl, y_true=y, y_pred=score, sensitive_features=frame["seg_50"])
        fl_s = time.perf_counter() - t0
        print(f"| fairlearn `MetricFrame` + scikit-learn | {fl_s:.3f} |")
        print(f"\n**speed-up: {fl_s / ours_s:.0f}x** (target ≥ 50x)\n")
        # agreement check
        by_val = mf.by_group
        uniques = pd.factorize(frame["seg_50"])[1]
        piv = ours.pivot(index="group", columns="metric", values="value")
        piv.index = np.asarray(uniques)[piv.index]
        worst = float(np.nanmax(np.abs(piv[four].to_numpy() - by_val.loc[piv.index, four].to_numpy())))
        print(f"max |mlimpact − fairlearn| over {g50}×4 values: {worst:.2e}\n")

    # (b) six columns, every binary metric, intervals and compare-to-rest
    n_groups_total = sum(g for _, g in encoded.values())
    run_all(y[:2000], score[:2000], {k: (c[:2000], g) for k, (c, g) in encoded.items()}, n_boot=50, time_budget_s=None)
    loads = []
    times = []
    for _ in range(args.repeat):
        loads.append(os.getloadavg()[0])
        t0 = time.perf_counter()
        tables = run_all(y, score, encoded, n_boot=args.n_boot, **budget)
        times.append(time.perf_counter() - t0)
    best = int(np.argmin(times))
    used = {k: t.attrs["n_boot"] for k, t in tables.items()}
    rows_out = sum(len(t) for t in tables.values())
    flagged = sum(int(t.significantly_worse.fillna(False).sum()) for t in tables.values())
    del tables
    no_int = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        run_all(y, score, encoded, n_boot=args.n_boot, intervals=False, **budget)
        no_int.append(time.perf_counter() - t0)

    print(f"## (b) six columns ({', '.join(map(str, CARDINALITIES))} values = {n_groups_total} groups), "
          f"all {len(metrics_for_task('binary'))} binary metrics, 95% intervals, compare-to-rest\n")
    print("| measure | value | target |\n|---|---|---|")
    print(f"| total time (best of {args.repeat}, one shared score sort) | {times[best]:.2f} s "
          f"(runs: {', '.join(f'{t:.2f}' for t in times)}; 1-min load {loads[best]:.2f}) | ≤ 1 s |")
    print(f"| bootstrap replicates per column (of {args.n_boot}, default time budget) | "
          f"{', '.join(f'{k}: {v}' for k, v in used.items())} | ≥ 200 |")
    print(f"| same without intervals (p-values only; best of {args.repeat}) | {min(no_int):.2f} s | |")
    print(f"| output rows / flagged significantly worse | {rows_out:,} / {flagged} | |")
    if not args.skip_memory:
        mem = _measure_memory(args)
        print(f"| tracemalloc peak of the computation (subprocess) | {mem['traced_peak'] / 1e6:.0f} MB "
              f"({mem['traced_peak'] / mem['frame_bytes']:.2f}x frame) | ≤ 3x |")
        print(f"| peak RSS growth during the computation (subprocess) | {mem['rss_growth'] / 1e6:.0f} MB "
              f"({mem['rss_growth'] / mem['frame_bytes']:.2f}x frame; RSS before {mem['rss_before'] / 1e6:.0f} MB) "
              f"| ≤ 3x |")
    print(f"| loaded frame | {frame_bytes / 1e6:.0f} MB | |")
    print(f"\nload average at the end: {load()}")


def _measure_memory(args) -> dict:
    """Run :func:`_memory_child` in a fresh interpreter and return its measurements."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--memory-child", "--rows", str(args.rows),
           "--n-boot", str(args.n_boot)]
    if args.budget is not None:
        cmd += ["--budget", str(args.budget)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _memory_child(rows: int, n_boot: int, budget: dict) -> dict:
    """Peak memory of (b) in this process: RSS high-water mark growth, then tracemalloc's peak."""
    frame = make_frame(rows)
    frame_bytes = int(frame.memory_usage(deep=True).sum())
    encoded = encode(frame)
    y = frame["label"].to_numpy()
    score = frame["score"].to_numpy()
    run_all(y[:2000], score[:2000], {k: (c[:2000], g) for k, (c, g) in encoded.items()}, n_boot=50,
            time_budget_s=None)  # imports and one-time tables
    gc.collect()
    rss_before = _rss_now()
    reset = _reset_peak_rss()
    run_all(y, score, encoded, n_boot=n_boot, **budget)
    rss_peak = _peak_rss() if reset else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    gc.collect()
    tracemalloc.start()
    run_all(y, score, encoded, n_boot=n_boot, **budget)
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {"frame_bytes": frame_bytes, "rss_before": rss_before, "rss_growth": rss_peak - rss_before,
            "traced_peak": traced_peak, "peak_reset": reset}


def _rss_now() -> int:
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * resource.getpagesize()
    except OSError:  # pragma: no cover - non-Linux
        return 0


def _reset_peak_rss() -> bool:
    """Reset the kernel's RSS high-water mark to the current RSS (Linux); False where unsupported."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:  # pragma: no cover - non-Linux or not permitted
        return False


def _peak_rss() -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0  # pragma: no cover


if __name__ == "__main__":
    main()
