"""Write the golden CLI outputs (tests/golden/*.json) that tests/test_golden.py compares with.

Run once, before a change that must not alter behaviour: ``python tests/golden/make_golden.py``.
"""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
SAMPLES = ("fraud", "ads_ctr", "support_tickets", "delivery_times")


def commands(sample: str) -> dict[str, list[str]]:
    data = f"sample_data/{sample}.csv"
    return {
        "summarize": ["summarize", data, "--format", "json"],
        "slices": ["slices", data, "--format", "json"],
        "impact": ["impact", data, "--format", "json", "--cost-fp", "5", "--cost-fn", "20", "--value-tp", "3"],
        "check": ["check", data, "--config", f"tests/golden/checks_{sample}.toml", "--format", "json"],
    }


def run(args: list[str]) -> tuple[int, str, str]:
    """Exit code, standard output and standard error of ``python -m mlimpact ARGS``."""
    done = subprocess.run([sys.executable, "-m", "mlimpact", *args], cwd=ROOT, capture_output=True, text=True)
    return done.returncode, done.stdout, done.stderr


if __name__ == "__main__":
    for sample in SAMPLES:
        for name, args in commands(sample).items():
            code, out, err = run(args)
            (HERE / f"{sample}.{name}.json").write_text(out)
            (HERE / f"{sample}.{name}.stderr").write_text(f"exit {code}\n{err}")
            print(sample, name, code, len(out))
