"""The analytics service over a real (in-memory DuckDB) store."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from gql_analytics.adapters.duckdb.store import DuckDBStore
from gql_analytics.adapters.live import InProcessBus
from gql_analytics.domain.drafts import EventDraft
from gql_analytics.domain.query.fields import Attribute, Field
from gql_analytics.domain.query.funnel import FunnelQuestion
from gql_analytics.domain.query.measures import Measure, Op
from gql_analytics.domain.query.question import Question
from gql_analytics.domain.query.steps import Step
from gql_analytics.domain.records import Batch, Event, MetricPoint
from gql_analytics.domain.rollup import EVENT
from gql_analytics.domain.timerange import Interval, TimeRange
from gql_analytics.errors import CostLimitExceeded, InvalidRange, ShuttingDown
from gql_analytics.services.analytics import AnalyticsService
from gql_analytics.services.ingest.pipeline import IngestPipeline
from tests.support import CountingStore

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
HOUR = TimeRange(T0, T0 + timedelta(hours=1))
LATER = TimeRange(T0 + timedelta(minutes=30), T0 + timedelta(hours=1))


def event(id: str, name: str, minutes: int) -> Event:
    at = T0 + timedelta(minutes=minutes)
    return Event(id, name, "default", at, at, None, None, {})


async def test_event_counts_asked_at_the_same_moment_are_read_together() -> None:
    store = CountingStore()
    await store.apply(Batch([event("1", "a", 5), event("2", "a", 40), event("3", "b", 5)]))
    service = AnalyticsService(store, IngestPipeline(store, InProcessBus()))
    asked = [("a", HOUR), ("b", HOUR), ("never", HOUR), ("a", LATER), ("b", LATER)]
    counts = await asyncio.gather(*(service.event_count("default", n, r) for n, r in asked))
    assert counts == [2, 1, 0, 1, 0]
    assert store.rollup_reads == 2  # one read per range, whatever the names
    assert await service.event_count("default", "a", HOUR) == 2  # and nothing is kept
    await store.apply(Batch([event("4", "a", 6)]))
    assert await service.event_count("default", "a", HOUR) == 3
    await store.close()


async def test_records_sent_while_the_gateway_stops_are_refused_as_retriable() -> None:
    store = DuckDBStore()
    pipeline = IngestPipeline(store, InProcessBus())
    service = AnalyticsService(store, pipeline)
    await pipeline.start()
    await pipeline.stop()
    with pytest.raises(ShuttingDown) as refused:
        await service.track("default", [EventDraft(name="signup")])
    assert (refused.value.code, refused.value.status, refused.value.retriable) == (
        "SHUTTING_DOWN",
        503,
        True,
    )
    await store.close()


async def test_a_scan_past_the_limit_is_refused_and_one_within_it_answers() -> None:
    store = DuckDBStore()
    users = [
        Event(str(i), "login", "default", T0 + timedelta(minutes=i), T0, f"u{i}") for i in range(10)
    ]
    await store.apply(Batch(users))
    service = AnalyticsService(store, IngestPipeline(store, InProcessBus()), max_scan_rows=5)
    by_user = Question(
        "default",
        EVENT,
        (Measure(Op.COUNT),),
        TimeRange(T0, T0 + timedelta(minutes=10)),
        dimensions=(Field(Attribute.USER),),
    )
    with pytest.raises(CostLimitExceeded, match="would scan 10 raw records, past the limit of 5"):
        await service.aggregate(by_user)
    first_three = replace(by_user, time_range=TimeRange(T0, T0 + timedelta(minutes=3)))
    answer = await service.aggregate(first_three)  # ten records stored, three in range
    assert [g.key for g in answer.groups] == [("u0",), ("u1",), ("u2",)]
    await store.close()


async def test_a_sparse_metric_over_a_range_past_the_raw_retention_is_read_from_rollups() -> None:
    """A scan of raw records might be cheaper, but they are gone before the retention: the
    rollups, which hold every point, answer."""
    store = DuckDBStore()
    at = T0 - timedelta(days=1)
    await store.apply(Batch([MetricPoint("1", "latency", 120.0, "default", at, at)]))
    service = AnalyticsService(
        store,
        IngestPipeline(store, InProcessBus()),
        clock=lambda: T0,
        retention=timedelta(days=30),
    )
    ninety_days = TimeRange(T0 - timedelta(days=90), T0)
    result = await service.metric("default", "latency", ninety_days, Interval.DAY)
    assert result.overall.count == 1
    await store.close()


async def test_a_funnel_over_raw_records_past_their_retention_is_refused() -> None:
    store = DuckDBStore()
    service = AnalyticsService(
        store,
        IngestPipeline(store, InProcessBus()),
        clock=lambda: T0,
        retention=timedelta(days=30),
    )
    steps = (Step("view"), Step("buy"))
    ninety_days = TimeRange(T0 - timedelta(days=90), T0)
    with pytest.raises(InvalidRange, match="kept for 30 days"):
        await service.funnel(FunnelQuestion("default", ninety_days, steps, timedelta(days=1)))
    week = TimeRange(T0 - timedelta(days=7), T0)
    funnel = await service.funnel(FunnelQuestion("default", week, steps, timedelta(days=1)))
    assert funnel.entered == 0
    await store.close()
