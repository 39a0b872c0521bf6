"""Subscriptions: pushed when committed records change the answer, never polled. Subscribers
of the same question (tenant, field, arguments) share one computation (``fanout``)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Hashable
from typing import Any, TypeVar

import strawberry
from strawberry.scalars import JSON

from gql_analytics.domain import validation
from gql_analytics.domain.timerange import TimeRange as DomainTimeRange
from gql_analytics.entrypoints.graphql.analysis import AnalysisJob
from gql_analytics.entrypoints.graphql.context import Context, Info
from gql_analytics.entrypoints.graphql.inputs import EventFilter, TimeRange, string_tags
from gql_analytics.entrypoints.graphql.types import (
    Event,
    EventCountUpdate,
    Interval,
    MetricAggregation,
)
from gql_analytics.ports import Change
from gql_analytics.services.analytics import MetricResult, matches
from gql_analytics.services.live.watch import seconds_to_next_minute, watch

T = TypeVar("T")
LATEST_VALUE_FIELDS = frozenset({"eventCount", "metricUpdates"})
"""Fields whose subscribers want the latest value, not every one."""
STREAM_FIELDS = frozenset({"eventStream"})
"""Fields whose subscribers want every value, in order."""
SHARED_FIELDS = LATEST_VALUE_FIELDS | STREAM_FIELDS
"""Identical subscriptions to these share one stream (``sharing``)."""


def question(field: str, *arguments: Any) -> Hashable:
    """What a subscription asks, as the key of the computation it shares."""
    return (field, json.dumps(arguments, sort_keys=True, default=str))


async def _live(
    ctx: Context,
    key: Hashable,
    window: TimeRange,
    compute: Callable[[DomainTimeRange], Awaitable[T]],
    relevant: Callable[[Change], bool],
) -> AsyncGenerator[T, None]:
    """``compute`` over the window, pushed when a relevant change commits; a ``last`` window is
    also recomputed as it slides past each minute boundary. Subscribers of the same ``key``
    (and tenant) share the computation and get its latest value."""
    sliding = window.resolve(ctx.service).sliding  # resolving first refuses a bad range up front

    def next_tick() -> float | None:
        return seconds_to_next_minute(ctx.service.clock()) if sliding else None

    async def source() -> AsyncIterator[T]:
        async with ctx.bus.subscribe(ctx.tenant) as changes:
            async for value in watch(
                lambda: compute(window.resolve(ctx.service)),
                changes,
                relevant,
                throttle=ctx.live_throttle,
                next_tick=next_tick,
            ):
                yield value

    with ctx.place():
        async with ctx.feeds.join((ctx.tenant, key), source) as values:
            async for value in values:
                ctx.pushed()
                yield value


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
        async for value in _live(
            ctx, key, window, count, lambda change: name in change.event_names
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
        width = Interval.or_default(interval, Interval.HOUR)

        async def aggregate(window: DomainTimeRange) -> MetricResult:
            return await ctx.service.metric(ctx.tenant, name, window, width, tag_filter)

        window = range or TimeRange()
        key = question(
            "metricUpdates", name, window.from_, window.to, window.last, tag_filter, width.value
        )
        async for result in _live(
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
