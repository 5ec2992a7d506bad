"""Project rules that a reviewer would otherwise check by hand."""

import ast
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
        assert "sidebar.current()" in text or "sidebar.require_dataset()" in text, path


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
