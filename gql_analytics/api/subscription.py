"""Subscriptions: pushed when committed records change the answer, never polled."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry
from strawberry.scalars import JSON

from gql_analytics.api.context import Info
from gql_analytics.api.inputs import EventFilter, TimeRange, string_tags
from gql_analytics.api.types import Event, EventCountUpdate, Interval, MetricAggregation
from gql_analytics.domain import validation
from gql_analytics.ports import Change
from gql_analytics.service import MetricResult, matches
from gql_analytics.watch import seconds_to_next_minute, watch


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="The count of one event over the range: now, then whenever it changes."
    )
    async def event_count(
        self, info: Info, name: str, range: TimeRange | None = None
    ) -> AsyncGenerator[EventCountUpdate, None]:
        ctx = info.context
        validation.name(name)
        window = range or TimeRange()
        sliding = window.resolve(ctx.service).sliding

        async def count() -> int:
            return await ctx.service.event_count(ctx.tenant, name, window.resolve(ctx.service))

        async with ctx.bus.subscribe(ctx.tenant) as changes:
            async for value in watch(
                count,
                changes,
                lambda change: name in change.event_names,
                throttle=ctx.live_throttle,
                next_tick=lambda: seconds_to_next_minute(ctx.service.clock()) if sliding else None,
            ):
                yield EventCountUpdate(name=name, count=value, at=ctx.service.clock())

    @strawberry.subscription(description="A metric's aggregation: now, then whenever it changes.")
    async def metric_updates(
        self,
        info: Info,
        name: str,
        range: TimeRange | None = None,
        tags: JSON | None = None,
        interval: Interval | None = Interval.HOUR,
    ) -> AsyncGenerator[MetricAggregation, None]:
        ctx = info.context
        validation.name(name)
        tag_filter = string_tags(tags)
        window = range or TimeRange()
        sliding = window.resolve(ctx.service).sliding

        async def aggregate() -> MetricResult:
            return await ctx.service.metric(
                ctx.tenant,
                name,
                window.resolve(ctx.service),
                Interval.or_default(interval, Interval.HOUR),
                tag_filter,
            )

        async with ctx.bus.subscribe(ctx.tenant) as changes:
            async for result in watch(
                aggregate,
                changes,
                lambda change: name in change.metric_names,
                throttle=ctx.live_throttle,
                next_tick=lambda: seconds_to_next_minute(ctx.service.clock()) if sliding else None,
            ):
                yield MetricAggregation.from_domain(result)

    @strawberry.subscription(description="Each new event that matches the filter, as committed.")
    async def event_stream(
        self, info: Info, filter: EventFilter | None = None
    ) -> AsyncGenerator[Event, None]:
        ctx = info.context
        query = (filter or EventFilter()).to_query(ctx.tenant, ctx.service)
        async with ctx.bus.subscribe(ctx.tenant) as changes:
            change: Change
            async for change in changes:
                for event in change.events:
                    if matches(query, event):
                        yield Event.from_domain(event)
