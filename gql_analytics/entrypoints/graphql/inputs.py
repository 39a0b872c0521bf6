"""Input types; each ingest input builds its domain record through the shared validation."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from strawberry.scalars import JSON

from gql_analytics.domain.drafts import EventDraft, MetricDraft
from gql_analytics.domain.timerange import TimeRange as DomainTimeRange
from gql_analytics.errors import InvalidInput
from gql_analytics.ports import EventQuery
from gql_analytics.services.analytics import AnalyticsService


@strawberry.input(
    description='A time range: from/to, or last ("15m", "24h", "7d"). Default: last 24h.'
)
class TimeRange:
    from_: datetime | None = strawberry.field(name="from", default=None)
    to: datetime | None = None
    last: str | None = None

    def resolve(self, service: AnalyticsService) -> DomainTimeRange:
        return service.time_range(self.from_, self.to, self.last)


def resolve_range(time_range: TimeRange | None, service: AnalyticsService) -> DomainTimeRange:
    return (time_range or TimeRange()).resolve(service)


@strawberry.input
class EventInput:
    name: str
    id: str | None = None
    user_id: str | None = None
    occurred_at: datetime | None = None
    properties: JSON | None = None
    source: str | None = None

    def to_draft(self) -> EventDraft:
        return EventDraft(
            name=self.name,
            id=self.id,
            user_id=self.user_id,
            occurred_at=self.occurred_at,
            properties=self.properties,
            source=self.source,
        )


@strawberry.input
class MetricInput:
    name: str
    value: float
    id: str | None = None
    tags: JSON | None = None
    occurred_at: datetime | None = None

    def to_draft(self) -> MetricDraft:
        return MetricDraft(
            name=self.name,
            value=self.value,
            id=self.id,
            tags=self.tags,
            occurred_at=self.occurred_at,
        )


@strawberry.input
class EventFilter:
    names: list[str] | None = None
    user_id: str | None = None
    range: TimeRange | None = None
    properties: JSON | None = None

    def to_query(self, tenant: str, service: AnalyticsService) -> EventQuery:
        return EventQuery(
            tenant=tenant,
            names=tuple(self.names) if self.names is not None else None,
            user_id=self.user_id,
            time_range=self.range.resolve(service) if self.range is not None else None,
            properties=json_object(self.properties, "filter.properties"),
        )


def json_object(value: Any, field: str) -> dict[str, Any]:
    """A filter's object of names (properties, tags) to the values wanted."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidInput(f"{field}: must be a JSON object", field=field)
    if "" in value:
        raise InvalidInput(f"{field}: a name cannot be empty", field=field)
    return value


def string_tags(value: Any, field: str = "tags") -> dict[str, str]:
    tags = json_object(value, field)
    if not all(isinstance(v, str) for v in tags.values()):
        raise InvalidInput(f"{field}: every tag value must be a string", field=field)
    return tags
