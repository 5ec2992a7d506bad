"""Browser end-to-end fixtures: a real ``streamlit run`` server and Debian's Chromium driven by Playwright.

* ``streamlit_server`` (session): one server on a free loopback port, shared by the tests of this folder.
* ``fresh_streamlit_server`` (factory): starts another, brand-new server process (for deep links, which
  behave differently until some session has run ``st.navigation``).
* ``browser`` (session) and ``page`` (a fresh context per test, 1400×1000 viewport).
* :func:`wait_for_app`, :func:`screenshot` and :func:`click_nav` helpers used by the tests.

Every test in this folder is marked ``e2e``. When Chromium is missing the tests FAIL with a clear message
(they never skip: a CI that silently skips its browser suite proves nothing). Playwright does not download
a browser here; it launches the system Chromium (``CHROMIUM`` env var, default ``/usr/bin/chromium``).
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
ARTIFACTS = HERE / "artifacts"
SAMPLE_DATA = ROOT / "sample_data"

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-quic", "--disable-sync"]
VIEWPORT = {"width": 1400, "height": 1000}
HEALTH_TIMEOUT_S = 60.0
# Auto-retrying assertions and waits: the first run of a page loads and encodes an 80,000-row sample on
# 2 shared cores, so the defaults (5 s for expect, 30 s for actions) are too tight.
EXPECT_TIMEOUT_MS = 30_000
ACTION_TIMEOUT_MS = 60_000


# ----------------------------------------------------------------------------- marking
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test collected from this folder (present and future files) with ``e2e``."""
    for item in items:
        if HERE in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.e2e)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """Keep each phase's report on the item, so the ``page`` fixture can screenshot a failed test."""
    report = yield
    if HERE in Path(str(item.path)).resolve().parents:
        setattr(item, f"rep_{report.when}", report)
    return report


# ----------------------------------------------------------------------------- server
def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _port_is_busy(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


class StreamlitServer:
    """One ``streamlit run app.py`` process bound to 127.0.0.1; ``url`` has no trailing slash."""

    def __init__(self, port: int | None = None, name: str = "server", env: dict | None = None) -> None:
        self.port = port or _free_port()
        self.env = env or {}  # extra environment (e.g. MLIMPACT_TRACE for the tests that count computations)
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = ARTIFACTS / f"{name}.log"  # overwritten by the next run
        self.proc: subprocess.Popen | None = None
        self._log = None

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-6000:]
        except OSError:
            return "(no server log)"

    def start(self) -> StreamlitServer:
        # A stale server on this port would answer /_stcore/health and the tests would run against old code.
        if _port_is_busy(self.port):
            raise RuntimeError(f"port {self.port} is already in use (a stale streamlit?); refusing to start")
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        cmd = [sys.executable, "-m", "streamlit", "run", "app.py",
               "--server.headless", "true", "--server.address", "127.0.0.1", "--server.port", str(self.port),
               "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"]
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        env = dict(os.environ, PYTHONUNBUFFERED="1", **self.env)
        self.proc = subprocess.Popen(cmd, cwd=ROOT, stdout=self._log, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + HEALTH_TIMEOUT_S
        while True:
            code = self.proc.poll()
            if code is not None:
                self.stop()
                raise RuntimeError(f"streamlit exited with code {code} before it was healthy; "
                                   f"log {self.log_path}:\n{self.log_text()}")
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as resp:
                    if resp.status == 200 and resp.read().strip() == b"ok":
                        return self
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"streamlit not healthy after {HEALTH_TIMEOUT_S:.0f} s; "
                                   f"log {self.log_path}:\n{self.log_text()}")
            time.sleep(0.1)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        if self._log is not None:
            self._log.close()
            self._log = None


@pytest.fixture(scope="session")
def streamlit_server() -> Iterator[str]:
    """The shared server's base URL (``ST_PORT`` forces a port; by default a free one is picked)."""
    server = StreamlitServer(port=int(os.environ.get("ST_PORT", "0")) or None, name="server")
    server.start()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture
def fresh_streamlit_server() -> Iterator[Callable[[], str]]:
    """Factory: each call starts a NEW server process on a new port and returns its URL; all are stopped."""
    started: list[StreamlitServer] = []

    def start(env: dict | None = None) -> str:
        server = StreamlitServer(name=f"fresh{len(started)}", env=env)
        started.append(server)
        return server.start().url

    try:
        yield start
    finally:
        for server in started:
            server.stop()


# ----------------------------------------------------------------------------- browser
@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: install it (`apt-get install -y chromium`) or set "
                    "CHROMIUM=/path/to/chromium. The browser tests fail rather than skip.", pytrace=False)
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError as exc:  # pragma: no cover - requirements-dev.txt pins playwright
        pytest.fail(f"playwright is not installed ({exc}); pip install -r requirements-dev.txt", pytrace=False)
    expect.set_options(timeout=EXPECT_TIMEOUT_MS)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser, request):
    """A page in a fresh browser context (fresh cookies, so a fresh Streamlit session on first load).

    When the test fails, the page is saved as ``artifacts/FAILED_<test>.png`` (server logs are beside it)."""
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    pg = context.new_page()
    errors: list[str] = []

    def record(exc) -> None:
        # Streamlit's frontend race when a chart's data set is replaced while it renders (streamlit issues
        # #11906, #11342, #9616): harmless (every chart renders), not ours, and timing-dependent on 2 cores.
        if "Unrecognized data set" not in str(exc):
            errors.append(str(exc))

    pg.on("pageerror", record)
    pg.js_errors = errors  # uncaught JS errors, for tests that want to assert on them
    try:
        yield pg
    finally:
        report = getattr(request.node, "rep_call", None)
        if report is not None and report.failed:
            try:
                screenshot(pg, f"FAILED_{slug(request.node.name)}.png")
            except Exception as exc:  # noqa: BLE001 - best effort; never mask the test's own failure
                print(f"could not save a failure screenshot: {exc}")
        context.close()


# ----------------------------------------------------------------------------- helpers
def wait_for_app(page, settle_ms: int = 250) -> None:
    """Wait until the app is connected and no script run is in progress (after a short settle)."""
    page.wait_for_timeout(settle_ms)
    page.locator("[data-testid='stApp'][data-test-connection-state='CONNECTED']").wait_for(state="attached")
    page.locator("[data-testid='stApp'][data-test-script-state='notRunning']").wait_for(state="attached")
    # A widget change can start its rerun a moment after the event; check once more after a settle.
    page.wait_for_timeout(settle_ms)
    page.locator("[data-testid='stApp'][data-test-script-state='notRunning']").wait_for(state="attached")


def open_app(page, url: str) -> None:
    page.goto(url)
    wait_for_app(page)


def nav_names(page) -> list[str]:
    """The entries of the app's sidebar navigation (``st.page_link``s drawn by ui/nav.py), as shown."""
    links = page.get_by_test_id("stSidebar").get_by_test_id("stPageLink-NavLink")
    links.first.wait_for()
    # The link's text also holds the icon's ligature name ("speed"); the label is its Markdown container.
    return [t.strip() for t in links.get_by_test_id("stMarkdownContainer").all_inner_texts()]


def click_nav(page, name: str) -> None:
    """Switch page by clicking its sidebar link (``page.goto`` would start a new, empty session)."""
    label = page.get_by_test_id("stMarkdownContainer").get_by_text(name, exact=True)
    page.get_by_test_id("stSidebar").get_by_test_id("stPageLink-NavLink").filter(has=label).click()
    wait_for_app(page)


def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_") or "page"


def screenshot(page, name: str, max_height: int = 6000) -> Path:
    """Screenshot the whole main area: Streamlit scrolls inside its own container, so ``full_page`` stops at
    the viewport. Grow the viewport to the content's height for the shot, then restore it."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / name
    height = page.evaluate(
        "() => Math.max(...[...document.querySelectorAll(\"[data-testid='stMain'], [data-testid='stSidebarContent']\")]"
        ".map(e => e.scrollHeight), 0)")
    original = page.viewport_size
    tall = max(original["height"], min(int(height) + 40, max_height))
    if tall != original["height"]:
        page.set_viewport_size({"width": original["width"], "height": tall})
        page.wait_for_timeout(400)  # charts re-lay out on resize
    try:
        page.screenshot(path=str(path))
    finally:
        if tall != original["height"]:
            page.set_viewport_size(original)
    return path
