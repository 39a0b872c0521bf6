"""Subscriptions: pushed when committed records change the answer, never polled. Subscribers
of the same question (tenant, field, arguments) share one computation (``live.fields``)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator

import strawberry
from strawberry.scalars import JSON

from gql_analytics.domain import validation
from gql_analytics.domain.timerange import TimeRange as DomainTimeRange
from gql_analytics.entrypoints.graphql.analysis import AnalysisJob
from gql_analytics.entrypoints.graphql.context import Info
from gql_analytics.entrypoints.graphql.inputs import EventFilter, TimeRange, string_tags
from gql_analytics.entrypoints.graphql.live.fields import live, question
from gql_analytics.entrypoints.graphql.types import (
    Event,
    EventCountUpdate,
    Interval,
    MetricAggregation,
)
from gql_analytics.ports import Change
from gql_analytics.services.analytics import MetricResult, matches


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

        async def count(window: DomainTimeRange) -> int:
            return await ctx.service.event_count(ctx.tenant, name, window)

        window = range or TimeRange()
        key = question("eventCount", name, window.from_, window.to, window.last)
        async for value in live(ctx, key, window, count, lambda change: name in change.event_names):
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
        width = Interval.or_default(interval, Interval.HOUR)

        async def aggregate(window: DomainTimeRange) -> MetricResult:
            return await ctx.service.metric(ctx.tenant, name, window, width, tag_filter)

        window = range or TimeRange()
        key = question(
            "metricUpdates", name, window.from_, window.to, window.last, tag_filter, width.value
        )
        async for result in live(
            ctx, key, window, aggregate, lambda change: name in change.metric_names
        ):
            yield MetricAggregation.from_domain(result)

    @strawberry.subscription(description="Each new event that matches the filter, as committed.")
    async def event_stream(
        self, info: Info, filter: EventFilter | None = None
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

    @strawberry.subscription(
        description="An analysis job now, then at each change of state or progress, until it ended."
    )
    async def analysis_progress(
        self, info: Info, id: strawberry.ID
    ) -> AsyncGenerator[AnalysisJob, None]:
        ctx = info.context
        with ctx.place():
            async for job in ctx.analysis.watch(ctx.tenant, str(id)):
                ctx.pushed()
                yield AnalysisJob.from_domain(job)
