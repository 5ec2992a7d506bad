"""Project rules that a reviewer would otherwise check by hand."""

import ast
import re
from pathlib import Path

import pandas as pd

from mlimpact.io import neutralize_formulas, to_safe_csv

ROOT = Path(__file__).resolve().parents[1]


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_package_never_imports_streamlit():
    offenders = [p.name for p in (ROOT / "mlimpact").glob("*.py") if "streamlit" in _imports(p)]
    assert offenders == []


def test_no_raw_html_sinks_in_the_ui():
    for path in [ROOT / "app.py", *(ROOT / "pages").glob("*.py"), *(ROOT / "ui").glob("*.py")]:
        text = path.read_text()
        assert "unsafe_allow_html" not in text, path
        if path.name == "meeting.py":  # the one constant style sheet
            assert text.count("st.html(") == 1 and "st.html(MEETING_CSS)" in text
            assert "MEETING_CSS.format" not in text and "MEETING_CSS +" not in text
        else:
            assert "st.html(" not in text, path


def test_every_page_starts_with_the_shared_frame():
    for path in (ROOT / "pages").glob("*.py"):
        text = path.read_text()
        assert "sidebar.current()" in text or "sidebar.require_dataset(" in text, path


def test_streamlit_config_limits():
    import tomllib

    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert 0 < config["server"]["maxUploadSize"] <= 300
    assert config["client"]["showErrorDetails"] in ("none", "type")
    assert config["client"]["toolbarMode"] == "viewer"
    assert config["client"]["disableDataExport"] is True  # its CSV export does not neutralise formulas


def test_formula_cells_neutralised_numbers_untouched():
    frame = pd.DataFrame({"=cmd": ["=HYPERLINK(\"http://x\")", "+1", "-2", "@SUM(A1)", "\tx", "ok"],
                          "n": [-1, 2, 3, 4, 5, 6]})
    out = neutralize_formulas(frame)
    assert out.columns.tolist() == ["'=cmd", "n"]
    assert out["'=cmd"].tolist() == ["'=HYPERLINK(\"http://x\")", "'+1", "'-2", "'@SUM(A1)", "'\tx", "ok"]
    assert out["n"].tolist() == [-1, 2, 3, 4, 5, 6]
    text = to_safe_csv(frame, header_lines=["=assumption"]).decode()
    assert text.splitlines()[0] == "# '=assumption"


def test_readme_test_command_is_what_ci_runs():
    readme = (ROOT / "README.md").read_text()
    blocks = readme.split("```bash\n")
    test_command = blocks[2].split("\n```")[0].strip()
    assert "pytest" in test_command
    assert test_command in (ROOT / ".ci" / "run").read_text()


def test_formula_after_a_line_break_inside_a_cell_is_neutralised():
    """`ok\\r=cmd|...` once went out unquoted, so a reader started a new line at `=cmd...`."""
    import csv
    import io

    payloads = ["ok\r=cmd|' /C calc'!A0", "a\n+1", "b\r\n-2", "\r@x", "fine\nline"]
    data = to_safe_csv(pd.DataFrame({"cell": payloads}), header_lines=["x\r=y"]).decode()
    physical = [line for chunk in data.split("\r\n") for line in re.split(r"[\r\n]", chunk)]
    assert not [line for line in physical if line[:1] in ("=", "+", "-", "@", "\t")]
    rows = list(csv.reader(io.StringIO(data.split("\r\n", 1)[1], newline="")))
    assert [r[0] for r in rows[1:]] == ["ok\r'=cmd|' /C calc'!A0", "a\n'+1", "b\r\n'-2", "'\r'@x", "fine\nline"]
