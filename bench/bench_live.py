"""Live benchmark: every click answers within a second, for several people at once. Prints Markdown.

A. ``--samples`` (default all), a browser session each on one ``streamlit run app.py``: pick the sample, visit
   every page by its sidebar link three times round (from the second page: each click switches page), then
   change five widgets 3 times, each time to a new value: the sidebar threshold on Overview (an arrow key),
   the Segments column (the current one removed untimed, another picked), the Monitoring metric, Impact's
   cost of a false positive, Difficulty's target error (typed untimed, then Enter). Medians of 3; n/a: no
   such control on the page.
B. The ``--rows`` file (``make_big_file.py``): one session on a fresh server tours the default sample once
   (untimed: the server imports every page's libraries), uploads the file (``bench_scale.upload_file``),
   then does as in A. Server VmRSS before the upload, VmRSS and VmHWM (reset then) at the last click, and VmRSS
   ``IDLE_S`` later (settled: the janitor has collected the session's garbage; the goal's figure), against the
   frame's ``memory_usage(deep=True).sum()`` (``mlimpact.io.read_predictions``, in this process).
C. ``--sessions`` at once on the file: ``bench_load.run`` with :func:`switch` in place of ``bench_scale.visit``
   and its server kept ``--linger`` s after every context closed (Streamlit keeps a closed session for
   ``server.disconnectedSessionTTL``, 120 s by default).

Timing: t0 = ``performance.now()`` in the page just before the action (Playwright's dispatch and any widget
debounce included). A ``MutationObserver`` on ``[data-testid='stApp']``'s ``data-test-script-state`` logs each
change, a hook on ``MessageEvent.data`` each websocket message Streamlit reads (and the next frame after it).
A run must start within 2 s (page switch: 60 s), as ``running`` at t ≥ t0 or a server message, else the bench
is wrong and raises. Then ``notRunning``, connection CONNECTED (page switch: and the page's h1) and 300 ms with
no new state or message (else wait on). Figure: the last ``notRunning`` (or the frame after the last message,
if later) − t0. The messages catch a run so short that React batches its ``running`` away (counted in the
report). ``st.fragment`` reruns flip the attribute too (checked on Streamlit 1.67). A ``stException``, error
alert or JavaScript error fails its step.

    python bench/bench_live.py                                               # A + B + C at 1M rows (long)
    python bench/bench_live.py --samples fraud --rows 100000 --sessions 2    # quick
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from unittest import mock

BENCH = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCH), str(BENCH.parent)]

import bench_load  # noqa: E402
import bench_scale as bs  # noqa: E402
from make_big_file import write_csv  # noqa: E402

from mlimpact.io.samples import DEFAULT_SAMPLE, SAMPLES  # noqa: E402

ROUNDS, START_LIMIT_S, PAGE_START_LIMIT_S, SETTLE_MS = 3, 2.0, 60.0, 300
GOALS = {"samples": (1.0, 0.5), "big": (2.0, 1.0)}  # (page switch, widget change): median of 3, seconds
LOAD_MEDIAN, LOAD_P95, RSS_FACTOR, MiB = 3.0, 6.0, 3.0, bs.MiB
IDLE_S = 8.0  # seconds without a click after which part B reads the server's memory again (settled)
STATS = {"steps": 0, "unseen": 0}  # timed steps, and those whose run never showed 'running'
PROBE_JS = """() => {
  const app = document.querySelector("[data-testid='stApp']");
  if (!window.__wsIn) {  // each websocket message Streamlit reads, and the next frame after it
    window.__wsIn = [];
    const data = Object.getOwnPropertyDescriptor(MessageEvent.prototype, 'data');
    Object.defineProperty(MessageEvent.prototype, 'data', {configurable: true, get() {
      const t = performance.now();
      if (this.target instanceof WebSocket) requestAnimationFrame(() => window.__wsIn.push({t, end: performance.now()}));
      return data.get.call(this);
    }});
  }
  if (window.__runsApp !== app) {  // each change of the script state
    window.__runs = window.__runs || [];
    window.__runsObs?.disconnect();
    window.__runsObs = new MutationObserver(recs => recs.forEach((rec, i) => window.__runs.push({t: performance.now(),
      state: i + 1 < recs.length ? recs[i + 1].oldValue : app.getAttribute('data-test-script-state')})));
    window.__runsObs.observe(app, {attributeOldValue: true, attributeFilter: ['data-test-script-state']});
    window.__runsApp = app;
  }
  window.__since = t0 => {  // what happened since t0
    const runs = window.__runs.filter(r => r.t >= t0), msgs = window.__wsIn.filter(m => m.t >= t0);
    const ran = runs.some(r => r.state === 'running'), a = window.__runsApp;
    return {started: ran || msgs.length > 0, ran, n: window.__runs.length, m: window.__wsIn.length,
            idle: a.isConnected && a.getAttribute('data-test-script-state') === 'notRunning'
                  && a.getAttribute('data-test-connection-state') === 'CONNECTED',
            t: Math.max(...runs.filter(r => r.state === 'notRunning').map(r => r.t), ...msgs.map(m => m.end))};
  };
  return performance.now();
}"""


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------- timing
async def timed(page, action, *, heading=None, start_limit_s: float = START_LIMIT_S) -> float:
    """Seconds from just before ``action()`` to the app idle again (see the module docstring)."""
    t0 = await page.evaluate(PROBE_JS)
    await action()
    try:
        await page.wait_for_function("t0 => window.__since(t0).started", arg=t0, timeout=start_limit_s * 1000,
                                     polling=20)
    except Exception as exc:  # noqa: BLE001 - re-raised as what it means
        raise RuntimeError(f"bench bug: the action started no script run within {start_limit_s:g} s") from exc
    if heading is not None:
        await heading.wait_for(timeout=bs.PAGE_TIMEOUT_MS)
    while True:
        done = await (await page.wait_for_function("t0 => { const s = window.__since(t0); return s.idle && s }",
                                                   arg=t0, timeout=bs.PAGE_TIMEOUT_MS, polling=20)).json_value()
        await page.wait_for_timeout(SETTLE_MS)
        now = await page.evaluate("t0 => window.__since(t0)", t0)
        if now["idle"] and (now["n"], now["m"]) == (done["n"], done["m"]):
            STATS["steps"] += 1
            STATS["unseen"] += not done["ran"]
            return (done["t"] - t0) / 1000


async def switch(page, name: str) -> float:
    """Click the page's sidebar link; seconds until its title is shown and the app is idle again."""
    label = page.get_by_test_id("stMarkdownContainer").get_by_text(name, exact=True)
    link = page.get_by_test_id("stSidebar").get_by_test_id("stPageLink-NavLink").filter(has=label)
    heading = page.get_by_test_id("stMain").get_by_role("heading", level=1, name=name, exact=True).first
    return await timed(page, link.click, heading=heading, start_limit_s=PAGE_START_LIMIT_S)


# ----------------------------------------------------------------------------- widget changes
# each prepares (untimed) and returns the action to time, or None when the page has no such control
async def pick_next(page, box, current: str):
    """Open a select box; a click on the option after ``current`` in its list (cycling)."""
    await box.click()
    await page.get_by_role("option").first.wait_for()
    names = [n.strip() for n in await page.get_by_role("option").all_inner_texts() if n.strip() != "Select all"]
    if len(names) < 2 and current in names:
        return None
    pick = names[(names.index(current) + 1) % len(names)] if current in names else names[0]
    return page.get_by_role("option", name=pick, exact=True).click


async def threshold_change(page):
    slider = page.get_by_test_id("stSidebar").get_by_role("slider", name="Threshold (flag when score ≥ threshold)")
    if not await slider.count():
        return None
    low, value, high = await slider.evaluate("e => [Number(e.min), Number(e.value), Number(e.max)]")
    await slider.focus()
    return lambda: page.keyboard.press("ArrowRight" if value <= (low + high) / 2 else "ArrowLeft")


async def segment_change(page):
    box = page.get_by_role("combobox", name="Segment by (one column, or two to cross them)", exact=True)
    if not await box.count():
        return None
    removed = ""
    for button in await page.get_by_test_id("stMultiSelect").filter(has=box).get_by_role(
            "button", name=re.compile(r"^Remove ")).all():
        removed = (await button.get_attribute("aria-label"))[len("Remove "):]
        await timed(page, button.click)  # not reported: the page stops at "Pick one or two columns"
    return await pick_next(page, box, removed)


async def metric_change(page):
    box = page.get_by_test_id("stMain").get_by_role("combobox", name="Metric", exact=True)
    return await pick_next(page, box, await box.input_value()) if await box.count() else None


def number_change(label: str, step: float, fmt: str):
    async def prepare(page):
        box = page.get_by_test_id("stMain").get_by_label(label, exact=True)
        if not await box.count():
            return None
        await box.fill(format(float(await box.input_value() or 0) + step, fmt))  # no run until Enter
        return lambda: box.press("Enter")
    return prepare


WIDGETS = [("Overview: threshold (sidebar slider)", "Overview", threshold_change),
           ("Segments: segment column", "Segments", segment_change),
           ("Monitoring: metric", "Monitoring", metric_change),
           ("Impact: cost of a false positive", "Impact", number_change("Cost of a false positive: amount", 1, "g")),
           ("Difficulty: target error rate (lanes)", "Difficulty",
            number_change("Target: errors among automated decisions (%)", 0.1, ".2f"))]


# ----------------------------------------------------------------------------- one session
class Session:
    """One browser context: its page, its JavaScript errors, and what was measured."""

    def __init__(self, label: str) -> None:
        self.label, self.step, self.seen_js, self.js_errors = label, "open", 0, []
        self.res: dict = {"label": label, "pages": {}, "widgets": {}, "errors": {}}

    async def open(self, browser, url: str, sample: str | None) -> None:
        self.context = await browser.new_context(viewport=bs.VIEWPORT)
        self.context.set_default_timeout(bs.PAGE_TIMEOUT_MS)
        self.page = await self.context.new_page()
        self.page.on("pageerror", lambda exc: self.js_errors.append(f"JavaScript: {exc}"[:300]))
        start = time.perf_counter()
        await self.page.goto(url)
        await self.page.get_by_test_id("stMetricValue").first.wait_for()
        await bs.wait_idle(self.page)
        self.res["open_s"] = time.perf_counter() - start
        if sample is not None and sample != DEFAULT_SAMPLE:
            await self.page.get_by_test_id("stSidebar").get_by_role("combobox", name="Data", exact=True).click()
            option = self.page.get_by_role("option", name=f"Sample: {SAMPLES[sample].title}", exact=True)
            self.res["load_s"] = await timed(self.page, option.click)

    async def check(self, step: str) -> None:
        """Error boxes on the page and new JavaScript errors, filed under ``step``."""
        found = await bs.page_errors(self.page) + self.js_errors[self.seen_js:]
        self.seen_js = len(self.js_errors)
        if found:
            self.res["errors"].setdefault(step, []).extend(found)

    async def tours(self, shots: str | None) -> list[str]:
        names = await bs.nav_names(self.page)
        for round_ in range(ROUNDS):
            for name in names[1:] + names[:1]:  # the session starts on the first page
                self.step = f"page {name}"
                self.res["pages"].setdefault(name, []).append(t := await switch(self.page, name))
                await self.check(self.step)
                log(f"{self.label} round {round_ + 1} {name}: {t:.2f} s")
                if shots and round_ == 0:
                    await bs.screenshot(self.page, os.path.join(shots, f"{self.label}_{bs.slug(name)}.png"))
        return names

    async def widget_changes(self, names: list[str]) -> None:
        for wname, pname, prepare in WIDGETS:
            self.res["widgets"][wname] = None
            if pname not in names:
                continue
            if not await self.page.get_by_test_id("stMain").get_by_role("heading", level=1, name=pname,
                                                                        exact=True).count():
                await switch(self.page, pname)
            times, self.step = [], f"widget {wname}"
            for _ in range(ROUNDS):
                if (act := await prepare(self.page)) is None:
                    break
                times.append(await timed(self.page, act))
                await self.page.keyboard.press("Escape")  # close a list left open
                await self.check(self.step)
                log(f"{self.label} {wname} #{len(times)}: {times[-1]:.2f} s")
            self.res["widgets"][wname] = times or None


async def live_session(browser, url: str, *, label: str, sample: str | None = None, upload=None,
                       server=None, shots: str | None = None) -> dict:
    """Open, pick the sample or upload ``(path, rows)``, tour ×3, change widgets; memory when ``server``."""
    s = Session(label)
    try:
        await s.open(browser, url, sample)
        if server is not None:  # untimed warm-up tour, then the memory before the upload
            s.res["rss_open"] = server.rss()
            for name in (names := await bs.nav_names(s.page))[1:] + names[:1]:
                await switch(s.page, name)
            s.res["rss_before"], s.res["peak_reset"] = server.rss(), bs.reset_peak(server.proc.pid)
        if upload is not None:
            s.res["upload_s"] = await bs.upload_file(s.page, *upload)
            log(f"{label} upload → Overview: {s.res['upload_s']:.1f} s")
        await s.check("open")
        await s.widget_changes(await s.tours(shots))
        if server is not None:
            s.res["rss_after"], s.res["hwm_after"] = server.rss(), server.peak_rss()
            await asyncio.sleep(IDLE_S)  # the janitor's idle collection (ui.store.IDLE_COLLECT_S, 3 s)
            s.res["rss_settled"] = server.rss()
    except Exception as exc:  # noqa: BLE001 - reported, never hidden
        s.res["failure"] = f"{s.step}: {type(exc).__name__}: {exc}"[:800]
        log(f"{label} FAILED at {s.res['failure']}")
        if shots:
            with contextlib.suppress(Exception):
                await s.page.screenshot(path=os.path.join(shots, f"{label}_FAILED.png"))
    finally:
        with contextlib.suppress(Exception):
            await s.context.close()
    return s.res


# ----------------------------------------------------------------------------- the three parts
async def sessions_part(jobs: list[dict], upload_mb: int, work: str, shots: str | None) -> list[dict]:
    """One server; one :func:`live_session` after another, with each job's keyword arguments."""
    from playwright.async_api import async_playwright

    with bs.Server(upload_mb, os.path.join(work, f"streamlit_{jobs[0]['label']}.log")) as server:
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=bs.CHROMIUM, args=bs.CHROMIUM_ARGS)
            try:
                return [await live_session(browser, server.url, server=server if "upload" in job else None,
                                           shots=shots, **job) for job in jobs]
            finally:
                await browser.close()


VISITOR = f"""
import sys
from playwright.sync_api import sync_playwright
with sync_playwright() as p:
    b = p.chromium.launch(executable_path={bs.CHROMIUM!r}, args={bs.CHROMIUM_ARGS!r})
    page = b.new_page()
    page.goto(sys.argv[1])
    page.get_by_test_id("stMetricValue").first.wait_for(timeout=60_000)
    b.close()
"""


async def load_part(path: str, rows: int, size: int, sessions: int, work: str, linger_s: float) -> dict:
    after: dict = {}

    class LingeringServer(bs.Server):
        """bench_load's server, kept ``linger_s`` seconds after its browser closed; its RSS each second."""

        def __exit__(self, *exc) -> None:
            after["rss_closed"], after["rss_wait"] = self.rss(), []
            for _ in range(int(linger_s)):
                time.sleep(1)
                after["rss_wait"].append(self.rss())
            # Streamlit drops sessions past their TTL only when its session store is next written (a session
            # disconnecting): one visitor opens the app and leaves, as on any server in use.
            subprocess.run([sys.executable, "-c", VISITOR, self.url], check=False, timeout=120,
                           capture_output=True)
            after["rss_visited"] = []
            for _ in range(30):  # ui.store's janitor collects after 10 s without a page run
                time.sleep(1)
                after["rss_visited"].append(self.rss())
            super().__exit__(*exc)

    with mock.patch.object(bench_load, "Server", LingeringServer), mock.patch.object(bs, "visit", switch):
        res = await bench_load.run(path, rows, size, sessions, work, None)
    return res | after


# ----------------------------------------------------------------------------- report
def mark(ok: bool) -> str:
    return "✓" if ok else "**✗**"


def session_md(res: dict, goals: tuple[float, float]) -> tuple[list[str], int]:
    """One session's tables (page switches, widget changes) and how many figures miss their goal."""
    out, failed = ([f"**FAILED** at {res['failure']}\n"], 1) if res.get("failure") else ([], 0)
    bits = [f"opened in {res['open_s']:.1f} s" if "open_s" in res else "",
            f"sample loaded in {res['load_s']:.2f} s" if "load_s" in res else "",
            f"upload → Overview {res['upload_s']:.1f} s (`bench_scale.upload_file`)" if "upload_s" in res else ""]
    out.append("; ".join(b for b in bits if b) + ".\n")
    if errs := sorted(set(res["errors"].get("open", []))):
        out, failed = out + ["**Errors on opening**: " + "; ".join(errs)[:500] + "\n"], failed + 1
    for kind, goal in zip(("page", "widget"), goals, strict=True):
        out += [f"| {kind} {'switch' if kind == 'page' else 'change'} | #1 | #2 | #3 | median (s) | goal | | errors |",
                "|---|---:|---:|---:|---:|---|---|---|"]
        for name, times in res[f"{kind}s"].items():
            errs, times = sorted(set(res["errors"].get(f"{kind} {name}", []))), times or []
            med = statistics.median(times) if times else None
            ok = (med is None or round(med, 2) <= goal) and not errs
            failed += not ok
            cells = " | ".join([f"{t:.2f}" for t in times] + ["—"] * (ROUNDS - len(times)))
            out.append(f"| {name} | {cells} | {'n/a' if med is None else f'**{med:.2f}**'} | ≤ {goal:g} s | "
                       f"{mark(ok) if med is not None or errs else ''} | {'; '.join(errs)[:300]} |")
        out.append("")
    return out, failed


def memory_md(res: dict, frame: int) -> tuple[list[str], int]:
    """Part B's server memory: the growth from just before the upload to the end, settled (``IDLE_S`` without a
    click: what the session holds, its garbage collected) and at the last click, against the frame."""
    settled = res.get("rss_settled", res["rss_after"])
    growth, peak = settled - res["rss_before"], res["hwm_after"] - res["rss_before"]
    at_click = res["rss_after"] - res["rss_before"]
    ok, mib = growth <= RSS_FACTOR * frame, lambda n: f"{n / MiB:,.0f}"
    return ["| server memory | MiB | × frame | goal | |", "|---|---:|---:|---|---|",
            f"| the frame: `memory_usage(deep=True).sum()` of `mlimpact.io.read_predictions` | {mib(frame)} | 1 | | |",
            f"| VmRSS: opened → warm-up tour done (before the upload) → last click → {IDLE_S:g} s later | "
            f"{mib(res['rss_open'])} → {mib(res['rss_before'])} → {mib(res['rss_after'])} → {mib(settled)} | | | |",
            f"| **RSS growth** (from before the upload to {IDLE_S:g} s after the last click) | **{mib(growth)}** | "
            f"**{growth / frame:.2f}×** | ≤ {RSS_FACTOR:g}× | {mark(ok)} |",
            f"| RSS growth at the last click (garbage not yet collected) | {mib(at_click)} | {at_click / frame:.2f}× "
            "| | |",
            f"| peak growth (VmHWM − VmRSS before the upload{'' if res.get('peak_reset') else '; VmHWM not reset'}) "
            f"| {mib(peak)} | {peak / frame:.2f}× | | |", ""], 0 if ok else 1


def load_md(res: dict, rows: int, size: int, sessions: int, frame: int) -> tuple[list[str], int]:
    times = sorted(t for s in res["sessions"] for t in s["pages"].values())
    problems = bench_load.all_errors(res)
    med = statistics.median(times) if times else math.inf
    top = times[max(0, math.ceil(0.95 * len(times)) - 1)] if times else math.inf  # nearest rank
    checks = [med <= LOAD_MEDIAN, top <= LOAD_P95, not problems]
    wait = [w / MiB for w in res.get("rss_wait") or [res.get("rss_closed", 0)]]
    out = [f"| {sessions} sessions at once | value | goal | |", "|---|---:|---|---|",
           f"| median page switch ({len(times)}) | **{med:.2f} s** | ≤ {LOAD_MEDIAN:g} s | {mark(checks[0])} |",
           f"| 95th percentile page switch | **{top:.2f} s** | ≤ {LOAD_P95:g} s | {mark(checks[1])} |",
           f"| errors (sessions, pages, JavaScript, server log) | {len(problems)} | none | {mark(checks[2])} |",
           f"| server RSS: all contexts closed → {len(res.get('rss_wait', []))} s later (lowest meanwhile) | "
           f"{res.get('rss_closed', 0) / MiB:,.0f} → {wait[-1]:,.0f} MiB ({min(wait):,.0f}) | | |",
           f"| server RSS 30 s after one more visitor came and left (Streamlit then drops the expired sessions) | "
           f"{min(res.get('rss_visited') or [0]) / MiB:,.0f} MiB | | |", "",
           "Page switches timed as in A and B (this bench's `switch` in place of `bench_scale.visit`); upload times "
           "and server peak RSS below. Streamlit keeps a closed session for `server.disconnectedSessionTTL` "
           "(default 120 s).\n"]
    return out + [bench_load.markdown(res, rows, size, sessions, frame), ""], checks.count(False)


def markdown(results: dict, args) -> tuple[str, int]:
    out = ["## Live: every click answers within a second, for several people at once\n",
           f"Machine: {os.cpu_count()} cores; load average {results['load_start']} at the start, "
           f"{bs.load_average()} at the end. Seconds from the action to the app idle again (module docstring).\n"]
    parts = [(f"### A. Sample: {SAMPLES[r['label']].title}\n", session_md(r, GOALS["samples"]))
             for r in results.get("samples", [])]
    if big := results.get("big"):
        rows, n = session_md(big, GOALS["big"])
        memory, m = memory_md(big, results["frame_bytes"]) if "rss_after" in big else ([], 0)
        rows, n = rows + memory, n + m
        parts.append((f"### B. One session, {args.rows:,}-row file ({results['size'] / 1e6:,.1f} MB)\n", (rows, n)))
    if "load" in results:
        parts.append((f"### C. {args.sessions} concurrent sessions, {args.rows:,}-row file\n",
                      load_md(results["load"], args.rows, results["size"], args.sessions, results["frame_bytes"])))
    failed = 0
    for head, (rows, n) in parts:
        out, failed = out + [head] + rows, failed + n
    out.append(f"{STATS['unseen']} of {STATS['steps']} timed steps never showed `running` (a run so short React "
               "batched its states; timed by the frame after the server's last message).\n")
    out.append(f"**{'All figures meet their goals.' if not failed else f'{failed} figure(s) miss their goal.'}**")
    return "\n".join(out), failed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--samples", default=",".join(SAMPLES), help="sample keys or file names, comma-separated")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--sessions", type=int, default=5)
    parser.add_argument("--linger", type=float, default=30, help="seconds to wait after part C's sessions closed")
    for part in ("samples", "big", "load"):
        parser.add_argument(f"--skip-{part}", action="store_true")
    parser.add_argument("--shots", help="folder for a screenshot of every page (parts A and B, first round)")
    parser.add_argument("--json", help="also write the raw results here")
    args = parser.parse_args(argv)
    stems = {Path(s.file).stem: k for k, s in SAMPLES.items()}  # ads_ctr (the file) for ads
    keys = [stems.get(k, k) for k in args.samples.replace(" ", "").split(",") if k]
    if unknown := [k for k in keys if k not in SAMPLES]:
        parser.error(f"unknown sample(s) {unknown}; choose from {list(SAMPLES)} or {list(stems)}")
    if args.shots:
        os.makedirs(args.shots, exist_ok=True)
    results: dict = {"load_start": bs.load_average()}
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="mlimpact_live_") as work:
        if not args.skip_samples:
            results["samples"] = asyncio.run(sessions_part([{"label": k, "sample": k} for k in keys], 250, work,
                                                           args.shots))
        if not (args.skip_big and args.skip_load):
            path = os.path.join(work, f"predictions_{args.rows}.csv")
            results["size"] = write_csv(path, args.rows)
            results["frame_bytes"] = bench_load.frame_size(path)
            log(f"file {results['size'] / 1e6:.1f} MB, frame {results['frame_bytes'] / MiB:,.0f} MiB")
        if not args.skip_big:
            job = {"label": f"big{args.rows}", "upload": (path, args.rows)}
            upload_mb = max(250, int(results["size"] / 1e6 * 1.2) + 10)
            results["big"] = asyncio.run(sessions_part([job], upload_mb, work, args.shots))[0]
        if not args.skip_load:
            results["load"] = asyncio.run(load_part(path, args.rows, results["size"], args.sessions, work, args.linger))
    text, failed = markdown(results, args)
    print(text)
    log(f"done in {time.perf_counter() - start:.0f} s")
    if args.json:
        Path(args.json).write_text(json.dumps(results | {"args": vars(args), "stats": STATS}, indent=2, default=str))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
