"""Generate the realistic sample files in ``sample_data/`` (deterministic, seeded).

Every score column comes from a real scikit-learn model: the generator draws latent features for a
separate training set, fits the model (fixed ``random_state``, one thread), and predicts on the evaluation
set that is written to the file. Only some features reach the file (segments, amount, time); the rest stay
latent, so calibration and difficulty look like those of a real model.

What is planted (measured figures are in ``sample_data/README.md``):

* ``fraud.csv`` (binary): frauds in ``merchant_category=electronics`` x ``channel=online`` mostly look
  legitimate (low recall there); ``device=unknown`` is a ~0.5% slice with ~5x the error rate; in
  ``region=west`` during 2026-04-06..2026-04-19 (ISO weeks 2026-W15 and W16) a broken feature pipeline
  zeroes the production model's strongest features, so ``fraud_score`` misses most frauds there while the
  challenger ``fraud_score_v2`` is unaffected; the challenger has one extra feature (better overall) but
  lacks the phone-only feature (worse on ``channel=phone``); overlapping latent features give a band of
  genuinely ambiguous scores between 0.2 and 0.8. Every full region-week holds >= 20 frauds.
* ``ads_ctr.csv`` (binary): an over-fitted click model, over-confident at the top; ``placement=video``
  clicks depend mostly on a latent feature the model does not see (AUC near 0.6).
* ``support_tickets.csv`` (multiclass): ``language=pt`` tickets have weak text features (low accuracy);
  ``returns`` and ``shipping`` have nearby feature centroids and are often confused.
* ``delivery_times.csv`` (regression): Porto delivery times rose by ~6 minutes after the training period,
  so the model under-predicts there; bikes have larger errors; ``prediction_std`` comes from a model of the
  absolute residual fitted on held-out training rows.

Run ``python scripts/make_sample_data.py [--out DIR]``; running it twice gives byte-identical files.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

DEFAULT_OUT = Path(__file__).resolve().parent.parent / "sample_data"

FRAUD_ROWS = 80_000
ADS_ROWS = 100_000
SUPPORT_ROWS = 20_000
DELIVERY_ROWS = 30_000

FRAUD_SEED = 20260101
ADS_SEED = 20260102
SUPPORT_SEED = 20260103
DELIVERY_SEED = 20260104

# Columns written with a fixed number of decimals; everything else is written as is.
DECIMALS = {
    "amount": 2,
    "fraud_score": 4,
    "fraud_score_v2": 4,
    "predicted_ctr": 4,
    "prob_billing": 4,
    "prob_technical": 4,
    "prob_account": 4,
    "prob_shipping": 4,
    "prob_returns": 4,
    "prob_other": 4,
    "distance_km": 2,
    "actual_minutes": 1,
    "predicted_minutes": 1,
    "prediction_std": 2,
}


# ----------------------------------------------------------------------------------------------- helpers
def _choice(rng: np.random.Generator, names: list[str], probs: list[float], size: int) -> np.ndarray:
    p = np.asarray(probs, dtype=float)
    return np.asarray(names, dtype=object)[rng.choice(len(names), size=size, p=p / p.sum())]


def _codes(values: np.ndarray, names: list[str]) -> np.ndarray:
    """Integer codes of ``values`` in the order of ``names`` (for the models' categorical features)."""
    lookup = {name: i for i, name in enumerate(names)}
    return np.fromiter((lookup[v] for v in values), dtype=float, count=len(values))


def _seconds_in_day(rng: np.random.Generator, hour_weights: np.ndarray, size: int) -> np.ndarray:
    hours = rng.choice(24, size=size, p=hour_weights / hour_weights.sum())
    return hours * 3600 + rng.integers(0, 3600, size=size)


def _day_weights(start: str, n_days: int, weekday_weights: list[float]) -> np.ndarray:
    days = pd.date_range(start, periods=n_days, freq="D")
    w = np.asarray(weekday_weights, dtype=float)[days.dayofweek]
    return w / w.sum()


def _timestamps(start: str, day: np.ndarray, seconds: np.ndarray) -> pd.Series:
    base = np.datetime64(start, "s")
    return pd.Series(base + day.astype("timedelta64[D]") + seconds.astype("timedelta64[s]"))


def _hgb_classifier(**params):
    from sklearn.ensemble import HistGradientBoostingClassifier

    defaults = dict(max_iter=200, learning_rate=0.08, max_leaf_nodes=31, min_samples_leaf=40,
                    l2_regularization=1.0, early_stopping=False, random_state=0)
    defaults.update(params)
    return HistGradientBoostingClassifier(**defaults)


def _single_thread():
    """One thread for the models: the machine is shared, and it keeps results bit-for-bit reproducible."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1)


# ------------------------------------------------------------------------------------------------- fraud
FRAUD_START = "2026-01-01"
FRAUD_DAYS = 181  # 2026-01-01 .. 2026-06-30
INCIDENT_REGION = "west"
INCIDENT_FIRST_DAY = 95  # 2026-04-06, Monday of ISO week 2026-W15
INCIDENT_LAST_DAY = 108  # 2026-04-19, Sunday of ISO week 2026-W16
REGIONS = ["north", "south", "east", "west", "central"]
MERCHANTS = ["grocery", "electronics", "travel", "fashion", "restaurants", "fuel", "digital_goods", "pharmacy"]
CHANNELS = ["online", "in_store", "phone"]
DEVICES = ["ios", "android", "desktop", "pos_terminal", "unknown"]
# Mean shift of each latent feature for a fully visible fraud (strength 1).
FRAUD_WEIGHT = 2.0  # frauds are up-weighted in training, so scores run somewhat high
P_VISIBLE = 0.84  # share of frauds that carry the full signal (outside the planted segments)
P_AMBIGUOUS = 0.06  # share that carry half of it; the rest are hidden
LOOKALIKE_RATE = 0.015  # legitimate transactions that look much like fraud
UNKNOWN_RATE_FRAUD = 0.02  # P(device=unknown | fraud)
UNKNOWN_RATE_LEGIT = 0.0038  # P(device=unknown | legitimate)
GRAPH_SHIFT = 1.5  # how far the challenger's merchant-graph feature moves for any fraud
FRAUD_SHIFT = np.array([3.8, 3.2, 2.6, 1.6, -1.4])


def _fraud_population(rng: np.random.Generator, n_rows: int, fraud_rate: float = 0.04) -> pd.DataFrame:
    """Draw transactions: label first, then segments, time, amount and latent features given the label."""
    n_fraud = int(round(n_rows * fraud_rate))
    n_legit = n_rows - n_fraud
    y = np.r_[np.ones(n_fraud, dtype=int), np.zeros(n_legit, dtype=int)]
    fraud = y == 1

    # Regions: frauds split evenly and spread evenly over the days (jittered), so that every region-week
    # holds enough frauds for a clear weekly recall; legitimate traffic follows weekday weights.
    region = np.empty(n_rows, dtype=object)
    day = np.empty(n_rows, dtype=int)
    fraud_region = np.arange(n_fraud) % len(REGIONS)
    for r, name in enumerate(REGIONS):
        idx = np.flatnonzero(fraud)[fraud_region == r]
        m = len(idx)
        region[idx] = name
        day[idx] = np.floor((np.arange(m) + rng.random(m)) / m * FRAUD_DAYS).astype(int)
    region[~fraud] = _choice(rng, REGIONS, [0.19, 0.18, 0.20, 0.20, 0.23], n_legit)
    day[~fraud] = rng.choice(FRAUD_DAYS, size=n_legit,
                             p=_day_weights(FRAUD_START, FRAUD_DAYS, [0.9, 0.9, 0.95, 1.0, 1.15, 1.2, 0.9]))
    merchant = np.empty(n_rows, dtype=object)
    merchant[fraud] = _choice(rng, MERCHANTS, [.10, .20, .12, .12, .09, .08, .20, .09], n_fraud)
    merchant[~fraud] = _choice(rng, MERCHANTS, [.24, .10, .07, .12, .18, .12, .07, .10], n_legit)
    channel = np.empty(n_rows, dtype=object)
    channel[fraud] = _choice(rng, CHANNELS, [.62, .23, .15], n_fraud)
    channel[~fraud] = _choice(rng, CHANNELS, [.42, .50, .08], n_legit)

    device = np.where(channel == "in_store", "pos_terminal", "").astype(object)
    online = channel == "online"
    device[online] = _choice(rng, ["ios", "android", "desktop"], [.33, .34, .33], int(online.sum()))
    phone = channel == "phone"
    device[phone] = _choice(rng, ["ios", "android", "desktop"], [.45, .45, .10], int(phone.sum()))
    # A small slice whose device fingerprint failed: rare, fraud-heavy and hard.
    unknown = rng.random(n_rows) < np.where(fraud, UNKNOWN_RATE_FRAUD, UNKNOWN_RATE_LEGIT)
    device[unknown] = "unknown"

    # Fraud strength: how much of the fraud signal a row carries (visible ~1.1, ambiguous ~0.5, hidden ~0).
    weak = (merchant == "electronics") & online
    p_visible = np.where(weak, 0.35, np.where(unknown, 0.45, P_VISIBLE))
    p_ambiguous = np.where(weak, 0.10, np.where(unknown, 0.40, P_AMBIGUOUS))
    u = rng.random(n_rows)
    kind = np.where(u < p_visible, 2, np.where(u < p_visible + p_ambiguous, 1, 0))
    strength = np.select([kind == 2, kind == 1],
                         [rng.normal(1.1, 0.1, n_rows), rng.uniform(0.35, 0.65, n_rows)],
                         rng.uniform(0.0, 0.12, n_rows))
    # Legitimate oddballs (travelling, new phone...) carry part of the signal; a few look like fraud.
    odd = rng.random(n_rows) < np.where(unknown, 0.25, 0.03)
    legit_strength = np.where(odd, rng.uniform(0.15, 0.6, n_rows), 0.0)
    lookalike = rng.random(n_rows) < LOOKALIKE_RATE
    legit_strength = np.where(lookalike, rng.normal(0.8, 0.1, n_rows), legit_strength)
    strength = np.where(fraud, strength, legit_strength)
    hidden_fraud = fraud & (kind == 0)

    # Time of day: visible frauds lean to the night; hidden frauds keep normal hours.
    legit_hours = np.array([1, .5, .3, .3, .3, .5, 1.5, 3, 4, 5, 5.5, 6, 7, 6, 5.5, 5.5, 6, 7, 7.5, 7, 6, 4.5, 3, 2])
    fraud_hours = np.array([4, 4, 4, 4, 3, 2.5, 2.5, 3, 3, 3, 3.5, 3.5, 4, 4, 4, 4, 4, 4.5, 5, 5, 5, 5, 5, 4.5])
    night = fraud & ~hidden_fraud
    seconds = np.empty(n_rows, dtype=int)
    seconds[night] = _seconds_in_day(rng, fraud_hours, int(night.sum()))
    seconds[~night] = _seconds_in_day(rng, legit_hours, int((~night).sum()))

    # On the phone channel the generic features carry less signal; a phone-only feature carries it.
    generic = np.where(phone, 0.4, 1.0) * strength
    x = rng.normal(size=(n_rows, 5)) + generic[:, None] * FRAUD_SHIFT[None, :]
    x_phone = np.where(phone, rng.normal(size=n_rows) + 3.5 * strength, 0.0)
    # A merchant-graph feature only the challenger has: it sees part of the hidden frauds too.
    # It is not available for phone orders.
    x_graph = (rng.normal(size=n_rows) + np.where(fraud & ~phone, GRAPH_SHIFT, 0.0)
               + np.where(phone, 0.0, 0.8) * strength)

    log_amount_mean = pd.Series(merchant).map({"grocery": 3.3, "electronics": 4.6, "travel": 5.0, "fashion": 4.0,
                                               "restaurants": 3.4, "fuel": 3.8, "digital_goods": 3.2,
                                               "pharmacy": 3.0}).to_numpy(dtype=float)
    amount = np.exp(log_amount_mean + 0.6 * strength + rng.normal(0, 0.8, n_rows))
    amount = np.clip(np.round(amount, 2), 0.5, 25_000.0)

    frame = pd.DataFrame({
        "day": day, "seconds": seconds, "amount": amount, "region": region, "merchant_category": merchant,
        "channel": channel, "device": device, "is_fraud": y, "strength": strength,
    })
    for j in range(5):
        frame[f"x{j + 1}"] = x[:, j]
    frame["x_phone"] = x_phone
    frame["x_graph"] = x_graph
    return frame


def _fraud_features(frame: pd.DataFrame, latent: list[str]) -> np.ndarray:
    return np.column_stack([
        np.log(frame["amount"].to_numpy()),
        frame["seconds"].to_numpy() // 3600,
        _codes(frame["region"].to_numpy(), REGIONS),
        _codes(frame["merchant_category"].to_numpy(), MERCHANTS),
        _codes(frame["channel"].to_numpy(), CHANNELS),
        _codes(frame["device"].to_numpy(), DEVICES),
        frame[latent].to_numpy(),
    ])


def _fraud_scored(n_rows: int, seed: int) -> pd.DataFrame:
    """The evaluation population with its latent columns and both models' scores."""
    rng = np.random.default_rng(seed)
    train = _fraud_population(rng, n_rows)
    data = _fraud_population(rng, n_rows)
    production_latent = ["x1", "x2", "x3", "x4", "x5", "x_phone"]
    challenger_latent = ["x1", "x2", "x3", "x4", "x5", "x_graph"]
    categorical = [False, False, True, True, True, True] + [False] * 6

    # The incident: in west during two ISO weeks the production pipeline delivers its three strongest
    # features as 0 (a broken join filled with defaults). The challenger reads its own pipeline.
    broken = ((data["region"] == INCIDENT_REGION) & data["day"].between(INCIDENT_FIRST_DAY, INCIDENT_LAST_DAY))
    production_view = data.copy()
    production_view.loc[broken, ["x1", "x2", "x3"]] = 0.0

    # Both teams up-weight frauds in training (a common practice), so scores run somewhat high.
    weight = np.where(train["is_fraud"] == 1, FRAUD_WEIGHT, 1.0)
    with _single_thread():
        production = _hgb_classifier(categorical_features=categorical)
        production.fit(_fraud_features(train, production_latent), train["is_fraud"], sample_weight=weight)
        fraud_score = production.predict_proba(_fraud_features(production_view, production_latent))[:, 1]
        challenger = _hgb_classifier(categorical_features=categorical, max_iter=300)
        challenger.fit(_fraud_features(train, challenger_latent), train["is_fraud"], sample_weight=weight)
        fraud_score_v2 = challenger.predict_proba(_fraud_features(data, challenger_latent))[:, 1]

    return data.assign(fraud_score=fraud_score, fraud_score_v2=fraud_score_v2, broken=broken)


def make_fraud(n_rows: int = FRAUD_ROWS, seed: int = FRAUD_SEED) -> pd.DataFrame:
    """Card-fraud transactions scored by a production model and a challenger (columns as in the file)."""
    data = _fraud_scored(n_rows, seed)
    timestamp = _timestamps(FRAUD_START, data["day"].to_numpy(), data["seconds"].to_numpy())
    out = pd.DataFrame({
        "timestamp": timestamp.dt.strftime("%Y-%m-%d %H:%M:%S"),
        "amount": data["amount"],
        "region": data["region"],
        "merchant_category": data["merchant_category"],
        "channel": data["channel"],
        "device": data["device"],
        "is_fraud": data["is_fraud"],
        "fraud_score": np.round(data["fraud_score"], 4),
        "fraud_score_v2": np.round(data["fraud_score_v2"], 4),
    })
    out = out.sort_values("timestamp", kind="stable").reset_index(drop=True)
    out.insert(0, "transaction_id", [f"tx_{i:06d}" for i in range(1, len(out) + 1)])
    return out
