"""Output types, each built from domain values by ``from_domain``."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import strawberry
from strawberry.scalars import JSON

from gql_analytics.domain import records
from gql_analytics.domain.stats import BucketSummary
from gql_analytics.domain.timerange import Interval as DomainInterval
from gql_analytics.entrypoints.graphql import cursors
from gql_analytics.errors import InvalidRecord
from gql_analytics.ports import (
    IngestTotals,
    PartitionStatus,
    TaskSummary,
    UserTaskCounts,
)
from gql_analytics.ports import PositionReset as DomainPositionReset
from gql_analytics.services.analytics import (
    CountSeries,
    DashboardSummary,
    MetricResult,
    MetricSummary,
)


@strawberry.enum(description="Width of the buckets a series is drawn in.")
class Interval(enum.Enum):
    MINUTE = "MINUTE"
    FIVE_MINUTES = "FIVE_MINUTES"
    FIFTEEN_MINUTES = "FIFTEEN_MINUTES"
    HOUR = "HOUR"
    DAY = "DAY"
    WEEK = "WEEK"

    def to_domain(self) -> DomainInterval:
        return DomainInterval[self.value]

    @staticmethod
    def or_default(interval: Interval | None, default: Interval) -> DomainInterval:
        """An explicit ``null`` means the argument's default."""
        return (interval or default).to_domain()


@strawberry.type(description="A batch item that was refused; nothing of it was stored.")
class ItemError:
    index: int
    field: str | None
    code: str
    message: str

    @classmethod
    def from_domain(cls, index: int, error: InvalidRecord) -> ItemError:
        return cls(index=index, field=error.field, code=error.code, message=error.message)


@strawberry.type
class TrackResult:
    accepted: int
    ids: list[str]
    errors: list[ItemError]


@strawberry.type
class Event:
    id: strawberry.ID
    name: str
    user_id: str | None
    occurred_at: datetime
    received_at: datetime
    source: str | None
    properties: JSON

    @classmethod
    def from_domain(cls, event: records.Event) -> Event:
        return cls(
            id=strawberry.ID(event.id),
            name=event.name,
            user_id=event.user_id,
            occurred_at=event.occurred_at,
            received_at=event.received_at,
            source=event.source,
            properties=JSON(dict(event.properties)),
        )


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None

    @classmethod
    def after(cls, cursors: list[str], has_next: bool) -> PageInfo:
        """The page info of a page whose edges carry these cursors."""
        return cls(has_next_page=has_next, end_cursor=cursors[-1] if cursors else None)


@strawberry.type
class EventEdge:
    cursor: str
    node: Event


@strawberry.type
class EventConnection:
    edges: list[EventEdge]
    page_info: PageInfo
    total_count: int

    @classmethod
    def from_domain(
        cls, events: list[records.Event], has_next: bool, total: int
    ) -> EventConnection:
        edges = [
            EventEdge(cursor=cursors.event_cursor(e.occurred_at, e.id), node=Event.from_domain(e))
            for e in events
        ]
        return cls(
            edges=edges,
            page_info=PageInfo.after([edge.cursor for edge in edges], has_next),
            total_count=total,
        )


@strawberry.type
class CountPoint:
    bucket: datetime
    count: int


@strawberry.type
class EventSeries:
    name: str
    total: int
    points: list[CountPoint]

    @classmethod
    def from_domain(cls, series: CountSeries) -> EventSeries:
        return cls(
            name=series.name,
            total=series.total,
            points=[CountPoint(bucket=b, count=n) for b, n in series.points],
        )


@strawberry.type
class TopEvent:
    name: str
    count: int


@strawberry.type
class ActiveUsers:
    total: int
    points: list[CountPoint]


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


def _stats_fields(stats: BucketSummary) -> dict[str, Any]:
    p50, p90, p95, p99 = stats.percentiles()
    return {
        "count": stats.count,
        "sum": stats.total,
        "avg": stats.mean,
        "min": stats.minimum,
        "max": stats.maximum,
        "stddev": stats.stddev,
        "p50": p50,
        "p90": p90,
        "p95": p95,
        "p99": p99,
    }


@strawberry.type
class MetricBucket(MetricStats):
    bucket: datetime

    @classmethod
    def from_domain(cls, bucket: datetime, stats: BucketSummary) -> MetricBucket:
        return cls(bucket=bucket, **_stats_fields(stats))


@strawberry.type
class MetricGroup(MetricStats):
    tag_value: str

    @classmethod
    def from_domain(cls, tag_value: str, stats: BucketSummary) -> MetricGroup:
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


@strawberry.type
class UserTasks:
    user_id: str
    created: int
    completed: int
    open: int
    avg_completion_seconds: float | None

    @classmethod
    def from_domain(cls, counts: UserTaskCounts) -> UserTasks:
        return cls(
            user_id=counts.user_id,
            created=counts.created,
            completed=counts.completed,
            open=counts.open,
            avg_completion_seconds=counts.avg_completion_seconds,
        )


@strawberry.type
class UserTasksEdge:
    cursor: str
    node: UserTasks


@strawberry.type
class UserTasksConnection:
    edges: list[UserTasksEdge]
    page_info: PageInfo
    total_count: int

    @classmethod
    def from_domain(
        cls, users: list[UserTaskCounts], has_next: bool, total: int
    ) -> UserTasksConnection:
        edges = [
            UserTasksEdge(cursor=cursors.user_cursor(u.user_id), node=UserTasks.from_domain(u))
            for u in users
        ]
        return cls(
            edges=edges,
            page_info=PageInfo.after([edge.cursor for edge in edges], has_next),
            total_count=total,
        )


@strawberry.type
class TaskStats:
    created: int
    completed: int
    open: int
    avg_completion_seconds: float | None
    p50_completion_seconds: float | None
    p95_completion_seconds: float | None

    @classmethod
    def from_domain(cls, summary: TaskSummary) -> TaskStats:
        return cls(
            created=summary.created,
            completed=summary.completed,
            open=summary.created - summary.completed,
            avg_completion_seconds=summary.avg_completion_seconds,
            p50_completion_seconds=summary.p50_completion_seconds,
            p95_completion_seconds=summary.p95_completion_seconds,
        )


@strawberry.type
class Dashboard:
    total_events: int
    total_metric_points: int
    unique_event_names: int
    unique_metric_names: int
    event_names: list[str]
    metric_names: list[str]
    generated_at: datetime

    @classmethod
    def from_domain(cls, summary: DashboardSummary) -> Dashboard:
        return cls(
            total_events=summary.total_events,
            total_metric_points=summary.total_metric_points,
            unique_event_names=len(summary.event_names),
            unique_metric_names=len(summary.metric_names),
            event_names=summary.event_names,
            metric_names=summary.metric_names,
            generated_at=summary.generated_at,
        )


@strawberry.type
class EventCountUpdate:
    name: str
    count: int
    at: datetime


@strawberry.enum(description="How a partition's log failed to hold the consumer's position.")
class PositionResetKind(enum.Enum):
    BEYOND_END = strawberry.enum_value(
        "BEYOND_END", description="The log ends before it: topic recreated, broker data lost."
    )
    BEFORE_START = strawberry.enum_value(
        "BEFORE_START", description="The log starts after it: records deleted before applied."
    )


@strawberry.type(
    description="A partition whose log did not hold the position its consumer resumed at."
)
class PositionReset:
    kind: PositionResetKind
    position: int = strawberry.field(description="Where the consumer was to resume.")
    log_start: int
    log_end: int | None
    resumed_at: int | None = strawberry.field(
        description="Where it reads from now; null while it is paused for an operator."
    )
    lost: int = strawberry.field(description="Records deleted before they were applied.")
    at: datetime

    @classmethod
    def from_domain(cls, reset: DomainPositionReset) -> PositionReset:
        return cls(
            kind=PositionResetKind[reset.kind.name],
            position=reset.position,
            log_start=reset.log_start,
            log_end=reset.log_end,
            resumed_at=reset.resumed_at,
            lost=reset.lost,
            at=reset.at,
        )


@strawberry.type
class PartitionIngest:
    topic: str
    partition: int
    committed_offset: int | None
    high_watermark: int | None
    lag: int | None
    last_applied_at: datetime | None
    position_resets: int
    last_position_reset: PositionReset | None

    @classmethod
    def from_domain(cls, status: PartitionStatus) -> PartitionIngest:
        last = status.last_position_reset
        return cls(
            topic=status.topic,
            partition=status.partition,
            committed_offset=status.committed,
            high_watermark=status.high_watermark,
            lag=status.lag,
            last_applied_at=status.last_applied_at,
            position_resets=status.position_resets,
            last_position_reset=None if last is None else PositionReset.from_domain(last),
        )


@strawberry.type(description="The Kafka consumer of this process: per partition, and totals.")
class IngestStatus:
    kafka: bool
    partitions: list[PartitionIngest]
    applied: int
    duplicates: int
    dead_lettered: int
    position_resets: int = strawberry.field(
        description="Partitions found not to hold the position resumed at, since start."
    )

    @classmethod
    def from_domain(cls, status: tuple[list[PartitionStatus], IngestTotals] | None) -> IngestStatus:
        if status is None:
            return cls(
                kafka=False,
                partitions=[],
                applied=0,
                duplicates=0,
                dead_lettered=0,
                position_resets=0,
            )
        partitions, totals = status
        return cls(
            kafka=True,
            partitions=[PartitionIngest.from_domain(p) for p in partitions],
            applied=totals.applied,
            duplicates=totals.duplicates,
            dead_lettered=totals.dead_lettered,
            position_resets=len(totals.position_resets),
        )
