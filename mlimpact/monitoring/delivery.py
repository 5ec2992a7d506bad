"""Alerts that reach people: ``check --notify-command``, ``--webhook`` and ``--state``.

A run's document is :func:`mlimpact.monitoring.check_report.check_results`'s. With a state file, an incident
(one violation: metric, segment, period, bucket and side) is sent once: later runs send only the new ones,
and a ``resolved`` entry when a sent incident is no longer out of range. Nothing is sent when there is
nothing new. A delivery that fails is said in one line and its incidents stay unsent, so the next run
tries again. Only aggregates travel (the JSON of ``check``), never rows.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from mlimpact.errors import InputError

__all__ = ["incident_key", "load_state", "save_state", "Notification", "plan_notification", "notify_command",
           "post_webhook", "WEBHOOK_TIMEOUT_S", "WEBHOOK_RETRIES"]

WEBHOOK_TIMEOUT_S = 10.0
WEBHOOK_RETRIES = 3
COMMAND_TIMEOUT_S = 60.0
_STATE_VERSION = 1


def incident_key(v: dict) -> str:
    """The identity of one violation across runs.

    >>> incident_key({"metric": "recall", "segment_column": "region", "segment": "west", "period": "W",
    ...               "bucket": "2026-W15", "side": "below"})
    'recall|region|west|W|2026-W15|below'
    """
    name = str(v.get("metric")) + (f"({v['column']})" if v.get("column") is not None else "")
    name = f"estimated:{name}" if v.get("estimated") is True else name  # state files of plain metrics stay valid
    name = f"[{v['slice']}]{name}" if v.get("slice") is not None else name
    return "|".join([name] + ["" if v.get(k) is None else str(v[k]) for k in
                              ("segment_column", "segment", "period", "bucket", "side")])


def load_state(path: str | Path) -> tuple[dict, str | None]:
    """The incidents already sent (key -> violation), and a warning when the file was unreadable (it is
    then treated as empty and replaced at the end of the run; never a crash)."""
    p = Path(path)
    if not p.exists():
        return {}, None
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
        if not isinstance(doc, dict) or not isinstance(doc.get("sent"), dict):
            raise ValueError("no `sent` table")
        return {str(k): v for k, v in doc["sent"].items() if isinstance(v, dict)}, None
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        return {}, f"state file {p}: unreadable ({str(exc)[:120]}); starting afresh, it will be replaced"


def save_state(path: str | Path, sent: dict) -> None:
    """Write the state atomically (a temporary file in the same folder, then a rename)."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", dir=p.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump({"version": _STATE_VERSION, "sent": sent}, fh, indent=1, sort_keys=True)
        os.replace(tmp, p)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@dataclass
class Notification:
    """What one run sends: the document (new violations, ``resolved``, ``ongoing``) and the state after it."""

    document: dict
    new: list = field(default_factory=list)
    resolved: list = field(default_factory=list)
    state_after: dict = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not self.new and not self.resolved


def plan_notification(report: dict, sent: dict | None) -> Notification:
    """What to send for ``report`` given the incidents already ``sent`` (None: no state, send every violation)."""
    current = {incident_key(v): v for v in report["violations"]}
    if sent is None:
        doc = dict(report, resolved=[], ongoing=0)
        return Notification(doc, list(current.values()), [], {})
    new = [v for k, v in current.items() if k not in sent]
    statuses = {incident_key(dict(r, side=s)): r["status"] for r in report.get("results", [])
                for s in ("below", "above")}
    resolved = [dict(v, now=statuses.get(k, "not checked")) for k, v in sent.items() if k not in current]
    doc = dict(report, violations=new, resolved=resolved, ongoing=len(current) - len(new))
    if "causes" in report:  # why: only for the incidents sent now
        series = {_series(v) for v in new}
        doc["causes"] = [c for c in report["causes"] if _series(c) in series]
    return Notification(doc, new, resolved, {k: current[k] for k in current})


def _series(v: dict) -> tuple:
    return tuple(v.get(k) for k in ("metric", "slice", "segment_column", "segment", "period", "side"))


def notify_command(command: str, document: dict) -> str | None:
    """Run ``command`` (split like a shell would, no shell; use ``sh -c '...'`` for pipes) with the document
    as JSON on standard input; None on success, else the one line that says why not."""
    try:
        argv = shlex.split(command)
    except ValueError as exc:
        raise InputError(f"--notify-command: {exc}") from None
    if not argv:
        raise InputError("--notify-command is empty; give the command to run")
    try:
        done = subprocess.run(argv, input=json.dumps(document).encode(), capture_output=True,
                              timeout=COMMAND_TIMEOUT_S, check=False)
    except FileNotFoundError:
        return f"--notify-command: `{argv[0]}` was not found; check the command"
    except subprocess.TimeoutExpired:
        return f"--notify-command: still running after {COMMAND_TIMEOUT_S:.0f} s; stopped"
    if done.returncode != 0:
        err = done.stderr.decode(errors="replace").strip().splitlines()
        return f"--notify-command exited with {done.returncode}" + (f": {err[-1][:200]}" if err else "")
    return None


def post_webhook(url: str, document: dict, *, retries: int = WEBHOOK_RETRIES, timeout: float = WEBHOOK_TIMEOUT_S,
                 backoff_s: float = 0.5) -> str | None:
    """POST the document as JSON to ``url``: ``retries`` tries with doubling waits; None on success (2xx),
    else the one line that says why not."""
    if not url.lower().startswith(("http://", "https://")):
        raise InputError(f"--webhook {url!r}: give an http:// or https:// address")
    body = json.dumps(document).encode()
    why = "no attempt"
    for attempt in range(retries):
        request = urllib.request.Request(url, data=body, method="POST",
                                         headers={"Content-Type": "application/json", "User-Agent": "mlimpact-check"})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as resp:  # noqa: S310 - the user's own URL
                if 200 <= resp.status < 300:
                    return None
                why = f"HTTP {resp.status}"
        except urllib.error.HTTPError as exc:
            why = f"HTTP {exc.code}"
        except (urllib.error.URLError, OSError) as exc:
            why = str(getattr(exc, "reason", exc))[:160]
        if attempt + 1 < retries:
            time.sleep(backoff_s * 2 ** attempt)
    return f"--webhook: not delivered after {retries} tries ({why})"
