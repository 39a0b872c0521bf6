"""Datasets read from a real (in-memory DuckDB) store, row for row."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from gql_analytics.adapters.duckdb.store import DuckDBStore
from gql_analytics.adapters.live import InProcessBus
from gql_analytics.domain.records import Batch, Event, MetricPoint
from gql_analytics.domain.timerange import Interval, TimeRange
from gql_analytics.errors import AnalysisFailed, InvalidAnalysis
from gql_analytics.services.analysis.datasets import (
    Dataset,
    EventsDataset,
    MetricDataset,
    RowsDataset,
    TasksDataset,
    load,
)
from gql_analytics.services.analytics import AnalyticsService
from gql_analytics.services.ingest.pipeline import IngestPipeline

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
DAYS = TimeRange(T0 - timedelta(days=1), T0 + timedelta(days=2))


def event(id: str, hours: float, name: str, user: str | None, **properties: object) -> Event:
    at = T0 + timedelta(hours=hours)
    return Event(id, name, "default", at, at, user, None, properties)


@pytest.fixture
async def store() -> AsyncIterator[DuckDBStore]:
    store = DuckDBStore()
    await store.apply(
        Batch(
            [
                event("a", 0, "login", "ann"),
                event("b", 1, "search", "ann"),
                event("c", 25, "login", "ann"),
                event("d", 2, "task_created", "ann", task_id="t1"),
                event("e", 3.5, "task_completed", "ann", task_id="t1"),
                event("f", 4, "task_created", "bob", task_id="t2"),
                event("g", 5, "login", "bob"),
                event("h", 5, "login", None),
                MetricPoint("m1", "latency", 10.0, "default", T0, T0, {}),
                MetricPoint("m2", "latency", 30.0, "default", T0 + timedelta(minutes=5), T0, {}),
                MetricPoint("m3", "latency", 7.0, "default", T0 + timedelta(hours=2), T0, {}),
            ]
        )
    )
    yield store
    await store.close()


@pytest.fixture
def analytics(store: DuckDBStore) -> AnalyticsService:
    return AnalyticsService(store, IngestPipeline(store, InProcessBus()))


async def test_events_become_one_row_of_features_per_user(
    analytics: AnalyticsService, store: DuckDBStore
) -> None:
    frame = await load(
        EventsDataset(DAYS), tenant="default", store=store, analytics=analytics, limit=100
    )
    assert frame.index.tolist() == ["ann", "bob"]
    assert frame.to_dict("index") == {
        "ann": {
            "events": 5,
            "active_days": 2,
            "login": 2,
            "search": 1,
            "task_completed": 1,
            "task_created": 1,
            "tasks_created": 1,
            "tasks_completed": 1,
            "avg_completion_seconds": 5400.0,
        },
        "bob": {
            "events": 2,
            "active_days": 1,
            "login": 1,
            "search": 0,
            "task_completed": 0,
            "task_created": 1,
            "tasks_created": 1,
            "tasks_completed": 0,
            "avg_completion_seconds": pytest.approx(float("nan"), nan_ok=True),
        },
    }


async def test_tasks_become_one_row_per_task(
    analytics: AnalyticsService, store: DuckDBStore
) -> None:
    frame = await load(
        TasksDataset(DAYS), tenant="default", store=store, analytics=analytics, limit=100
    )
    assert frame.index.tolist() == ["t1", "t2"]
    assert frame["user_id"].tolist() == ["ann", "bob"]
    assert frame["status"].tolist() == ["completed", "open"]
    assert frame["completed"].tolist() == [1, 0]
    assert frame["completion_seconds"].iloc[0] == 5400.0
    assert pd.isna(frame["completion_seconds"].iloc[1])


async def test_a_metric_becomes_one_row_per_bucket(
    analytics: AnalyticsService, store: DuckDBStore
) -> None:
    window = TimeRange(T0, T0 + timedelta(hours=3))
    dataset = MetricDataset("latency", window, Interval.HOUR)
    frame = await load(dataset, tenant="default", store=store, analytics=analytics, limit=100)
    assert frame.index.tolist() == [T0 + timedelta(hours=h) for h in range(3)]
    assert frame["count"].tolist() == [2, 0, 1]
    assert frame["avg"].iloc[0] == 20.0
    assert (frame["min"].iloc[0], frame["max"].iloc[0], frame["sum"].iloc[0]) == (10.0, 30.0, 40.0)
    assert frame.iloc[1].drop("count").isna().all()
    assert frame["p50"].iloc[2] == pytest.approx(7.0, rel=0.01)


@pytest.mark.parametrize(
    ("dataset", "what"),
    [
        (EventsDataset(DAYS), "users"),
        (TasksDataset(DAYS), "tasks"),
        (MetricDataset("latency", DAYS, Interval.HOUR), "buckets"),
        (RowsDataset([{"a": 1}, {"a": 2}]), "rows"),
    ],
    ids=["events", "tasks", "metric", "rows"],
)
async def test_a_dataset_past_the_row_limit_fails_the_job(
    analytics: AnalyticsService, store: DuckDBStore, dataset: Dataset, what: str
) -> None:
    with pytest.raises(AnalysisFailed, match=f"more than 1 {what}"):
        await load(dataset, tenant="default", store=store, analytics=analytics, limit=1)


async def test_unusable_inline_rows_are_bad_input(
    analytics: AnalyticsService, store: DuckDBStore
) -> None:
    with pytest.raises(InvalidAnalysis, match="finite"):
        await load(
            RowsDataset([{"a": float("nan")}]),
            tenant="default",
            store=store,
            analytics=analytics,
            limit=10,
        )
