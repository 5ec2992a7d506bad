"""Write a realistic, deterministic predictions CSV for the scale and load benchmarks (1M rows × 20 columns).

Columns (20): ``id``; ``timestamp`` (26 weeks from 2024-01-01); ``label`` (0/1, about 6% positives);
two model scores ``score`` and ``score_v2`` (probabilities); ``amount`` (money); 8 categorical segment
columns with 3 to 200 values (``channel`` 3, ``region`` 4, ``device`` 5, ``tier`` 6, ``category`` 12,
``country`` 30, ``product`` 60, ``store`` 200; skewed frequencies); 6 numeric features
(``customer_age``, ``tenure``, ``n_prior_orders``, ``basket_size``, ``distance_km``, ``session_len_s``).

Planted effects (so every page has something to show): the model is weaker on ``channel = app`` and
``device = tablet`` (noisier score), and on ``region = west`` it loses recall after week 18 (drift).

The same ``--rows`` and ``--seed`` always give the same bytes. Usage::

    python bench/make_big_file.py --out /tmp/big.csv                 # 1,000,000 rows (~130 MB)
    python bench/make_big_file.py --rows 100000 --out /tmp/small.csv
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np
import pandas as pd

DEFAULT_ROWS = 1_000_000
COLUMNS = ["id", "timestamp", "label", "score", "score_v2", "amount",
           "channel", "region", "device", "tier", "category", "country", "product", "store",
           "customer_age", "tenure", "n_prior_orders", "basket_size", "distance_km", "session_len_s"]
SEGMENTS = {"channel": ["web", "app", "store"],
            "region": ["north", "south", "east", "west"],
            "device": ["desktop", "phone", "tablet", "tv", "watch"],
            "tier": ["bronze", "silver", "gold", "platinum", "staff", "trial"],
            "category": [f"cat_{i:02d}" for i in range(12)],
            "country": [f"C{i:02d}" for i in range(30)],
            "product": [f"prod_{i:03d}" for i in range(60)],
            "store": [f"store_{i:03d}" for i in range(200)]}


def _skewed(rng: np.random.Generator, n_values: int, rows: int) -> np.ndarray:
    """Integer codes with Zipf-like frequencies (value 0 most common), every value present in large files."""
    weights = 1.0 / np.arange(1, n_values + 1) ** 0.8
    return rng.choice(n_values, size=rows, p=weights / weights.sum()).astype(np.int32)


def make_frame(rows: int = DEFAULT_ROWS, *, seed: int = 0) -> pd.DataFrame:
    """The predictions table, deterministic in ``rows`` and ``seed`` (columns in :data:`COLUMNS` order).

    >>> f = make_frame(1000)
    >>> list(f.columns) == COLUMNS, len(f), set(f["label"].unique()) <= {0, 1}
    (True, 1000, True)
    """
    rng = np.random.default_rng(seed)
    codes = {name: _skewed(rng, len(values), rows) for name, values in SEGMENTS.items()}
    seconds = np.sort(rng.integers(0, 26 * 7 * 86_400, rows))
    timestamp = np.datetime64("2024-01-01T00:00:00", "s") + seconds.astype("timedelta64[s]")
    week = seconds // (7 * 86_400)
    customer_age = rng.integers(18, 91, rows)
    tenure = rng.integers(0, 3_650, rows)
    n_prior_orders = rng.poisson(6.0, rows)
    basket_size = rng.integers(1, 40, rows)
    distance_km = rng.gamma(2.0, 12.0, rows).round(2)
    session_len_s = rng.gamma(1.5, 120.0, rows).round(1)
    amount = rng.lognormal(3.6, 1.0, rows).round(2)

    # true risk: segments and features; the label is drawn from it
    region_effect = np.array([0.0, 0.2, -0.1, 0.4])[codes["region"]]
    channel_effect = np.array([0.0, 0.3, -0.4])[codes["channel"]]
    tier_effect = np.array([0.3, 0.1, -0.2, -0.4, -0.8, 0.6])[codes["tier"]]
    category_effect = np.linspace(-0.5, 0.5, 12)[codes["category"]]
    latent = (-2.7 + region_effect + channel_effect + tier_effect + category_effect
              + 0.35 * (np.log(amount) - 3.6) - 0.00025 * tenure + 0.02 * (n_prior_orders == 0)
              + rng.normal(0.0, 0.8, rows))
    label = (rng.random(rows) < 1.0 / (1.0 + np.exp(-latent))).astype(np.int8)

    # the model sees the risk with noise; more noise on app × tablet; drift in the west after week 18
    noise_sd = np.where((codes["channel"] == 1) & (codes["device"] == 2), 2.2, 0.9)
    signal = latent + 1.6 * label
    drift = (codes["region"] == 3) & (week >= 18)
    signal = np.where(drift, signal - 1.4 * label, signal)
    score = 1.0 / (1.0 + np.exp(-(signal + rng.normal(0.0, 1.0, rows) * noise_sd + 0.6)))
    score_v2 = 1.0 / (1.0 + np.exp(-(latent + 1.3 * label + rng.normal(0.0, 1.2, rows) + 0.6)))

    frame = pd.DataFrame({
        "id": np.arange(1, rows + 1, dtype=np.int64),
        "timestamp": timestamp,
        "label": label,
        "score": score.round(5),
        "score_v2": score_v2.round(5),
        "amount": amount,
    })
    for name, values in SEGMENTS.items():
        frame[name] = pd.Categorical.from_codes(codes[name], categories=values)
    frame["customer_age"] = customer_age
    frame["tenure"] = tenure
    frame["n_prior_orders"] = n_prior_orders
    frame["basket_size"] = basket_size
    frame["distance_km"] = distance_km
    frame["session_len_s"] = session_len_s
    return frame[COLUMNS]


def write_csv(path: str | os.PathLike, rows: int = DEFAULT_ROWS, *, seed: int = 0) -> int:
    """Write :func:`make_frame` as a comma CSV with a header (timestamps as ``YYYY-MM-DD HH:MM:SS``).

    Returns the file size in bytes."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    frame = make_frame(rows, seed=seed)
    table = pa.Table.from_pandas(frame, preserve_index=False)
    # categorical -> plain text, so the CSV holds the values themselves
    table = pa.table({name: (col.cast(pa.string()) if pa.types.is_dictionary(col.type) else col)
                      for name, col in zip(table.column_names, table.columns, strict=True)})
    pacsv.write_csv(table, str(path), write_options=pacsv.WriteOptions(quoting_style="none", quoting_header="none"))
    return os.path.getsize(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=DEFAULT_ROWS, help=f"data rows (default {DEFAULT_ROWS:,})")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="big_predictions.csv", help="output path (default big_predictions.csv)")
    args = parser.parse_args(argv)
    if args.rows < 1:
        parser.error("--rows must be at least 1")
    start = time.perf_counter()
    size = write_csv(args.out, args.rows, seed=args.seed)
    print(f"wrote {args.out}: {args.rows:,} rows × {len(COLUMNS)} columns, {size / 1e6:.1f} MB "
          f"in {time.perf_counter() - start:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
