"""The bundled sample files: what each holds and where it lives."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["Sample", "SAMPLES", "DEFAULT_SAMPLE", "sample_path"]

SAMPLE_DIR = Path(__file__).resolve().parents[2] / "sample_data"


@dataclass(frozen=True)
class Sample:
    """One bundled sample: a key for links, a title for people, a file name."""

    key: str
    title: str
    file: str
    task: str


SAMPLES: dict[str, Sample] = {
    s.key: s
    for s in (
        Sample("fraud", "Card fraud (binary, two models)", "fraud.csv", "binary"),
        Sample("ads", "Ad clicks (binary, rare positives)", "ads_ctr.csv", "binary"),
        Sample("support", "Support tickets (multiclass)", "support_tickets.csv", "multiclass"),
        Sample("delivery", "Delivery times (regression)", "delivery_times.csv", "regression"),
    )
}
DEFAULT_SAMPLE = "fraud"


def sample_path(key: str) -> Path:
    """Path of a bundled sample file.

    >>> sample_path("fraud").name
    'fraud.csv'
    """
    return SAMPLE_DIR / SAMPLES[key].file
