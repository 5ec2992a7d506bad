"""The README's notebook examples are run, as written, so they stay true."""

from __future__ import annotations

import doctest
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _blocks() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return [b for b in re.findall(r"```python\n(.*?)```", text, flags=re.S) if ">>> " in b]


def test_the_readme_has_notebook_examples():
    assert _blocks() and "mi.evaluate(" in _blocks()[0]


def test_the_readme_notebook_examples_run(monkeypatch):
    monkeypatch.chdir(ROOT)  # the examples read sample_data/ relative to the checkout
    parser, runner = doctest.DocTestParser(), doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    for i, block in enumerate(_blocks()):
        test = parser.get_doctest(block, {}, f"README.md python block {i + 1}", "README.md", 0)
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.attempted > 10 and result.failed == 0, result
