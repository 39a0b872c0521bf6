"""Events as clients see them: raw events, counts, top names, active users."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.scalars import JSON

from gql_analytics.domain import records
from gql_analytics.entrypoints.graphql import cursors
from gql_analytics.entrypoints.graphql.common import TimeRange, json_object
from gql_analytics.entrypoints.graphql.connection import Connection, page
from gql_analytics.ports import (
    EventQuery,
)
from gql_analytics.services.analytics import AnalyticsService
from gql_analytics.services.answers import CountSeries


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
class EventConnection(Connection[Event]):
    total_count: int

    @classmethod
    def from_domain(
        cls, events: list[records.Event], has_next: bool, total: int
    ) -> EventConnection:
        nodes = ((cursors.event_cursor(e.occurred_at, e.id), Event.from_domain(e)) for e in events)
        edges, info = page(nodes, has_next)
        return cls(edges=edges, page_info=info, total_count=total)


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


@strawberry.type
class EventCountUpdate:
    name: str
    count: int
    at: datetime


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
