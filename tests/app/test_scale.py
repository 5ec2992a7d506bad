"""Scale: the CLI summarises a generated 1,000,000-row × 20-column file, and the app's sidebar sends files
over the upload limit to that CLI command.

Measured on the 2-core dev machine (load average about 1): generating the 128 MB file takes 2.3 s, the
summarize test 7.2 s (the CLI itself about 6 s, peak RSS about 730 MB; then the check against
scikit-learn); the whole file runs in 13.5 s. The browser side (uploading the
same file and rendering every page) is measured by ``bench/bench_scale.py`` and ``bench/bench_load.py``.
"""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pandas as pd
import pytest
from sklearn.metrics import recall_score, roc_auc_score
from streamlit.testing.v1 import AppTest

from mlimpact.cli import build_parser
from mlimpact.io import SAMPLES

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")
ROWS = 1_000_000


def _make_big_file():
    spec = importlib.util.spec_from_file_location("make_big_file", ROOT / "bench" / "make_big_file.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def big_csv(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("scale") / "predictions_1m.csv"
    _make_big_file().write_csv(path, ROWS)
    return path


def upload_limit_mb() -> int:
    with open(ROOT / ".streamlit" / "config.toml", "rb") as fh:
        return int(tomllib.load(fh)["server"]["maxUploadSize"])


def cli_hint() -> tuple[str, list[str]]:
    """The sidebar's advice for files over the upload limit, and the command it names."""
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.selectbox(key="mi_source_select").select_index(len(SAMPLES)).run()  # "Upload my files"
    assert not at.exception
    assert at.file_uploader(key="mi_uploads").proto.max_upload_size_mb == upload_limit_mb()
    (hint,) = [c.value for c in at.sidebar.caption if c.value.startswith("Files over ")]
    (command,) = re.findall(r"`([^`]+)`", hint)
    return hint, command.split()


def test_sidebar_points_files_over_the_limit_to_the_cli():
    hint, command = cli_hint()
    assert hint == (f"Files over {upload_limit_mb()} MB: run the command line on them instead (it reads any size, "
                    "folders too, on DuckDB beyond memory): `python -m mlimpact summarize FILE`. To open them here, "
                    "the server's administrator sets MLIMPACT_DATA_DIRS.")
    assert command[:3] == ["python", "-m", "mlimpact"]
    args = build_parser().parse_args(command[3:])  # a real command of this CLI
    assert (args.command, args.file) == ("summarize", "FILE")


def test_cli_summarize_handles_a_1m_row_file(big_csv):
    """The command the sidebar names, on a 1M-row × 20-column file: exit 0, every row counted, right numbers."""
    _, command = cli_hint()
    size_mb = big_csv.stat().st_size / 1e6
    assert 100 < size_mb < upload_limit_mb()  # the documented size fits the limit (the app takes it too)
    argv = [sys.executable] + command[1:-1] + [str(big_csv)]  # python -> this interpreter, FILE -> the file
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads(done.stdout)
    assert summary["rows"]["total"] == ROWS and summary["rows"]["used"] == ROWS
    assert summary["task"] == "binary"
    assert summary["columns"]["label"] == "label" and summary["columns"]["score"] == "score"
    frame = pd.read_csv(big_csv, usecols=["label", "score", "channel"], engine="pyarrow")
    y, s = frame["label"].to_numpy(), frame["score"].to_numpy()
    assert summary["overall"]["recall"]["value"] == pytest.approx(recall_score(y, s >= 0.5), abs=1e-12)
    assert summary["overall"]["roc_auc"]["value"] == pytest.approx(roc_auc_score(y, s), abs=1e-9)
    channels = {seg["value"]: seg["n"] for seg in summary["segments"] if seg["column"] == "channel"}
    assert channels == frame["channel"].value_counts().to_dict()
