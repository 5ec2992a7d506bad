"""Benchmark of the per-segment metric engine against fairlearn's MetricFrame; prints Markdown.

Run from the repository root::

    python bench/bench_metrics.py            # 1M rows (about a minute)
    python bench/bench_metrics.py --rows 200000

(a) one 50-value segment column, accuracy / precision / recall / ROC AUC per value, no intervals:
    mlimpact ``compute_metrics`` vs fairlearn ``MetricFrame`` with scikit-learn metrics (same run).
(b) six segment columns (3, 10, 50, 200, 500, 1000 values), every binary metric with 95% intervals
    and compare-to-rest, one shared score sort: total time, replicates used, and peak memory
    (tracemalloc of the computation, process RSS growth) against the loaded frame's size.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mlimpact.metrics import compute_metrics, metrics_for_task  # noqa: E402
from mlimpact.stats import score_order  # noqa: E402

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


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--n-boot", type=int, default=1000)
    ap.add_argument("--budget", type=float, default=None,
                    help="time_budget_s per resampling scheme (default: the library's)")
    ap.add_argument("--skip-fairlearn", action="store_true")
    args = ap.parse_args(argv)
    budget = {} if args.budget is None else {"time_budget_s": args.budget}

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
    times = []
    for _ in range(2):
        t0 = time.perf_counter()
        tables = run_all(y, score, encoded, n_boot=args.n_boot, **budget)
        times.append(time.perf_counter() - t0)
    total_s = min(times)
    used = {k: t.attrs["n_boot"] for k, t in tables.items()}
    rows_out = sum(len(t) for t in tables.values())
    flagged = sum(int(t.significantly_worse.fillna(False).sum()) for t in tables.values())

    rss_before = _rss_now()
    tracemalloc.start()
    run_all(y, score, encoded, n_boot=args.n_boot, **budget)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

    print(f"## (b) six columns ({', '.join(map(str, CARDINALITIES))} values = {n_groups_total} groups), "
          f"all {len(metrics_for_task('binary'))} binary metrics, 95% intervals, compare-to-rest\n")
    print("| measure | value | target |\n|---|---|---|")
    print(f"| total time (best of 2, one shared score sort) | {total_s:.2f} s | ≤ 1 s |")
    print(f"| bootstrap replicates used per column | {', '.join(f'{k}: {v}' for k, v in used.items())} | |")
    print(f"| output rows / flagged significantly worse | {rows_out:,} / {flagged} | |")
    print(f"| tracemalloc peak of the computation | {peak / 1e6:.0f} MB ({peak / frame_bytes:.2f}x frame) | ≤ 3x |")
    print(f"| process peak RSS (whole run) / RSS before (b) | {rss_peak / 1e6:.0f} MB / {rss_before / 1e6:.0f} MB "
          f"| |")
    print(f"| loaded frame | {frame_bytes / 1e6:.0f} MB | |")


def _rss_now() -> int:
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * resource.getpagesize()
    except OSError:  # pragma: no cover - non-Linux
        return 0


if __name__ == "__main__":
    main()
