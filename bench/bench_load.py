"""Load benchmark: several concurrent browser sessions on one server, each uploading the 1M-row file. Markdown.

One ``streamlit run app.py`` server, one Chromium (Playwright's async API), one browser context per session
(so each is its own Streamlit session), all started together with ``asyncio.gather``. Each session opens
the app, chooses "Upload my files", uploads the file through the real file input and waits for the Overview
(time to first render), then visits every page through the sidebar links. Reported: per session the
upload time, the time for the whole tour and any error; per page the median and maximum time to idle over
the sessions; the total wall time; every ``stException``, error box, JavaScript error or failure (there
must be none); and the server's peak RSS (``VmHWM``).

    python bench/bench_load.py                             # 5 sessions × 1,000,000 rows (3-4 minutes on 2 cores)
    python bench/bench_load.py --sessions 2 --rows 50000   # quick
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from bench_scale import (  # noqa: E402
    CHROMIUM,
    CHROMIUM_ARGS,
    MiB,
    Server,
    load_average,
    session_run,
)
from make_big_file import write_csv  # noqa: E402


async def run(path: str, rows: int, size: int, sessions: int, work: str, shots: str | None,
              error_shots: str | None = None) -> dict:
    from playwright.async_api import async_playwright

    max_upload = max(250, int(size / 1e6 * 1.2) + 10)
    rss_samples: list[int] = []
    with Server(max_upload, os.path.join(work, "streamlit_load.log")) as server:
        stop = asyncio.Event()

        async def sample_rss() -> None:  # the curve, beside the kernel's own peak (VmHWM)
            while not stop.is_set():
                rss_samples.append(server.rss())
                await asyncio.sleep(0.5)

        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            sampler = asyncio.create_task(sample_rss())
            rss_start = server.rss()
            start = time.perf_counter()
            try:
                results = await asyncio.gather(*[
                    session_run(browser, server.url, path, rows, label=f"s{i + 1}", shots=shots,
                                error_shots=error_shots, log=lambda m: print(m, file=sys.stderr, flush=True))
                    for i in range(sessions)])
            finally:
                wall = time.perf_counter() - start
                stop.set()
                await sampler
                await browser.close()
        out = {"sessions": results, "wall_s": wall, "server_rss_start": rss_start, "server_rss_end": server.rss(),
               "server_peak": server.peak_rss(), "max_upload_mb": max_upload,
               "rss_samples_max": max(rss_samples, default=0),
               "log_tail": server.log_tail()}
    return out


def all_errors(res: dict) -> list[str]:
    problems = []
    for s in res["sessions"]:
        if s.get("failure"):
            problems.append(f"{s['session']}: {s['failure']}")
        for page, errs in s["errors"].items():
            problems += [f"{s['session']} {page}: {e}" for e in errs]
        problems += [f"{s['session']} JavaScript: {e}" for e in s["js_errors"]]
    if "Traceback" in res.get("log_tail", ""):
        problems.append("server log has a traceback (see the log tail)")
    return problems


def markdown(res: dict, rows: int, size: int, sessions: int, frame_bytes: int | None) -> str:
    mb = lambda n: f"{n / MiB:,.0f} MiB"  # noqa: E731
    out = [f"### Load: {sessions} concurrent browser sessions × {rows:,}-row file ({size / 1e6:,.1f} MB)\n",
           f"One server, one Chromium, {sessions} contexts started together. Machine: {os.cpu_count()} cores, load "
           f"average {load_average()} at the end. Total wall time: **{res['wall_s']:.0f} s**.\n",
           "| session | first open (s) | upload → Overview (s) | tour of every page (s) | errors |",
           "|---|---:|---:|---:|---|"]
    for s in res["sessions"]:
        tour = sum(s["pages"].values())
        errs = [e for v in s["errors"].values() for e in v] + s["js_errors"] + ([s["failure"]] if s.get("failure")
                                                                              else [])
        out.append(f"| {s['session']} | {s.get('first_open_s', float('nan')):.1f} | "
                   f"{s.get('upload_s', float('nan')):.1f} | {tour:.1f} | {'; '.join(errs)[:200] or 'none'} |")
    out += ["", "| page | median time to idle (s) | max (s) | sessions |", "|---|---:|---:|---:|"]
    uploads = [s["upload_s"] for s in res["sessions"] if "upload_s" in s]
    if uploads:
        out.append(f"| upload → Overview rendered | {statistics.median(uploads):.1f} | {max(uploads):.1f} | "
                   f"{len(uploads)} |")
    order = next((s["order"] for s in res["sessions"] if s.get("order")), [])
    for name in order:
        times = [s["pages"][name] for s in res["sessions"] if name in s["pages"]]
        if times:
            out.append(f"| {name} | {statistics.median(times):.1f} | {max(times):.1f} | {len(times)} |")
    peak = res["server_peak"]
    ratio = f" = {peak / frame_bytes:.1f}× one loaded frame ({mb(frame_bytes)})" if frame_bytes else ""
    out.append("")
    out.append(f"Server RSS: {mb(res['server_rss_start'])} at start, peak (VmHWM) **{mb(peak)}**{ratio}, "
               f"{mb(res['server_rss_end'])} at the end (sessions closed, not yet collected by the server). "
               f"Upload limit used: `--server.maxUploadSize {res['max_upload_mb']}`.")
    problems = all_errors(res)
    out.append("\nErrors: " + ("**" + "; ".join(problems)[:2000] + "**" if problems else "none."))
    if problems and res.get("log_tail"):
        out.append("\nServer log tail:\n```\n" + res["log_tail"] + "\n```")
    return "\n".join(out)


def frame_size(path: str) -> int:
    sys.path.insert(0, str(BENCH.parent))
    from mlimpact.io import read_predictions

    frame, _ = read_predictions(path)
    return int(frame.memory_usage(deep=True).sum())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sessions", type=int, default=5)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--file", help="use this CSV (from make_big_file.py, with --rows set to its row count)")
    parser.add_argument("--shots", help="folder for screenshots of every page of every session")
    parser.add_argument("--error-shots", help="folder for a screenshot of each step that had an error")
    parser.add_argument("--json", help="also write the raw results here")
    args = parser.parse_args(argv)
    if args.sessions < 1:
        parser.error("--sessions must be at least 1")
    with tempfile.TemporaryDirectory(prefix="mlimpact_load_") as work:
        if args.file:
            path, size = args.file, os.path.getsize(args.file)
        else:
            path = os.path.join(work, f"predictions_{args.rows}.csv")
            size = write_csv(path, args.rows)
        print(f"file {size / 1e6:.1f} MB; load {load_average()}", file=sys.stderr, flush=True)
        frame_bytes = frame_size(path)  # in this process, before the server starts
        for folder in (args.shots, args.error_shots):
            if folder:
                os.makedirs(folder, exist_ok=True)
        res = asyncio.run(run(path, args.rows, size, args.sessions, work, args.shots, args.error_shots))
        if args.json:
            Path(args.json).write_text(json.dumps(res | {"rows": args.rows, "size": size,
                                                         "frame_bytes": frame_bytes}, indent=2))
        print(markdown(res, args.rows, size, args.sessions, frame_bytes))
    return 1 if all_errors(res) else 0


if __name__ == "__main__":
    raise SystemExit(main())
