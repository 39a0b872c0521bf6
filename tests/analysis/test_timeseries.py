"""Anomalies and forecasts on synthetic metric series whose truth is known."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from gql_analytics.errors import InvalidAnalysis
from gql_analytics.services.analysis.parameters import Parameters
from gql_analytics.services.analysis.timeseries import anomalies, forecast

HOURS = 24 * 21
SPIKES = {50: 30.0, 200: -25.0, 333: 30.0}


def truth(hours: np.ndarray) -> np.ndarray:
    """Trend, a daily cycle and a weekly one."""
    values: np.ndarray = (
        100
        + 0.05 * hours
        + 20 * np.sin(2 * np.pi * hours / 24)
        + 8 * np.cos(2 * np.pi * hours / 168)
    )
    return values


def metric_frame(
    seed: int, spikes: dict[int, float] | None = None, noise: float = 2.0
) -> pd.DataFrame:
    """A frame shaped as the metric dataset is: bucket starts as index, stats as columns."""
    rng = np.random.default_rng(seed)
    hours = np.arange(HOURS, dtype=float)
    values = truth(hours) + rng.normal(0, noise, HOURS)
    for hour, jump in (spikes or {}).items():
        values[hour] += jump
    index = pd.date_range("2026-10-01", periods=HOURS, freq="h", tz="UTC", name="bucket")
    return pd.DataFrame({"count": 60, "avg": values}, index=index)


@pytest.mark.parametrize("seed", range(5))
def test_injected_spikes_are_found_and_nothing_else(seed: int) -> None:
    frame = metric_frame(seed, SPIKES)
    result = anomalies(frame, Parameters())
    assert [a["bucket"] for a in result["anomalies"]] == [
        frame.index[hour].isoformat() for hour in sorted(SPIKES)
    ]
    for found, hour in zip(result["anomalies"], sorted(SPIKES), strict=True):
        assert found["value"] == frame["avg"].iloc[hour]
        assert np.sign(found["score"]) == np.sign(SPIKES[hour])
        assert abs(found["score"]) > 5
        assert found["method"] in {"robust_z", "robust_z+isolation_forest"}
    assert result["seasonality"] == ["daily", "weekly"]


@pytest.mark.parametrize("seed", range(5))
def test_a_clean_seasonal_series_has_no_anomalies(seed: int) -> None:
    assert anomalies(metric_frame(seed), Parameters())["anomalies"] == []


def test_a_lower_threshold_reports_more() -> None:
    frame = metric_frame(0, {100: 9.0})  # 4.5 sigma: below the default threshold
    assert anomalies(frame, Parameters())["anomalies"] == []
    found = anomalies(frame, Parameters(threshold=3.5))["anomalies"]
    assert frame.index[100].isoformat() in [a["bucket"] for a in found]


def test_a_noiseless_series_is_forecast_exactly() -> None:
    frame = metric_frame(0, noise=0.0)
    result = forecast(frame, Parameters(horizon=48))
    expected = truth(np.arange(HOURS, HOURS + 48, dtype=float))
    assert [p["value"] for p in result["points"]] == pytest.approx(expected.tolist(), abs=1e-6)
    assert result["points"][0]["bucket"] == (frame.index[-1] + pd.Timedelta(hours=1)).isoformat()
    assert result["trend_per_day"] == pytest.approx(0.05 * 24)


def test_the_prediction_interval_covers_about_its_level() -> None:
    inside = total = 0
    for seed in range(20):
        full = metric_frame(seed)
        history, future = full.iloc[:-24], full["avg"].iloc[-24:]
        points = forecast(history, Parameters(horizon=24, level=0.9))["points"]
        inside += sum(p["lower"] <= v <= p["upper"] for p, v in zip(points, future, strict=True))
        total += len(points)
    assert 0.85 <= inside / total <= 0.95


def test_a_spike_does_not_bend_the_forecast() -> None:
    """The spike is left out of the fit: the forecast is that of the series without it."""
    without = metric_frame(3).drop(index=metric_frame(3).index[HOURS - 2])
    clean = forecast(without, Parameters())["points"]
    spiked = forecast(metric_frame(3, {HOURS - 2: 200.0}), Parameters())["points"]
    assert [p["value"] for p in spiked] == pytest.approx([p["value"] for p in clean], rel=1e-9)


@pytest.mark.parametrize(
    ("frame", "parameters", "complaint"),
    [
        (pd.DataFrame({"avg": [1.0] * 20}), Parameters(), "needs a metric series"),
        (metric_frame(0).iloc[:5], Parameters(), "at least 8"),
        (metric_frame(0), Parameters(target="p99"), "no column p99"),
        (metric_frame(0), Parameters(horizon=0), "horizon"),
        (metric_frame(0), Parameters(level=1.5), "level"),
    ],
    ids=["not a series", "too short", "unknown column", "no horizon", "bad level"],
)
def test_what_a_series_operation_cannot_answer_is_refused(
    frame: pd.DataFrame, parameters: Parameters, complaint: str
) -> None:
    with pytest.raises(InvalidAnalysis, match=complaint):
        forecast(frame, parameters)


@pytest.mark.parametrize("operation", [anomalies, forecast])
def test_a_series_whose_values_would_overflow_is_refused(operation: Any) -> None:
    frame = metric_frame(0)
    frame["avg"] *= 1e300
    with pytest.raises(InvalidAnalysis, match="overflow"):
        operation(frame, Parameters())
