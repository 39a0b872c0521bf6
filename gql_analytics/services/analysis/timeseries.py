"""Anomalies and forecasts of a metric series (a frame indexed by bucket start, one row per
bucket), both from one model of the series: a linear trend plus daily and weekly seasonality
(Fourier terms), fitted by least squares with outlying buckets left out of the fit.

Anomalies are buckets whose residual from the model has a robust z-score (median and median
absolute deviation over a rolling window of residuals) beyond the threshold. The default
threshold, 5, is above the 3.5 usually quoted for a single sample on purpose: a series is
hundreds of buckets tested at once, and at 3.5 one clean series in three would report a false
alarm, at 5 about one in a thousand (Gaussian noise). An IsolationForest over the standardised
residuals gives each bucket a second, distribution-free opinion: an anomaly it also isolates is
reported with method ``robust_z+isolation_forest``. It does not flag buckets alone: on one
dimension it isolates a clean series' own tails as readily as a spike (its scores for both were
measured within a few hundredths of each other), so alone it would cry wolf on clean data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.ensemble import IsolationForest

from gql_analytics.errors import InvalidAnalysis
from gql_analytics.services.analysis.parameters import (
    JSON,
    Parameters,
    Progress,
    bounded,
    existing,
    ignore,
    seed_of,
)

DAY = 86_400.0
WEEK = 7 * DAY
HARMONICS = 3
DEFAULT_COLUMN = "avg"
DEFAULT_THRESHOLD = 5.0
DEFAULT_LEVEL = 0.95
DEFAULT_HORIZON = 24
MAX_HORIZON = 1_000
MIN_POINTS = 8
ROBUST_PASSES = 3
MAD_TO_SIGMA = 0.6745  # MAD of a normal distribution, in standard deviations
MEAN_AD_TO_SIGMA = 0.7979  # mean absolute deviation of a normal distribution, likewise
Array = np.ndarray[Any, Any]


def series_of(frame: pd.DataFrame, parameters: Parameters) -> pd.Series[float]:
    """The analysed column (``target``, else ``avg``) of a metric series, empty buckets left out."""
    if not isinstance(frame.index, pd.DatetimeIndex):
        raise InvalidAnalysis("this operation needs a metric series: give dataset.metric")
    column = parameters.target or DEFAULT_COLUMN
    existing(frame, [column])
    values = bounded(frame[[column]].astype(float))[column].dropna()
    if len(values) < MIN_POINTS:
        raise InvalidAnalysis(
            f"the series has {len(values)} bucket(s) with a value; at least {MIN_POINTS} are needed"
        )
    return values


def _seconds(index: pd.DatetimeIndex) -> Array:
    epoch = pd.Timestamp(0, tz=index.tz)
    seconds: Array = ((index - epoch) / pd.Timedelta(seconds=1)).to_numpy(dtype=float)
    return seconds


@dataclass(frozen=True, slots=True)
class SeasonalModel:
    """Trend plus the seasonal terms the data can carry: a period is modelled when the series
    spans two of them, each harmonic only when buckets are fine enough to show it."""

    origin: float
    periods: tuple[tuple[float, int], ...]  # (period in seconds, harmonics)

    @classmethod
    def for_series(cls, seconds: Array) -> SeasonalModel:
        span = float(seconds[-1] - seconds[0])
        step = float(np.median(np.diff(seconds)))
        periods = []
        for period in (DAY, WEEK):
            harmonics = sum(1 for k in range(1, HARMONICS + 1) if period / k > 2 * step)
            if span >= 2 * period and harmonics:
                periods.append((period, harmonics))
        return cls(float(seconds[0]), tuple(periods))

    @property
    def seasonality(self) -> list[str]:
        return ["daily" if period == DAY else "weekly" for period, _ in self.periods]

    def design(self, seconds: Array) -> Array:
        columns = [np.ones_like(seconds), (seconds - self.origin) / DAY]
        for period, harmonics in self.periods:
            for k in range(1, harmonics + 1):
                angle = 2 * np.pi * k * seconds / period
                columns += [np.sin(angle), np.cos(angle)]
        return np.column_stack(columns)


@dataclass(frozen=True, slots=True)
class Fit:
    model: SeasonalModel
    x: Array  # design of every bucket
    coefficients: Array
    residuals: Array  # of every bucket
    z: Array  # robust z of every residual
    kept: Array  # buckets the final fit used

    @property
    def freedom(self) -> int:
        return int(self.kept.sum()) - int(self.x.shape[1])


def fit(values: pd.Series[float], threshold: float) -> Fit:
    """The model fitted to the buckets, refitted without the outlying ones until they settle, so
    that a spike neither bends the expected values nor hides itself."""
    index = values.index
    assert isinstance(index, pd.DatetimeIndex)
    seconds = _seconds(index)
    model = SeasonalModel.for_series(seconds)
    x = model.design(seconds)
    y = values.to_numpy()
    window = _window(seconds)
    kept = np.ones(len(y), dtype=bool)
    for _ in range(ROBUST_PASSES):
        coefficients, *_ = np.linalg.lstsq(x[kept], y[kept], rcond=None)
        residuals = y - x @ coefficients
        z = robust_z(residuals, window)
        now_kept = np.abs(z) <= threshold
        if (now_kept == kept).all() or now_kept.sum() <= x.shape[1]:
            break
        kept = now_kept
    return Fit(model, x, coefficients, residuals, z, kept)


def _window(seconds: Array) -> int:
    """A week of buckets (or the whole series when shorter): long enough for a stable scale,
    short enough to follow a noise level that changes."""
    step = float(np.median(np.diff(seconds)))
    return max(MIN_POINTS, min(len(seconds), round(WEEK / step)))


def robust_z(residuals: Array, window: int) -> Array:
    """(r - median) / (1.4826 * MAD) over a centred rolling window; where half the window is
    identical the MAD is 0, and the mean absolute deviation stands in for it."""
    r = pd.Series(residuals)
    median = r.rolling(window, center=True, min_periods=1).median()
    deviation = (r - median).abs()
    scale = deviation.rolling(window, center=True, min_periods=1).median() / MAD_TO_SIGMA
    fallback = deviation.rolling(window, center=True, min_periods=1).mean() / MEAN_AD_TO_SIGMA
    scale = scale.where(scale > 0, fallback)
    z = ((r - median) / scale).where(scale > 0, 0.0)
    result: Array = z.to_numpy()
    return result


def anomalies(frame: pd.DataFrame, parameters: Parameters, progress: Progress = ignore) -> JSON:
    values = series_of(frame, parameters)
    threshold = _positive(parameters.threshold, DEFAULT_THRESHOLD, "threshold")
    fitted = fit(values, threshold)
    progress(0.5)
    scale = np.std(fitted.residuals[fitted.kept]) or 1.0
    features = (fitted.residuals / scale).reshape(-1, 1)
    seed = seed_of(parameters)
    forest = IsolationForest(random_state=seed).fit(features)
    isolation = -forest.score_samples(features)  # 0..1, higher is more isolated
    isolated = forest.predict(features) == -1
    expected = fitted.x @ fitted.coefficients
    found = []
    for i in map(int, np.flatnonzero(np.abs(fitted.z) > threshold)):
        found.append(
            {
                "bucket": values.index[i].isoformat(),
                "value": float(values.iloc[i]),
                "expected": float(expected[i]),
                "score": float(fitted.z[i]),
                "method": "robust_z+isolation_forest" if isolated[i] else "robust_z",
                "isolation": float(isolation[i]),
            }
        )
    return {
        "column": str(values.name),
        "threshold": threshold,
        "buckets": len(values),
        "seasonality": fitted.model.seasonality,
        "anomalies": found,
    }


def forecast(frame: pd.DataFrame, parameters: Parameters, progress: Progress = ignore) -> JSON:
    """The next ``horizon`` buckets from the model, with a prediction interval at ``level``
    (ordinary least-squares prediction interval: t quantile * residual deviation * leverage)."""
    values = series_of(frame, parameters)
    horizon = parameters.horizon if parameters.horizon is not None else DEFAULT_HORIZON
    if not 1 <= horizon <= MAX_HORIZON:
        raise InvalidAnalysis(f"horizon: between 1 and {MAX_HORIZON} buckets")
    level = _positive(parameters.level, DEFAULT_LEVEL, "level")
    if level >= 1:
        raise InvalidAnalysis("level: a probability between 0 and 1, such as 0.95")
    fitted = fit(values, _positive(parameters.threshold, DEFAULT_THRESHOLD, "threshold"))
    if fitted.freedom < 1:
        raise InvalidAnalysis("the series is too short for its trend and seasonality")
    index = values.index
    assert isinstance(index, pd.DatetimeIndex)
    seconds = _seconds(index)
    step = float(np.median(np.diff(seconds)))
    ahead = seconds[-1] + step * np.arange(1, horizon + 1)
    x_ahead = fitted.model.design(ahead)
    predicted = x_ahead @ fitted.coefficients
    x_kept = fitted.x[fitted.kept]
    residuals = fitted.residuals[fitted.kept]
    deviation = float(np.sqrt(residuals @ residuals / fitted.freedom))
    leverage = np.einsum("ij,jk,ik->i", x_ahead, np.linalg.pinv(x_kept.T @ x_kept), x_ahead)
    margin = stats.t.ppf((1 + level) / 2, fitted.freedom) * deviation * np.sqrt(1 + leverage)
    buckets = pd.to_datetime(ahead, unit="s", utc=True)
    return {
        "column": str(values.name),
        "level": level,
        "seasonality": fitted.model.seasonality,
        "trend_per_day": float(fitted.coefficients[1]),
        "residual_std": deviation,
        "points": [
            {
                "bucket": bucket.isoformat(),
                "value": float(value),
                "lower": float(value - m),
                "upper": float(value + m),
            }
            for bucket, value, m in zip(buckets, predicted, margin, strict=True)
        ],
    }


def _positive(value: float | None, default: float, name: str) -> float:
    if value is None:
        return default
    if not value > 0:
        raise InvalidAnalysis(f"{name}: must be positive")
    return value
