"""What the analytics service answers, as plain values, and which events a filter matches."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from gql_analytics.domain.query.fields import Attribute, Field
from gql_analytics.domain.query.measures import Measure, Op
from gql_analytics.domain.records import Event
from gql_analytics.errors import InvalidRecord
from gql_analytics.ports import EventQuery


@dataclass(frozen=True, slots=True)
class TrackOutcome:
    ids: list[str]
    errors: list[tuple[int, InvalidRecord]]


@dataclass(frozen=True, slots=True)
class CountSeries:
    name: str
    total: int
    points: list[tuple[datetime, int]]


@dataclass(frozen=True, slots=True)
class Stats:
    """Statistics of metric values (percentiles within 1 %); ``sum`` 0 and the rest None when
    there are none."""

    count: int = 0
    sum: float = 0.0
    avg: float | None = None
    min: float | None = None
    max: float | None = None
    stddev: float | None = None
    p50: float | None = None
    p90: float | None = None
    p95: float | None = None
    p99: float | None = None

    @classmethod
    def of(cls, values: Sequence[float | None]) -> Stats:
        """From the values of ``STATS_MEASURES``, in their order."""
        count, total, *rest = values
        return cls(int(count or 0), total or 0.0, *rest)


STATS_MEASURES = (
    Measure(Op.COUNT),
    *(
        Measure(op, Field(Attribute.VALUE))
        for op in (Op.SUM, Op.AVG, Op.MIN, Op.MAX, Op.STDDEV, Op.P50, Op.P90, Op.P95, Op.P99)
    ),
)


@dataclass(frozen=True, slots=True)
class MetricResult:
    name: str
    overall: Stats
    points: list[tuple[datetime, Stats]]
    groups: list[tuple[str, Stats]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class MetricSummary:
    name: str
    count: int
    last_seen: datetime | None


@dataclass(frozen=True, slots=True)
class DashboardSummary:
    total_events: int
    total_metric_points: int
    event_names: list[str]
    metric_names: list[str]
    generated_at: datetime


def matches(query: EventQuery, event: Event) -> bool:
    """Whether an event meets every condition of a query (for live streams)."""
    return (
        event.tenant == query.tenant
        and (query.names is None or event.name in query.names)
        and (query.user_id is None or event.user_id == query.user_id)
        and (
            query.time_range is None
            or query.time_range.start <= event.occurred_at < query.time_range.end
        )
        and all(event.properties.get(k) == v for k, v in query.properties.items())
    )


@dataclass(frozen=True, slots=True)
class BreakdownGroup:
    """One group's measures over the whole range, and per bucket (every bucket of the range,
    those without records holding zero counts and no values)."""

    key: tuple[str | None, ...]
    other: bool
    values: tuple[float | None, ...]
    points: list[tuple[datetime, tuple[float | None, ...]]]


@dataclass(frozen=True, slots=True)
class Breakdown:
    measures: list[str]
    dimensions: list[str]
    groups: list[BreakdownGroup]
    plan: dict[str, object]  # how it was read (``planner.Plan.report``)
