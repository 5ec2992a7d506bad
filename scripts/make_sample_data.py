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
    w = np.asarray(weekday_weights, dtype=float)[days.day_of_week]
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
HIDDEN, AMBIGUOUS, VISIBLE = 0, 1, 2  # how much of the fraud signal a fraud carries
FRAUD_WEIGHT = 2.0  # frauds are up-weighted in training, so scores run somewhat high
P_VISIBLE = 0.89  # share of frauds that carry the full signal (outside the planted segments)
P_AMBIGUOUS = 0.05  # share that carry half of it; the rest are hidden
LOOKALIKE_RATE = 0.02  # legitimate transactions that look much like fraud
WEAK_HIDDEN = 0.5  # share of visible frauds in electronics x online that look legitimate instead
ODDBALL_RATE = 0.05  # legitimate transactions with part of the signal (travelling, new phone...)
UNKNOWN_RATE_FRAUD = 0.02  # P(device=unknown | fraud)
UNKNOWN_RATE_LEGIT = 0.0035  # P(device=unknown | legitimate)
GRAPH_SHIFT = 1.5  # how far the challenger's merchant-graph feature moves for any fraud
# Mean shift of the five latent features (velocity, geo distance, device mismatch, auth failures, account
# age) per unit of fraud strength.
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
    # Fraud strength: how much of the fraud signal a row carries (visible ~1.1, ambiguous ~0.5, hidden ~0).
    u = rng.random(n_rows)
    kind = np.where(u < P_VISIBLE, VISIBLE, np.where(u < P_VISIBLE + P_AMBIGUOUS, AMBIGUOUS, HIDDEN))
    kind[~fraud] = HIDDEN
    # Hidden frauds mimic the cardholder's normal purchases: they shop like legitimate customers.
    like_legit = ~fraud | (kind == HIDDEN)
    n_like = int(like_legit.sum())
    merchant = np.empty(n_rows, dtype=object)
    merchant[~like_legit] = _choice(rng, MERCHANTS, [.10, .20, .12, .12, .09, .08, .20, .09], n_rows - n_like)
    merchant[like_legit] = _choice(rng, MERCHANTS, [.24, .10, .07, .12, .18, .12, .07, .10], n_like)
    channel = np.empty(n_rows, dtype=object)
    channel[~like_legit] = _choice(rng, CHANNELS, [.62, .23, .15], n_rows - n_like)
    channel[like_legit] = _choice(rng, CHANNELS, [.42, .50, .08], n_like)

    device = np.where(channel == "in_store", "pos_terminal", "").astype(object)
    online = channel == "online"
    device[online] = _choice(rng, ["ios", "android", "desktop"], [.33, .34, .33], int(online.sum()))
    phone = channel == "phone"
    device[phone] = _choice(rng, ["ios", "android", "desktop"], [.45, .45, .10], int(phone.sum()))
    # A small slice whose device fingerprint failed: rare, fraud-heavy and hard (visible frauds there
    # lose part of their signal).
    unknown = rng.random(n_rows) < np.where(fraud, UNKNOWN_RATE_FRAUD, UNKNOWN_RATE_LEGIT)
    device[unknown] = "unknown"
    kind[fraud & unknown & (kind == VISIBLE) & (rng.random(n_rows) < 0.5)] = AMBIGUOUS
    # The weak segment: in online electronics most frauds look legitimate to the model.
    weak = (merchant == "electronics") & online
    kind[fraud & weak & (kind == VISIBLE) & (rng.random(n_rows) < WEAK_HIDDEN)] = HIDDEN

    strength = np.select([kind == VISIBLE, kind == AMBIGUOUS],
                         [rng.normal(1.1, 0.1, n_rows), rng.uniform(0.35, 0.65, n_rows)],
                         rng.uniform(0.0, 0.12, n_rows))
    # Legitimate oddballs (travelling, new phone...) carry part of the signal; a few look like fraud.
    odd = rng.random(n_rows) < np.where(unknown, 0.25, ODDBALL_RATE)
    legit_strength = np.where(odd, rng.uniform(0.15, 0.6, n_rows), 0.0)
    lookalike = rng.random(n_rows) < LOOKALIKE_RATE
    legit_strength = np.where(lookalike, rng.normal(0.8, 0.1, n_rows), legit_strength)
    strength = np.where(fraud, strength, legit_strength)
    hidden_fraud = fraud & (kind == HIDDEN)

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


# ------------------------------------------------------------------------------------------------ ads
ADS_START = "2026-01-01"
ADS_DAYS = 90  # 2026-01-01 .. 2026-03-31
PLACEMENTS = ["feed", "sidebar", "search", "video", "stories"]
AD_DEVICES = ["mobile", "desktop", "tablet"]
COUNTRIES = ["US", "GB", "DE", "FR", "ES", "IT", "NL", "BR", "IN", "JP"]
AD_VISIBLE_WEIGHTS = np.array([0.8, 0.6, 0.5, 0.3])  # user history, ad quality, relevance, recency


def _ads_population(rng: np.random.Generator, n_rows: int) -> pd.DataFrame:
    """Draw impressions and clicks from a logistic model on segments, visible and latent features."""
    placement = _choice(rng, PLACEMENTS, [.35, .15, .20, .15, .15], n_rows)
    device = _choice(rng, AD_DEVICES, [.62, .30, .08], n_rows)
    country = _choice(rng, COUNTRIES, [.30, .10, .09, .08, .07, .06, .04, .10, .11, .05], n_rows)
    day = rng.choice(ADS_DAYS, size=n_rows, p=_day_weights(ADS_START, ADS_DAYS, [1, 1, 1, 1, 1.05, 1.15, 1.1]))
    visible = rng.normal(size=(n_rows, 4))
    appeal = rng.normal(size=n_rows)  # the creative's appeal: never seen by the model
    video = placement == "video"
    base = (np.array([-4.0, -5.0, -3.4, -4.1, -4.3])[_codes(placement, PLACEMENTS).astype(int)]
            + np.array([0.1, 0.0, -0.15])[_codes(device, AD_DEVICES).astype(int)]
            + (_codes(country, COUNTRIES) % 4 - 1.5) * 0.08)
    # On video, clicks depend on the creative's appeal much more than on what the model sees.
    signal = visible @ AD_VISIBLE_WEIGHTS + 0.2 * visible[:, 0] * visible[:, 1]
    logit = base + np.where(video, 0.4, 1.0) * signal + np.where(video, 1.1, 0.3) * appeal
    clicked = (rng.random(n_rows) < 1.0 / (1.0 + np.exp(-logit))).astype(int)
    frame = pd.DataFrame({"day": day, "placement": placement, "device": device, "country": country,
                          "clicked": clicked})
    for j in range(visible.shape[1]):
        frame[f"v{j + 1}"] = visible[:, j]
    return frame


def _ads_features(frame: pd.DataFrame) -> np.ndarray:
    weekday = (frame["day"].to_numpy() + 3) % 7  # 2026-01-01 is a Thursday
    return np.column_stack([
        _codes(frame["placement"].to_numpy(), PLACEMENTS),
        _codes(frame["device"].to_numpy(), AD_DEVICES),
        _codes(frame["country"].to_numpy(), COUNTRIES),
        weekday,
        frame[["v1", "v2", "v3", "v4"]].to_numpy(),
    ])


def make_ads_ctr(n_rows: int = ADS_ROWS, seed: int = ADS_SEED) -> pd.DataFrame:
    """Ad impressions with an over-fitted click model's predicted CTR (columns as in the file)."""
    rng = np.random.default_rng(seed)
    train = _ads_population(rng, max(n_rows // 2, 1000))
    data = _ads_population(rng, n_rows)
    # Deep trees, tiny leaves, no regularisation, no early stopping: the model over-fits its smaller
    # training set, and its highest predictions are over-confident.
    with _single_thread():
        model = _hgb_classifier(categorical_features=[True, True, True, False, False, False, False, False],
                                max_iter=120, learning_rate=0.1, max_leaf_nodes=63, min_samples_leaf=30,
                                l2_regularization=0.0)
        model.fit(_ads_features(train), train["clicked"])
        predicted = model.predict_proba(_ads_features(data))[:, 1]
    out = pd.DataFrame({
        "date": (np.datetime64(ADS_START, "D") + data["day"].to_numpy().astype("timedelta64[D]")).astype(str),
        "placement": data["placement"],
        "device": data["device"],
        "country": data["country"],
        "clicked": data["clicked"],
        "predicted_ctr": np.round(predicted, 4),
    })
    out = out.sort_values("date", kind="stable").reset_index(drop=True)
    out.insert(0, "impression_id", [f"imp_{i:07d}" for i in range(1, len(out) + 1)])
    return out


# -------------------------------------------------------------------------------------------- support
SUPPORT_START = "2026-01-01"
SUPPORT_DAYS = 90  # 2026-01-01 .. 2026-03-31
LANGUAGES = ["en", "de", "fr", "es", "pt"]
SUPPORT_CHANNELS = ["email", "chat", "web_form", "phone"]
QUEUES = ["billing", "technical", "account", "shipping", "returns", "other"]
TEXT_DIMS = 8


def _queue_centroids() -> np.ndarray:
    """Fixed centroids of the latent text embedding per queue; shipping and returns sit close together."""
    rng = np.random.default_rng(7)
    centroids = rng.normal(size=(len(QUEUES), TEXT_DIMS))
    centroids /= np.linalg.norm(centroids, axis=1, keepdims=True)
    centroids *= 3.3
    shipping, returns = QUEUES.index("shipping"), QUEUES.index("returns")
    centroids[returns] = 0.85 * centroids[shipping] + 0.15 * centroids[returns]
    centroids[QUEUES.index("other")] *= 0.4  # "other" is vague: close to the middle
    return centroids


def _support_population(rng: np.random.Generator, n_rows: int) -> pd.DataFrame:
    """Draw tickets: queue first, then language, channel and a latent text embedding."""
    queue = rng.choice(len(QUEUES), size=n_rows, p=[.27, .25, .16, .13, .11, .08])
    language = _choice(rng, LANGUAGES, [.46, .18, .14, .12, .10], n_rows)
    # Chat leans technical, email leans billing: a weak prior the model can learn.
    channel_probs = np.array([[.45, .20, .25, .10], [.20, .45, .25, .10], [.30, .30, .30, .10],
                              [.35, .25, .30, .10], [.40, .20, .30, .10], [.30, .25, .30, .15]])
    cumulative = channel_probs[queue].cumsum(axis=1)
    channel_code = (rng.random(n_rows)[:, None] > cumulative).sum(axis=1)
    channel = np.asarray(SUPPORT_CHANNELS, dtype=object)[channel_code]
    # Portuguese tickets go through a weak translation step: their embedding carries much less signal.
    quality = np.where(language == "pt", 0.5, 1.0)
    text = quality[:, None] * _queue_centroids()[queue] + rng.normal(size=(n_rows, TEXT_DIMS))
    day = rng.choice(SUPPORT_DAYS, size=n_rows, p=_day_weights(SUPPORT_START, SUPPORT_DAYS,
                                                                [1.3, 1.1, 1.0, 1.0, 0.95, 0.6, 0.55]))
    hours = np.array([.3, .2, .2, .2, .3, .5, 1, 2, 4, 5, 5, 5, 4, 4.5, 5, 5, 4.5, 4, 3, 2.5, 2, 1.5, 1, .5])
    frame = pd.DataFrame({"day": day, "seconds": _seconds_in_day(rng, hours, n_rows), "language": language,
                          "channel": channel, "queue": queue})
    for j in range(TEXT_DIMS):
        frame[f"t{j + 1}"] = text[:, j]
    return frame


def _support_features(frame: pd.DataFrame) -> np.ndarray:
    language = _codes(frame["language"].to_numpy(), LANGUAGES).astype(int)
    channel = _codes(frame["channel"].to_numpy(), SUPPORT_CHANNELS).astype(int)
    return np.column_stack([
        np.eye(len(LANGUAGES))[language],
        np.eye(len(SUPPORT_CHANNELS))[channel],
        frame[[f"t{j + 1}" for j in range(TEXT_DIMS)]].to_numpy(),
    ])


def make_support_tickets(n_rows: int = SUPPORT_ROWS, seed: int = SUPPORT_SEED) -> pd.DataFrame:
    """Support tickets routed by a multinomial logistic regression (columns as in the file)."""
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(seed)
    train = _support_population(rng, n_rows)
    data = _support_population(rng, n_rows)
    with _single_thread():
        model = LogisticRegression(C=1.0, max_iter=500)
        model.fit(_support_features(train), train["queue"])
        probs = np.round(model.predict_proba(_support_features(data)), 4)
    timestamp = _timestamps(SUPPORT_START, data["day"].to_numpy(), data["seconds"].to_numpy())
    out = pd.DataFrame({
        "created_at": timestamp.dt.strftime("%Y-%m-%d %H:%M:%S"),
        "language": data["language"],
        "channel": data["channel"],
        "true_queue": np.asarray(QUEUES, dtype=object)[data["queue"].to_numpy()],
        # The argmax of the rounded probabilities (the first column on a tie), as written to the file.
        "predicted_queue": np.asarray(QUEUES, dtype=object)[probs.argmax(axis=1)],
    })
    for k, name in enumerate(QUEUES):
        out[f"prob_{name}"] = probs[:, k]
    out = out.sort_values("created_at", kind="stable").reset_index(drop=True)
    out.insert(0, "ticket_id", [f"tk_{i:06d}" for i in range(1, len(out) + 1)])
    return out


# ------------------------------------------------------------------------------------------- delivery
DELIVERY_START = "2026-03-01"
DELIVERY_DAYS = 61  # 2026-03-01 .. 2026-04-30
CITIES = ["lisbon", "porto", "madrid", "barcelona", "valencia", "seville"]
VEHICLES = ["bike", "scooter", "car"]
PORTO_DRIFT_MINUTES = 6.3  # how much longer Porto deliveries take after the training period


def _delivery_population(rng: np.random.Generator, n_rows: int, porto_drift: float) -> pd.DataFrame:
    """Draw orders and their delivery times from prep time, travel time, traffic and noise."""
    city = _choice(rng, CITIES, [.25, .17, .22, .18, .10, .08], n_rows)
    distance = np.clip(np.exp(rng.normal(1.05, 0.55, n_rows)), 0.3, 15.0).round(2)
    short = distance < 2.5
    vehicle = np.where(short, _choice(rng, VEHICLES, [.50, .40, .10], n_rows),
                       _choice(rng, VEHICLES, [.12, .48, .40], n_rows))
    day = rng.choice(DELIVERY_DAYS, size=n_rows,
                     p=_day_weights(DELIVERY_START, DELIVERY_DAYS, [.9, .9, .95, 1, 1.2, 1.3, 1.1]))
    hours = np.array([.5, .3, .1, .1, .1, .1, .2, .5, 1, 1.5, 2, 4, 7, 6, 3, 2, 2, 3, 5, 7, 8, 6, 3, 1.5])
    seconds = _seconds_in_day(rng, hours, n_rows)
    hour = seconds // 3600
    rush = np.isin(hour, [12, 13, 19, 20, 21]).astype(float)

    prep_estimate = rng.gamma(6.0, 2.0, n_rows)  # the restaurant's usual prep time: the model sees it
    prep = prep_estimate + rng.normal(0, 3.0, n_rows)  # today's prep time: it does not
    courier_load = rng.poisson(2.0, n_rows).astype(float)  # open orders of the courier: the model sees it
    speed = np.array([13.0, 21.0, 24.0])[_codes(vehicle, VEHICLES).astype(int)]
    city_traffic = np.array([1.10, 1.0, 1.20, 1.15, 0.95, 0.95])[_codes(city, CITIES).astype(int)]
    traffic = city_traffic * (1 + 0.25 * rush * (vehicle != "bike")) * np.exp(rng.normal(0, 0.12, n_rows))
    travel = distance / speed * 60.0 * traffic
    # Bikes: hills, weather and rider fitness make their times much less predictable.
    noise_sd = np.where(vehicle == "bike", 4.0 + 1.5 * distance, np.where(vehicle == "car", 3.5, 2.5))
    actual = (prep + travel + 2.5 * courier_load + 3.0 + rng.normal(0, 1, n_rows) * noise_sd
              + np.where(city == "porto", porto_drift, 0.0))
    actual = np.maximum(actual, 5.0)
    return pd.DataFrame({"day": day, "seconds": seconds, "city": city, "vehicle": vehicle,
                         "distance_km": distance, "prep_estimate": prep_estimate,
                         "courier_load": courier_load, "actual_minutes": actual})


def _delivery_features(frame: pd.DataFrame) -> np.ndarray:
    return np.column_stack([
        _codes(frame["city"].to_numpy(), CITIES),
        _codes(frame["vehicle"].to_numpy(), VEHICLES),
        frame["distance_km"].to_numpy(),
        frame["seconds"].to_numpy() // 3600,
        (frame["day"].to_numpy() + 6) % 7,  # 2026-03-01 is a Sunday
        frame["prep_estimate"].to_numpy(),
        frame["courier_load"].to_numpy(),
    ])


def make_delivery_times(n_rows: int = DELIVERY_ROWS, seed: int = DELIVERY_SEED) -> pd.DataFrame:
    """Food deliveries with a gradient-boosting ETA and a per-row uncertainty (columns as in the file)."""
    from sklearn.ensemble import HistGradientBoostingRegressor

    rng = np.random.default_rng(seed)
    # The model was trained before Porto's deliveries slowed down.
    train = _delivery_population(rng, n_rows, porto_drift=0.0)
    data = _delivery_population(rng, n_rows, porto_drift=PORTO_DRIFT_MINUTES)
    fit_part = np.arange(len(train)) < int(0.7 * len(train))
    categorical = [True, True, False, False, False, False, False]
    with _single_thread():
        point = HistGradientBoostingRegressor(max_iter=200, learning_rate=0.08, categorical_features=categorical,
                                              early_stopping=False, random_state=0)
        point.fit(_delivery_features(train[fit_part]), train.loc[fit_part, "actual_minutes"])
        # The uncertainty model learns the absolute residual on the held-out training rows;
        # for a normal error, E|e| = std * sqrt(2 / pi).
        held_out = train[~fit_part]
        residual = held_out["actual_minutes"] - point.predict(_delivery_features(held_out))
        spread = HistGradientBoostingRegressor(max_iter=100, learning_rate=0.08, categorical_features=categorical,
                                               early_stopping=False, random_state=0)
        spread.fit(_delivery_features(held_out), np.abs(residual))
        features = _delivery_features(data)
        predicted = point.predict(features)
        std = np.maximum(spread.predict(features), 0.5) * np.sqrt(np.pi / 2)
    timestamp = _timestamps(DELIVERY_START, data["day"].to_numpy(), data["seconds"].to_numpy())
    out = pd.DataFrame({
        "order_time": timestamp.dt.strftime("%Y-%m-%d %H:%M:%S"),
        "city": data["city"],
        "vehicle": data["vehicle"],
        "distance_km": data["distance_km"],
        "actual_minutes": np.round(data["actual_minutes"], 1),
        "predicted_minutes": np.round(predicted, 1),
        "prediction_std": np.round(std, 2),
    })
    out = out.sort_values("order_time", kind="stable").reset_index(drop=True)
    out.insert(0, "order_id", [f"ord_{i:06d}" for i in range(1, len(out) + 1)])
    return out


# ------------------------------------------------------------------------------------------ write, check
MAKERS = {
    "fraud.csv": make_fraud,
    "ads_ctr.csv": make_ads_ctr,
    "support_tickets.csv": make_support_tickets,
    "delivery_times.csv": make_delivery_times,
}
MAX_BYTES = 10 * 1024 * 1024


def write_csv(frame: pd.DataFrame, path: Path) -> int:
    """Write ``frame`` as UTF-8 CSV with ``\\n`` line endings and fixed decimals; return the size in bytes."""
    formatted = frame.copy()
    for column, decimals in DECIMALS.items():
        if column in formatted:
            formatted[column] = formatted[column].map(f"{{:.{decimals}f}}".format)
    data = formatted.to_csv(index=False, lineterminator="\n").encode("utf-8")
    path.write_bytes(data)
    return len(data)


def planted_figures(out: Path) -> dict[str, float]:
    """Measure every planted effect on the written files (the figures quoted in the README)."""
    from sklearn.metrics import accuracy_score, precision_score, recall_score, roc_auc_score

    fig: dict[str, float] = {}
    fraud = pd.read_csv(out / "fraud.csv")
    y, flagged, flagged_v2 = fraud["is_fraud"], fraud["fraud_score"] >= 0.5, fraud["fraud_score_v2"] >= 0.5
    fig["fraud.rows"] = len(fraud)
    fig["fraud.fraud_rate"] = y.mean()
    fig["fraud.recall"] = recall_score(y, flagged)
    fig["fraud.precision"] = precision_score(y, flagged)
    fig["fraud.roc_auc"] = roc_auc_score(y, fraud["fraud_score"])
    fig["fraud.recall_v2"] = recall_score(y, flagged_v2)
    fig["fraud.precision_v2"] = precision_score(y, flagged_v2)
    fig["fraud.roc_auc_v2"] = roc_auc_score(y, fraud["fraud_score_v2"])
    weak = (fraud["merchant_category"] == "electronics") & (fraud["channel"] == "online")
    fig["fraud.weak.share"] = weak.mean()
    fig["fraud.weak.recall"] = recall_score(y[weak], flagged[weak])
    fig["fraud.weak.recall_v2"] = recall_score(y[weak], flagged_v2[weak])
    unknown = fraud["device"] == "unknown"
    error = flagged != (y == 1)
    fig["fraud.unknown.share"] = unknown.mean()
    fig["fraud.unknown.fraud_rate"] = y[unknown].mean()
    fig["fraud.unknown.error_rate"] = error[unknown].mean()
    fig["fraud.error_rate"] = error.mean()
    fig["fraud.unknown.error_ratio"] = error[unknown].mean() / error.mean()
    day = fraud["timestamp"].str.slice(0, 10)
    west = fraud["region"] == "west"
    incident = west & day.between("2026-04-06", "2026-04-19")
    fig["fraud.west_incident.frauds"] = y[incident].sum()
    fig["fraud.west_incident.recall"] = recall_score(y[incident], flagged[incident])
    fig["fraud.west_incident.recall_v2"] = recall_score(y[incident], flagged_v2[incident])
    fig["fraud.west_other.recall"] = recall_score(y[west & ~incident], flagged[west & ~incident])
    fig["fraud.other_regions_incident_weeks.recall"] = recall_score(
        y[~west & day.between("2026-04-06", "2026-04-19")], flagged[~west & day.between("2026-04-06", "2026-04-19")])
    week = pd.to_datetime(fraud["timestamp"]).dt.isocalendar().week
    per_cell = y.groupby([fraud["region"], week]).sum()
    full_weeks = per_cell[(per_cell.index.get_level_values(1) > 1) & (per_cell.index.get_level_values(1) < 27)]
    fig["fraud.min_frauds_per_full_region_week"] = full_weeks.min()
    fig["fraud.min_frauds_per_region_week"] = per_cell.min()
    phone = fraud["channel"] == "phone"
    fig["fraud.phone.roc_auc"] = roc_auc_score(y[phone], fraud["fraud_score"][phone])
    fig["fraud.phone.roc_auc_v2"] = roc_auc_score(y[phone], fraud["fraud_score_v2"][phone])
    fig["fraud.phone.recall"] = recall_score(y[phone], flagged[phone])
    fig["fraud.phone.recall_v2"] = recall_score(y[phone], flagged_v2[phone])
    middle = fraud["fraud_score"].between(0.2, 0.8)
    fig["fraud.middle.share_of_rows"] = middle.mean()
    fig["fraud.middle.share_of_frauds"] = middle[y == 1].mean()
    fig["fraud.middle.share_of_scores_above_0.2"] = middle.sum() / (fraud["fraud_score"] >= 0.2).sum()
    fig["fraud.middle.fraud_rate"] = y[middle].mean()

    ads = pd.read_csv(out / "ads_ctr.csv")
    fig["ads.rows"] = len(ads)
    fig["ads.click_rate"] = ads["clicked"].mean()
    fig["ads.mean_predicted_ctr"] = ads["predicted_ctr"].mean()
    fig["ads.roc_auc"] = roc_auc_score(ads["clicked"], ads["predicted_ctr"])
    for placement in PLACEMENTS:
        part = ads[ads["placement"] == placement]
        fig[f"ads.{placement}.roc_auc"] = roc_auc_score(part["clicked"], part["predicted_ctr"])
    top = ads["predicted_ctr"] >= ads["predicted_ctr"].quantile(0.9)
    fig["ads.top_decile.mean_predicted"] = ads["predicted_ctr"][top].mean()
    fig["ads.top_decile.click_rate"] = ads["clicked"][top].mean()
    top1 = ads["predicted_ctr"] >= ads["predicted_ctr"].quantile(0.99)
    fig["ads.top_percent.mean_predicted"] = ads["predicted_ctr"][top1].mean()
    fig["ads.top_percent.click_rate"] = ads["clicked"][top1].mean()

    support = pd.read_csv(out / "support_tickets.csv")
    fig["support.rows"] = len(support)
    fig["support.accuracy"] = accuracy_score(support["true_queue"], support["predicted_queue"])
    for language in LANGUAGES:
        part = support[support["language"] == language]
        fig[f"support.{language}.accuracy"] = accuracy_score(part["true_queue"], part["predicted_queue"])
    for a, b in [("returns", "shipping"), ("shipping", "returns")]:
        part = support[support["true_queue"] == a]
        fig[f"support.{a}_predicted_as_{b}"] = (part["predicted_queue"] == b).mean()
        fig[f"support.{a}.recall"] = (part["predicted_queue"] == a).mean()
    for name in QUEUES:
        fig[f"support.share.{name}"] = (support["true_queue"] == name).mean()

    delivery = pd.read_csv(out / "delivery_times.csv")
    error = delivery["predicted_minutes"] - delivery["actual_minutes"]
    fig["delivery.rows"] = len(delivery)
    fig["delivery.mae"] = error.abs().mean()
    fig["delivery.mean_error"] = error.mean()
    for city in CITIES:
        fig[f"delivery.{city}.mean_error"] = error[delivery["city"] == city].mean()
    for vehicle in VEHICLES:
        fig[f"delivery.{vehicle}.mae"] = error[delivery["vehicle"] == vehicle].abs().mean()
    fig["delivery.std_abs_error_corr"] = np.corrcoef(delivery["prediction_std"], error.abs())[0, 1]
    not_porto = delivery["city"] != "porto"
    z = error[not_porto] / delivery["prediction_std"][not_porto]
    fig["delivery.coverage_95_outside_porto"] = (z.abs() <= 1.96).mean()
    return {key: float(value) for key, value in fig.items()}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (default: sample_data/)")
    parser.add_argument("--figures", action="store_true", help="also print the measured planted figures")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    for name, make in MAKERS.items():
        t0 = time.perf_counter()
        size = write_csv(make(), args.out / name)
        if size >= MAX_BYTES:
            raise SystemExit(f"{name} is {size} bytes, over the {MAX_BYTES}-byte limit")
        print(f"{name:<22} {size / 1e6:6.2f} MB  {time.perf_counter() - t0:5.1f} s")
    print(f"total {time.perf_counter() - started:.1f} s")
    if args.figures:
        for key, value in planted_figures(args.out).items():
            print(f"{key:<48} {value:.4f}")


if __name__ == "__main__":
    main()
