"""Scale benchmark: a 1M-row × 20-column CSV, in-process and through the real app in Chromium. Prints Markdown.

1. Generates the file with ``bench/make_big_file.py`` (size in MB).
2. In-process, in a fresh subprocess: ``read_predictions`` + ``infer_roles`` + ``build_dataset`` + the
   Overview metrics + one segment table + weak slices + the difficulty lane curve (and its trade-off
   frontier) + the monitoring weekly table, each timed, with the peak memory: RSS growth (``VmHWM`` after
   the work minus ``VmRSS`` before it, the raw file bytes included), the peak of Arrow's memory pool and,
   in a second subprocess, the tracemalloc peak (Python and numpy allocations; Arrow's are not traced),
   each against the loaded frame's ``memory_usage(deep=True).sum()``. Target: peak ≤ 4× the frame. The
   child first runs everything once on a 3,000-row file, so lazy imports (scipy, scikit-learn) are not counted.
3. In the browser: ``streamlit run app.py`` (``--server.maxUploadSize`` large enough for the file), one
   Chromium page; chooses "Upload my files", uploads the file through the real file input, and measures
   the time from ``set_input_files`` to the Overview being idle with its metrics shown ("time to first
   render after upload"); then visits every page through the sidebar links and records each page's time
   to idle (the click until the page's title is shown and no script run is in progress), any
   ``stException`` and any error box; the server's peak RSS (``VmHWM``) against the frame's size.
4. Over the limit: a file just larger than ``.streamlit/config.toml``'s ``maxUploadSize``; a server with that
   limit must refuse it in the browser while the sidebar names the CLI command, and that command
   (``python -m mlimpact summarize FILE``) must summarise it (exit code, time, peak RSS).

    python bench/bench_scale.py                        # 1,000,000 rows (about 1.5 minutes on 2 cores)
    python bench/bench_scale.py --rows 100000 --skip-browser
    python bench/bench_scale.py --shots /tmp/shots     # keep a screenshot of every page
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(ROOT))

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-quic", "--disable-sync"]
VIEWPORT = {"width": 1400, "height": 1000}
UPLOAD_LABEL = "Upload my files"
MiB = 1024 * 1024
PAGE_TIMEOUT_MS = 300_000  # one page on a busy 2-core machine with a 1M-row file


# ----------------------------------------------------------------------------- memory helpers
def proc_status_kib(pid: int | str, field: str) -> int:
    """A ``/proc/<pid>/status`` field in KiB (``VmRSS``, ``VmHWM``); 0 when the process is gone."""
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def reset_peak(pid: int | str = "self") -> bool:
    """Reset ``VmHWM`` to the current RSS (Linux ≥ 4.0: write 5 to ``clear_refs``); False when not allowed."""
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def load_average() -> str:
    return " / ".join(f"{x:.2f}" for x in os.getloadavg())


# ----------------------------------------------------------------------------- in-process (child)
STEPS = ["read_predictions", "infer_roles", "build_dataset", "overview metrics", "segment table",
         "weak slices", "lane curve", "trade-off frontier", "monitoring weekly table"]


def run_pipeline(path: str, timings: dict[str, float] | None = None) -> dict:
    """Every step a session's first visit to each page runs, in order; returns facts about the data."""
    from mlimpact import difficulty as dif
    from mlimpact import monitoring as mon
    from mlimpact.io import build_dataset, infer_roles, read_predictions
    from mlimpact.metrics import default_metrics, evaluate
    from mlimpact.slices import search_weak_slices, segment_table

    timings = {} if timings is None else timings
    out: dict = {}

    def step(name, fn):
        start = time.perf_counter()
        value = fn()
        timings[name] = time.perf_counter() - start
        return value

    frame, report = step("read_predictions", lambda: read_predictions(path))
    out["frame_bytes"] = int(frame.memory_usage(deep=True).sum())
    out["rows"], out["columns"] = frame.shape
    guess = step("infer_roles", lambda: infer_roles(frame))
    ds = step("build_dataset", lambda: build_dataset(frame, guess.roles, source=os.path.basename(path),
                                                     content_hash=report.content_hash))
    metrics = default_metrics(ds)
    overall = step("overview metrics", lambda: evaluate(ds, threshold=0.5, metrics=metrics))
    column = ds.roles.segments[0]
    step("segment table", lambda: segment_table(ds, [column], threshold=0.5, metrics=metrics, sort_by="impact"))
    ws = step("weak slices", lambda: search_weak_slices(ds, kind="misclassification", threshold=0.5, max_level=3,
                                                        scoring="balanced", k=10, time_budget_s=30.0))
    curve = step("lane curve", lambda: dif.lane_curve(ds))
    step("trade-off frontier", lambda: dif.tradeoff_curve(curve))
    weekly = step("monitoring weekly table", lambda: mon.metrics_over_time(
        ds, metrics="recall", period="W", segment=column, settings=mon.MonitorSettings(threshold=0.5)))
    out.update(task=ds.task, segment=column, n_segments=len(ds.roles.segments),
               recall=float(overall.loc[overall["metric"] == "recall", "value"].iloc[0]),
               weak_slices_complete=bool(ws.settings.get("complete", True)), slices_evaluated=int(ws.n_evaluated),
               weekly_rows=len(weekly))
    return out


def child_main(path: str, trace: bool) -> None:
    """Run the pipeline in this fresh process and print one JSON line with timings and peaks."""
    import gc

    import numpy  # noqa: F401 - imports are not part of the measured growth
    import pandas  # noqa: F401
    import pyarrow as pa

    # warm up on a small file of the same shape: scipy/sklearn are imported lazily inside the functions, and
    # their imports are not what is measured
    from make_big_file import write_csv

    import mlimpact.difficulty.tables  # noqa: F401
    import mlimpact.io.dataset  # noqa: F401
    import mlimpact.io.read  # noqa: F401
    import mlimpact.metrics.evaluate  # noqa: F401
    import mlimpact.monitoring.series  # noqa: F401
    import mlimpact.slices.search  # noqa: F401
    import mlimpact.slices.segments  # noqa: F401

    with tempfile.TemporaryDirectory() as tmp:
        warm = os.path.join(tmp, "warm.csv")
        write_csv(warm, 3_000, seed=1)
        run_pipeline(warm)
    gc.collect()
    timings: dict[str, float] = {}
    result: dict = {"trace": trace}
    if trace:
        import tracemalloc

        tracemalloc.start()
        facts = run_pipeline(path, timings)
        result["tracemalloc_peak"] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    else:
        reset_peak()
        before = proc_status_kib("self", "VmRSS")
        start = time.perf_counter()
        facts = run_pipeline(path, timings)
        result["total_s"] = time.perf_counter() - start
        result["rss_before"] = before * 1024
        result["rss_peak"] = proc_status_kib("self", "VmHWM") * 1024
        result["rss_growth"] = result["rss_peak"] - result["rss_before"]
        result["arrow_pool_peak"] = pa.default_memory_pool().max_memory()
        result["arrow_pool_backend"] = pa.default_memory_pool().backend_name
    result.update(facts, timings=timings)
    print(json.dumps(result))


def run_child(path: str, trace: bool) -> dict:
    cmd = [sys.executable, os.path.abspath(__file__), "--child", path] + (["--trace"] if trace else [])
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"in-process child failed ({done.returncode}):\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# ----------------------------------------------------------------------------- server
def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """``streamlit run app.py`` on a free loopback port, with an upload limit large enough for the file."""

    def __init__(self, max_upload_mb: int, log_path: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.max_upload_mb = max_upload_mb
        self.log_path = log_path
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> Server:
        cmd = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
               "--server.address", "127.0.0.1", "--server.port", str(self.port),
               "--server.maxUploadSize", str(self.max_upload_mb), "--server.maxMessageSize", str(self.max_upload_mb),
               "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"]
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in __exit__
        self.proc = subprocess.Popen(cmd, cwd=ROOT, stdout=self._log, stderr=subprocess.STDOUT,
                                     env=dict(os.environ, PYTHONUNBUFFERED="1"))
        deadline = time.monotonic() + 90
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"streamlit exited ({self.proc.returncode}); see {self.log_path}")
            with contextlib.suppress(urllib.error.URLError, ConnectionError, TimeoutError, OSError), \
                    urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as resp:
                if resp.read().strip() == b"ok":
                    return self
            if time.monotonic() > deadline:
                self.__exit__(None, None, None)
                raise RuntimeError(f"streamlit not healthy after 90 s; see {self.log_path}")
            time.sleep(0.1)

    def rss(self) -> int:
        return proc_status_kib(self.proc.pid, "VmRSS") * 1024

    def peak_rss(self) -> int:
        return proc_status_kib(self.proc.pid, "VmHWM") * 1024

    def __exit__(self, *exc) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=15)
        self._log.close()

    def log_tail(self, n: int = 3000) -> str:
        try:
            return Path(self.log_path).read_text(errors="replace")[-n:]
        except OSError:
            return ""


# ----------------------------------------------------------------------------- browser helpers (async API)
IDLE_JS = """() => {
  const app = document.querySelector("[data-testid='stApp']");
  return !!app && app.getAttribute('data-test-connection-state') === 'CONNECTED'
         && app.getAttribute('data-test-script-state') === 'notRunning';
}"""

ERRORS_JS = """() => {
  const out = [];
  for (const e of document.querySelectorAll("[data-testid='stException']")) out.push('exception: ' + e.innerText.slice(0, 300));
  for (const e of document.querySelectorAll("[data-testid='stAlertContainer']")) {
    const content = e.querySelector("[data-testid^='stAlertContent']");  // stAlertContentError, ...Warning, ...
    const kind = content ? content.getAttribute('data-testid').slice('stAlertContent'.length).toLowerCase() : '';
    out.push('alert(' + kind + '): ' + e.innerText.slice(0, 300));
  }
  return out;
}"""


async def wait_idle(page, settle_ms: int = 300, timeout_ms: int = PAGE_TIMEOUT_MS) -> None:
    """Connected and no script run in progress, twice ``settle_ms`` apart (a rerun can start a moment later)."""
    deadline = time.monotonic() + timeout_ms / 1000
    while True:
        await page.wait_for_function(IDLE_JS, timeout=max(1000, int((deadline - time.monotonic()) * 1000)),
                                     polling=50)
        await page.wait_for_timeout(settle_ms)
        if await page.evaluate(IDLE_JS):
            return
        if time.monotonic() > deadline:
            raise TimeoutError("the app did not become idle")


async def nav_names(page) -> list[str]:
    links = page.get_by_test_id("stSidebar").get_by_test_id("stPageLink-NavLink")
    await links.first.wait_for()
    return [t.strip() for t in await links.get_by_test_id("stMarkdownContainer").all_inner_texts()]


async def page_errors(page) -> list[str]:
    """``stException`` boxes and error alerts on the page (info/warning/success alerts are not errors)."""
    found = await page.evaluate(ERRORS_JS)
    return [f for f in found if f.startswith("exception") or f.startswith("alert(error)")]


async def page_alerts(page) -> list[str]:
    return [f for f in await page.evaluate(ERRORS_JS) if f.startswith("alert(")]


def prediction_files_input(page):
    """The sidebar's "Prediction files" input, by its label: the sidebar's slices uploader has the same test id,
    and under load it can still be on screen (stale) from the run before "Upload my files" was chosen."""
    label = page.get_by_test_id("stWidgetLabel").get_by_text("Prediction files", exact=True)
    return page.get_by_test_id("stFileUploader").filter(has=label).get_by_test_id("stFileUploaderDropzoneInput")


async def upload_file(page, path: str, rows: int) -> float:
    """Choose "Upload my files", set the file on the real input; seconds until the Overview is idle with
    its metrics and the "of N rows used" caption for the new file."""
    sidebar = page.get_by_test_id("stSidebar")
    data_box = sidebar.get_by_role("combobox", name="Data", exact=True)
    await data_box.click()
    await page.get_by_role("option", name=UPLOAD_LABEL, exact=True).click()
    await wait_idle(page)
    file_input = prediction_files_input(page)
    await file_input.wait_for(state="attached")
    start = time.perf_counter()
    await file_input.set_input_files(path)
    caption = sidebar.get_by_test_id("stCaptionContainer").filter(has_text=f"of {rows:,} rows used")
    await caption.wait_for(timeout=PAGE_TIMEOUT_MS)
    await page.get_by_test_id("stMetricValue").nth(3).wait_for(timeout=PAGE_TIMEOUT_MS)
    await wait_idle(page)
    return time.perf_counter() - start


async def visit(page, name: str) -> float:
    """Click the page's sidebar link; seconds until its title is shown and the run has finished."""
    label = page.get_by_test_id("stMarkdownContainer").get_by_text(name, exact=True)
    link = page.get_by_test_id("stSidebar").get_by_test_id("stPageLink-NavLink").filter(has=label)
    start = time.perf_counter()
    await link.click()
    await page.get_by_test_id("stMain").get_by_role("heading", level=1, name=name, exact=True).first.wait_for(
        timeout=PAGE_TIMEOUT_MS)
    await wait_idle(page)
    return time.perf_counter() - start


def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_") or "step"


async def screenshot(page, path: str, max_height: int = 5000) -> None:
    """The whole main area (Streamlit scrolls inside its own container, so grow the viewport for the shot)."""
    height = await page.evaluate(
        "() => Math.max(...[...document.querySelectorAll(\"[data-testid='stMain'], "
        "[data-testid='stSidebarContent']\")].map(e => e.scrollHeight), 0)")
    tall = max(VIEWPORT["height"], min(int(height) + 40, max_height))
    await page.set_viewport_size({"width": VIEWPORT["width"], "height": tall})
    await page.wait_for_timeout(400)
    await page.screenshot(path=path)
    await page.set_viewport_size(VIEWPORT)


async def session_run(browser, url: str, path: str, rows: int, *, label: str = "", shots: str | None = None,
                      log=None, probe=None, error_shots: str | None = None) -> dict:
    """One browser session: open the app, upload the file, visit every page. Returns times and errors.

    ``probe(step)``: called after each step with its name (a single-session run samples the server's memory).
    ``shots``: a folder for a screenshot of every step; ``error_shots``: one only for steps with an error."""
    context = await browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(PAGE_TIMEOUT_MS)
    page = await context.new_page()
    js_errors: list[str] = []
    step = {"name": "first open"}  # JavaScript errors are reported with the step they happened in
    page.on("pageerror", lambda exc: js_errors.append(f"{step['name']}: {exc}"))
    result: dict = {"session": label, "pages": {}, "errors": {}, "alerts": {}, "js_errors": js_errors}

    seen_js = [0]

    async def after(name: str) -> None:
        """Probe, and keep a screenshot when this step had an error; then name the next step."""
        if probe is not None:
            probe(name)
        had_error = len(js_errors) > seen_js[0] or bool(result["errors"].get(name))
        seen_js[0] = len(js_errors)
        if had_error and (error_shots or shots):
            with contextlib.suppress(Exception):
                await screenshot(page, os.path.join(error_shots or shots, f"{label or 'session'}_{slug(name)}_ERROR.png"))

    try:
        start = time.perf_counter()
        await page.goto(url)
        await page.get_by_test_id("stMetricValue").first.wait_for()
        await wait_idle(page)
        result["first_open_s"] = time.perf_counter() - start
        await after("first open")
        step["name"] = "upload"
        result["upload_s"] = await upload_file(page, path, rows)
        result["errors"]["upload"] = await page_errors(page)
        await after("upload")
        if log:
            log(f"{label} upload + first render {result['upload_s']:.1f} s")
        if shots:
            await screenshot(page, os.path.join(shots, f"{label or 'session'}_upload_overview.png"))
        names = await nav_names(page)
        result["order"] = names
        for name in names:
            step["name"] = name
            result["pages"][name] = await visit(page, name)
            result["errors"][name] = await page_errors(page)
            result["alerts"][name] = await page_alerts(page)
            caption = page.get_by_test_id("stSidebar").get_by_test_id("stCaptionContainer").filter(
                has_text=f"of {rows:,} rows used")
            if await caption.count() == 0:
                result["errors"][name].append("the uploaded file is no longer in use after the page switch")
            await after(name)
            if log:
                log(f"{label} {name}: {result['pages'][name]:.1f} s")
            if shots:
                await screenshot(page, os.path.join(shots, f"{label or 'session'}_{slug(name)}.png"))
    except Exception as exc:  # noqa: BLE001 - reported, with a screenshot, never hidden
        result["failure"] = f"{type(exc).__name__}: {exc}"[:800]
        if shots or error_shots:
            with contextlib.suppress(Exception):
                await page.screenshot(path=os.path.join(shots or error_shots, f"{label or 'session'}_FAILED.png"))
    finally:
        await context.close()
    return result


def upload_limit_mb() -> int:
    import tomllib

    with open(ROOT / ".streamlit" / "config.toml", "rb") as fh:
        return int(tomllib.load(fh)["server"]["maxUploadSize"])


def run_cli_summarize(path: str) -> dict:
    """``python -m mlimpact summarize FILE``: exit code, seconds, peak RSS (polled VmHWM), rows counted."""
    import threading

    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "mlimpact", "summarize", path], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = [0]

    def poll() -> None:
        while proc.poll() is None:
            peak[0] = max(peak[0], proc_status_kib(proc.pid, "VmHWM") * 1024)
            time.sleep(0.05)

    watcher = threading.Thread(target=poll, daemon=True)
    watcher.start()
    out, err = proc.communicate()
    watcher.join()
    seconds = time.perf_counter() - start
    rows = json.loads(out)["rows"] if proc.returncode == 0 else None
    return {"returncode": proc.returncode, "seconds": seconds, "peak": peak[0], "rows": rows,
            "stderr": err[-1500:] if proc.returncode else ""}


async def over_limit_browser(path: str, limit_mb: int, work: str, shots: str | None) -> dict:
    """A server with the project's upload limit; the file is set on the real input. What the sidebar says."""
    from playwright.async_api import async_playwright

    with Server(limit_mb, os.path.join(work, "streamlit_over_limit.log")) as server:
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                page = await (await browser.new_context(viewport=VIEWPORT)).new_page()
                await page.goto(server.url)
                await page.get_by_test_id("stMetricValue").first.wait_for()
                await wait_idle(page)
                sidebar = page.get_by_test_id("stSidebar")
                await sidebar.get_by_role("combobox", name="Data", exact=True).click()
                await page.get_by_role("option", name=UPLOAD_LABEL, exact=True).click()
                await wait_idle(page)
                rss_before = server.rss()
                await prediction_files_input(page).set_input_files(path)
                refusal = page.get_by_test_id("stSidebar").get_by_text(re.compile(r"File must be .* or smaller"))
                await refusal.first.wait_for(state="attached", timeout=60_000)
                await wait_idle(page)
                text = await sidebar.inner_text()
                if shots:
                    await screenshot(page, os.path.join(shots, "over_limit.png"))
            finally:
                await browser.close()
        refused = re.search(r"Error: File must be [^\n]*", text)
        return {"refusal": refused.group(0) if refused else None,
                "cli_hint": next((line for line in text.splitlines() if "python -m mlimpact summarize" in line), None),
                "rows_used_shown": "rows used" in text, "server_rss_growth": server.rss() - rss_before}


async def browser_bench(path: str, rows: int, size_bytes: int, work: str, shots: str | None) -> dict:
    from playwright.async_api import async_playwright

    max_upload = max(250, int(size_bytes / 1e6 * 1.2) + 10)
    with Server(max_upload, os.path.join(work, "streamlit_scale.log")) as server:
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            rss: dict[str, int] = {}
            peaks: dict[str, int] = {}

            def probe(step: str) -> None:  # RSS after the step, and its peak (VmHWM is reset after each step)
                rss[step] = server.rss()
                peaks[step] = server.peak_rss()
                peaks["reset works"] = reset_peak(server.proc.pid)

            try:
                rss_idle = server.rss()
                res = await session_run(browser, server.url, path, rows, label="scale", shots=shots,
                                        log=lambda m: print(m, file=sys.stderr, flush=True), probe=probe)
            finally:
                await browser.close()
        res.update(rss=rss, peaks=peaks, server_rss_start=rss_idle, server_rss_end=server.rss(), server_peak=server.peak_rss(), size=size_bytes,
                   max_upload_mb=max_upload, log_tail=server.log_tail() if res.get("failure") else "")
    return res


# ----------------------------------------------------------------------------- report
def mb(n: float) -> str:
    return f"{n / MiB:,.0f} MiB"


def markdown(rows: int, size: int, gen_s: float, inproc: dict | None, traced: dict | None,
             browser: dict | None, over: dict | None = None) -> str:
    out = [f"### Scale: {rows:,} rows × 20 columns\n",
           f"File: {size / 1e6:,.1f} MB CSV (generated in {gen_s:.1f} s by `bench/make_big_file.py`). "
           f"Machine: {os.cpu_count()} cores, load average {load_average()} at the end.\n"]
    if inproc:
        frame = inproc["frame_bytes"]
        out += ["#### In-process (one fresh process)\n",
                f"Loaded frame `memory_usage(deep=True).sum()`: **{mb(frame)}** "
                f"({inproc['rows']:,} rows × {inproc['columns']} columns; task {inproc['task']}, "
                f"{inproc['n_segments']} segment columns inferred).\n",
                "| step | time (s) |", "|---|---:|"]
        for name in STEPS:
            note = ""
            if name == "weak slices":
                note = (f" ({inproc['slices_evaluated']:,} slices evaluated"
                        + ("" if inproc["weak_slices_complete"] else ", stopped at the 30 s budget") + ")")
            if name == "segment table":
                note = f" (`{inproc['segment']}`)"
            out.append(f"| {name}{note} | {inproc['timings'][name]:.2f} |")
        out.append(f"| **total** | **{inproc['total_s']:.2f}** |\n")
        out += ["| peak memory | bytes | × frame | target |", "|---|---:|---:|---|"]
        growth = inproc["rss_growth"]
        out.append(f"| RSS growth (VmHWM − RSS before; file bytes included) | {mb(growth)} | "
                   f"{growth / frame:.2f}× | {'≤ 4× ✓' if growth <= 4 * frame else '**> 4× ✗**'} |")
        out.append(f"| Arrow memory pool peak ({inproc['arrow_pool_backend']}) | {mb(inproc['arrow_pool_peak'])} | "
                   f"{inproc['arrow_pool_peak'] / frame:.2f}× | |")
        if traced:
            tp = traced["tracemalloc_peak"]
            out.append(f"| tracemalloc peak (Python + numpy; separate run) | {mb(tp)} | {tp / frame:.2f}× | "
                       f"{'≤ 4× ✓' if tp <= 4 * frame else '**> 4× ✗**'} |")
        out.append("")
    if browser:
        frame = inproc["frame_bytes"] if inproc else None
        out += ["#### In the browser (streamlit run + Chromium, one session)\n"]
        if browser.get("failure"):
            out.append(f"**FAILED**: {browser['failure']}\n")
        rss, peaks = browser.get("rss", {}), browser.get("peaks", {})
        exact = peaks.get("reset works", False)
        cell = lambda step: f"{rss[step] / MiB:,.0f}" if step in rss else ""  # noqa: E731
        pcell = lambda step: f"{peaks[step] / MiB:,.0f}" if exact and step in peaks else ""  # noqa: E731
        out += ["| step | time to idle (s) | server peak RSS during (MiB) | server RSS after (MiB) | errors |",
                "|---|---:|---:|---:|---|",
                f"| first open (fraud sample) | {browser.get('first_open_s', float('nan')):.1f} | "
                f"{pcell('first open')} | {cell('first open')} | |"]
        if "upload_s" in browser:
            errs = browser["errors"].get("upload", [])
            out.append(f"| **upload → Overview rendered** (time to first render) | **{browser['upload_s']:.1f}** | "
                       f"{pcell('upload')} | {cell('upload')} | {'; '.join(errs) or 'none'} |")
        for name, t in browser["pages"].items():
            errs = browser["errors"].get(name, [])
            out.append(f"| page: {name} | {t:.1f} | {pcell(name)} | {cell(name)} | {'; '.join(errs) or 'none'} |")
        step_peaks = [v for k, v in peaks.items() if k != "reset works"] if exact else []
        overall = max([browser["server_peak"]] + step_peaks)
        ratio = f" = {overall / frame:.1f}× the frame" if frame else ""
        before = rss.get("first open")
        growth = ""
        after_open = [v for k, v in peaks.items() if k not in ("reset works", "first open")] if exact else []
        if before and after_open:
            top = max(after_open + [browser["server_peak"]])
            growth = (f"; from the upload on, the peak is {mb(top - before)} above the RSS after the first open"
                      + (f" = **{(top - before) / frame:.1f}× the frame**" if frame else ""))
        out.append("")
        out.append(f"Server RSS: {mb(browser['server_rss_start'])} at start, peak (VmHWM) {mb(overall)}{ratio}"
                   f"{growth}; {mb(browser['server_rss_end'])} at the end. One session; the growth includes "
                   f"Streamlit's copy of the uploaded bytes ({mb(browser.get('size', 0))}) and the session's "
                   f"per-page results. Upload limit used: `--server.maxUploadSize {browser['max_upload_mb']}`.")
        alerts = {k: v for k, v in browser.get("alerts", {}).items() if v}
        if alerts:
            out.append("\nNon-error notices shown: " + "; ".join(f"{k}: {' | '.join(a[:80] for a in v)}"
                                                              for k, v in alerts.items()))
        if browser.get("js_errors"):
            out.append("\nJavaScript errors: " + "; ".join(browser["js_errors"][:5]))
        if browser.get("log_tail"):
            out.append("\nServer log tail:\n```\n" + browser["log_tail"] + "\n```")
    if over:
        cli, seen = over["cli"], over.get("browser") or {}
        out += ["", f"#### Over the upload limit ({over['limit_mb']} MB in `.streamlit/config.toml`)\n",
                f"A {over['rows']:,}-row file of {over['size'] / 1e6:,.1f} MB.\n",
                "| check | result |", "|---|---|",
                f"| browser: Streamlit refuses it | {seen.get('refusal') or '**not refused**'} |",
                f"| browser: the sidebar names the CLI | {seen.get('cli_hint') or '**no hint**'} |",
                f"| browser: a dataset was loaded anyway | {'**yes**' if seen.get('rows_used_shown') else 'no'} |",
                f"| `python -m mlimpact summarize FILE` | exit {cli['returncode']}, {cli['seconds']:.1f} s, peak RSS "
                f"{mb(cli['peak'])}, rows {cli['rows']} |"]
        if over.get("failure"):
            out.append(f"\n**Over-limit browser check failed**: {over['failure']}")
        if cli["returncode"] != 0:
            out.append("\n**The CLI failed**:\n```\n" + cli["stderr"] + "\n```")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--file", help="use this CSV instead of generating one (must come from make_big_file.py)")
    parser.add_argument("--skip-browser", action="store_true")
    parser.add_argument("--skip-inprocess", action="store_true")
    parser.add_argument("--no-trace", action="store_true", help="skip the tracemalloc run")
    parser.add_argument("--skip-over-limit", action="store_true", help="skip the file over the upload limit")
    parser.add_argument("--shots", help="folder for screenshots of every page")
    parser.add_argument("--json", help="also write the raw results here")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--trace", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child_main(args.child, args.trace)
        return 0

    import asyncio

    from make_big_file import write_csv

    with tempfile.TemporaryDirectory(prefix="mlimpact_scale_") as work:
        start = time.perf_counter()
        if args.file:
            path, size = args.file, os.path.getsize(args.file)
        else:
            path = os.path.join(work, f"predictions_{args.rows}.csv")
            size = write_csv(path, args.rows)
        gen_s = time.perf_counter() - start
        print(f"file {size / 1e6:.1f} MB in {gen_s:.1f} s; load {load_average()}", file=sys.stderr, flush=True)
        inproc = traced = browser = None
        if not args.skip_inprocess:
            inproc = run_child(path, trace=False)
            print(f"in-process {inproc['total_s']:.1f} s", file=sys.stderr, flush=True)
            if not args.no_trace:
                traced = run_child(path, trace=True)
        if not args.skip_browser:
            if args.shots:
                os.makedirs(args.shots, exist_ok=True)
            browser = asyncio.run(browser_bench(path, args.rows, size, work, args.shots))
        over = None
        if not args.skip_over_limit:
            limit = upload_limit_mb()
            over_rows = int(limit * MiB * 1.04 / (size / args.rows)) + 1  # ~4% over the limit
            over_path = os.path.join(work, f"predictions_{over_rows}.csv")
            over = {"limit_mb": limit, "rows": over_rows, "size": write_csv(over_path, over_rows)}
            print(f"over-limit file {over['size'] / 1e6:.1f} MB", file=sys.stderr, flush=True)
            if not args.skip_browser:
                try:
                    over["browser"] = asyncio.run(over_limit_browser(over_path, limit, work, args.shots))
                except Exception as exc:  # noqa: BLE001 - reported
                    over["failure"] = f"{type(exc).__name__}: {exc}"[:500]
            over["cli"] = run_cli_summarize(over_path)
            os.remove(over_path)
        if args.json:
            Path(args.json).write_text(json.dumps({"rows": args.rows, "size": size, "inprocess": inproc,
                                                   "traced": traced, "browser": browser, "over_limit": over},
                                                  indent=2))
        print(markdown(args.rows, size, gen_s, inproc, traced, browser, over))
        failed = browser is not None and (browser.get("failure") or any(browser["errors"].values()))
        if over is not None:
            failed = failed or over["cli"]["returncode"] != 0 or over.get("failure") or (
                over.get("browser") is not None and not (over["browser"]["refusal"] and over["browser"]["cli_hint"]))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
