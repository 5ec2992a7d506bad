"""Exact order statistics and numpy's linear quantiles of a column without holding it (mlimpact.engine.order):
every rank and quantile equal numpy's on the sorted column, also when a bin holds more values than one read
brings back (the narrowing), with ties, a constant column and tiny or huge scales."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import mlimpact.engine.order as order
from mlimpact.engine.backends import open_backend
from mlimpact.engine.sources import resolve_source


@pytest.mark.parametrize("case", range(6))
@pytest.mark.parametrize("fetch_max", [1_000_000, 5])
def test_order_statistics_and_quantiles_are_numpys(tmp_path, monkeypatch, case, fetch_max):
    monkeypatch.setattr(order, "FETCH_MAX", fetch_max)
    rng = np.random.default_rng(case)
    n = int(rng.integers(1, 20_000))
    x = rng.normal(size=n) * [1, 1e-3, 1e6][case % 3]
    if case % 2:
        x = x.round(2)  # ties
    if case == 4:
        x[:] = 3.0
    pd.DataFrame({"x": x, "keep": rng.random(n) < 0.9}).to_parquet(tmp_path / "o.parquet")
    backend = open_backend(resolve_source(str(tmp_path / "o.parquet")), "duckdb")
    try:
        kept = np.sort(x[pd.read_parquet(tmp_path / "o.parquet")["keep"].to_numpy()])
        if not len(kept):
            return
        ranks = np.unique(rng.integers(0, len(kept), 15))
        assert np.array_equal(order.order_statistics(backend, "x", "keep", ranks), kept[ranks])
        probs = np.linspace(0, 1, 21)[1:-1]
        assert np.array_equal(order.linear_quantiles_of(backend, "x", "keep", len(kept), probs), np.quantile(kept, probs))
    finally:
        backend.close()
