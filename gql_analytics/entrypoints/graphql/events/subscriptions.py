"""Live event counts and the stream of new events."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator

import strawberry

from gql_analytics.domain import validation
from gql_analytics.domain.timerange import TimeRange as DomainTimeRange
from gql_analytics.entrypoints.graphql.common import TimeRange
from gql_analytics.entrypoints.graphql.context import Info
from gql_analytics.entrypoints.graphql.events.types import Event, EventCountUpdate, EventFilter
from gql_analytics.entrypoints.graphql.live.fields import live, question
from gql_analytics.ports import Change
from gql_analytics.services.answers import matches


@strawberry.subscription(
    description="The count of one event over the range: now, then whenever it changes."
)
async def event_count(
    info: Info, name: str, range: TimeRange | None = None
) -> AsyncGenerator[EventCountUpdate, None]:
    ctx = info.context
    validation.name(name)

    async def count(window: DomainTimeRange) -> int:
        return await ctx.service.event_count(ctx.tenant, name, window)

    window = range or TimeRange()
    key = question("eventCount", name, window.from_, window.to, window.last, window.whole_days)
    async for value in live(ctx, key, window, count, lambda change: name in change.event_names):
        yield EventCountUpdate(name=name, count=value, at=ctx.service.clock())


@strawberry.subscription(description="Each new event that matches the filter, as committed.")
async def event_stream(
    info: Info, filter: EventFilter | None = None
) -> AsyncGenerator[Event, None]:
    ctx = info.context
    query = (filter or EventFilter()).to_query(ctx.tenant, ctx.service)
    with ctx.place():
        async with ctx.bus.subscribe(ctx.tenant, events=True) as changes:
            change: Change
            async for change in changes:
                for event in change.events:
                    if matches(query, event):
                        ctx.pushed()
                        yield Event.from_domain(event)
                        await asyncio.sleep(0)  # a batch of events is many loop turns
