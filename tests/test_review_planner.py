"""Review: questions the rollups can answer are not refused for the raw retention."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from gql_analytics.adapters.duckdb.store import DuckDBStore
from gql_analytics.adapters.live import InProcessBus
from gql_analytics.domain.records import Batch, MetricPoint
from gql_analytics.domain.timerange import Interval, TimeRange
from gql_analytics.services.analytics import AnalyticsService
from gql_analytics.services.ingest.pipeline import IngestPipeline

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


async def test_a_sparse_metric_over_a_range_longer_than_retention_still_answers() -> None:
    """Before ff5ef85, ``metric`` read the rollups whatever the range; now a question the rollups
    can answer is sent to a raw scan when that is cheaper, and the scan is refused for the
    retention although the rollups hold every point."""
    store = DuckDBStore()
    at = NOW - timedelta(days=1)
    await store.apply(Batch([MetricPoint("1", "latency", 120.0, "default", at, at)]))
    service = AnalyticsService(
        store,
        IngestPipeline(store, InProcessBus()),
        clock=lambda: NOW,
        retention=timedelta(days=30),
    )
    ninety_days = TimeRange(NOW - timedelta(days=90), NOW)
    result = await service.metric("default", "latency", ninety_days, Interval.DAY)
    assert result.overall.count == 1
    await store.close()
