"""Metrics as clients see them: aggregations per bucket and per tag value."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry

from gql_analytics.services.answers import MetricResult, MetricSummary, Stats


@strawberry.interface(description="Statistics of metric values; percentiles within 1 %.")
class MetricStats:
    count: int
    sum: float
    avg: float | None
    min: float | None
    max: float | None
    stddev: float | None
    p50: float | None
    p90: float | None
    p95: float | None
    p99: float | None


def _stats_fields(stats: Stats) -> dict[str, Any]:
    return {
        "count": stats.count,
        "sum": stats.sum,
        "avg": stats.avg,
        "min": stats.min,
        "max": stats.max,
        "stddev": stats.stddev,
        "p50": stats.p50,
        "p90": stats.p90,
        "p95": stats.p95,
        "p99": stats.p99,
    }


@strawberry.type
class MetricBucket(MetricStats):
    bucket: datetime

    @classmethod
    def from_domain(cls, bucket: datetime, stats: Stats) -> MetricBucket:
        return cls(bucket=bucket, **_stats_fields(stats))


@strawberry.type
class MetricGroup(MetricStats):
    tag_value: str

    @classmethod
    def from_domain(cls, tag_value: str, stats: Stats) -> MetricGroup:
        return cls(tag_value=tag_value, **_stats_fields(stats))


@strawberry.type
class MetricAggregation(MetricStats):
    name: str
    points: list[MetricBucket]
    groups: list[MetricGroup]

    @classmethod
    def from_domain(cls, result: MetricResult) -> MetricAggregation:
        return cls(
            name=result.name,
            points=[MetricBucket.from_domain(b, s) for b, s in result.points],
            groups=[MetricGroup.from_domain(v, s) for v, s in result.groups],
            **_stats_fields(result.overall),
        )


@strawberry.type
class MetricInfo:
    name: str
    count: int
    last_seen: datetime | None

    @classmethod
    def from_domain(cls, summary: MetricSummary) -> MetricInfo:
        return cls(name=summary.name, count=summary.count, last_seen=summary.last_seen)
