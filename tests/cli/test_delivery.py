"""check --webhook / --notify-command / --state against a local HTTP server started here (127.0.0.1)."""

from __future__ import annotations

import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

import mlimpact.monitoring.delivery as delivery
from mlimpact.cli.main import main

FRAUD = "sample_data/fraud.csv"
CONFIG = "tests/golden/checks_fraud.toml"  # two planted violations: recall in west, 2026-W15 and W16


class _Hook:
    """A local webhook: records each POSTed JSON; answers ``fail_first`` requests with HTTP 500 first."""

    def __init__(self, fail_first: int = 0):
        self.received: list[dict] = []
        self.attempts = 0
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - the http.server API
                hook.attempts += 1
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if hook.attempts <= fail_first:
                    self.send_response(500)
                    self.end_headers()
                    return
                hook.received.append(json.loads(body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hook_factory(monkeypatch):
    monkeypatch.setattr(delivery, "post_webhook", _fast(delivery.post_webhook))
    made = []

    def make(fail_first=0):
        made.append(_Hook(fail_first))
        return made[-1]

    yield make
    for h in made:
        h.close()


def _fast(post):
    def wrapped(url, document, **kw):
        return post(url, document, backoff_s=0.01, **kw)
    return wrapped


def _check(*extra, config=CONFIG):
    return main(["check", FRAUD, "--config", str(config), *extra])


def test_an_incident_is_sent_once_and_resolved_when_back_in_range(hook_factory, tmp_path, capsys):
    hook = hook_factory()
    state = tmp_path / "state.json"
    assert _check("--webhook", hook.url, "--state", str(state)) == 1
    first = capsys.readouterr()
    assert len(hook.received) == 1
    doc = hook.received[0]
    assert [v["bucket"] for v in doc["violations"]] == ["2026-W15", "2026-W16"]
    assert doc["resolved"] == [] and doc["ongoing"] == 0 and "results" in doc
    assert "sent: 2 new and 0 resolved" in first.err and "recall region=west 2026-W15" in first.out
    assert _check("--webhook", hook.url, "--state", str(state)) == 1  # still out of range: nothing sent
    second = capsys.readouterr()
    assert len(hook.received) == 1 and second.out == "" and "2 already reported" in second.err
    relaxed = tmp_path / "relaxed.toml"
    relaxed.write_text(Path(CONFIG).read_text().replace("min = 0.53", "min = 0.01"))
    assert _check("--webhook", hook.url, "--state", str(state), config=relaxed) == 0
    third = capsys.readouterr()
    resolved = hook.received[1]["resolved"]
    assert [(r["bucket"], r["now"]) for r in resolved] == [("2026-W15", "ok"), ("2026-W16", "ok")]
    assert "resolved: recall region=west 2026-W15" in third.out
    assert json.loads(state.read_text())["sent"] == {}


def test_retries_then_delivers(hook_factory, capsys):
    hook = hook_factory(fail_first=2)
    assert _check("--webhook", hook.url) == 1
    assert hook.attempts == 3 and len(hook.received) == 1
    assert "sent: 2 new" in capsys.readouterr().err


def test_a_failed_delivery_is_one_line_and_tried_again_next_run(hook_factory, tmp_path, capsys):
    hook = hook_factory(fail_first=100)
    state = tmp_path / "state.json"
    assert _check("--webhook", hook.url, "--state", str(state)) == 1
    err = capsys.readouterr().err
    assert "--webhook: not delivered after 3 tries (HTTP 500)" in err and "NOT sent" in err
    assert "Traceback" not in err and not state.exists()
    good = hook_factory()
    assert _check("--webhook", good.url, "--state", str(state)) == 1
    assert len(good.received[0]["violations"]) == 2  # the unsent incidents go out on the next run


def test_notify_command_gets_json_on_stdin_and_nothing_runs_when_all_is_in_range(tmp_path, capsys):
    out = tmp_path / "got.json"
    cmd = f"{sys.executable} -c \"import sys, shutil; shutil.copyfileobj(sys.stdin, open(r'{out}', 'w'))\""
    assert _check("--notify-command", cmd) == 1
    assert len(json.loads(out.read_text())["violations"]) == 2
    out.unlink()
    relaxed = tmp_path / "relaxed.toml"
    relaxed.write_text(Path(CONFIG).read_text().replace("min = 0.53", "min = 0.01"))
    assert _check("--notify-command", cmd, config=relaxed) == 0
    assert not out.exists()
    assert _check("--notify-command", "no-such-program-here") == 1
    assert "`no-such-program-here` was not found" in capsys.readouterr().err


def test_a_corrupt_state_is_reported_and_replaced(tmp_path, capsys):
    state = tmp_path / "state.json"
    state.write_text("{not json")
    assert _check("--state", str(state)) == 1
    assert "unreadable" in capsys.readouterr().err
    assert len(json.loads(state.read_text())["sent"]) == 2


def test_a_webhook_must_be_http(capsys):
    assert _check("--webhook", "file:///etc/passwd") == 2
    assert "give an http:// or https:// address" in capsys.readouterr().err
