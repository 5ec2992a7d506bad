"""Charts to SVG/PNG, safely: text made XML-safe, and the renderer run in a child process with a time limit.

vl-convert panics (a non-unwinding Rust panic: SIGABRT, no Python exception) on text that XML cannot
hold, such as ``\\x01`` or ``\\x0b`` in a segment value, and a panic inside the Streamlit server takes
every session down. So every string of a spec is cleaned first (:func:`xml_safe`), and the rendering
itself runs in ``python -m mlimpact.report.render``: a renderer bug then costs one download, not the
server.

>>> xml_safe({"title": "north\\x01", "values": [{"seg": "a\\x0bb"}]})
{'title': 'north�', 'values': [{'seg': 'a�b'}]}
"""

from __future__ import annotations

import base64
import json
import re
import subprocess
import sys

__all__ = ["RenderError", "xml_safe", "render_charts", "RENDER_TIMEOUT_S"]

#: characters XML 1.0 cannot hold (C0 controls but TAB/LF/CR, surrogates, U+FFFE/U+FFFF)
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
#: a report's charts are rendered in one child process, within this many seconds
RENDER_TIMEOUT_S = 120


class RenderError(RuntimeError):
    """The chart renderer failed or took too long; the message says what happened and what still works."""


def xml_safe(value):
    """``value`` (a spec: dicts, lists, strings) with characters XML cannot hold replaced by U+FFFD."""
    if isinstance(value, str):
        return _NOT_XML.sub("\ufffd", value)
    if isinstance(value, dict):
        return {xml_safe(k): xml_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [xml_safe(v) for v in value]
    return value


def render_charts(specs: list[dict], *, fmt: str = "svg", scale: float = 2.0,
                  timeout_s: float = RENDER_TIMEOUT_S) -> list:
    """Render Vega-Lite ``specs`` to SVG text or PNG bytes in a child process; :class:`RenderError` on failure.

    Parameters
    ----------
    specs: Vega-Lite specs (``chart.to_dict()``); their text is cleaned with :func:`xml_safe` first.
    fmt: ``"svg"`` (returns ``str``) or ``"png"`` (returns ``bytes``).
    scale: PNG pixel scale.
    timeout_s: the child is killed after this long.
    """
    if not specs:
        return []
    job = json.dumps({"format": fmt, "scale": scale, "specs": [xml_safe(s) for s in specs]}, allow_nan=False)
    try:
        done = subprocess.run([sys.executable, "-m", "mlimpact.report.render"], input=job.encode("utf-8"),
                              capture_output=True, timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired:
        raise RenderError(f"the chart renderer took more than {timeout_s:g} s and was stopped") from None
    if done.returncode != 0:
        why = f"signal {-done.returncode}" if done.returncode < 0 else f"exit {done.returncode}"
        raise RenderError(f"the chart renderer failed ({why})")
    out = json.loads(done.stdout)
    return out if fmt == "svg" else [base64.b64decode(x) for x in out]


def _work(stdin, stdout) -> None:
    """The child's side: read the job, render each spec, write a JSON list (PNG as base64)."""
    import vl_convert as vlc  # vl-convert: heavy, and only ever imported in the child process

    job = json.loads(stdin.read())
    if job["format"] == "svg":
        out = [vlc.vegalite_to_svg(json.dumps(s)) for s in job["specs"]]
    else:
        out = [base64.b64encode(vlc.vegalite_to_png(json.dumps(s), scale=job["scale"])).decode("ascii")
               for s in job["specs"]]
    stdout.write(json.dumps(out).encode("utf-8"))


if __name__ == "__main__":
    _work(sys.stdin.buffer, sys.stdout.buffer)
