"""Reading events: raw, counted, ranked, and their distinct users."""

from __future__ import annotations

import strawberry

from gql_analytics.entrypoints.graphql import cursors
from gql_analytics.entrypoints.graphql.common import (
    Interval,
    TimeRange,
    TimeZoneArgument,
    resolve_range,
    zone_of,
)
from gql_analytics.entrypoints.graphql.context import Info
from gql_analytics.entrypoints.graphql.events.types import (
    ActiveUsers,
    CountPoint,
    Event,
    EventConnection,
    EventFilter,
    EventSeries,
    TopEvent,
)


@strawberry.field(description="Raw events, newest first.")
async def events(
    info: Info,
    filter: EventFilter | None = None,
    first: int | None = 50,
    after: str | None = None,
) -> EventConnection:
    ctx = info.context
    query = (filter or EventFilter()).to_query(ctx.tenant, ctx.service)
    cursor = cursors.parse_event_cursor(after) if after is not None else None
    return EventConnection.from_domain(
        *await ctx.service.events(query, 50 if first is None else first, cursor)
    )


@strawberry.field
async def event(info: Info, id: strawberry.ID) -> Event | None:
    found = await info.context.service.event(info.context.tenant, str(id))
    return Event.from_domain(found) if found else None


@strawberry.field(description="Counts per bucket for each event name (all names if omitted).")
async def event_counts(
    info: Info,
    names: list[str] | None = None,
    range: TimeRange | None = None,
    interval: Interval | None = Interval.HOUR,
    time_zone: TimeZoneArgument = "UTC",
) -> list[EventSeries]:
    ctx = info.context
    zone = zone_of(time_zone)
    series = await ctx.service.event_counts(
        ctx.tenant,
        names,
        resolve_range(range, ctx.service, zone),
        Interval.or_default(interval, Interval.HOUR),
        zone=zone,
    )
    return [EventSeries.from_domain(s) for s in series]


@strawberry.field
async def top_events(
    info: Info, range: TimeRange | None = None, limit: int | None = 10
) -> list[TopEvent]:
    ctx = info.context
    top = await ctx.service.top_events(
        ctx.tenant, resolve_range(range, ctx.service), 10 if limit is None else limit
    )
    return [TopEvent(name=name, count=count) for name, count in top]


@strawberry.field(description="Distinct users with at least one event, overall and per bucket.")
async def active_users(
    info: Info,
    range: TimeRange | None = None,
    interval: Interval | None = Interval.DAY,
    time_zone: TimeZoneArgument = "UTC",
) -> ActiveUsers:
    ctx = info.context
    zone = zone_of(time_zone)
    total, points = await ctx.service.active_users(
        ctx.tenant,
        resolve_range(range, ctx.service, zone),
        Interval.or_default(interval, Interval.DAY),
        zone=zone,
    )
    return ActiveUsers(total=total, points=[CountPoint(bucket=b, count=n) for b, n in points])
